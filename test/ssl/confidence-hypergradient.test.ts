// The Confidence Network's hypergradient: the exact IFT hypergradient of L_V(θ*(ω)) against central differences of the trained solution, and the mixed term ∂²L_T/∂θ∂ω · v against reverse-over-reverse and finite differences.

import { describe, expect, it } from 'vitest';
import { grad, innerProduct, secondOrderOperator, valueAndGrad } from '../../src/autodiff/transforms.js';
import { randn, randu, tensor } from '../../src/core/creation.js';
import { add, mul, reshape, sub } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { hypergradient, type LossFn } from '../../src/hypergrad/hypergradient.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { exactInverseHvp } from '../../src/linalg/index.js';
import { Linear } from '../../src/nn/layers.js';
import { Module, type ForwardContext } from '../../src/nn/module.js';
import { confidenceTrainLoss, confidenceValLoss, networkWeighting, tableWeighting } from '../../src/ssl/confidence-loss.js';
import { ConfidenceNet } from '../../src/ssl/confidence-net.js';
import { SampleWeightTable } from '../../src/ssl/sample-weight-table.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';

const f64 = { dtype: 'float64' as const };
const flat = (ts: readonly Tensor[]): number[] => ts.flatMap((t) => t.toArray());
const dot = (a: readonly Tensor[], b: readonly Tensor[]): number => {
  const x = flat(a);
  const y = flat(b);
  return x.reduce((s, v, i) => s + v * y[i], 0);
};

/** A linear softmax classifier on flattened images, without bias (a bias has a null direction: adding c to every logit). */
class LinearSoftmax extends Module {
  readonly fc: Linear;
  constructor(inputs: number, classes: number, rng: Random) {
    super();
    this.fc = this.child('fc', new Linear(inputs, classes, rng, { ...f64, bias: false }));
  }
  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    return this.fc.forward(reshape(x, [x.shape[0], -1]));
  }
}

/**
 * B = 6 labelled, μB = 8 unlabelled 1x6x6 images in 3 classes (class-dependent brightness pattern plus noise),
 * strong view = weak view + noise; 10 validation images. Fixed mask and pseudo-labels (constants, as in a meta-step).
 */
function problem(seed: number) {
  const rng = new Random(seed);
  const classes = 3;
  const proto = [0, 1, 2].map(() => randu([1, 1, 6, 6], rng, 0, 1, f64));
  const images = (labels: number[], noise: number): Tensor => {
    const parts = labels.map((c) => add(proto[c], randn([1, 1, 6, 6], rng, noise, f64)));
    return reshape(tensor(parts.flatMap((p) => p.toArray()), [labels.length, 1, 6, 6], f64), [labels.length, 1, 6, 6]);
  };
  const labels = [0, 1, 2, 0, 1, 2];
  const uLabels = [0, 1, 2, 2, 1, 0, 1, 2];
  const xl = images(labels, 0.3);
  const weak = images(uLabels, 0.4);
  const strong = add(weak, randn(weak.shape, rng, 0.3, f64));
  const x = tensor([...xl.toArray(), ...weak.toArray(), ...strong.toArray()], [6 + 16, 1, 6, 6], f64);
  const targets = {
    labels,
    // Pseudo-labels: mostly right, two wrong; two images masked out.
    pseudo: [0, 1, 2, 1, 1, 0, 0, 2],
    mask: Float32Array.from([1, 1, 0, 1, 1, 1, 0, 1]),
    lambdaU: 1,
  };
  const valLabels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
  const xv = images(valLabels, 0.3);
  return { rng, classes, x, weak, targets, xv, valLabels };
}

describe('CN hypergradient vs finite differences of the trained validation loss (exact method, float64)', () => {
  const p = problem(31);
  const model = new LinearSoftmax(36, p.classes, p.rng);
  const cn = new ConfidenceNet(p.rng, { ...f64, widths: [2, 2] });
  const omega0 = cn.parameters().map((q) => q.value);
  // L_T with decay 0.05 on the weight matrix: strictly convex in θ, so θ*(ω) is unique and smooth.
  const trainLoss = confidenceTrainLoss(model, { x: p.x, targets: p.targets }, networkWeighting(cn, p.weak), { weightDecay: 0.05 });
  const valLoss = confidenceValLoss(model, p.xv, p.valLabels);

  /** θ*(ω): gradient descent, then Newton steps with the exact Hessian until ||∇_θ L_T|| < 1e-12. */
  function bestResponse(omega: Tensor[]): Tensor[] {
    let th = model.parameters().map((q) => q.value);
    const g = (ws: Tensor[]): Tensor[] => valueAndGrad((q) => trainLoss(q, omega))(ws).grads;
    for (let i = 0; i < 100; i++) th = g(th).map((gi, k) => sub(th[k], mul(gi, 0.1)));
    for (let i = 0; i < 20; i++) {
      const gr = g(th);
      if (Math.sqrt(flat(gr).reduce((s, v) => s + v * v, 0)) < 1e-12) break;
      const step = exactInverseHvp((q) => trainLoss(q, omega), th, gr).x;
      th = th.map((t, k) => sub(t, step[k]));
    }
    return th;
  }

  const thetaStar = bestResponse(omega0);

  it('θ* is a stationary point of L_T and the unlabelled term matters (weights change θ*)', () => {
    const gr = valueAndGrad((q) => trainLoss(q, omega0))(thetaStar).grads;
    flat(gr).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-10));
    const noU = confidenceTrainLoss(model, { x: p.x, targets: { ...p.targets, lambdaU: 0 } }, networkWeighting(cn, p.weak), { weightDecay: 0.05 });
    const g0 = valueAndGrad((q) => noU(q, omega0))(thetaStar).grads;
    expect(Math.max(...flat(g0).map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('exact IFT hypergradient equals d/dε L_V(θ*(ω + ε d)) along random directions (relative error < 1e-5)', async () => {
    const r = await hypergradient(trainLoss, valLoss, thetaStar, omega0, parseMethod('exact'));
    expect(r.hypergrad.map((h) => h.shape)).toEqual(omega0.map((o) => o.shape));
    const drng = new Random(8);
    for (let k = 0; k < 2; k++) {
      const d = omega0.map((o) => randn(o.shape, drng, 1, f64));
      const eps = 1e-4;
      const at = (s: number): number => valLoss(bestResponse(omega0.map((o, i) => add(o, mul(d[i], s)))), []).item();
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = dot(r.hypergrad, d);
      expect(Math.abs(fd)).toBeGreaterThan(1e-5); // a direction that moves L_V, so the check has teeth
      expect(Math.abs(analytic - fd)).toBeLessThan(1e-5 * Math.abs(fd));
    }
  });
});

describe('mixed term ∂²L_T/∂θ∂ω · v of the CN loss (batch norm in training mode)', () => {
  const rng = new Random(47);
  const model = new SmallCnn(rng, { ...f64, side: 8, widths: [2, 2, 2], numClasses: 3 });
  const x = randu([4 + 10, 1, 8, 8], rng, 0, 1, f64);
  const weak = reshape(tensor(x.toArray().slice(4 * 64, 9 * 64), [5, 1, 8, 8], f64), [5, 1, 8, 8]);
  const targets = { labels: [0, 1, 2, 1], pseudo: [2, 0, 1, 1, 0], mask: Float32Array.from([1, 0, 1, 1, 1]), lambdaU: 0.7 };
  const theta = model.parameters().map((q) => q.value);
  const v = theta.map((t) => randn(t.shape, rng, 1, f64));
  const cn = new ConfidenceNet(rng, { ...f64, widths: [2, 3] });
  const table = new SampleWeightTable(12);
  const cases: { name: string; loss: LossFn; omega: Tensor[] }[] = [
    { name: "CN, 'mean' normalisation", loss: confidenceTrainLoss(model, { x, targets }, networkWeighting(cn, weak), { normalisation: 'mean', weightDecay: 0.01 }), omega: cn.parameters().map((q) => q.value) },
    { name: "CN, 'none'", loss: confidenceTrainLoss(model, { x, targets }, networkWeighting(cn, weak)), omega: cn.parameters().map((q) => q.value) },
    { name: "table, 'none'", loss: confidenceTrainLoss(model, { x, targets }, tableWeighting(table, [7, 2, 11, 2, 0])), omega: [randn([12], rng, 0.5, f64)] },
  ];

  for (const c of cases) {
    it(`${c.name}: secondOrderOperator.mixed(v) = ∇_ω ⟨∇_θ L_T, v⟩ by grad-of-grad, and = central differences of ∇_θ L_T along ω`, () => {
      const nTheta = theta.length;
      const mixed = secondOrderOperator(c.loss, theta, c.omega).mixed(v);
      expect(mixed.map((m) => m.shape)).toEqual(c.omega.map((o) => o.shape));
      // Reverse-over-reverse on the full graph: the outer gradient of ⟨grad_θ L_T(θ, ω), v⟩ in (θ, ω).
      const full = grad((xs) => innerProduct(grad((th) => c.loss(th, xs.slice(nTheta)))(xs.slice(0, nTheta)), v))([...theta, ...c.omega]);
      const rr = full.slice(nTheta);
      const m = flat(mixed);
      const scale = Math.max(...m.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-4);
      flat(rr).forEach((val, i) => expect(Math.abs(val - m[i])).toBeLessThan(1e-12 * scale));
      // Its θ part is the HVP H v of the same operator.
      const hv = flat(secondOrderOperator(c.loss, theta, c.omega).hvp(v));
      flat(full.slice(0, nTheta)).forEach((val, i) => expect(Math.abs(val - hv[i])).toBeLessThan(1e-11 * Math.max(1, Math.abs(hv[i]))));
      // Finite differences: ⟨v, ∇_θ L_T(θ, ω + εd) − ∇_θ L_T(θ, ω − εd)⟩ / 2ε = ⟨mixed, d⟩.
      const drng = new Random(5);
      for (let k = 0; k < 2; k++) {
        const d = c.omega.map((o) => randn(o.shape, drng, 1, f64));
        const eps = 1e-5;
        const gAt = (s: number): Tensor[] => valueAndGrad((th) => c.loss(th, c.omega.map((o, i) => add(o, mul(d[i], s)))))(theta).grads;
        const fd = (dot(gAt(eps), v) - dot(gAt(-eps), v)) / (2 * eps);
        const analytic = dot(mixed, d);
        expect(Math.abs(analytic)).toBeGreaterThan(1e-6);
        expect(Math.abs(analytic - fd)).toBeLessThan(1e-6 * Math.abs(analytic));
      }
    });
  }

  it('L_T does not touch the batch-norm running statistics (updateStats: false)', () => {
    const before = model.buffers().map((b) => b.value.toArray());
    cases[0].loss(theta, cases[0].omega);
    secondOrderOperator(cases[0].loss, theta, cases[0].omega).mixed(v);
    expect(model.buffers().map((b) => b.value.toArray())).toEqual(before);
  });
});
