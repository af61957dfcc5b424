// BatchNorm: training outputs, running-statistics updates (PyTorch's momentum convention), eval outputs and gradients vs float64 loops.
import { describe, expect, it } from 'vitest';
import { tensor, vjp, type Tensor } from '../../src/index.js';
import { BatchNorm, functionalCall } from '../../src/nn/index.js';
import { expectClose, f32, f64, normals, prod } from './helpers.js';

/** Per channel (axis 1): the flat indices of its elements. */
function channelIndices(s: readonly number[]): number[][] {
  const c = s[1];
  const inner = prod(s.slice(2));
  const out: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < prod(s); i++) out[Math.floor(i / inner) % c].push(i);
  return out;
}

interface Stats { mean: number[]; biasedVar: number[]; unbiasedVar: number[] }

function refStats(s: readonly number[], x: ArrayLike<number>): Stats {
  const mean: number[] = [];
  const biasedVar: number[] = [];
  const unbiasedVar: number[] = [];
  for (const idx of channelIndices(s)) {
    let m = 0;
    for (const i of idx) m += x[i];
    m /= idx.length;
    let ss = 0;
    for (const i of idx) ss += (x[i] - m) * (x[i] - m);
    mean.push(m);
    biasedVar.push(ss / idx.length);
    unbiasedVar.push(ss / (idx.length - 1));
  }
  return { mean, biasedVar, unbiasedVar };
}

/** y = γ (x - μ)/√(σ² + ε) + β per channel. */
function refNormalise(s: readonly number[], x: ArrayLike<number>, mu: number[], v: number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(prod(s));
  channelIndices(s).forEach((idx, c) => {
    for (const i of idx) y[i] = (gamma[c] * (x[i] - mu[c])) / Math.sqrt(v[c] + eps) + beta[c];
  });
  return y;
}

const SHAPES: Array<[string, number[]]> = [
  ['BatchNorm2d [4, 3, 5, 6]', [4, 3, 5, 6]],
  ['BatchNorm2d [2, 5, 3, 1]', [2, 5, 3, 1]],
  ['BatchNorm1d [7, 4]', [7, 4]],
];

describe.each(SHAPES)('%s', (_name, s) => {
  const c = s[1];
  const eps = 1e-5;
  const x1 = normals(prod(s), 31, 2, 3);
  const x2 = normals(prod(s), 32, 0.5, -1);
  const gamma = normals(c, 33, 0.5, 1);
  const beta = normals(c, 34);

  function make(momentum: number, opts: { dtype: 'float32' | 'float64' } = f64): BatchNorm {
    const bn = new BatchNorm(c, eps, momentum, opts);
    bn.gamma.value = tensor(gamma, [c], opts);
    bn.beta.value = tensor(beta, [c], opts);
    return bn;
  }

  it('training mode normalises with the biased batch variance', () => {
    const bn = make(0.1);
    const st = refStats(s, x1);
    const y = bn.forward(tensor(x1, s, f64), { training: true });
    expect(y.shape).toEqual(s);
    expectClose(y.toArray(), refNormalise(s, x1, st.mean, st.biasedVar, gamma, beta, eps), { label: 'y' });
  });

  it('training mode in float32 (relative tolerance)', () => {
    const bn = make(0.1, f32);
    const st = refStats(s, x1);
    const y = bn.forward(tensor(x1, s, f32), { training: true });
    expectClose(y.toArray(), refNormalise(s, x1, st.mean, st.biasedVar, gamma, beta, eps), { rtol: 1e-5, atol: 1e-5, label: 'y32' });
  });

  for (const momentum of [0.1, 0.3]) {
    it(`running statistics, momentum ${momentum}: r ← (1-m)·r + m·batch, unbiased variance (PyTorch's convention), over two steps`, () => {
      const bn = make(momentum);
      expectClose(bn.runningMean.toArray(), new Array(c).fill(0), { allowZero: true, label: 'initial mean' });
      expectClose(bn.runningVar.toArray(), new Array(c).fill(1), { label: 'initial var' });
      let rm = new Array<number>(c).fill(0);
      let rv = new Array<number>(c).fill(1);
      for (const x of [x1, x2]) {
        bn.forward(tensor(x, s, f64), { training: true });
        const st = refStats(s, x);
        rm = rm.map((r, k) => (1 - momentum) * r + momentum * st.mean[k]);
        rv = rv.map((r, k) => (1 - momentum) * r + momentum * st.unbiasedVar[k]);
        expectClose(bn.runningMean.toArray(), rm, { label: 'running mean' });
        expectClose(bn.runningVar.toArray(), rv, { label: 'running var' });
      }
      // The biased variance would give a different answer: the test distinguishes the two.
      const n = prod(s) / c;
      expect(n / (n - 1)).toBeGreaterThan(1 + 1e-3);
    });
  }

  it('updateStats: false leaves the running statistics alone; training output is unchanged', () => {
    const bn = make(0.1);
    const y = bn.forward(tensor(x1, s, f64), { training: true, updateStats: false });
    expectClose(bn.runningMean.toArray(), new Array(c).fill(0), { allowZero: true, label: 'mean' });
    expectClose(bn.runningVar.toArray(), new Array(c).fill(1), { label: 'var' });
    const st = refStats(s, x1);
    expectClose(y.toArray(), refNormalise(s, x1, st.mean, st.biasedVar, gamma, beta, eps), { label: 'y' });
  });

  it('evaluation mode uses the running statistics and does not change them', () => {
    const bn = make(0.2);
    bn.forward(tensor(x1, s, f64), { training: true });
    bn.forward(tensor(x2, s, f64), { training: true });
    const rm = bn.runningMean.toArray();
    const rv = bn.runningVar.toArray();
    const x3 = normals(prod(s), 35, 1.5, 0.5);
    const y = bn.forward(tensor(x3, s, f64), { training: false });
    expectClose(y.toArray(), refNormalise(s, x3, rm, rv, gamma, beta, eps), { label: 'eval y' });
    expectClose(bn.runningMean.toArray(), rm, { rtol: 0, atol: 0, label: 'mean unchanged' });
    expectClose(bn.runningVar.toArray(), rv, { rtol: 0, atol: 0, label: 'var unchanged' });
  });

  it('training-mode gradients: dx = γ/√(σ²+ε)·(g - mean(g) - x̂·mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g', () => {
    const bn = make(0.1);
    const g = normals(prod(s), 36);
    const f = ([x, ga, be]: Tensor[]): Tensor[] => [functionalCall(bn, [ga, be], () => bn.forward(x, { training: true, updateStats: false }))];
    const { pullback } = vjp(f, [tensor(x1, s, f64), tensor(gamma, [c], f64), tensor(beta, [c], f64)]);
    const [dx, dg, db] = pullback([tensor(g, s, f64)]).map((t) => t.toArray());
    const st = refStats(s, x1);
    const wantDx = new Float64Array(prod(s));
    const wantDg = new Float64Array(c);
    const wantDb = new Float64Array(c);
    channelIndices(s).forEach((idx, k) => {
      const r = 1 / Math.sqrt(st.biasedVar[k] + eps);
      let mg = 0;
      let mgx = 0;
      for (const i of idx) {
        const xh = (x1[i] - st.mean[k]) * r;
        mg += g[i];
        mgx += g[i] * xh;
        wantDg[k] += g[i] * xh;
        wantDb[k] += g[i];
      }
      mg /= idx.length;
      mgx /= idx.length;
      for (const i of idx) {
        const xh = (x1[i] - st.mean[k]) * r;
        wantDx[i] = gamma[k] * r * (g[i] - mg - xh * mgx);
      }
    });
    expectClose(dx, wantDx, { rtol: 1e-10, atol: 1e-12, label: 'dx' });
    expectClose(dg, wantDg, { label: 'dgamma' });
    expectClose(db, wantDb, { label: 'dbeta' });
  });

  it('evaluation-mode input gradient is γ/√(running var + ε)·g (a fixed affine map)', () => {
    const bn = make(0.1);
    bn.forward(tensor(x1, s, f64), { training: true });
    const rv = bn.runningVar.toArray();
    const g = normals(prod(s), 37);
    const { pullback } = vjp(([x]) => [bn.forward(x, { training: false })], [tensor(x2, s, f64)]);
    const dx = pullback([tensor(g, s, f64)])[0].toArray();
    const want = new Float64Array(prod(s));
    channelIndices(s).forEach((idx, k) => {
      for (const i of idx) want[i] = (gamma[k] * g[i]) / Math.sqrt(rv[k] + eps);
    });
    expectClose(dx, want, { label: 'dx eval' });
  });
});

describe('BatchNorm with a single value per channel', () => {
  it('training is refused, as in PyTorch (the unbiased running variance would be 0/0); evaluation works', () => {
    for (const s of [[1, 3], [1, 3, 1, 1]]) {
      const bn = new BatchNorm(3, 1e-5, 0.1, f64);
      expect(() => bn.forward(tensor([1, 2, 3], s, f64), { training: true })).toThrow(/more than 1 value per channel/);
      expect(() => bn.forward(tensor([1, 2, 3], s, f64), { training: true, updateStats: false })).toThrow(/more than 1 value per channel/);
      expectClose(bn.runningVar.toArray(), [1, 1, 1], { label: 'running var untouched' });
      const y = bn.forward(tensor([1, 2, 3], s, f64), { training: false });
      expectClose(y.toArray(), [1, 2, 3].map((v) => v / Math.sqrt(1 + 1e-5)), { label: 'eval' });
    }
    // Two values per channel (from the spatial axes of one image) are enough.
    const bn = new BatchNorm(1, 1e-5, 0.1, f64);
    bn.forward(tensor([1, 3], [1, 1, 2, 1], f64), { training: true });
    expectClose(bn.runningVar.toArray(), [0.9 + 0.1 * 2], { label: 'unbiased var of {1, 3}' });
  });
});
