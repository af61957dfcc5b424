// SVG plots of experiment runs with vega-lite + vega, rendered headless in Node (renderer 'none', no canvas).

import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
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
  /**
   * Logarithmic y axis: true, false, or 'auto' (default): log when the positive values span more than
   * LOG_SPAN (max/min > 1e3). On a log axis non-positive values are left out and the subtitle says how many.
   */
  logScale?: boolean | 'auto';
  /** Draw a point marker every k-th meta-epoch of each method (default: every one up to 40 meta-epochs, then about 25 per method). */
  pointEvery?: number;
}

export interface ComparisonOptions extends PlotOptions {
  /** Logarithmic axis for the relative error: true, false or 'auto' (default, as in CurveOptions.logScale). */
  logRelError?: boolean | 'auto';
}

/** A vega-lite spec with the notes shown in its subtitle (values left out of a log axis, ...). */
export interface PlotSpec {
  spec: TopLevelSpec;
  notes: string[];
  /** Whether the (y or relative-error) axis is logarithmic. */
  log: boolean;
}

/** Positive values spanning more than this ratio (max/min) get a log axis under 'auto'. */
export const LOG_SPAN = 1e3;

/** Dash patterns and marker shapes given to the methods in order (pairs stay distinct for up to 64 methods). */
export const DASHES: readonly (readonly number[])[] = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4], [4, 4, 1, 4], [1, 4], [10, 2, 2, 2, 2, 2]];
export const SHAPES: readonly string[] = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'triangle-right', 'triangle-left'];

export function methodDashes(methods: readonly string[]): number[][] {
  return methods.map((_, i) => [...DASHES[i % DASHES.length]]);
}

export function methodShapes(methods: readonly string[]): string[] {
  return methods.map((_, i) => SHAPES[(i + Math.floor(i / SHAPES.length)) % SHAPES.length]);
}

/** Whether `values` call for a log axis: forced by `option`, or under 'auto' when the positive finite ones span more than LOG_SPAN. */
export function wantsLogScale(values: readonly number[], option: boolean | 'auto' = 'auto'): boolean {
  if (option !== 'auto') return option;
  let lo = Infinity;
  let hi = 0;
  for (const v of values) {
    if (v > 0 && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return hi > 0 && hi / lo > LOG_SPAN;
}

const leftOutNote = (k: number, what: string): string => `${k} non-positive ${what} value${k === 1 ? '' : 's'} left out of the log axis`;

/** vega and vega-lite, loaded on first use: they are optional peer dependencies, needed only for SVG plots. */
async function loadVega(): Promise<{ vega: typeof Vega; vl: typeof VegaLite }> {
  try {
    return { vega: await import('vega'), vl: await import('vega-lite') };
  } catch (e) {
    throw new Error(`SVG plots need the optional peer dependencies 'vega' and 'vega-lite' (npm install vega vega-lite): ${(e as Error).message}`, { cause: e });
  }
}

/** A headless vega View of a vega-lite spec, already run (its scales and scenegraph can be inspected); finalize it when done. */
export async function vegaView(spec: TopLevelSpec): Promise<Vega.View> {
  const { vega, vl } = await loadVega();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  await view.runAsync();
  return view;
}

/** Compiles a vega-lite spec and renders it to a standalone SVG string, without a browser or canvas. */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const { vega, vl } = await loadVega();
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

const EPOCH_AXIS = { field: 'metaEpoch', type: 'quantitative' as const, title: 'Meta-epoch', axis: { tickMinStep: 1, format: 'd' } };

const isAccuracy = (metric: CurveMetric): boolean => metric.endsWith('.accuracy');

/** Color, dash and marker-shape encodings by method (one merged legend "Method"). */
function methodEncodings(methods: readonly string[]): { color: object; strokeDash: object; shape: object } {
  const base = { field: 'method', type: 'nominal' as const, title: 'Method' };
  return {
    color: { ...base, scale: { domain: methods } },
    strokeDash: { ...base, scale: { domain: methods, range: methodDashes(methods) } },
    shape: { ...base, scale: { domain: methods, range: methodShapes(methods) } },
  };
}

function titleWithNotes(text: string, notes: readonly string[]): string | { text: string; subtitle: string } {
  return notes.length ? { text, subtitle: notes.join('; ') } : text;
}

/** The rows of `points` (sorted by method, then meta-epoch) that carry a marker: every k-th of each method and its last. */
function thinned<T extends { method: string }>(points: readonly T[], every: number): T[] {
  const out: T[] = [];
  points.forEach((p, i) => {
    const first = points.findIndex((q) => q.method === p.method);
    const last = i === points.length - 1 || points[i + 1].method !== p.method;
    if ((i - first) % every === 0 || last) out.push(p);
  });
  return out;
}

function defaultPointEvery(points: readonly { method: string }[]): number {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.method, (counts.get(p.method) ?? 0) + 1);
  const most = Math.max(0, ...counts.values());
  return most <= 40 ? 1 : Math.ceil(most / 25);
}

/**
 * The spec of `curvesSvg`: one line per method (its own color and dash) with point markers (its own shape) at the
 * metric's mean over seeds at each meta-epoch, and an optional ± std band. Data: `mean` of `meanCurves`.
 */
export function curvesSpec(results: readonly RunResult[], metric: CurveMetric, options: CurveOptions = {}): PlotSpec {
  const methods = methodOrder(results);
  const all = meanCurves(results, metric).map((p) => ({ ...p, lo: p.mean - p.std, hi: p.mean + p.std }));
  const log = wantsLogScale(all.map((p) => p.mean), options.logScale ?? 'auto');
  const notes: string[] = [];
  const points = log ? all.filter((p) => p.mean > 0) : all;
  if (points.length < all.length) notes.push(leftOutNote(all.length - points.length, 'mean'));
  const label = curveTitle(metric);
  const axisFormat = isAccuracy(metric) ? { format: '.1%' } : {};
  const yScale = log ? { type: 'log' as const } : { zero: false };
  const { color, strokeDash, shape } = methodEncodings(methods);
  const x = EPOCH_AXIS;
  const y = { field: 'mean', type: 'quantitative' as const, title: label, scale: yScale, axis: axisFormat };
  const band = (options.showStd ?? true) && points.some((p) => p.n > 1);
  const layers: object[] = [];
  if (band) {
    layers.push({
      data: { values: log ? points.filter((p) => p.lo > 0) : points },
      mark: { type: 'area', opacity: 0.15 },
      encoding: { x, color, y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
    });
  }
  const tooltip = [{ field: 'method' }, { field: 'metaEpoch' }, { field: 'mean' }, { field: 'std' }, { field: 'n' }];
  layers.push({
    data: { values: points },
    mark: { type: 'line', strokeWidth: 1.8 },
    encoding: { x, y, color, strokeDash, tooltip },
  });
  layers.push({
    data: { values: thinned(points, options.pointEvery ?? defaultPointEvery(points)) },
    mark: { type: 'point', filled: true, size: 36, opacity: 0.9 },
    encoding: { x, y, color, shape, tooltip },
  });
  const spec = {
    title: titleWithNotes(options.title ?? `${label} (mean over seeds)`, notes),
    width: options.width ?? 480,
    height: options.height ?? 280,
    background: 'white',
    layer: layers,
  } as TopLevelSpec;
  return { spec, notes, log };
}

/** One line per method: the metric's mean over seeds at each meta-epoch, with markers and an optional ± std band. */
export async function curvesSvg(results: readonly RunResult[], metric: CurveMetric, options: CurveOptions = {}): Promise<string> {
  return renderVegaLite(curvesSpec(results, metric, options).spec);
}

/** One bar of `timePerMethodSpec`: a method's mean time of one kind (ms) with its ± std interval; zeros when every run diverged. */
export interface TimeBar {
  method: string;
  kind: 'Epoch time' | 'Approximation time';
  ms: number;
  lo: number;
  hi: number;
}

/** Grouped bars per method: mean meta-epoch time and mean approximation time (ms) of the runs that did not diverge, with ± std error bars. */
export async function timePerMethodSvg(results: readonly RunResult[], options: PlotOptions = {}): Promise<string> {
  return renderVegaLite(timePerMethodSpec(results, options));
}

/** The spec of `timePerMethodSvg`; its data are `TimeBar` rows, two per method. */
export function timePerMethodSpec(results: readonly RunResult[], options: PlotOptions = {}): TopLevelSpec {
  const methods = methodOrder(results);
  const kinds = ['Epoch time', 'Approximation time'] as const;
  const rows = methods.flatMap((method): TimeBar[] => {
    // Diverged runs are left out, as in the time table.
    const runs = results.filter((r) => r.method === method && !r.summary.diverged);
    return [
      meanStd(runs.map((r) => r.summary.meanEpochSeconds * 1000)),
      meanStd(runs.map((r) => r.summary.meanApproximationSeconds * 1000)),
    ].map((s, i) => ({ method, kind: kinds[i], ms: s.n ? s.mean : 0, lo: s.n ? s.mean - s.std : 0, hi: s.n ? s.mean + s.std : 0 }));
  });
  const x = { field: 'method', type: 'nominal' as const, title: 'Method', sort: methods, axis: { labelAngle: methods.length > 4 ? -30 : 0 } };
  const xOffset = { field: 'kind', type: 'nominal' as const, sort: [...kinds] };
  return {
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
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: [...kinds] } },
          tooltip: [{ field: 'method' }, { field: 'kind' }, { field: 'ms', format: '.2f' }],
        },
      },
      {
        mark: { type: 'rule', color: '#333' },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
    ],
  } as TopLevelSpec;
}

/**
 * The spec of `cosineOverTrainingSvg`: cosine similarity and relative error per method and meta-epoch (mean over seeds),
 * each method with its own color, dash and marker shape. The relative error goes on a log axis when `logRelError`
 * says so ('auto': when its positive values span more than LOG_SPAN); non-positive and non-finite values are then
 * left out, with a note in the subtitle.
 */
export function cosineOverTrainingSpec(rows: readonly ComparisonRow[], options: ComparisonOptions = {}): PlotSpec {
  const methods = methodOrder(rows);
  const log = wantsLogScale(rows.map((r) => r.relError), options.logRelError ?? 'auto');
  const notes: string[] = [];
  const grouped = new Map<string, { method: string; metaEpoch: number; cos: number[]; rel: number[] }>();
  let leftOut = 0;
  let nonFinite = 0;
  for (const r of rows) {
    const key = `${r.method}\u0000${r.metaEpoch}`;
    const g = grouped.get(key) ?? { method: r.method, metaEpoch: r.metaEpoch, cos: [], rel: [] };
    g.cos.push(r.cosine);
    if (!Number.isFinite(r.relError)) nonFinite++;
    else if (log && r.relError <= 0) leftOut++;
    else g.rel.push(r.relError);
    grouped.set(key, g);
  }
  if (leftOut) notes.push(leftOutNote(leftOut, 'relative-error'));
  if (nonFinite) notes.push(`${nonFinite} non-finite relative error${nonFinite === 1 ? '' : 's'} left out`);
  const data = [...grouped.values()]
    .sort((a, b) => methods.indexOf(a.method) - methods.indexOf(b.method) || a.metaEpoch - b.metaEpoch)
    .map((g) => {
      const c = meanStd(g.cos);
      const e = meanStd(g.rel);
      return { method: g.method, metaEpoch: g.metaEpoch, cosine: c.n ? c.mean : null, relError: e.n ? e.mean : null };
    });
  const { color, strokeDash, shape } = methodEncodings(methods);
  const x = EPOCH_AXIS;
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const panel = (field: 'cosine' | 'relError', title: string, scale: object): object => {
    const y = { field, type: 'quantitative', title, scale };
    const tooltip = [{ field: 'method' }, { field: 'metaEpoch' }, { field, format: '.4g' }];
    return {
      width, height,
      transform: [{ filter: `isValid(datum.${field}) && isFinite(datum.${field})` }],
      layer: [
        { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y, color, strokeDash, tooltip } },
        { mark: { type: 'point', filled: true, size: 36, opacity: 0.9 }, encoding: { x, y, color, shape, tooltip } },
      ],
    };
  };
  const spec = {
    title: titleWithNotes(options.title ?? 'Approximate vs reference inverse-HVP', notes),
    background: 'white',
    data: { values: data },
    hconcat: [
      panel('cosine', 'Cosine similarity', { zero: false }),
      panel('relError', 'Relative error', log ? { type: 'log' } : { zero: true }),
    ],
    resolve: { scale: { color: 'shared', strokeDash: 'shared', shape: 'shared' } },
  } as TopLevelSpec;
  return { spec, notes, log };
}

/** Exact-vs-approximate inverse-HVP agreement over training: cosine similarity and relative error per method (mean over seeds). */
export async function cosineOverTrainingSvg(rows: readonly ComparisonRow[], options: ComparisonOptions = {}): Promise<string> {
  return renderVegaLite(cosineOverTrainingSpec(rows, options).spec);
}
