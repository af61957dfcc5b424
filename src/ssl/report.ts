// Tables and plots of a FixMatch experiment: final EMA test accuracy etc. as mean ± std over seeds per (labels, method), and curves over steps as vega-lite SVG.

import type { TopLevelSpec } from 'vega-lite';
import { formatMeanStd, meanStd, PERCENT } from '../report/aggregate.js';
import type { TableData } from '../report/markdown.js';
import { renderVegaLite } from '../report/plots.js';
import type { FixMatchMetrics } from './fixmatch-metrics.js';

export interface SslRunResult {
  method: string;
  labelsPerClass: number;
  seed: number;
  metrics: FixMatchMetrics[];
  /** Set when the run diverged (left out of the means, counted). */
  diverged?: string;
}

const groups = (runs: readonly SslRunResult[]): { labels: number; method: string; runs: SslRunResult[] }[] => {
  const out: { labels: number; method: string; runs: SslRunResult[] }[] = [];
  for (const r of runs) {
    let g = out.find((x) => x.labels === r.labelsPerClass && x.method === r.method);
    if (!g) out.push((g = { labels: r.labelsPerClass, method: r.method, runs: [] }));
    g.runs.push(r);
  }
  return out.sort((a, b) => a.labels - b.labels);
};

/** One row per (labels per class, method): final EMA test accuracy, best validation accuracy's test accuracy, mask rate, pseudo-label accuracy, steps/s. */
export function sslSummaryTable(runs: readonly SslRunResult[], title = 'FixMatch vs supervised-only (EMA model, mean ± std over seeds)'): TableData {
  const pct = (xs: (number | null | undefined)[]): string => formatMeanStd(meanStd(xs), PERCENT);
  const rows = groups(runs).map((g) => {
    const ok = g.runs.filter((r) => !r.diverged && r.metrics.length > 0);
    const last = ok.map((r) => r.metrics[r.metrics.length - 1]);
    const atBestVal = ok.map((r) => r.metrics.reduce((a, b) => (b.validationAccuracy > a.validationAccuracy ? b : a)).testAccuracy);
    return [
      String(g.labels), g.method, pct(last.map((m) => m.testAccuracy)), pct(atBestVal),
      g.method === 'supervised' ? '—' : pct(last.map((m) => m.maskRate)),
      g.method === 'supervised' ? '—' : pct(last.map((m) => m.pseudoAccuracy)),
      formatMeanStd(meanStd(last.map((m) => m.stepsPerSecond)), { digits: 2 }),
      String(last[0]?.step ?? 0), `${ok.length}/${g.runs.length}`,
    ];
  });
  return {
    title,
    headers: ['Labels/class', 'Method', 'Test acc. (final)', 'Test acc. (best val.)', 'Mask rate', 'Pseudo-label acc.', 'Steps/s', 'Steps', 'Runs'],
    rows,
    align: ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  };
}

export type SslCurve = 'testAccuracy' | 'maskRate' | 'pseudoAccuracy' | 'supervisedLoss' | 'unsupervisedLoss' | 'lr';

export const SSL_CURVES: Record<SslCurve, string> = {
  testAccuracy: 'EMA test accuracy',
  maskRate: 'Mask rate (max q >= tau)',
  pseudoAccuracy: 'Pseudo-label accuracy (unlabelled pool)',
  supervisedLoss: 'Supervised loss',
  unsupervisedLoss: 'Unsupervised loss',
  lr: 'Learning rate',
};

/** Mean over seeds of `curve` per (labels, method) at each evaluated step. */
export function sslCurveSpec(runs: readonly SslRunResult[], curve: SslCurve): TopLevelSpec {
  const values: { step: number; value: number; series: string }[] = [];
  for (const g of groups(runs)) {
    const ok = g.runs.filter((r) => !r.diverged);
    if (curve !== 'testAccuracy' && curve !== 'supervisedLoss' && curve !== 'lr' && g.method === 'supervised') continue;
    const steps = [...new Set(ok.flatMap((r) => r.metrics.map((m) => m.step)))].sort((a, b) => a - b);
    for (const step of steps) {
      const vs = ok.map((r) => r.metrics.find((m) => m.step === step)?.[curve]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (vs.length) values.push({ step, value: vs.reduce((a, b) => a + b, 0) / vs.length, series: `${g.method}, ${g.labels} labels/class` });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: SSL_CURVES[curve],
    width: 480,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'value', type: 'quantitative', title: SSL_CURVES[curve], scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400, symbolType: 'stroke' } },
      strokeDash: { field: 'series', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

export async function sslCurveSvg(runs: readonly SslRunResult[], curve: SslCurve): Promise<string> {
  return renderVegaLite(sslCurveSpec(runs, curve));
}
