// The hypergradient of a tiny MLP with per-parameter L2 matches finite differences of L_V(w*(λ)) with w* trained to convergence.
import { describe, expect, it } from 'vitest';
import { add, crossEntropy, oneHot, Random, randn, sub, mul, valueAndGrad, type Tensor } from '../../src/index.js';
import { hypergradient, type LossFn } from '../../src/hypergrad/hypergradient.js';
import { perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { exactInverseHvp } from '../../src/linalg/index.js';
import { functionalCall, MLP } from '../../src/nn/index.js';

const f64 = { dtype: 'float64' as const };
const rng = new Random(21);
const model = new MLP([4, 3, 3], rng, 'tanh', f64);
const mk = perParameterL2(model.parameters());
const x = randn([12, 4], rng, 1, f64);
const t = oneHot(Array.from({ length: 12 }, () => rng.int(3)), 3, f64);
const xv = randn([10, 4], rng, 1, f64);
const tv = oneHot(Array.from({ length: 10 }, () => rng.int(3)), 3, f64);
// softplus(λ) around 0.3-0.6: a strongly regularised, locally convex inner problem.
const lam0 = mk.init(rng).map((l) => add(mul(l, 0), add(randn(l.shape, rng, 0.2, f64), -0.5)));

const trainLoss: LossFn = (w, lam) => functionalCall(model, w, () => add(crossEntropy(model.forward(x), t), mk.penalty(w, lam)!));
const valLoss: LossFn = (w) => functionalCall(model, w, () => crossEntropy(model.forward(xv), tv));

/** w*(λ): gradient descent, then Newton steps with the exact Hessian until ||∇_w L_T|| < 1e-13. */
function bestResponse(lam: Tensor[]): Tensor[] {
  let w = model.parameters().map((p) => p.value);
  const g = (ws: Tensor[]): Tensor[] => valueAndGrad((q) => trainLoss(q, lam))(ws).grads;
  for (let i = 0; i < 300; i++) w = g(w).map((gi, k) => sub(w[k], mul(gi, 0.5)));
  for (let i = 0; i < 20; i++) {
    const grad = g(w);
    const norm = Math.sqrt(grad.reduce((s, gi) => s + gi.toArray().reduce((a, v) => a + v * v, 0), 0));
    if (norm < 1e-13) break;
    const step = exactInverseHvp((q) => trainLoss(q, lam), w, grad).x;
    w = w.map((wi, k) => sub(wi, step[k]));
  }
  return w;
}

describe('MLP hypergradient vs finite differences of the trained validation loss', () => {
  const wStar = bestResponse(lam0);

  it('w* is a stationary point of the training loss', () => {
    const grad = valueAndGrad((q) => trainLoss(q, lam0))(wStar).grads;
    grad.forEach((gi) => gi.toArray().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-10)));
  });

  it('exact IFT hypergradient equals d/dε L_V(w*(λ + ε d)) along random directions', async () => {
    const hg = (await hypergradient(trainLoss, valLoss, wStar, lam0, parseMethod('exact'))).hypergrad;
    for (let k = 0; k < 2; k++) {
      const d = lam0.map((l) => randn(l.shape, rng, 1, f64));
      const eps = 1e-4;
      const at = (s: number): number => valLoss(bestResponse(lam0.map((l, i) => add(l, mul(d[i], s)))), []).item();
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = hg.reduce((s, h, i) => s + h.toArray().reduce((a, v, j) => a + v * d[i].toArray()[j], 0), 0);
      expect(Math.abs(analytic - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it('the closed-form penalty path gives the same hypergradients as differentiating the penalty graph', async () => {
    const dataLoss: LossFn = (w) => functionalCall(model, w, () => crossEntropy(model.forward(x), t));
    const closed = mk.closedForm!(wStar, lam0);
    for (const spec of ['exact', 'neumann:5', 'cg:4', 'identity', 'damped-neumann:4']) {
      const generic = (await hypergradient(trainLoss, valLoss, wStar, lam0, parseMethod(spec))).hypergrad;
      const fast = (await hypergradient(dataLoss, valLoss, wStar, lam0, parseMethod(spec), {}, undefined, closed)).hypergrad;
      const g = generic.flatMap((h) => h.toArray());
      const f = fast.flatMap((h) => h.toArray());
      const scale = Math.max(...g.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      f.forEach((v, i) => expect(Math.abs(v - g[i]), `${spec}[${i}]`).toBeLessThan(1e-10 * scale));
    }
  });

  it('identity and T1-T2 with the closed-form penalty skip the Hessian graph: same hypergradient, L_T only when asked for', async () => {
    const dataLoss: LossFn = (w) => functionalCall(model, w, () => crossEntropy(model.forward(x), t));
    const closed = mk.closedForm!(wStar, lam0);
    const lT = dataLoss(wStar, lam0).item();
    for (const spec of ['identity', 't1t2']) {
      const m = parseMethod(spec);
      // With a comparison requested the operator is recorded (the comparison multiplies by H): the reference path.
      const recorded = await hypergradient(dataLoss, valLoss, wStar, lam0, m, {}, { reference: parseMethod('exact'), methods: [m] }, closed);
      const asked = await hypergradient(dataLoss, valLoss, wStar, lam0, m, {}, undefined, closed);
      const skipped = await hypergradient(dataLoss, valLoss, wStar, lam0, m, {}, undefined, closed, { trainLoss: false });
      for (const r of [asked, skipped]) expect(r.hypergrad.flatMap((h) => h.toArray())).toStrictEqual(recorded.hypergrad.flatMap((h) => h.toArray()));
      expect(recorded.trainLoss).toBe(lT);
      expect(asked.trainLoss).toBe(lT);
      expect(skipped.trainLoss).toBeNaN();
      expect(skipped.valLoss).toBe(recorded.valLoss);
      // The comparison itself: identity against the exact inverse at this point is a real approximation.
      expect(recorded.comparisons![0]!.cosine).toBeLessThan(0.999999);
    }
    // A method that multiplies by H still reports L_T when told not to (it comes with the recorded graph).
    expect((await hypergradient(dataLoss, valLoss, wStar, lam0, parseMethod('cg:2'), {}, undefined, closed, { trainLoss: false })).trainLoss).toBe(lT);
  });
});
