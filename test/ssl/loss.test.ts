// FixMatch loss on a tiny batch against a hand computation; its gradient (logits and weights) against central differences with the mask held fixed.
import { describe, expect, it } from 'vitest';
import { grad } from '../../src/autodiff/transforms.js';
import { tensor } from '../../src/core/creation.js';
import type { Tensor } from '../../src/core/tensor.js';
import { BatchNorm, Linear, Sequential } from '../../src/nn/layers.js';
import { Module, functionalCall, type ForwardContext } from '../../src/nn/module.js';
import { reshape } from '../../src/core/ops.js';
import { fixMatchLoss } from '../../src/ssl/fixmatch-loss.js';
import { fixMatchGradient } from '../../src/ssl/fixmatch-step.js';
import { pseudoLabels } from '../../src/ssl/pseudo-labels.js';
import { Random } from '../../src/util/random.js';

const f64 = { dtype: 'float64' as const };

// Rows: labelled [1,0,0] (label 0); weak u1 [2,0,0] (max q = e²/(e²+2) ≈ 0.787 < 0.95), weak u2 [5,0,0]
// (e⁵/(e⁵+2) ≈ 0.9867 >= 0.95); strong u1 [0,1,0], strong u2 [0,0,2].
const Z = [1, 0, 0, 2, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2];

describe('FixMatch loss', () => {
  it('pseudo-labels: argmax, confidence max softmax, mask at tau (inclusive)', () => {
    const p = pseudoLabels(Z.slice(3, 9), 2, 3, 0.95);
    expect(Array.from(p.labels)).toEqual([0, 0]);
    expect(Array.from(p.mask)).toEqual([0, 1]);
    expect(p.confidence[0]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 2), 14);
    expect(p.confidence[1]).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 2), 14);
    const q = pseudoLabels([0, 0, 0, 1], 2, 2, 0.5); // softmax [1/2, 1/2] exactly at tau
    expect(Array.from(q.mask)).toEqual([1, 1]);
    expect(Array.from(pseudoLabels([0, 0, 0, 1], 2, 2, 0.6).mask)).toEqual([0, 1]);
    expect(Array.from(pseudoLabels([1, 1, 0], 1, 3, 0.1).labels)).toEqual([0]); // first index on ties
    expect(() => pseudoLabels([0, 1, 2], 2, 3, 0.9)).toThrow(/3 logits for 2 rows x 3 classes/);
  });

  it('L = L_s + lambda_u * mean_u mask * CE(pseudo, strong) by hand', () => {
    const p = pseudoLabels(Z.slice(3, 9), 2, 3, 0.95);
    const parts = fixMatchLoss(tensor(Z, [5, 3], f64), { labels: [0], pseudo: p.labels, mask: p.mask, lambdaU: 2 });
    const ls = Math.log(Math.E + 2) - 1;
    const lu = (0 + Math.log(2 + Math.exp(2))) / 2; // u1 masked out; u2: pseudo 0 on [0,0,2]
    expect(parts.supervised.dataSync()[0]).toBeCloseTo(ls, 14);
    expect(parts.unsupervised.dataSync()[0]).toBeCloseTo(lu, 14);
    expect(parts.loss.dataSync()[0]).toBeCloseTo(ls + 2 * lu, 14);
    // lambda_u = 0 or an all-zero mask leave L_s.
    expect(fixMatchLoss(tensor(Z, [5, 3], f64), { labels: [0], pseudo: [0, 0], mask: new Float32Array(2), lambdaU: 1 }).loss.dataSync()[0]).toBeCloseTo(ls, 14);
    expect(() => fixMatchLoss(tensor(Z, [5, 3], f64), { labels: [0, 1], pseudo: [0, 0], mask: new Float32Array(2), lambdaU: 1 })).toThrow(/5 logit rows, expected B \+ 2 μB = 2 \+ 2 x 2/);
  });

  it('gradient with respect to the logits: (softmax - onehot)/B, lambda m (softmax - onehot)/μB, zero on weak rows', () => {
    const p = pseudoLabels(Z.slice(3, 9), 2, 3, 0.95);
    const t = { labels: [0], pseudo: p.labels, mask: p.mask, lambdaU: 2 };
    const [g] = grad(([z]) => fixMatchLoss(z, t).loss)([tensor(Z, [5, 3], f64)]);
    const gv = g.dataSync();
    const sm = (r: number[]): number[] => { const e = r.map(Math.exp); const s = e.reduce((a, b) => a + b); return e.map((v) => v / s); };
    const want = [
      ...sm([1, 0, 0]).map((v, c) => v - (c === 0 ? 1 : 0)),
      0, 0, 0, 0, 0, 0,
      0, 0, 0, // masked
      ...sm([0, 0, 2]).map((v, c) => (2 * (v - (c === 0 ? 1 : 0))) / 2),
    ];
    want.forEach((v, i) => expect(gv[i]).toBeCloseTo(v, 13));
  });
});

/** A tiny float64 network with batch norm, on [N, 1, 2, 2] inputs. */
class Tiny extends Module {
  readonly net: Sequential;
  constructor(rng: Random) {
    super();
    this.net = this.child('net', new Sequential(new Linear(4, 5, rng, f64), new BatchNorm(5, 1e-5, 0.1, f64), new Linear(5, 3, rng, f64)));
  }
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.net.forward(reshape(x, [x.shape[0], 4]), ctx);
  }
}

describe('FixMatch gradient through the network', () => {
  it('matches central differences of the loss with pseudo-labels and mask held fixed', async () => {
    const rng = new Random(3);
    const model = new Tiny(rng);
    const params = model.parameters();
    const b = 2;
    const u = 3;
    const x = Float32Array.from({ length: (b + 2 * u) * 4 }, () => rng.normal());
    const labels = [1, 2];
    const input = { x, shape: [b + 2 * u, 1, 2, 2] as [number, number, number, number], labels, unlabelled: u, lambdaU: 1.5 };
    // tau between the confidences, so that some rows pass and some do not.
    const conf = Array.from((await fixMatchGradient(model, params.map((p) => p.value), { ...input, tau: 0 })).pseudo.confidence).sort();
    const res = await fixMatchGradient(model, params.map((p) => p.value), { ...input, tau: (conf[0] + conf[1]) / 2 });
    expect(res.pseudo.mask.some((m) => m === 1)).toBe(true);
    expect(res.pseudo.mask.some((m) => m === 0)).toBe(true);
    const xt = tensor(x, [b + 2 * u, 1, 2, 2], f64);
    const fixed = { labels, pseudo: res.pseudo.labels, mask: res.pseudo.mask, lambdaU: 1.5 };
    const lossAt = (ws: Tensor[]): number => functionalCall(model, ws, () => fixMatchLoss(model.forward(xt, { training: true, updateStats: false }), fixed).loss).dataSync()[0];
    const base = params.map((p) => p.value);
    expect(lossAt(base)).toBeCloseTo(res.loss, 12);
    expect(res.loss).toBeCloseTo(res.supervised + 1.5 * res.unsupervised, 12);
    const h = 1e-6;
    let checked = 0;
    base.forEach((w, i) => {
      const data = w.dataSync();
      const g = res.grads[i].dataSync();
      for (let k = 0; k < data.length; k += 2) {
        const plus = Float64Array.from(data); plus[k] += h;
        const minus = Float64Array.from(data); minus[k] -= h;
        const at = (arr: Float64Array): number => lossAt(base.map((v, j) => (j === i ? tensor(arr, w.shape, f64) : v)));
        const fd = (at(plus) - at(minus)) / (2 * h);
        expect(Math.abs(fd - g[k])).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(20);
  });
});
