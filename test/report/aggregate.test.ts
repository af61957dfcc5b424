// Aggregation tests: mean ± population std over seeds, formatting, run counts, extra columns, mean curves.

import { describe, expect, it } from 'vitest';
import {
  aggregateByMethod, aggregateExtra, comparisonRows, EPOCHS, formatEpochs, formatMeanStd, formatMs, formatPercent, meanCurves, meanStd, methodOrder,
  metricValue, type CurveMetric,
} from '../../src/report/aggregate.js';
import { metricsFor, run, sampleResults } from './fixtures.js';

describe('meanStd', () => {
  it('uses the population std (divide by n) and skips non-finite values', () => {
    const s = meanStd([1, 2, 3, 4, NaN, null, undefined, Infinity]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(meanStd([0.9, 0.92, 0.94]).std).toBeCloseTo(Math.sqrt(0.0008 / 3), 15);
    expect(meanStd([5])).toEqual({ mean: 5, std: 0, n: 1 });
    expect(meanStd([])).toEqual({ mean: NaN, std: NaN, n: 0 });
  });

  it('formats like the thesis tables', () => {
    expect(formatPercent({ mean: 0.9814, std: 0.001, n: 3 })).toBe('98.14±0.10%');
    expect(formatMs({ mean: 0.18634, std: 0.00468, n: 3 })).toBe('186.34±4.68 ms');
    expect(formatMeanStd({ mean: 12, std: 2, n: 2 }, { digits: 1 })).toBe('12.0±2.0');
    expect(formatMeanStd({ mean: -0.0001, std: 0, n: 2 }, { digits: 2 })).toBe('0.00±0.00');
    // A single seed has no spread to show: just the value.
    expect(formatMeanStd({ mean: -0.0001, std: 0, n: 1 }, { digits: 2 })).toBe('0.00');
    expect(formatPercent({ mean: 0.955, std: 0, n: 1 })).toBe('95.50%');
    expect(formatPercent(meanStd([]))).toBe('—');
  });
});

describe('edge cases a report meets (each killed a surviving mutant of src/report/aggregate.ts)', () => {
  it('formats an infinite mean as "—", keeps the sign of small negatives, and -0 only when it rounds to zero', () => {
    expect(formatMeanStd({ mean: Infinity, std: NaN, n: 2 })).toBe('—');
    expect(formatMeanStd({ mean: -Infinity, std: 0, n: 1 })).toBe('—');
    expect(formatMeanStd({ mean: -0.05, std: 0.01, n: 2 }, { digits: 2 })).toBe('-0.05±0.01');
    expect(formatMeanStd({ mean: -0.4, std: 0, n: 1 }, { digits: 0 })).toBe('0');
    expect(formatMeanStd({ mean: -10, std: 0, n: 1 }, { digits: 1 })).toBe('-10.0');
    expect(EPOCHS).toEqual({ scale: 1, digits: 1, unit: '' });
    expect(formatEpochs({ mean: 12.345, std: 1.25, n: 2 })).toBe('12.3±1.3');
  });

  it('meanStd of no finite values is NaN ± NaN with n 0 (not 0/0 arithmetic on an empty list)', () => {
    expect(meanStd([NaN, null, undefined, -Infinity])).toEqual({ mean: NaN, std: NaN, n: 0 });
  });

  it('extra columns leave diverged runs out unless asked', () => {
    const nan = { metaEpoch: 1, step: 3, what: 'loss is NaN' };
    const results = [run('M', 1, {}), run('M', 2, { diverged: nan })];
    const column = { name: 'x', values: [1, 3] };
    expect(aggregateExtra(results, column).get('M')!.stats).toEqual({ mean: 1, std: 0, n: 1 });
    expect(aggregateExtra(results, column, {}).get('M')!.stats.n).toBe(1);
    expect(aggregateExtra(results, column, { excludeDiverged: false }).get('M')!.stats).toEqual({ mean: 2, std: 1, n: 2 });
  });

  it('the approximation share is undefined ("—"), not infinite, when a run records no epoch time', () => {
    const a = aggregateByMethod([run('Z', 1, { meanEpochSeconds: 0, meanApproximationSeconds: 0.01 })])[0];
    expect(a.approximationShare.n).toBe(0);
    expect(formatPercent(a.approximationShare)).toBe('—');
  });

  it('every curve metric reads its own field', () => {
    const m = metricsFor(1, 0.5)[0];
    const want: Record<CurveMetric, number> = {
      'train.loss': m.train.loss, 'train.accuracy': m.train.accuracy, 'validation.loss': m.validation.loss,
      'validation.accuracy': m.validation.accuracy, 'test.loss': m.test.loss, 'test.accuracy': m.test.accuracy,
      hypergradNorm: m.hypergradNorm, meanDecay: m.meanDecay, epochSeconds: m.epochSeconds, approximationSeconds: m.approximationSeconds, hvps: m.hvps,
    };
    for (const [metric, value] of Object.entries(want)) expect(metricValue(m, metric as CurveMetric), metric).toBe(value);
    // The fixture's six accuracy and loss values are all different, so a metric reading a neighbour's field fails.
    expect(new Set(Object.values(want).slice(0, 6)).size).toBe(6);
  });

  it('curves come out in meta-epoch order whatever order the metrics were recorded in, and skip epochs with no finite value', () => {
    const ms = metricsFor(12, 0.5);
    const shuffled = [ms[10], ms[1], ms[11], ms[0], ms[2], ...ms.slice(3, 10)];
    shuffled[4] = { ...shuffled[4], validation: { ...shuffled[4].validation, accuracy: NaN } }; // epoch 3
    const pts = meanCurves([run('A', 1, {}, shuffled)], 'validation.accuracy');
    expect(pts.map((p) => p.metaEpoch)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});

describe('aggregateByMethod', () => {
  const aggs = aggregateByMethod(sampleResults());

  it('groups by method in first-appearance order with run counts', () => {
    expect(aggs.map((a) => a.method)).toEqual(['Neumann', 'CG', 'Baseline']);
    expect(aggs.map((a) => [a.runs, a.diverged, a.stoppedEarly])).toEqual([[2, 0, 0], [3, 1, 1], [1, 0, 0]]);
    expect(aggs[1].seeds).toEqual([1, 2, 3]);
  });

  it('gives exact mean ± std numbers', () => {
    const [neumann, cg, baseline] = aggs;
    expect(formatPercent(neumann.trainMax)).toBe('98.50±0.50%');
    expect(formatPercent(neumann.validationMax)).toBe('96.00±1.00%');
    expect(formatPercent(neumann.test)).toBe('95.00±1.00%');
    expect(formatPercent(neumann.esTest)).toBe('96.00±0.50%');
    expect(neumann.bestMetaEpoch).toEqual({ mean: 12, std: 2, n: 2 });
    expect(formatMs(neumann.meanEpochSeconds)).toBe('185.00±5.00 ms');
    expect(formatMs(neumann.meanApproximationSeconds)).toBe('25.00±5.00 ms');
    expect(formatPercent(neumann.approximationShare)).toBe('13.45±2.34%');
    expect(neumann.approximationShare.mean).toBeCloseTo((0.02 / 0.18 + 0.03 / 0.19) / 2, 15);
    // CG seed 3 diverged: the means are over seeds 1 and 2 (0.90, 0.92).
    expect(cg.used).toBe(2);
    expect(formatPercent(cg.test)).toBe('91.00±1.00%');
    expect(cg.bestMetaEpoch).toEqual({ mean: 5.5, std: 0.5, n: 2 });
    expect(formatPercent(cg.approximationShare)).toBe('33.33±0.00%');
    // metaEpochsRun is over all runs (5, 5, 2): how far they got, diverged or not.
    expect(cg.metaEpochsRun.mean).toBe(4);
    expect(cg.metaEpochsRun.std).toBeCloseTo(Math.sqrt(2), 15);
    expect(formatPercent(baseline.test)).toBe('95.50%');
    expect(formatMs(baseline.meanApproximationSeconds)).toBe('0.00 ms');
  });

  it('leaves diverged runs out of the means by default, counts them, and can average them in', () => {
    const cg = aggregateByMethod(sampleResults())[1];
    expect([cg.runs, cg.used, cg.diverged, cg.test.n]).toEqual([3, 2, 1, 2]);
    const all = aggregateByMethod(sampleResults(), { excludeDiverged: false })[1];
    expect([all.runs, all.used, all.diverged]).toEqual([3, 3, 1]);
    // Population std over 3 seeds: sqrt(((-2)^2 + 0 + 2^2)/3) = 1.63 (the sample std would be 2.00).
    expect(formatPercent(all.test)).toBe('92.00±1.63%');
    expect(all.bestMetaEpoch.mean).toBe(6);
    expect(all.bestMetaEpoch.std).toBeCloseTo(Math.sqrt(2 / 3), 15);
  });

  it('a method whose every seed diverged has no means ("—"), not 0.00%', () => {
    const nan = { metaEpoch: 2, step: 10, what: 'loss is NaN' };
    const aggs2 = aggregateByMethod([run('Bad', 1, { diverged: nan }), run('Bad', 2, { diverged: nan, test: NaN }), run('Good', 1, { test: 0.5 })]);
    expect([aggs2[0].runs, aggs2[0].used, aggs2[0].diverged]).toEqual([2, 0, 2]);
    expect(formatPercent(aggs2[0].test)).toBe('—');
    expect(formatPercent(aggs2[0].trainMax)).toBe('—');
    expect(formatPercent(aggs2[1].test)).toBe('50.00%');
  });

  it('aggregates extra columns given as arrays or functions', () => {
    const results = sampleResults();
    const cosine = { name: 'Cosine', values: [0.9, 0.8, 0.99, 0.97, null, NaN], digits: 3 };
    const memory = { name: 'Peak memory', values: (r: (typeof results)[number]) => r.seed * 100, digits: 0, unit: ' MiB' };
    const aggs2 = aggregateByMethod(results, { extraColumns: [cosine, memory] });
    expect(aggs2[0].extra.map((e) => e.text)).toEqual(['0.850±0.050', '150±50 MiB']);
    // CG: the diverged seed 3 is left out (seeds 1, 2).
    expect(aggs2[1].extra.map((e) => e.text)).toEqual(['0.980±0.010', '150±50 MiB']);
    expect(aggs2[2].extra.map((e) => e.text)).toEqual(['—', '700 MiB']);
    expect(aggregateByMethod(results, { extraColumns: [memory], excludeDiverged: false })[1].extra[0].text).toBe('200±82 MiB');
    expect(aggregateExtra(results, cosine).get('CG')!.stats.n).toBe(2);
    expect(() => aggregateByMethod(results, { extraColumns: [{ name: 'bad', values: [1, 2] }] })).toThrow(/2 values for 6 runs/);
  });
});

describe('curves and comparisons', () => {
  it('averages a metric over the seeds present at each meta-epoch', () => {
    const results = [run('A', 1, {}, metricsFor(3, 0.5)), run('A', 2, {}, metricsFor(2, 0.6)), run('B', 1, {}, metricsFor(1, 0.3))];
    const pts = meanCurves(results, 'validation.accuracy');
    expect(pts.map((p) => [p.method, p.metaEpoch, p.n])).toEqual([['A', 1, 2], ['A', 2, 2], ['A', 3, 1], ['B', 1, 1]]);
    expect(pts[0].mean).toBeCloseTo(0.558, 12);
    expect(pts[0].std).toBeCloseTo(0.05, 12);
    expect(pts[2].mean).toBeCloseTo(0.524, 12);
    expect(methodOrder(results)).toEqual(['A', 'B']);
  });

  it('extracts comparison rows recorded by the trainer', () => {
    const rows = comparisonRows(sampleResults());
    expect(rows.length).toBe(4 + 3 + 5);
    expect(rows[0]).toEqual({ method: 'Neumann', seed: 1, metaEpoch: 1, cosine: 0.91, relError: 0.4 });
  });
});
