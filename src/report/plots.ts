// SVG plots of experiment runs with vega-lite + vega, rendered headless in Node (renderer 'none', no canvas).

import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { meanCurves, meanStd, methodOrder, type ComparisonRow, type CurveMetric, type RunResult } from './aggregate.js';

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
}

export interface CurveOptions extends PlotOptions {
  /** Shade mean ± std over seeds around each line (default true; only drawn where some method has more than one seed). */
  showStd?: boolean;
  /** Logarithmic y axis (losses, norms). */
  logScale?: boolean;
}

export interface ComparisonOptions extends PlotOptions {
  /** Logarithmic axis for the relative error (non-positive values are left out). */
  logRelError?: boolean;
}

/** Compiles a vega-lite spec and renders it to a standalone SVG string, without a browser or canvas. */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const CURVE_TITLES: Record<CurveMetric, string> = {
  'train.loss': 'Training loss',
  'train.accuracy': 'Training accuracy',
  'validation.loss': 'Validation loss',
  'validation.accuracy': 'Validation accuracy',
  'test.loss': 'Test loss',
  'test.accuracy': 'Test accuracy',
  hypergradNorm: 'Hypergradient norm',
  meanDecay: 'Mean softplus(λ)',
  epochSeconds: 'Meta-epoch time (s)',
  approximationSeconds: 'Approximation time (s)',
  hvps: 'Hessian-vector products',
};

export function curveTitle(metric: CurveMetric): string {
  return CURVE_TITLES[metric];
}

/** Legend entries drawn as solid strokes (not the faded fill of the ± std band). */
const LINE_LEGEND = { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2.5, symbolFillColor: 'transparent' };
const EPOCH_AXIS = { field: 'metaEpoch', type: 'quantitative' as const, title: 'Meta-epoch', axis: { tickMinStep: 1, format: 'd' } };

const isAccuracy = (metric: CurveMetric): boolean => metric.endsWith('.accuracy');

/** One line per method: the metric's mean over seeds at each meta-epoch, with an optional ± std band. */
export async function curvesSvg(results: readonly RunResult[], metric: CurveMetric, options: CurveOptions = {}): Promise<string> {
  const methods = methodOrder(results);
  const points = meanCurves(results, metric).map((p) => ({ ...p, lo: p.mean - p.std, hi: p.mean + p.std }));
  const label = curveTitle(metric);
  const axisFormat = isAccuracy(metric) ? { format: '.1%' } : {};
  const yScale = options.logScale ? { type: 'log' as const } : { zero: false };
  const color = { field: 'method', type: 'nominal' as const, title: 'Method', scale: { domain: methods }, legend: LINE_LEGEND };
  const x = EPOCH_AXIS;
  const band = (options.showStd ?? true) && points.some((p) => p.n > 1);
  const layers: object[] = [];
  if (band) {
    layers.push({
      mark: { type: 'area', opacity: 0.18 },
      encoding: {
        x, color,
        y: { field: 'lo', type: 'quantitative', title: label, scale: yScale, axis: axisFormat },
        y2: { field: 'hi' },
      },
    });
  }
  layers.push({
    mark: { type: 'line', strokeWidth: 1.8 },
    encoding: {
      x, color,
      y: { field: 'mean', type: 'quantitative', title: label, scale: yScale, axis: axisFormat },
      tooltip: [{ field: 'method' }, { field: 'metaEpoch' }, { field: 'mean' }, { field: 'std' }, { field: 'n' }],
    },
  });
  return renderVegaLite({
    title: options.title ?? `${label} (mean over seeds)`,
    width: options.width ?? 480,
    height: options.height ?? 280,
    background: 'white',
    data: { values: points },
    layer: layers,
  } as TopLevelSpec);
}

/** Grouped bars per method: mean meta-epoch time and mean approximation time (ms), with ± std error bars. */
export async function timePerMethodSvg(results: readonly RunResult[], options: PlotOptions = {}): Promise<string> {
  const methods = methodOrder(results);
  const kinds = ['Epoch time', 'Approximation time'];
  const rows = methods.flatMap((method) => {
    const runs = results.filter((r) => r.method === method);
    return [
      meanStd(runs.map((r) => r.summary.meanEpochSeconds * 1000)),
      meanStd(runs.map((r) => r.summary.meanApproximationSeconds * 1000)),
    ].map((s, i) => ({ method, kind: kinds[i], ms: s.n ? s.mean : 0, lo: s.n ? s.mean - s.std : 0, hi: s.n ? s.mean + s.std : 0 }));
  });
  const x = { field: 'method', type: 'nominal' as const, title: 'Method', sort: methods, axis: { labelAngle: methods.length > 4 ? -30 : 0 } };
  const xOffset = { field: 'kind', type: 'nominal' as const, sort: kinds };
  return renderVegaLite({
    title: options.title ?? 'Time per meta-epoch',
    width: options.width ?? Math.max(240, 90 * methods.length),
    height: options.height ?? 260,
    background: 'white',
    data: { values: rows },
    encoding: { x, xOffset },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'ms', type: 'quantitative', title: 'ms' },
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds } },
          tooltip: [{ field: 'method' }, { field: 'kind' }, { field: 'ms', format: '.2f' }],
        },
      },
      {
        mark: { type: 'rule', color: '#333' },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  } as TopLevelSpec);
}

/** Exact-vs-approximate inverse-HVP agreement over training: cosine similarity and relative error per method (mean over seeds). */
export async function cosineOverTrainingSvg(rows: readonly ComparisonRow[], options: ComparisonOptions = {}): Promise<string> {
  const methods = methodOrder(rows);
  const grouped = new Map<string, { method: string; metaEpoch: number; cos: number[]; rel: number[] }>();
  for (const r of rows) {
    const key = `${r.method}\u0000${r.metaEpoch}`;
    const g = grouped.get(key) ?? { method: r.method, metaEpoch: r.metaEpoch, cos: [], rel: [] };
    g.cos.push(r.cosine);
    if (!options.logRelError || r.relError > 0) g.rel.push(r.relError);
    grouped.set(key, g);
  }
  const data = [...grouped.values()]
    .sort((a, b) => methods.indexOf(a.method) - methods.indexOf(b.method) || a.metaEpoch - b.metaEpoch)
    .map((g) => {
      const c = meanStd(g.cos);
      const e = meanStd(g.rel);
      return { method: g.method, metaEpoch: g.metaEpoch, cosine: c.n ? c.mean : null, relError: e.n ? e.mean : null };
    });
  const color = { field: 'method', type: 'nominal' as const, title: 'Method', scale: { domain: methods }, legend: LINE_LEGEND };
  const x = EPOCH_AXIS;
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const panel = (field: 'cosine' | 'relError', title: string, scale: object): object => ({
    width, height,
    transform: [{ filter: `isValid(datum.${field}) && isFinite(datum.${field})` }],
    mark: { type: 'line', point: true, strokeWidth: 1.8 },
    encoding: {
      x, color,
      y: { field, type: 'quantitative', title, scale },
      tooltip: [{ field: 'method' }, { field: 'metaEpoch' }, { field, format: '.4g' }],
    },
  });
  return renderVegaLite({
    title: options.title ?? 'Approximate vs reference inverse-HVP',
    background: 'white',
    data: { values: data },
    hconcat: [
      panel('cosine', 'Cosine similarity', { zero: false }),
      panel('relError', 'Relative error', options.logRelError ? { type: 'log' } : { zero: true }),
    ],
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec);
}
