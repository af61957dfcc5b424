// softmax, log-softmax and cross-entropy (hard and soft targets): values, gradients and HVPs against float64 loops.
import { describe, expect, it } from 'vitest';
import {
  crossEntropy, crossEntropyPerSample, hvp, logSoftmax, softmax, tensor, valueAndGrad, vjp, weightedMean,
} from '../../src/index.js';
import { at, expectClose, f32, f64, normals, prod } from './helpers.js';

/** log softmax along `axis` of a row-major tensor of shape s: z - m - log Σ exp(z - m), m the max. */
function refLogSoftmax(s: readonly number[], z: ArrayLike<number>, axis: number): Float64Array {
  const ax = axis < 0 ? s.length + axis : axis;
  const outer = prod(s.slice(0, ax));
  const len = s[ax];
  const inner = prod(s.slice(ax + 1));
  const out = new Float64Array(prod(s));
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const idx = (k: number): number => (o * len + k) * inner + i;
      let m = -Infinity;
      for (let k = 0; k < len; k++) m = Math.max(m, z[idx(k)]);
      let acc = 0;
      for (let k = 0; k < len; k++) acc += Math.exp(z[idx(k)] - m);
      const lse = m + Math.log(acc);
      for (let k = 0; k < len; k++) out[idx(k)] = z[idx(k)] - lse;
    }
  return out;
}

/** Soft targets: positive rows that sum to one. */
function softTargets(n: number, c: number, seed: number): Float64Array {
  const raw = normals(n * c, seed);
  const t = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += (t[i * c + k] = Math.exp(raw[i * c + k]));
    for (let k = 0; k < c; k++) t[i * c + k] /= s;
  }
  return t;
}

function oneHotRows(labels: number[], c: number): Float64Array {
  const t = new Float64Array(labels.length * c);
  labels.forEach((l, i) => (t[i * c + l] = 1));
  return t;
}

describe('logSoftmax and softmax', () => {
  const cases: Array<[number[], number]> = [[[5, 7], -1], [[5, 7], 1], [[5, 7], 0], [[3, 4, 6], 1], [[3, 4, 6], -1], [[2, 3, 4, 5], 0]];
  for (const [s, axis] of cases) {
    it(`shape [${s}] along axis ${axis}: float64 values, softmax rows sum to 1`, () => {
      const z = normals(prod(s), 41 + s.length + axis, 3);
      const want = refLogSoftmax(s, z, axis);
      const ls = logSoftmax(tensor(z, s, f64), axis);
      expect(ls.shape).toEqual(s);
      expectClose(ls.toArray(), want, { label: 'logSoftmax' });
      expectClose(softmax(tensor(z, s, f64), axis).toArray(), want.map(Math.exp), { label: 'softmax' });
      expectClose(logSoftmax(tensor(z, s, f32), axis).toArray(), want, { rtol: 1e-6, atol: 1e-5, label: 'logSoftmax32' });
    });
  }

  it('large logits stay finite and exact (max-shifted), in float64 and float32', () => {
    const z = [1000, 0, -1000, 5, 800, 801, 799.5, -3];
    const want = refLogSoftmax([2, 4], z, 1);
    expectClose(logSoftmax(tensor(z, [2, 4], f64), 1).toArray(), want, { label: 'big64' });
    const got32 = logSoftmax(tensor(z, [2, 4], f32), 1).toArray();
    got32.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    expectClose(got32, want, { rtol: 1e-6, atol: 1e-4, label: 'big32' });
    expectClose(softmax(tensor(z, [2, 4], f64), 1).toArray(), want.map(Math.exp), { label: 'softmax big' });
  });

  it('vjp of logSoftmax: dz = g - softmax(z)·Σg, per row', () => {
    const s = [4, 6];
    const z = normals(24, 45, 2);
    const g = normals(24, 46);
    const { pullback } = vjp(([a]) => [logSoftmax(a, 1)], [tensor(z, s, f64)]);
    const dz = pullback([tensor(g, s, f64)])[0].toArray();
    const p = refLogSoftmax(s, z, 1).map(Math.exp);
    const want = new Float64Array(24);
    for (let i = 0; i < 4; i++) {
      let sg = 0;
      for (let k = 0; k < 6; k++) sg += g[at(s, i, k)];
      for (let k = 0; k < 6; k++) want[at(s, i, k)] = g[at(s, i, k)] - p[at(s, i, k)] * sg;
    }
    expectClose(dz, want, { label: 'dz' });
  });

  it('vjp of softmax along axis 0: dz = p ⊙ (g - Σ p g) per column', () => {
    const s = [5, 3];
    const z = normals(15, 47, 2);
    const g = normals(15, 48);
    const { pullback } = vjp(([a]) => [softmax(a, 0)], [tensor(z, s, f64)]);
    const dz = pullback([tensor(g, s, f64)])[0].toArray();
    const p = refLogSoftmax(s, z, 0).map(Math.exp);
    const want = new Float64Array(15);
    for (let k = 0; k < 3; k++) {
      let pg = 0;
      for (let i = 0; i < 5; i++) pg += p[at(s, i, k)] * g[at(s, i, k)];
      for (let i = 0; i < 5; i++) want[at(s, i, k)] = p[at(s, i, k)] * (g[at(s, i, k)] - pg);
    }
    expectClose(dz, want, { label: 'dz' });
  });
});

describe('cross-entropy', () => {
  const n = 6;
  const c = 5;
  const s = [n, c];
  const z = normals(n * c, 51, 2);
  const targets: Array<[string, Float64Array]> = [
    ['one-hot targets', oneHotRows([0, 4, 2, 2, 1, 3], c)],
    ['soft targets', softTargets(n, c, 52)],
  ];

  for (const [name, t] of targets) {
    it(`${name}: per-sample -Σ t log p, batch mean, gradient (p·Σt - t)/N`, () => {
      const lp = refLogSoftmax(s, z, 1);
      const per = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) per[i] -= t[at(s, i, k)] * lp[at(s, i, k)];
      const meanLoss = per.reduce((a, b) => a + b, 0) / n;
      expectClose(crossEntropyPerSample(tensor(z, s, f64), tensor(t, s, f64)).toArray(), per, { label: 'per-sample' });
      const { value, grads } = valueAndGrad(([a]) => crossEntropy(a, tensor(t, s, f64)))([tensor(z, s, f64)]);
      expect(Math.abs(value.item() - meanLoss)).toBeLessThan(1e-12 * Math.max(1, meanLoss));
      const want = new Float64Array(n * c);
      for (let i = 0; i < n; i++) {
        let st = 0;
        for (let k = 0; k < c; k++) st += t[at(s, i, k)];
        for (let k = 0; k < c; k++) want[at(s, i, k)] = (Math.exp(lp[at(s, i, k)]) * st - t[at(s, i, k)]) / n;
      }
      expectClose(grads[0].toArray(), want, { label: 'dL/dz' });
      const v32 = crossEntropy(tensor(z, s, f32), tensor(t, s, f32)).item();
      expect(Math.abs(v32 - meanLoss)).toBeLessThan(1e-5 * Math.max(1, meanLoss));
    });

    it(`${name}: Hessian-vector product in the logits (p ⊙ v - p (p·v))·Σt/N per row`, () => {
      const v = normals(n * c, 53);
      const hv = hvp(([a]) => crossEntropy(a, tensor(t, s, f64)), [tensor(z, s, f64)], [tensor(v, s, f64)])[0].toArray();
      const p = refLogSoftmax(s, z, 1).map(Math.exp);
      const want = new Float64Array(n * c);
      for (let i = 0; i < n; i++) {
        let st = 0;
        let pv = 0;
        for (let k = 0; k < c; k++) {
          st += t[at(s, i, k)];
          pv += p[at(s, i, k)] * v[at(s, i, k)];
        }
        for (let k = 0; k < c; k++) want[at(s, i, k)] = ((p[at(s, i, k)] * v[at(s, i, k)] - p[at(s, i, k)] * pv) * st) / n;
      }
      expectClose(hv, want, { label: 'Hv' });
    });
  }

  it('unnormalised soft targets (rows not summing to 1) follow -Σ t log p exactly', () => {
    const t = normals(n * c, 54).map(Math.abs);
    const lp = refLogSoftmax(s, z, 1);
    let want = 0;
    for (let i = 0; i < n * c; i++) want -= t[i] * lp[i];
    want /= n;
    expect(Math.abs(crossEntropy(tensor(z, s, f64), tensor(t, s, f64)).item() - want)).toBeLessThan(1e-12 * Math.abs(want));
  });

  it('huge logits: the loss of a confidently right and a confidently wrong sample', () => {
    const zz = [500, -500, 0, -500, 500, 0];
    const t = [1, 0, 0, 1, 0, 0];
    const per = crossEntropyPerSample(tensor(zz, [2, 3], f64), tensor(t, [2, 3], f64)).toArray();
    expectClose(per, [-refLogSoftmax([2, 3], zz, 1)[0], -refLogSoftmax([2, 3], zz, 1)[3]], { label: 'huge' });
    expect(per[1]).toBeCloseTo(1000, 10);
  });

  it('weightedMean: Σ w_i l_i / N', () => {
    const l = normals(7, 55);
    const w = normals(7, 56);
    let want = 0;
    for (let i = 0; i < 7; i++) want += w[i] * l[i];
    want /= 7;
    expect(Math.abs(weightedMean(tensor(l, [7], f64), tensor(w, [7], f64)).item() - want)).toBeLessThan(1e-14);
  });

  it('rejects logits and targets of different shapes', () => {
    expect(() => crossEntropy(tensor(z, s, f64), tensor(z.slice(0, 25), [5, 5], f64))).toThrow(/crossEntropy/);
  });
});
