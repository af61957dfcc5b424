// The composite ops' argument checks and defaults: pooling, reductions, softmax and cross-entropy, and the reference batch norm name the bad input, crop a ragged border, and reduce along the axes their defaults say (checked on ranks where another axis would give other values).
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/creation.js';
import type { Tensor } from '../../src/core/tensor.js';
import { batchNorm, batchNormApply, batchNormComposite } from '../../src/ops/batch-norm.js';
import { crossEntropyPerSample, logSoftmax, softmax } from '../../src/ops/losses.js';
import { avgPool2d, globalAvgPool2d, maxPool2dComposite } from '../../src/ops/pooling.js';
import { logSumExp, mean, variance } from '../../src/ops/reductions.js';

function t(values: number[], shape: number[], label = 'x'): Tensor {
  const r = tensor(values, shape, { dtype: 'float64' });
  r.label = label;
  return r;
}
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const close = (a: number[], b: number[]): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 12));
};

describe('pooling composites', () => {
  // One 3x5 image, values 1..15 row-major.
  const x = t(iota(15), [1, 1, 3, 5]);
  it('drop the ragged border (rows and columns past the last whole window), as PyTorch does', () => {
    // 2x2 windows over rows 0-1 and columns 0-3: [[1,2],[6,7]], [[3,4],[8,9]].
    expect(avgPool2d(x, 2).toArray()).toEqual([4, 6]);
    expect(maxPool2dComposite(x, 2).toArray()).toEqual([7, 9]);
    // Only the columns are ragged for a 2x5 input; only the rows for 3x4.
    expect(avgPool2d(t(iota(10), [1, 1, 2, 5]), 2).toArray()).toEqual([4, 6]);
    expect(avgPool2d(t(iota(12), [1, 1, 3, 4]), 2).toArray()).toEqual([3.5, 5.5]);
    expect(avgPool2d(t(iota(16), [1, 1, 4, 4]), 2).toArray()).toEqual([3.5, 5.5, 11.5, 13.5]);
  });
  it('refuse inputs that are not NCHW and windows larger than the input, naming the op', () => {
    expect(() => avgPool2d(t(iota(4), [2, 2]), 2)).toThrow('avgPool2d: expects NCHW input, got x[2, 2]:float64');
    expect(() => maxPool2dComposite(t(iota(4), [2, 2]), 2)).toThrow('maxPool2dComposite: expects NCHW input, got x[2, 2]:float64');
    expect(() => avgPool2d(x, 4)).toThrow('avgPool2d: window 4 is larger than the input x[1, 1, 3, 5]:float64');
    expect(() => maxPool2dComposite(t(iota(10), [1, 1, 5, 2]), 3)).toThrow('maxPool2dComposite: window 3 is larger than the input');
    expect(() => avgPool2d(t(iota(10), [1, 1, 2, 5]), 3)).toThrow('avgPool2d: window 3 is larger');
    expect(() => globalAvgPool2d(t(iota(4), [1, 4]))).toThrow('globalAvgPool2d: expects NCHW input, got x[1, 4]:float64');
    expect(globalAvgPool2d(x).toArray()).toEqual([8]);
    // A window below 1 or fractional is refused by name (0 used to reach slice as a NaN shape).
    expect(() => avgPool2d(x, 0)).toThrow('avgPool2d: window must be an integer >= 1, got 0');
    expect(() => avgPool2d(x, 1.5)).toThrow('avgPool2d: window must be an integer >= 1, got 1.5');
    expect(() => maxPool2dComposite(x, -2)).toThrow('maxPool2dComposite: window must be an integer >= 1, got -2');
  });
});

describe('reductions and softmax defaults', () => {
  const x = t([1, 2, 4, 8, 3, 5, 7, 6, 0, 1, 2, 9], [2, 2, 3]);
  it('variance and logSumExp drop the reduced axes unless keepDims', () => {
    expect(variance(x, 2).shape).toEqual([2, 2]);
    expect(variance(x, 2, true).shape).toEqual([2, 2, 1]);
    const rows = [[1, 2, 4], [8, 3, 5], [7, 6, 0], [1, 2, 9]];
    const pvar = (v: number[]): number => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
    };
    close(variance(x, 2).toArray(), rows.map(pvar));
    close(variance(x, 2).toArray(), [14 / 9, 38 / 9, 86 / 9, 38 / 3]);
    expect(logSumExp(x, [0, 2]).shape).toEqual([2]);
    expect(logSumExp(x, [0, 2], true).shape).toEqual([1, 2, 1]);
    const lse = (v: number[]): number => Math.log(v.reduce((a, b) => a + Math.exp(b), 0));
    close(logSumExp(x, [0, 2]).toArray(), [lse([...rows[0], ...rows[2]]), lse([...rows[1], ...rows[3]])]);
    close(logSumExp(x).toArray(), [lse([1, 2, 4, 8, 3, 5, 7, 6, 0, 1, 2, 9])]);
    expect(() => mean(x, 3)).toThrow('mean: axis 3 is out of range for rank 3');
    expect(() => variance(x, -4)).toThrow('mean: axis -4 is out of range for rank 3');
    expect(() => logSumExp(x, 3, true)).toThrow('logSumExp: axis 3 is out of range for rank 3');
  });
  it('softmax and logSoftmax default to the last axis', () => {
    const s = softmax(x).toArray();
    const ls = logSoftmax(x).toArray();
    for (let r = 0; r < 4; r++) {
      const row = x.toArray().slice(3 * r, 3 * r + 3);
      const z = row.reduce((a, b) => a + Math.exp(b), 0);
      close(s.slice(3 * r, 3 * r + 3), row.map((v) => Math.exp(v) / z));
      close(ls.slice(3 * r, 3 * r + 3), row.map((v) => v - Math.log(z)));
    }
  });
  it('cross-entropy refuses logits that are not [N, C] or targets of another shape', () => {
    const logits = t(iota(6), [2, 3]);
    expect(() => crossEntropyPerSample(logits, t(iota(3), [3]))).toThrow('crossEntropy: logits [2, 3] and targets [3] must both be [N, C]');
    expect(() => crossEntropyPerSample(t(iota(6), [6]), t(iota(6), [6]))).toThrow('crossEntropy: logits [6] and targets [6] must both be [N, C]');
    expect(() => crossEntropyPerSample(logits, t(iota(6), [3, 2]))).toThrow('must both be [N, C]');
  });
});

describe('reference batch norm', () => {
  it('refuses per-channel parameters that do not match the channels, naming the op and the tensor', () => {
    const x = t(iota(12), [2, 3, 2]);
    expect(() => batchNormComposite(x, t([1, 1], [2], 'gamma'), t([0, 0, 0], [3], 'beta'), 1e-5)).toThrow(
      'batchNorm: per-channel tensor gamma[2]:float64 does not match the 3 channels of x[2, 3, 2]:float64',
    );
    expect(() => batchNormComposite(x, t([1, 1, 1], [3], 'gamma'), t([0, 0], [2], 'beta'), 1e-5)).toThrow('per-channel tensor beta[2]:float64');
  });
  it('batchNorm and batchNormApply refuse a negative or non-finite eps (PyTorch allows 0)', () => {
    const x = t(iota(12), [2, 3, 2]);
    const one = t([1, 1, 1], [3], 'gamma'), zero = t([0, 0, 0], [3], 'beta');
    expect(() => batchNorm(x, one, zero, -1e-3)).toThrow('batchNorm: eps must be a finite number >= 0, got -0.001');
    expect(() => batchNorm(x, one, zero, NaN)).toThrow('batchNorm: eps must be a finite number >= 0, got NaN');
    expect(() => batchNormApply(x, zero, one, one, zero, Infinity)).toThrow('batchNormApply: eps must be a finite number >= 0, got Infinity');
    // eps = 0 normalises exactly: channel 0 holds 1, 2, 7, 8 (mean 4.5, variance 9.25).
    expect(batchNorm(x, one, zero, 0).y.toArray()[0]).toBeCloseTo(-3.5 / Math.sqrt(9.25), 12);
  });
});
