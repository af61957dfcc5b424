// FixMatch report pieces: the summary table's mean ± std over seeds per (labels, method) and the curves' per-step means, against hand-computed values.
import { describe, expect, it } from 'vitest';
import type { FixMatchMetrics } from '../../src/ssl/fixmatch-metrics.js';
import { sslCurveSpec, sslSummaryTable, type SslRunResult } from '../../src/ssl/report.js';

const m = (step: number, test: number, val: number, mask = 0.5): FixMatchMetrics => ({
  step, lr: 0.03, loss: 1, supervisedLoss: 0.5, unsupervisedLoss: 0.5, maskRate: mask, pseudoAccuracy: 0.8, maskedPseudoAccuracy: 0.9,
  validationAccuracy: val, testAccuracy: test, testLoss: 0.3, stepsPerSecond: 2, seconds: 1,
});

const runs: SslRunResult[] = [
  { method: 'fixmatch', labelsPerClass: 10, seed: 0, metrics: [m(100, 0.5, 0.6), m(200, 0.9, 0.7)] },
  { method: 'fixmatch', labelsPerClass: 10, seed: 1, metrics: [m(100, 0.7, 0.8), m(200, 0.8, 0.6)] },
  { method: 'supervised', labelsPerClass: 10, seed: 0, metrics: [m(100, 0.4, 0.4, 0), m(200, 0.6, 0.5, 0)] },
  { method: 'supervised', labelsPerClass: 10, seed: 1, metrics: [m(100, 0.4, 0.4, 0)], diverged: 'diverged at step 150' },
];

describe('FixMatch report', () => {
  it('summary: final and best-validation test accuracy as mean ± population std, diverged runs left out and counted', () => {
    const t = sslSummaryTable(runs);
    const fm = t.rows.find((r) => r[1] === 'fixmatch')!;
    // final: 0.9 and 0.8 -> 85.00±5.00%; at best validation: seed 0 step 200 (0.7) -> 0.9, seed 1 step 100 (0.8) -> 0.7 -> 80.00±10.00%.
    expect(fm.slice(0, 4)).toEqual(['10', 'fixmatch', '85.00±5.00%', '80.00±10.00%']);
    expect(fm[4]).toBe('50.00±0.00%');
    expect(fm.slice(7)).toEqual(['200', '2/2']);
    const sup = t.rows.find((r) => r[1] === 'supervised')!;
    expect(sup.slice(2, 5)).toEqual(['60.00%', '60.00%', '—']);
    expect(sup[8]).toBe('1/2');
  });

  it('curves: per-step means over seeds, one series per (method, labels); unlabelled-only curves skip supervised', () => {
    const spec = sslCurveSpec(runs, 'testAccuracy') as unknown as { data: { values: { step: number; value: number; series: string }[] } };
    const v = spec.data.values;
    expect(v.filter((p) => p.series === 'fixmatch, 10 labels/class').map((p) => [p.step, +p.value.toFixed(12)])).toEqual([[100, 0.6], [200, 0.85]]);
    expect(v.filter((p) => p.series === 'supervised, 10 labels/class').map((p) => [p.step, p.value])).toEqual([[100, 0.4], [200, 0.6]]);
    const mask = sslCurveSpec(runs, 'maskRate') as unknown as { data: { values: { series: string }[] } };
    expect(new Set(mask.data.values.map((p) => p.series))).toEqual(new Set(['fixmatch, 10 labels/class']));
  });
});
