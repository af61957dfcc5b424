// float32 log-softmax and cross-entropy under a common logit offset against float64 loops; float64 derivative checks at large offsets.
import { describe, expect, it } from 'vitest';
import {
  add, checkGrads, crossEntropy, crossEntropyPerSample, grad, hvp, logSoftmax, oneHot, Random, sum, tensor, type Tensor,
} from '../../src/index.js';

const N = 16;
const C = 10;

/** Logits offset + u with u uniform in [-4, 4], rounded to float32 (the reference uses the same rounded values). */
function makeLogits(offset: number, seed: number): { values: number[]; labels: number[] } {
  const rng = new Random(seed);
  const values: number[] = [];
  for (let i = 0; i < N * C; i++) values.push(Math.fround(offset + (rng.uniform() * 8 - 4)));
  const labels = Array.from({ length: N }, (_, i) => (i * 7 + seed) % C);
  return { values, labels };
}

/** Plain float64 log-softmax of rows of C values: x_c - m - log Σ_k exp(x_k - m). */
function refLogSoftmax(values: readonly number[]): number[] {
  const out: number[] = [];
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, values[n * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(values[n * C + c] - m);
    const lse = Math.log(s);
    for (let c = 0; c < C; c++) out.push(values[n * C + c] - m - lse);
  }
  return out;
}

function refCrossEntropy(values: readonly number[], labels: readonly number[]): number {
  const ls = refLogSoftmax(values);
  let s = 0;
  for (let n = 0; n < N; n++) s -= ls[n * C + labels[n]];
  return s / N;
}

/** ‖a - b‖₂ / ‖b‖₂. */
function relNorm(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  let r = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    r += b[i] ** 2;
  }
  return Math.sqrt(d / r);
}

describe('float32 log-softmax and cross-entropy under a common logit offset', () => {
  for (const offset of [0, 1e3, 1e4, 1e5]) {
    it(`offset ${offset}: relative error below 1e-7 against float64 (measured ≤ 3.2e-8)`, () => {
      const { values, labels } = makeLogits(offset, 3);
      const x = tensor(values, [N, C]); // float32 by default
      expect(x.dtype).toBe('float32');
      const t = oneHot(labels, C);

      const ls = logSoftmax(x, 1).toArray();
      const refLs = refLogSoftmax(values);
      expect(relNorm(ls, refLs)).toBeLessThan(1e-7);
      // Every element within a few float32 ulps of its magnitude (|ls| ≤ ~9 here): absolute error < 1e-6 (measured ≤ 4.5e-7).
      ls.forEach((v, i) => expect(Math.abs(v - refLs[i])).toBeLessThan(1e-6));

      const loss = crossEntropy(x, t).item();
      const refLoss = refCrossEntropy(values, labels);
      // Measured ≤ 2.7e-8 (the unshifted form gave 6.9e-4 at 1e4); PyTorch float32 reaches ~9.4e-8.
      expect(Math.abs(loss - refLoss) / Math.abs(refLoss)).toBeLessThan(1e-7);

      const per = crossEntropyPerSample(x, t).toArray();
      per.forEach((v, n) => expect(Math.abs(v - -refLs[n * C + labels[n]]) / Math.abs(refLs[n * C + labels[n]])).toBeLessThan(1e-6));
    });
  }

  it('is exactly shift invariant in float32 when the shift is representable', () => {
    // Integers up to 2^24 are exact float32; values 1e5 + k/8 are exact too (spacing 2^-7 at 1e5).
    const base = Array.from({ length: C }, (_, c) => (c * 3) / 8 - 1);
    const a = logSoftmax(tensor(base, [1, C]), 1).toArray();
    const b = logSoftmax(tensor(base.map((v) => v + 1e5), [1, C]), 1).toArray();
    expect(b).toEqual(a);
  });
});

describe('derivatives of the shifted log-softmax (float64)', () => {
  const f64 = { dtype: 'float64' as const };

  it('gradient of crossEntropy at offset 1e4 equals (softmax - t)/N and central differences', () => {
    const { values, labels } = makeLogits(1e4, 5);
    const t = oneHot(labels, C, f64);
    const f = ([z]: Tensor[]): Tensor => crossEntropy(z, t);
    const g = grad(f)([tensor(values, [N, C], f64)])[0].toArray();

    // Analytic: ∂/∂z_nc = (softmax(z_n)_c - t_nc) / N, written with plain loops.
    const refLs = refLogSoftmax(values);
    const analytic = refLs.map((l, i) => (Math.exp(l) - (labels[Math.floor(i / C)] === i % C ? 1 : 0)) / N);
    g.forEach((v, i) => expect(Math.abs(v - analytic[i])).toBeLessThan(1e-14));

    // Central differences of the float64 loss, h = 1e-4 (truncation ~h², rounding ~ulp(1e4)/h ~ 2e-8 relative).
    const h = 1e-4;
    for (const i of [0, 7, 23, 58, 99, 131, 159]) {
      const plus = values.slice();
      const minus = values.slice();
      plus[i] += h;
      minus[i] -= h;
      const fp = crossEntropy(tensor(plus, [N, C], f64), t).item();
      const fm = crossEntropy(tensor(minus, [N, C], f64), t).item();
      const fd = (fp - fm) / (2 * h);
      expect(Math.abs(fd - g[i])).toBeLessThan(1e-7 * Math.max(1, Math.abs(g[i])) + 1e-9);
    }
  });

  it('Hessian-vector product at offset 1e3 equals the plain softmax Hessian (diag(p) - p pᵀ)/N', () => {
    const { values, labels } = makeLogits(1e3, 9);
    const t = oneHot(labels, C, f64);
    const rng = new Random(2);
    const v = Array.from({ length: N * C }, () => rng.uniform() - 0.5);
    const hv = hvp(([z]: Tensor[]) => crossEntropy(z, t), [tensor(values, [N, C], f64)], [tensor(v, [N, C], f64)])[0].toArray();
    const p = refLogSoftmax(values).map(Math.exp);
    for (let n = 0; n < N; n++) {
      let pv = 0;
      for (let c = 0; c < C; c++) pv += p[n * C + c] * v[n * C + c];
      for (let c = 0; c < C; c++) {
        const ref = (p[n * C + c] * v[n * C + c] - p[n * C + c] * pv) / N;
        expect(Math.abs(hv[n * C + c] - ref)).toBeLessThan(1e-15);
      }
    }
  });

  it('passes second-order checkGrads at offset 1e3 (forward and reverse modes)', () => {
    const rng = new Random(4);
    const z = tensor(Array.from({ length: 3 * 4 }, () => 1e3 + rng.uniform() * 4 - 2), [3, 4], f64);
    const w = tensor(Array.from({ length: 3 * 4 }, () => rng.uniform()), [3, 4], f64);
    checkGrads(([a]) => [sum(add(logSoftmax(a, 1), 0))], [z], { order: 2, rtol: 1e-5, atol: 1e-8 });
    checkGrads(([a, b]) => [crossEntropy(a, b)], [z, w], { order: 2, rtol: 1e-5, atol: 1e-8 });
  });
});
