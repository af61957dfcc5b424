// Aggregates per-seed IML results by method: mean ± population std of accuracies, convergence epoch, timings, extra columns (diverged runs counted apart).

import type { ImlSummary, MetaEpochMetrics } from '../iml/trainer.js';
import { validateSummary } from './validate-summary.js';

export { validateSummary } from './validate-summary.js';

/** One finished run (one method, one seed), as returned by `runIml` plus its method label. */
export interface RunResult {
  method: string;
  seed: number;
  summary: ImlSummary;
  metrics: MetaEpochMetrics[];
}

/** Mean and population standard deviation (divide by n) of the finite values; n counts the values used. */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/** How a mean ± std is printed: value × scale with `digits` decimals, then unit ("%", " ms", ...). */
export interface MeanStdFormat {
  scale?: number;
  digits?: number;
  unit?: string;
}

/** An extra per-run quantity (cosine similarity, relative error, peak memory, ...), aggregated like the others. */
export interface ExtraColumn extends MeanStdFormat {
  name: string;
  /** One value per run: an array parallel to the results array, or a function of the run; null/undefined/NaN are skipped. */
  values: readonly (number | null | undefined)[] | ((run: RunResult, index: number) => number | null | undefined);
}

export interface ExtraAggregate {
  name: string;
  stats: MeanStd;
  text: string;
}

export interface MethodAggregate {
  method: string;
  runs: number;
  seeds: number[];
  /** Runs in the means (all but the diverged ones unless `excludeDiverged: false`). */
  used: number;
  trainMax: MeanStd;
  validationMax: MeanStd;
  test: MeanStd;
  esTest: MeanStd;
  /** Convergence epoch: the meta-epoch of the lowest validation loss. */
  bestMetaEpoch: MeanStd;
  meanEpochSeconds: MeanStd;
  meanApproximationSeconds: MeanStd;
  /** Per run approximation time / epoch time (runs with a zero epoch time are skipped). */
  approximationShare: MeanStd;
  /** Over all runs, diverged ones included (how far they got). */
  metaEpochsRun: MeanStd;
  diverged: number;
  stoppedEarly: number;
  extra: ExtraAggregate[];
}

export interface AggregateOptions {
  /**
   * Leave diverged runs (summary.diverged !== null) out of the means and stds (they are still counted in `runs`
   * and `diverged`). Default true; false averages them in.
   */
  excludeDiverged?: boolean;
  extraColumns?: readonly ExtraColumn[];
}

export const PERCENT: MeanStdFormat = { scale: 100, digits: 2, unit: '%' };
export const MILLISECONDS: MeanStdFormat = { scale: 1000, digits: 2, unit: ' ms' };
export const EPOCHS: MeanStdFormat = { scale: 1, digits: 1, unit: '' };

/** Mean and population std of the finite values (NaN for both when there are none). */
export function meanStd(values: readonly (number | null | undefined)[]): MeanStd {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0) / n;
  return { mean, std: Math.sqrt(variance), n };
}

/** "98.14±0.10%" style text; just "98.14%" for a single value (no ± 0.00); "—" when there were no values. */
export function formatMeanStd(s: MeanStd, format: MeanStdFormat = {}): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '—';
  const { scale = 1, digits = 2, unit = '' } = format;
  const fix = (v: number): string => {
    const t = (v * scale).toFixed(digits);
    return /^-0(\.0*)?$/.test(t) ? t.slice(1) : t;
  };
  return s.n === 1 ? `${fix(s.mean)}${unit}` : `${fix(s.mean)}±${fix(s.std)}${unit}`;
}

export const formatPercent = (s: MeanStd, digits = 2): string => formatMeanStd(s, { ...PERCENT, digits });
export const formatMs = (s: MeanStd, digits = 2): string => formatMeanStd(s, { ...MILLISECONDS, digits });
export const formatEpochs = (s: MeanStd, digits = 1): string => formatMeanStd(s, { ...EPOCHS, digits });

/** Method labels in order of first appearance. */
export function methodOrder(results: readonly { method: string }[]): string[] {
  return [...new Set(results.map((r) => r.method))];
}

/** Per-run values of one extra column, parallel to `results`. */
export function extraValues(results: readonly RunResult[], column: ExtraColumn): (number | null | undefined)[] {
  const { values } = column;
  if (typeof values === 'function') return results.map((r, i) => values(r, i));
  if (values.length !== results.length) {
    throw new Error(`extra column '${column.name}' has ${values.length} values for ${results.length} runs`);
  }
  return [...values];
}

/** Mean ± std of one extra column per method (the generic helper behind `extra`). */
export function aggregateExtra(results: readonly RunResult[], column: ExtraColumn, options: { excludeDiverged?: boolean } = {}): Map<string, ExtraAggregate> {
  const values = extraValues(results, column);
  const exclude = options.excludeDiverged ?? true;
  const out = new Map<string, ExtraAggregate>();
  for (const method of methodOrder(results)) {
    const vs = values.filter((_, i) => results[i].method === method && !(exclude && results[i].summary.diverged));
    const stats = meanStd(vs);
    out.set(method, { name: column.name, stats, text: formatMeanStd(stats, column) });
  }
  return out;
}

/** Where a run is, for error messages: `run '<method>' seed <seed>`. */
export function runLabel(r: { method: string; seed: number }): string {
  return `run '${r.method}' seed ${r.seed}`;
}

/**
 * Groups the runs by method (first-appearance order) and computes mean ± population std over seeds. Every summary
 * is validated first (an invalid one is refused with the run and the field named); diverged runs are left out of
 * the means unless `excludeDiverged: false`.
 */
export function aggregateByMethod(results: readonly RunResult[], options: AggregateOptions = {}): MethodAggregate[] {
  for (const r of results) validateSummary(r.summary, runLabel(r));
  const exclude = options.excludeDiverged ?? true;
  const extras = (options.extraColumns ?? []).map((c) => aggregateExtra(results, c, { excludeDiverged: exclude }));
  return methodOrder(results).map((method) => {
    const all = results.filter((r) => r.method === method);
    const used = exclude ? all.filter((r) => !r.summary.diverged) : all;
    const of = (f: (s: ImlSummary) => number): MeanStd => meanStd(used.map((r) => f(r.summary)));
    return {
      method,
      runs: all.length,
      seeds: all.map((r) => r.seed),
      used: used.length,
      trainMax: of((s) => s.trainMax),
      validationMax: of((s) => s.validationMax),
      test: of((s) => s.test),
      esTest: of((s) => s.esTest),
      bestMetaEpoch: of((s) => s.bestMetaEpoch),
      meanEpochSeconds: of((s) => s.meanEpochSeconds),
      meanApproximationSeconds: of((s) => s.meanApproximationSeconds),
      approximationShare: of((s) => (s.meanEpochSeconds > 0 ? s.meanApproximationSeconds / s.meanEpochSeconds : NaN)),
      metaEpochsRun: meanStd(all.map((r) => r.summary.metaEpochsRun)),
      diverged: all.filter((r) => r.summary.diverged).length,
      stoppedEarly: all.filter((r) => r.summary.stoppedEarly).length,
      extra: extras.map((e) => e.get(method)!),
    };
  });
}

/** Dotted paths of the numbers in a `MetaEpochMetrics` that can be plotted over meta-epochs. */
export type CurveMetric =
  | 'train.loss' | 'train.accuracy'
  | 'validation.loss' | 'validation.accuracy'
  | 'test.loss' | 'test.accuracy'
  | 'hypergradNorm' | 'meanDecay' | 'epochSeconds' | 'approximationSeconds' | 'hvps';

export function metricValue(m: MetaEpochMetrics, metric: CurveMetric): number {
  switch (metric) {
    case 'train.loss': return m.train.loss;
    case 'train.accuracy': return m.train.accuracy;
    case 'validation.loss': return m.validation.loss;
    case 'validation.accuracy': return m.validation.accuracy;
    case 'test.loss': return m.test.loss;
    case 'test.accuracy': return m.test.accuracy;
    default: return m[metric];
  }
}

export interface CurvePoint {
  method: string;
  metaEpoch: number;
  mean: number;
  std: number;
  /** Seeds that reached this meta-epoch with a finite value. */
  n: number;
}

/** Mean ± population std over seeds of one metric per method and meta-epoch (seeds that stopped earlier drop out). */
export function meanCurves(results: readonly RunResult[], metric: CurveMetric): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const method of methodOrder(results)) {
    const byEpoch = new Map<number, number[]>();
    for (const r of results) {
      if (r.method !== method) continue;
      for (const m of r.metrics) {
        const list = byEpoch.get(m.metaEpoch) ?? [];
        list.push(metricValue(m, metric));
        byEpoch.set(m.metaEpoch, list);
      }
    }
    for (const epoch of [...byEpoch.keys()].sort((a, b) => a - b)) {
      const s = meanStd(byEpoch.get(epoch)!);
      if (s.n > 0) out.push({ method, metaEpoch: epoch, mean: s.mean, std: s.std, n: s.n });
    }
  }
  return out;
}

/** A row of an exact-vs-approximate inverse-HVP comparison over training. */
export interface ComparisonRow {
  method: string;
  seed?: number;
  metaEpoch: number;
  cosine: number;
  relError: number;
}

/**
 * Comparison rows from the metrics of runs that recorded `comparisons` (the trainer's `compare`
 * option): one row per compared approximation and meta-epoch, labelled by the approximation.
 */
export function comparisonRows(results: readonly RunResult[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const r of results) {
    for (const m of r.metrics) {
      for (const c of m.comparisons ?? []) {
        rows.push({ method: c.method, seed: r.seed, metaEpoch: m.metaEpoch, cosine: c.cosine, relError: c.relativeError });
      }
    }
  }
  return rows;
}
