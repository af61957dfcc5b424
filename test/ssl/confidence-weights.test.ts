// The unlabelled-sample weights: the Confidence Network (positive, per-image, a pure function of ω), its warm-up to 1, the per-image table (values, gathered gradients vs finite differences) and the three normalisations by hand.

import { describe, expect, it } from 'vitest';
import { grad } from '../../src/autodiff/transforms.js';
import { randn, randu, tensor } from '../../src/core/creation.js';
import { add, mul, slice, sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { ConfidenceNet, confidenceWeights } from '../../src/ssl/confidence-net.js';
import { warmUpConfidenceNet } from '../../src/ssl/confidence-warmup.js';
import { SampleWeightTable, UNIT_WEIGHT_SCORE } from '../../src/ssl/sample-weight-table.js';
import { normaliseWeights, parseWeightNormalisation } from '../../src/ssl/weight-normalisation.js';
import { Random } from '../../src/util/random.js';

const f64 = { dtype: 'float64' as const };
const softplus = (s: number): number => Math.log1p(Math.exp(s));
const sigmoid = (s: number): number => 1 / (1 + Math.exp(-s));

describe('ConfidenceNet', () => {
  const rng = new Random(3);
  const cn = new ConfidenceNet(rng, { ...f64, widths: [3, 4] });
  const x = randu([5, 1, 6, 6], rng, 0, 1, f64);

  it('gives one positive weight per image, independent of the rest of the batch', () => {
    const w = cn.forward(x).toArray();
    expect(w.length).toBe(5);
    w.forEach((v) => expect(v).toBeGreaterThan(0));
    const firstTwo = cn.forward(slice(x, [0, 0, 0, 0], [2, 1, 6, 6])).toArray();
    firstTwo.forEach((v, i) => expect(v).toBeCloseTo(w[i], 14));
  });

  it('stays positive with a very negative head score (softplus, no clipping)', () => {
    // softplus(s) ≈ eˢ for s ≪ 0: a score near −20 gives a weight near 2·10⁻⁹, not 0 or a negative value.
    const omega = cn.parameters().map((p) => (p.name === 'head.bias' ? tensor([-20], [1], f64) : p.value));
    confidenceWeights(cn, omega, x).toArray().forEach((v) => {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(1e-6);
    });
  });

  it('confidenceWeights is a function of ω: other ω, other weights; the module keeps its own', () => {
    const params = cn.parameters().map((p) => p.value);
    const base = cn.forward(x).toArray();
    const omega = params.map((p) => add(p, mul(randn(p.shape, new Random(4), 1, f64), 0.3)));
    const moved = confidenceWeights(cn, omega, x).toArray();
    expect(Math.max(...moved.map((v, i) => Math.abs(v - base[i])))).toBeGreaterThan(1e-3);
    expect(cn.forward(x).toArray()).toEqual(base);
    expect(confidenceWeights(cn, params, x).toArray()).toEqual(base);
  });

  it('rejects inputs with the wrong channel count, and bad widths', () => {
    expect(() => cn.forward(randu([2, 3, 6, 6], rng, 0, 1, f64))).toThrow(/expected images \[N, 1, H, W\]/);
    expect(() => new ConfidenceNet(rng, { widths: [0, 4] })).toThrow(/width 1 must be a positive integer/);
  });
});

describe('warmUpConfidenceNet', () => {
  /** 48 random 1x8x8 images in [0, 1]. */
  function pool(): ImageDataset {
    const r = new Random(11);
    const count = 48;
    const images = Float32Array.from({ length: count * 64 }, () => r.uniform());
    return { images, labels: new Uint8Array(count), count, channels: 1, height: 8, width: 8, numClasses: 1, name: 'noise' };
  }

  it('drives the outputs on the pool to ~1 (mean |C − 1| from > 0.5 to < 0.05), with weak views', async () => {
    const p = pool();
    const cn = new ConfidenceNet(new Random(2), { widths: [4, 8] });
    // Move the head so that the start is clearly away from 1 (whatever the random init gave).
    cn.head.bias!.value = tensor([-1.5], [1]);
    const before = confidenceWeights(cn, cn.parameters().map((q) => q.value), tensor(p.images, [48, 1, 8, 8])).toArray();
    const initialError = before.reduce((a, v) => a + Math.abs(v - 1), 0) / 48;
    expect(initialError).toBeGreaterThan(0.5);
    const r = await warmUpConfidenceNet(cn, p, { steps: 150, lr: 0.01, batchSize: 16, rng: new Random(5), weak: { flip: false } });
    expect(r.losses.length).toBe(150);
    // Random-noise images: the CN can only flatten its outputs across images, so ~0.04 remains after 150 steps.
    expect(r.meanAbsError).toBeLessThan(0.05);
    expect(r.losses.slice(-10).reduce((a, v) => a + v, 0) / 10).toBeLessThan(r.losses[0] / 20);
    // ω is what the module now holds, and gives the reported error.
    const after = confidenceWeights(cn, r.omega, tensor(p.images, [48, 1, 8, 8])).toArray();
    expect(after.reduce((a, v) => a + Math.abs(v - 1), 0) / 48).toBeCloseTo(r.meanAbsError, 6);
    expect(r.omega).toEqual(cn.parameters().map((q) => q.value));
  });

  it('rejects bad settings', async () => {
    const cn = new ConfidenceNet(new Random(2), { widths: [2, 2] });
    await expect(warmUpConfidenceNet(cn, pool(), { steps: -1, rng: new Random(1) })).rejects.toThrow(/steps must be an integer >= 0/);
    await expect(warmUpConfidenceNet(cn, pool(), { steps: 1, lr: 0, rng: new Random(1) })).rejects.toThrow(/lr must be a finite number > 0/);
    await expect(warmUpConfidenceNet(cn, { ...pool(), count: 0, images: new Float32Array(0), labels: new Uint8Array(0) }, { steps: 1, rng: new Random(1) })).rejects.toThrow(/is empty/);
  });
});

describe('SampleWeightTable', () => {
  const table = new SampleWeightTable(5);

  it('starts every weight at exactly 1 (s = log(e − 1))', () => {
    const [s] = table.init(f64);
    expect(s.shape).toEqual([5]);
    table.weightsFor([s], [0, 1, 2, 3, 4]).toArray().forEach((v) => expect(v).toBeCloseTo(1, 15));
    expect(softplus(UNIT_WEIGHT_SCORE)).toBeCloseTo(1, 15);
  });

  const sv = [-1, 0.25, 0.5, 2, 3];
  const s = tensor(sv, [5], f64);
  const idx = [3, 1, 3];
  const c = tensor([1, 2, 4], [3], f64);

  it('gathers softplus(s_i) at the batch indices (repeats allowed)', () => {
    const w = table.weightsFor([s], idx).toArray();
    w.forEach((v, b) => expect(v).toBeCloseTo(softplus(sv[idx[b]]), 14));
  });

  it('gradient of Σ c_b w_b in s: σ(s_j) Σ_{b: idx_b = j} c_b (scatter-add), and central differences agree', () => {
    const [g] = grad(([t]) => sum(mul(table.weightsFor([t], idx), c)))([s]);
    const expected = [0, 2 * sigmoid(0.25), 0, 5 * sigmoid(2), 0];
    g.toArray().forEach((v, j) => expect(v).toBeCloseTo(expected[j], 14));
    const f = (t: number[]): number => sum(mul(table.weightsFor([tensor(t, [5], f64)], idx), c)).item();
    const eps = 1e-6;
    for (let j = 0; j < 5; j++) {
      const up = [...sv];
      const dn = [...sv];
      up[j] += eps;
      dn[j] -= eps;
      expect((f(up) - f(dn)) / (2 * eps)).toBeCloseTo(g.toArray()[j], 8);
    }
  });

  it('names bad indices, shapes and sizes', () => {
    expect(() => table.weightsFor([s], [0, 5])).toThrow(/index 5 at position 1 is outside the pool \[0, 5\)/);
    expect(() => table.weightsFor([s], [])).toThrow(/no indices/);
    expect(() => table.weightsFor([tensor([1, 2], [2], f64)], [0])).toThrow(/ω\[0\] must be \[5\]/);
    expect(() => table.weightsFor([s, s], [0])).toThrow(/must be one tensor/);
    expect(() => new SampleWeightTable(0)).toThrow(/positive integer/);
  });
});

describe('normaliseWeights', () => {
  const w = tensor([0.5, 1, 2.5], [3], f64);

  it("'none' returns the weights; 'mean' divides by the batch mean 4/3; 'clip' cuts to [0, 2]", () => {
    expect(normaliseWeights(w, 'none').toArray()).toEqual([0.5, 1, 2.5]);
    // mean = (0.5 + 1 + 2.5)/3 = 4/3 → [0.375, 0.75, 1.875], which averages 1.
    normaliseWeights(w, 'mean').toArray().forEach((v, i) => expect(v).toBeCloseTo([0.375, 0.75, 1.875][i], 15));
    expect(normaliseWeights(tensor([-0.5, 1, 2.5], [3], f64), 'clip').toArray()).toEqual([0, 1, 2]);
    expect(normaliseWeights(w).toArray()).toEqual([0.5, 1, 2.5]); // default 'none'
  });

  it("'mean' gradient by hand: ∂W_1/∂w_j = (δ_1j − W_1/n)/w̄ = [0.65625, −0.09375, −0.09375]; scale-invariant", () => {
    // W_1 = 0.375, n = 3, w̄ = 4/3: (1 − 0.125)·0.75 = 0.65625, (0 − 0.125)·0.75 = −0.09375.
    const [g] = grad(([t]) => sum(mul(normaliseWeights(t, 'mean'), tensor([1, 0, 0], [3], f64))))([w]);
    g.toArray().forEach((v, i) => expect(v).toBeCloseTo([0.65625, -0.09375, -0.09375][i], 14));
    // Σ_j w_j ∂(Σ_i c_i W_i)/∂w_j = 0 for any c: scaling all weights changes nothing.
    const [h] = grad(([t]) => sum(mul(normaliseWeights(t, 'mean'), tensor([0.3, -2, 1.1], [3], f64))))([w]);
    expect(h.toArray().reduce((a, v, j) => a + v * [0.5, 1, 2.5][j], 0)).toBeCloseTo(0, 14);
  });

  it("'clip' gradient: 1 inside [0, 2], 0 where clipped", () => {
    const [g] = grad(([t]) => sum(normaliseWeights(t, 'clip')))([tensor([-0.5, 1, 2.5], [3], f64)]);
    expect(g.toArray()).toEqual([0, 1, 0]);
  });

  it('names bad modes and shapes', () => {
    expect(() => normaliseWeights(w, 'max' as never)).toThrow(/unknown mode 'max'; choose none, mean, clip/);
    expect(() => normaliseWeights(tensor([1, 2, 3, 4], [2, 2], f64))).toThrow(/non-empty vector/);
    expect(parseWeightNormalisation('mean')).toBe('mean');
    expect(() => parseWeightNormalisation('Mean')).toThrow(/unknown weight normalisation 'Mean'/);
  });
});
