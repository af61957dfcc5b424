// The hypergradient's direct term ∂L_V/∂λ, for a validation loss that depends on λ itself: against a closed form, for the exact solve, CG and identity; and the calls it refuses.
import { describe, expect, it } from 'vitest';
import { add, mul, sub, sum, tensor } from '../../src/index.js';
import { hypergradient, type LossFn } from '../../src/hypergrad/hypergradient.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import '../../src/linalg/index.js';

const f64 = { dtype: 'float64' as const };

describe('a validation loss that depends on λ', () => {
  // L_T(w, λ) = ½ Σ d ⊙ (w - λ)²: H = diag(d), ∂²L_T/∂λ∂w = -diag(d).
  // L_V(w, λ) = ½ Σ w² + ⅓ Σ λ³ (λ₂ enters L_V only): ∇_w L_V = w, ∂L_V/∂λ = λ².
  // dL_V/dλ = λ² - (∂²L_T/∂λ∂w) H⁻¹ w = λ² + d ⊙ diag(d)⁻¹ w = λ² + w exactly; identity: λ² + d ⊙ w.
  const d = [2, 0.5, 4];
  const wv = [0.3, -1.2, 0.7];
  const lv = [1.5, -0.5, 2];
  const lam2v = [0.25, -3];
  const D = tensor(d, [3], f64);
  const trainLoss: LossFn = (w, lam) => mul(sum(mul(D, mul(sub(w[0], lam[0]), sub(w[0], lam[0])))), 0.5);
  const valLoss: LossFn = (w, lam) => {
    const cube = (t: typeof lam[number]) => sum(mul(mul(t, t), t));
    return add(mul(sum(mul(w[0], w[0])), 0.5), mul(add(cube(lam[0]), cube(lam[1])), 1 / 3));
  };

  for (const [spec, expected] of [
    ['exact', wv.map((w, i) => lv[i] ** 2 + w)],
    ['cg:3', wv.map((w, i) => lv[i] ** 2 + w)],
    ['identity', wv.map((w, i) => lv[i] ** 2 + d[i] * w)],
  ] as const) {
    it(`${spec}: the direct term ∂L_V/∂λ plus the implicit term, for each λ tensor`, async () => {
      const w = [tensor(wv, [3], f64)];
      const lam = [tensor(lv, [3], f64), tensor(lam2v, [2], f64)];
      const r = await hypergradient(trainLoss, valLoss, w, lam, parseMethod(spec));
      expect(r.hypergrad).toHaveLength(2);
      Array.from(r.hypergrad[0].toArray()).forEach((g, i) => expect(g).toBeCloseTo(expected[i], 10));
      // λ₂ is not in L_T: its hypergradient is its direct term alone.
      Array.from(r.hypergrad[1].toArray()).forEach((g, i) => expect(g).toBeCloseTo(lam2v[i] ** 2, 12));
      expect(r.valLoss).toBeCloseTo(0.5 * wv.reduce((s, x) => s + x * x, 0) + [...lv, ...lam2v].reduce((s, x) => s + x ** 3, 0) / 3, 12);
    });
  }
});

describe('hypergradient refuses calls it cannot answer, by name', () => {
  const trainLoss: LossFn = (w, lam) => sum(mul(mul(w[0], w[0]), lam[0]));
  const valLoss: LossFn = (w) => sum(w[0]);
  const w = [tensor([1, 2], [2], f64)];
  const lam = [tensor([0.5, 0.5], [2], f64)];
  it('a method object of an unknown kind (built by hand, untyped) is named instead of failing on an undefined solve', async () => {
    await expect(hypergradient(trainLoss, valLoss, w, lam, { kind: 'neuman' } as never)).rejects.toThrow(
      `hypergradient: unknown method kind "neuman" (expected neumann, damped-neumann, cg, identity, t1t2 or exact; parseMethod builds one from 'neumann:3' etc.)`);
  });
  it('empty inner or meta-parameter lists are refused', async () => {
    await expect(hypergradient(trainLoss, valLoss, [], lam, parseMethod('identity'))).rejects.toThrow('hypergradient: w (the inner parameters) is empty');
    await expect(hypergradient(trainLoss, valLoss, w, [], parseMethod('identity'))).rejects.toThrow('hypergradient: lam (the meta-parameters) is empty');
    // The same call with both lists: ∂L_T/∂w = 2 λ w, mixed term 2 w ⊙ x, identity x = ∇L_V = 1: −2 w.
    expect(Array.from((await hypergradient(trainLoss, valLoss, w, lam, parseMethod('identity'))).hypergrad[0].toArray())).toEqual([-2, -4]);
  });
});

