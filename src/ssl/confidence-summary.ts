// Summary tables and the validation-loss curve of a Confidence Network experiment from its ConfidenceSettingResult list: accuracy per method (mean ± std over seeds), the learned weights' AUROC and mean ID/OOD weight, the learners' L_V over meta-epochs.

import type { TopLevelSpec } from 'vega-lite';
import { formatMeanStd, meanStd, PERCENT } from '../report/aggregate.js';
import { auroc } from '../report/auroc.js';
import type { TableData } from '../report/markdown.js';
import { CONFIDENCE_METHODS, type ConfidenceSettingResult, type PoolWeightSnapshot, type WeightLearningRun } from './confidence-results.js';

/** The snapshot of a learner at `metaEpoch` (default: its best meta-epoch, the learner kept for phase 2), or null. */
export function snapshotAt(run: WeightLearningRun, metaEpoch = run.bestMetaEpoch): PoolWeightSnapshot | null {
  return run.snapshots.find((s) => s.metaEpoch === metaEpoch) ?? null;
}

/** AUROC of a snapshot's original-image weights for telling in- (positive) from out-of-distribution sample images; null when the snapshot is missing or one group is empty. */
export function snapshotAuroc(run: WeightLearningRun, metaEpoch = run.bestMetaEpoch): number | null {
  const s = snapshotAt(run, metaEpoch);
  if (!s || !run.inDistribution.includes(1) || !run.inDistribution.includes(0)) return null;
  return auroc(s.original, run.inDistribution);
}

/** Mean original-image weight of the in- and out-of-distribution sample images in a snapshot (null for an empty group). */
export function snapshotMeans(run: WeightLearningRun, metaEpoch = run.bestMetaEpoch): { id: number | null; ood: number | null } {
  const s = snapshotAt(run, metaEpoch);
  const acc = { id: [0, 0], ood: [0, 0] };
  s?.original.forEach((w, i) => {
    const g = run.inDistribution[i] ? acc.id : acc.ood;
    g[0] += w;
    g[1]++;
  });
  return { id: acc.id[1] ? acc.id[0] / acc.id[1] : null, ood: acc.ood[1] ? acc.ood[0] / acc.ood[1] : null };
}

const settingsOf = (results: readonly ConfidenceSettingResult[]): string[] => [...new Set(results.map((r) => r.setting.label))];

/** Final EMA test accuracy per setting and method, mean ± std over seeds (runs that diverged are left out and counted). */
export function confidenceAccuracyTable(results: readonly ConfidenceSettingResult[], title = 'Test accuracy (EMA model, phase 2 from scratch; mean ± std over seeds)'): TableData {
  const methods = CONFIDENCE_METHODS.filter((m) => results.some((r) => m in r.testAccuracy || r.phase2Diverged?.[m]));
  const rows = settingsOf(results).map((label) => {
    const rs = results.filter((r) => r.setting.label === label);
    return [label, ...methods.map((m) => {
      const v = rs.map((r) => r.testAccuracy[m]).filter((x): x is number => typeof x === 'number');
      const div = rs.filter((r) => r.phase2Diverged?.[m]).length;
      return `${formatMeanStd(meanStd(v), PERCENT)}${div ? ` (${div} diverged)` : ''}`;
    }), String(rs.length)];
  });
  return { title, headers: ['Setting', ...methods, 'Seeds'], rows, align: ['left', ...methods.map(() => 'right' as const), 'right'] };
}

/** Per setting and learner at its best meta-epoch: AUROC of the pool sample's weights, mean ID and OOD weight, best L_V; mean ± std over seeds. */
export function confidenceWeightTable(results: readonly ConfidenceSettingResult[], title = 'Learned weights at the best-validation meta-epoch (pool sample, original images; mean ± std over seeds)'): TableData {
  const rows: string[][] = [];
  for (const label of settingsOf(results)) {
    const rs = results.filter((r) => r.setting.label === label);
    for (const weighting of ['cn', 'table'] as const) {
      const runs = rs.flatMap((r) => r.weightLearning.filter((w) => w.weighting === weighting));
      if (runs.length === 0) continue;
      const f = (xs: (number | null)[], digits = 3): string => formatMeanStd(meanStd(xs), { digits });
      const best = runs.map((w) => w.curve.find((c) => c.metaEpoch === w.bestMetaEpoch)?.validationLoss ?? null);
      rows.push([
        label, weighting, runs[0].method, f(runs.map((w) => snapshotAuroc(w))), f(runs.map((w) => snapshotMeans(w).id)), f(runs.map((w) => snapshotMeans(w).ood)),
        f(best, 4), f(runs.map((w) => w.bestMetaEpoch), 1), `${runs.filter((w) => w.diverged).length}/${runs.length}`,
      ]);
    }
  }
  return {
    title,
    headers: ['Setting', 'Learner', 'Method', 'AUROC (ID vs OOD)', 'Mean weight ID', 'Mean weight OOD', 'Best L_V', 'Best meta-epoch', 'Diverged'],
    rows,
    align: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  };
}

/** Vega-Lite spec of the learners' validation loss L_V over meta-epochs (mean over seeds) per setting and learner. */
export function validationCurveSpec(results: readonly ConfidenceSettingResult[]): TopLevelSpec {
  const values: { metaEpoch: number; value: number; series: string }[] = [];
  for (const label of settingsOf(results)) {
    for (const weighting of ['cn', 'table'] as const) {
      const runs = results.filter((r) => r.setting.label === label).flatMap((r) => r.weightLearning.filter((w) => w.weighting === weighting));
      const epochs = [...new Set(runs.flatMap((w) => w.curve.map((c) => c.metaEpoch)))].sort((a, b) => a - b);
      for (const e of epochs) {
        const vs = runs.map((w) => w.curve.find((c) => c.metaEpoch === e)?.validationLoss).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (vs.length) values.push({ metaEpoch: e, value: vs.reduce((a, b) => a + b, 0) / vs.length, series: `${label}, ${weighting}` });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Validation loss L_V during weight learning (phase 1)',
    width: 480,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'metaEpoch', type: 'quantitative', title: 'meta-epoch' },
      y: { field: 'value', type: 'quantitative', title: 'L_V (validation cross-entropy)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400, symbolType: 'stroke' } },
    },
  } as TopLevelSpec;
}
