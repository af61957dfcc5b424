// Small synthetic IML results (two or three methods, a few seeds) shared by the report tests.

import type { ImlSummary, MetaEpochMetrics } from '../../src/iml/trainer.js';
import type { RunResult } from '../../src/report/aggregate.js';

export function metricsFor(epochs: number, base: number, comparison?: (epoch: number) => { cosine: number; relativeError: number }): MetaEpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => {
    const e = i + 1;
    const m: MetaEpochMetrics = {
      metaEpoch: e, innerStep: e * 50,
      train: { accuracy: Math.min(1, base + 0.01 * e), loss: 1 / (e + base), count: 100 },
      validation: { accuracy: Math.min(1, base + 0.008 * e), loss: 1.2 / (e + base), count: 50 },
      test: { accuracy: Math.min(1, base + 0.007 * e), loss: 1.3 / (e + base), count: 50 },
      hypergradNorm: 0.1 / e, meanDecay: 0.69, epochSeconds: 0.2, approximationSeconds: 0.02, approximationBytes: 1e6, hvps: 10, note: '',
    };
    // The compared approximation's label is filled in by run() from the run's method.
    if (comparison) m.comparisons = [{ method: '', reference: 'Exact', norm: 1, referenceNorm: 1, referenceSeconds: 0.1, referenceNote: '', ...comparison(e) }];
    return m;
  });
}

export function run(method: string, seed: number, s: Partial<ImlSummary>, metricsIn: MetaEpochMetrics[] = metricsFor(3, 0.5)): RunResult {
  const metrics = metricsIn.map((m) => (m.comparisons ? { ...m, comparisons: m.comparisons.map((c) => ({ ...c, method })) } : m));
  const summary: ImlSummary = {
    method, metaKnowledge: 'per-parameter', seed, metaEpochsRun: metrics.length, stoppedEarly: false, diverged: null,
    trainMax: 0, validationMax: 0, test: 0, esTest: 0, bestMetaEpoch: 0, meanEpochSeconds: 0, meanApproximationSeconds: 0, maxApproximationBytes: 0,
    ...s,
  };
  return { method, seed, summary, metrics };
}

/** Method "Neumann" (2 seeds), "CG" (3 seeds, one diverged, one early-stopped) and "Baseline" (1 seed). */
export function sampleResults(): RunResult[] {
  return [
    run('Neumann', 1, { trainMax: 0.98, validationMax: 0.97, test: 0.96, esTest: 0.965, bestMetaEpoch: 10, meanEpochSeconds: 0.18, meanApproximationSeconds: 0.02 },
      metricsFor(4, 0.5, (e) => ({ cosine: 0.9 + 0.01 * e, relativeError: 0.4 / e }))),
    run('Neumann', 2, { trainMax: 0.99, validationMax: 0.95, test: 0.94, esTest: 0.955, bestMetaEpoch: 14, meanEpochSeconds: 0.19, meanApproximationSeconds: 0.03 },
      metricsFor(3, 0.52, (e) => ({ cosine: 0.92 + 0.01 * e, relativeError: 0.3 / e }))),
    run('CG', 1, { trainMax: 0.9, validationMax: 0.9, test: 0.9, esTest: 0.9, bestMetaEpoch: 5, meanEpochSeconds: 0.3, meanApproximationSeconds: 0.1, stoppedEarly: true },
      metricsFor(5, 0.4, (e) => ({ cosine: 0.99, relativeError: 0.01 * e }))),
    run('CG', 2, { trainMax: 0.92, validationMax: 0.92, test: 0.92, esTest: 0.92, bestMetaEpoch: 6, meanEpochSeconds: 0.3, meanApproximationSeconds: 0.1 }, metricsFor(5, 0.42)),
    run('CG', 3, { trainMax: 0.94, validationMax: 0.94, test: 0.94, esTest: 0.94, bestMetaEpoch: 7, meanEpochSeconds: 0.3, meanApproximationSeconds: 0.1, diverged: { metaEpoch: 3, step: 120, what: 'training loss is NaN' } }, metricsFor(2, 0.44)),
    run('Baseline', 7, { trainMax: 0.97, validationMax: 0.96, test: 0.955, esTest: 0.95, bestMetaEpoch: 20, meanEpochSeconds: 0.1, meanApproximationSeconds: 0 }, metricsFor(6, 0.5)),
  ];
}
