// nn modules: parameter trees, HVP/mixed term of an MLP against differences and a full Hessian, BN, conv nets, WRN-28-2.
import { describe, expect, it } from 'vitest';
import {
  add, checkGrads, crossEntropy, hvpAndMixed, innerProduct, mul, oneHot, Random, randn, reshape, softplus, sub, sum, tensor,
  valueAndGrad, type Tensor,
} from '../../src/index.js';
import { BatchNorm, Conv2d, functionalCall, layersOf, Linear, MLP, Sequential, WideResNet, type Module } from '../../src/nn/index.js';
import { maxPool2d } from '../../src/ops/pooling.js';

const f64 = { dtype: 'float64' as const };

function regularisedLoss(model: Module, x: Tensor, t: Tensor) {
  return (w: Tensor[], lam: Tensor[]): Tensor =>
    functionalCall(model, w, () => {
      let loss = crossEntropy(model.forward(x, { training: true }), t);
      w.forEach((wi, i) => {
        const r = mul(softplus(lam[i]), wi);
        loss = add(loss, sum(mul(r, r)));
      });
      return loss;
    });
}

const flat = (ts: Tensor[]): number[] => ts.flatMap((q) => q.toArray());

describe('MLP with per-parameter L2: HVP and mixed term', () => {
  const rng = new Random(7);
  const model = new MLP([5, 4, 3], rng, 'tanh', f64);
  const x = randn([6, 5], rng, 1, f64);
  const t = oneHot([0, 1, 2, 1, 0, 2], 3, f64);
  const w = model.parameters().map((p) => p.value);
  const lam = w.map((wi) => randn(wi.shape, rng, 0.5, f64));
  const v = w.map((wi) => randn(wi.shape, rng, 1, f64));
  const f = regularisedLoss(model, x, t);
  const gradW = (ws: Tensor[], ls: Tensor[]): Tensor[] => valueAndGrad((q) => f(q, ls))(ws).grads;

  it('parameter names and layers', () => {
    expect(model.parameters().map((p) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(layersOf(model.parameters())).toEqual(['fc1', 'fc2']);
  });

  it('H v equals the central difference of the gradient along v', () => {
    const hv = flat(hvpAndMixed(f, w, lam, v).hvp);
    const eps = 1e-5;
    const gp = flat(gradW(w.map((wi, i) => add(wi, mul(v[i], eps))), lam));
    const gm = flat(gradW(w.map((wi, i) => sub(wi, mul(v[i], eps))), lam));
    const fd = gp.map((a, i) => (a - gm[i]) / (2 * eps));
    fd.forEach((d, i) => expect(hv[i]).toBeCloseTo(d, 7));
  });

  it('mixed term equals the difference of <∇_w L, v> along each λ direction', () => {
    const mixed = flat(hvpAndMixed(f, w, lam, v).mixed);
    const dl = lam.map((l) => randn(l.shape, rng, 1, f64));
    const eps = 1e-5;
    const phi = (ls: Tensor[]): number => innerProduct(gradW(w, ls), v).item();
    const fd = (phi(lam.map((l, i) => add(l, mul(dl[i], eps)))) - phi(lam.map((l, i) => sub(l, mul(dl[i], eps))))) / (2 * eps);
    const exact = mixed.reduce((s, m, i) => s + m * flat(dl)[i], 0);
    expect(exact).toBeCloseTo(fd, 7);
  });

  it('matches the full Hessian assembled column by column, which is symmetric', () => {
    const n = w.reduce((s, wi) => s + wi.size, 0);
    const basis = (j: number): Tensor[] => {
      let o = 0;
      return w.map((wi) => {
        const e = new Float64Array(wi.size);
        if (j >= o && j < o + wi.size) e[j - o] = 1;
        o += wi.size;
        return tensor(e, wi.shape, f64);
      });
    };
    const H = Array.from({ length: n }, (_, j) => flat(hvpAndMixed(f, w, lam, basis(j)).hvp));
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(Math.abs(H[i][j] - H[j][i])).toBeLessThan(1e-12);
    const vf = flat(v);
    const hvFull = H[0].map((_, i) => H.reduce((s, col, j) => s + col[i] * vf[j], 0));
    const hv = flat(hvpAndMixed(f, w, lam, v).hvp);
    hv.forEach((a, i) => expect(a).toBeCloseTo(hvFull[i], 10));
  });
});

describe('BatchNorm', () => {
  it('normalises in training, uses running statistics in evaluation', () => {
    const rng = new Random(3);
    const bn = new BatchNorm(3, 1e-5, 0.1, f64);
    const x = add(mul(randn([64, 3], rng, 1, f64), 2), 5);
    const y = bn.forward(x, { training: true }).toArray();
    for (let c = 0; c < 3; c++) {
      const col = y.filter((_, i) => i % 3 === c);
      const m = col.reduce((a, b) => a + b, 0) / col.length;
      expect(Math.abs(m)).toBeLessThan(1e-12);
    }
    const rm = bn.runningMean.toArray();
    rm.forEach((v) => expect(v).toBeGreaterThan(0.3)); // 0.9·0 + 0.1·≈5
    const ye = bn.forward(x, { training: false }).toArray();
    expect(ye[0]).not.toBeCloseTo(y[0], 3);
    expect(bn.buffers('bn').map((b) => b.name)).toEqual(['bn.running_mean', 'bn.running_var']);
  });

  it('training-mode BN passes second-order derivative checks', () => {
    const rng = new Random(4);
    const bn = new BatchNorm(2, 1e-5, 0.1, f64);
    const x = randn([5, 2, 2, 2], rng, 1, f64);
    const params = bn.parameters().map((p) => add(p.value, randn(p.value.shape, rng, 0.1, f64)));
    checkGrads(
      ([xi, g, b]) => [functionalCall(bn, [g, b], () => bn.forward(xi, { training: true, updateStats: false }))],
      [x, ...params],
      { order: 2, rtol: 1e-6, atol: 1e-8 },
    );
  });
});

describe('convolutional networks', () => {
  it('conv-BN-pool-linear network passes second-order derivative checks', () => {
    const rng = new Random(5);
    const conv = new Conv2d(2, 3, 3, rng, { ...f64, padding: 1 });
    const bn = new BatchNorm(3, 1e-5, 0.1, f64);
    const fc = new Linear(12, 2, rng, f64);
    const net = new Sequential(conv, bn);
    const x = randn([3, 2, 4, 4], rng, 1, f64);
    const t = oneHot([0, 1, 1], 2, f64);
    const all = [...net.parameters(), ...fc.parameters()];
    const f = (ws: Tensor[]): Tensor[] => [
      functionalCall(net, ws.slice(0, 4), () => functionalCall(fc, ws.slice(4), () => {
        const h = maxPool2d(net.forward(x, { training: true, updateStats: false }), 2);
        return crossEntropy(fc.forward(reshape(h, [h.shape[0], -1])), t);
      })),
    ];
    checkGrads(f, all.map((p) => p.value), { order: 2, rtol: 1e-5, atol: 1e-8 });
  });

  it('WRN-28-2 has the published parameter count and maps 32x32 images to 10 logits', () => {
    const model = new WideResNet(new Random(1), { depth: 28, widen: 2, numClasses: 10 });
    // 1,467,610 trainable parameters, as in the FixMatch reference implementation.
    expect(model.parameterCount()).toBe(1467610);
    const y = model.forward(randn([2, 3, 32, 32], new Random(2)), { training: true });
    expect(y.shape).toEqual([2, 10]);
    y.toArray().forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });
});

