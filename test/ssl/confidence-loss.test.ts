// The weighted FixMatch inner loss by hand (and equal to fixMatchLoss at W ≡ 1), its weight gradient, the inner-step gradient against the same LossFn's gradient, the meta-step targets, and L_V in evaluation mode.

import { describe, expect, it } from 'vitest';
import { grad, valueAndGrad } from '../../src/autodiff/transforms.js';
import { oneHot, ones, randu, tensor } from '../../src/core/creation.js';
import { add } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { crossEntropy } from '../../src/ops/losses.js';
import { functionalCall } from '../../src/nn/module.js';
import { confidenceGradient, confidenceTargets, confidenceTrainLoss, confidenceValLoss, networkWeighting, weightedFixMatchLoss } from '../../src/ssl/confidence-loss.js';
import { ConfidenceNet, confidenceWeights } from '../../src/ssl/confidence-net.js';
import { fixMatchGradient } from '../../src/ssl/fixmatch-step.js';
import { fixMatchLoss } from '../../src/ssl/fixmatch-loss.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';

const f64 = { dtype: 'float64' as const };
// The rows of test/ssl/loss.test.ts: labelled [1,0,0] (label 0); weak u1 [2,0,0], u2 [5,0,0]; strong u1 [0,1,0], u2 [0,0,2].
const Z = [1, 0, 0, 2, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2];

describe('weightedFixMatchLoss', () => {
  const t = { labels: [0], pseudo: [0, 0], mask: Float32Array.from([1, 1]), lambdaU: 2 };

  it('by hand: L_s + λ_u (W_1 CE_1 + W_2 CE_2)/2 with W = [3, 0.5]; W ≡ 1 is fixMatchLoss', () => {
    const ls = Math.log(Math.E + 2) - 1;
    const ce1 = Math.log(2 + Math.E); // pseudo 0 on [0, 1, 0]
    const ce2 = Math.log(2 + Math.exp(2)); // pseudo 0 on [0, 0, 2]
    const parts = weightedFixMatchLoss(tensor(Z, [5, 3], f64), t, tensor([3, 0.5], [2], f64));
    expect(parts.supervised.item()).toBeCloseTo(ls, 14);
    expect(parts.unsupervised.item()).toBeCloseTo((3 * ce1 + 0.5 * ce2) / 2, 14);
    expect(parts.loss.item()).toBeCloseTo(ls + (3 * ce1 + 0.5 * ce2), 14);
    const masked = { ...t, mask: Float32Array.from([0, 1]) };
    expect(weightedFixMatchLoss(tensor(Z, [5, 3], f64), masked, tensor([3, 0.5], [2], f64)).unsupervised.item()).toBeCloseTo((0.5 * ce2) / 2, 14);
    const unit = weightedFixMatchLoss(tensor(Z, [5, 3], f64), masked, ones([2], f64)).loss.item();
    expect(unit).toBeCloseTo(fixMatchLoss(tensor(Z, [5, 3], f64), masked).loss.item(), 15);
  });

  it('∂L/∂W_i = λ_u m_i CE_i / μB, and ∂L/∂z on the strong rows is scaled by W_i', () => {
    const masked = { ...t, mask: Float32Array.from([0, 1]) };
    const [gw] = grad(([w]) => weightedFixMatchLoss(tensor(Z, [5, 3], f64), masked, w).loss)([tensor([3, 0.5], [2], f64)]);
    expect(gw.toArray()[0]).toBe(0);
    expect(gw.toArray()[1]).toBeCloseTo((2 * Math.log(2 + Math.exp(2))) / 2, 14);
    const [gz] = grad(([z]) => weightedFixMatchLoss(z, t, tensor([3, 0.5], [2], f64)).loss)([tensor(Z, [5, 3], f64)]);
    const [g1] = grad(([z]) => weightedFixMatchLoss(z, t, ones([2], f64)).loss)([tensor(Z, [5, 3], f64)]);
    const a = gz.toArray();
    const b = g1.toArray();
    for (let c = 0; c < 3; c++) {
      expect(a[9 + c]).toBeCloseTo(3 * b[9 + c], 14);
      expect(a[12 + c]).toBeCloseTo(0.5 * b[12 + c], 14);
      expect(a[c]).toBeCloseTo(b[c], 15);
    }
  });

  it('names bad weights, row counts and empty batches', () => {
    expect(() => weightedFixMatchLoss(tensor(Z, [5, 3], f64), t, ones([3], f64))).toThrow(/weights must be \[2\]/);
    expect(() => weightedFixMatchLoss(tensor(Z, [5, 3], f64), { ...t, labels: [0, 1] }, ones([2], f64))).toThrow(/5 logit rows, expected B \+ 2 μB = 2 \+ 2 x 2/);
    expect(() => weightedFixMatchLoss(tensor(Z.slice(0, 3), [1, 3], f64), { ...t, pseudo: [], mask: new Float32Array(0) }, ones([1], f64))).toThrow(/no unlabelled images/);
  });
});

describe('one definition for inner steps and meta-steps', () => {
  const rng = new Random(13);
  const model = new SmallCnn(rng, { ...f64, side: 8, widths: [2, 3, 2], numClasses: 3 });
  const cn = new ConfidenceNet(rng, { ...f64, widths: [2, 2] });
  const omega = cn.parameters().map((q) => q.value);
  const b = 3;
  const u = 4;
  const xs = randu([b + 2 * u, 1, 8, 8], rng, 0, 1, f64);
  const inputs = { x: Float32Array.from(xs.toArray()), shape: [b + 2 * u, 1, 8, 8] as [number, number, number, number], labels: [0, 2, 1], unlabelled: u, tau: 0.34, lambdaU: 1.5 };
  const x = tensor(inputs.x, inputs.shape, f64);
  const weak = tensor(inputs.x.subarray(b * 64, (b + u) * 64), [u, 1, 8, 8], f64);
  const theta = model.parameters().map((q) => q.value);

  it('confidenceGradient = ∇_θ of confidenceTrainLoss (with its pseudo-labels), weight decay included; the running statistics move only in the inner step', async () => {
    const before = model.buffers().map((q) => q.value.toArray());
    const targets = await confidenceTargets(model, theta, inputs);
    expect(model.buffers().map((q) => q.value.toArray())).toEqual(before);
    const o = { normalisation: 'mean' as const, weightDecay: 0.02 };
    const loss = confidenceTrainLoss(model, targets, networkWeighting(cn, weak), o);
    const ref = valueAndGrad((th) => loss(th, omega))(theta);
    const step = await confidenceGradient(model, theta, networkWeighting(cn, weak), omega, inputs, o);
    expect(Array.from(step.pseudo.labels)).toEqual(Array.from(targets.targets.pseudo));
    expect(Array.from(step.pseudo.mask)).toEqual(Array.from(targets.targets.mask));
    expect(Array.from(step.pseudo.mask).some((m) => m === 1)).toBe(true);
    expect(step.loss).toBeCloseTo(ref.value.item(), 13);
    const r = ref.grads.flatMap((g) => g.toArray());
    const s = step.grads.flatMap((g) => g.toArray());
    const scale = Math.max(...r.map(Math.abs));
    s.forEach((v, i) => expect(Math.abs(v - r[i])).toBeLessThan(1e-12 * scale));
    const w = Array.from(step.weights);
    expect(w.reduce((a, v) => a + v, 0) / u).toBeCloseTo(1, 14); // 'mean' normalisation
    const c = confidenceWeights(cn, omega, weak).toArray();
    w.forEach((v, i) => expect(v).toBeCloseTo((c[i] * u) / c.reduce((a, q) => a + q, 0), 14));
    expect(model.buffers().map((q) => q.value.toArray())).not.toEqual(before);
  });

  it("with every weight 1 and no decay, the inner gradient is FixMatch's", async () => {
    const unit = (): Tensor => ones([u], f64);
    const a = await confidenceGradient(model, theta, unit, [], inputs);
    const f = await fixMatchGradient(model, theta, inputs);
    expect(a.loss).toBeCloseTo(f.loss, 14);
    const fg = f.grads.flatMap((g) => g.toArray());
    a.grads.flatMap((g) => g.toArray()).forEach((v, i) => expect(v).toBeCloseTo(fg[i], 13));
  });

  it('L_V is the cross-entropy in evaluation mode (running statistics), independent of ω', () => {
    const xv = randu([5, 1, 8, 8], rng, 0, 1, f64);
    const labels = [0, 1, 2, 2, 1];
    const lv = confidenceValLoss(model, xv, labels);
    const want = functionalCall(model, theta, () => crossEntropy(model.forward(xv, { training: false }), oneHot(labels, 3, f64))).item();
    expect(lv(theta, []).item()).toBeCloseTo(want, 14);
    expect(lv(theta, omega.map((o) => add(o, 1))).item()).toBe(lv(theta, []).item());
    const train = functionalCall(model, theta, () => crossEntropy(model.forward(xv, { training: true, updateStats: false }), oneHot(labels, 3, f64))).item();
    expect(Math.abs(train - want)).toBeGreaterThan(1e-6);
    expect(() => confidenceValLoss(model, xv, [0, 1])).toThrow(/5 validation images but 2 labels/);
  });

  it('names bad inputs', async () => {
    await expect(confidenceGradient(model, theta, networkWeighting(cn, weak), omega, { ...inputs, unlabelled: 0 })).rejects.toThrow(/no unlabelled images/);
    await expect(confidenceGradient(model, theta, networkWeighting(cn, weak), omega, inputs, { weightDecay: -1 })).rejects.toThrow(/weightDecay must be a finite number >= 0/);
    expect(() => confidenceTrainLoss(model, { x, targets: { labels: [0], pseudo: [0], mask: Float32Array.from([1]), lambdaU: 1 } }, networkWeighting(cn, weak))(theta, omega))
      .toThrow(/11 logit rows, expected B \+ 2 μB = 1 \+ 2 x 1/);
  });
});
