// Shared helpers of the reference suites: seeded float64 data, NCHW indexing and per-element comparisons.
import { expect } from 'vitest';
import { Random } from '../../src/util/random.js';

export const f64 = { dtype: 'float64' as const };
export const f32 = { dtype: 'float32' as const };

/** n standard-normal float64 values from a seeded generator (the engine's RNG only supplies the numbers). */
export function normals(n: number, seed: number, scale = 1, shift = 0): Float64Array {
  const rng = new Random(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = shift + scale * rng.normal();
  return a;
}

export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Row-major flat index of (i0, i1, ...) in shape s. */
export function at(s: readonly number[], ...idx: number[]): number {
  let o = 0;
  for (let d = 0; d < s.length; d++) o = o * s[d] + idx[d];
  return o;
}

/**
 * Element-wise |got - want| <= atol + rtol·|want|; on failure names the first bad index and
 * the worst error. Also checks the lengths and that the reference is not all zeros (a
 * reference that is identically zero would accept a broken op that returns zeros).
 */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  { rtol = 1e-12, atol = 1e-12, label = '', allowZero = false }: { rtol?: number; atol?: number; label?: string; allowZero?: boolean } = {},
): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  if (!allowZero) expect(Array.from(want).some((v) => v !== 0), `${label}: reference is all zeros`).toBe(true);
  let worst = 0;
  let worstAt = -1;
  let firstBad = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(err <= tol) && firstBad < 0) firstBad = i;
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  const msg = firstBad < 0 ? '' : `${label}: element ${firstBad} got ${got[firstBad]} want ${want[firstBad]}; worst |err| ${worst} at ${worstAt}`;
  expect(msg).toBe('');
}

// ---- plain float64 layer loops shared by the network references ----

/** NCHW cross-correlation: y[n,o,i,j] = Σ x[n,c,i·s-p+a, j·s-p+b] w[o,c,a,b] (+ bias[o]), zero padding. */
export function loopConv2d(
  x: ArrayLike<number>, xs: readonly number[], w: ArrayLike<number>, ws: readonly number[],
  stride: number, padding: number, bias?: ArrayLike<number>,
): { y: Float64Array; ys: number[] } {
  const [n, c, h, wd] = xs;
  const [o, , kh, kw] = ws;
  const ho = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const wo = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const ys = [n, o, ho, wo];
  const y = new Float64Array(prod(ys));
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let acc = bias ? bias[oc] : 0;
          for (let ic = 0; ic < c; ic++)
            for (let a = 0; a < kh; a++)
              for (let q = 0; q < kw; q++) {
                const iy = i * stride - padding + a;
                const ix = j * stride - padding + q;
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) acc += x[at(xs, b, ic, iy, ix)] * w[at(ws, oc, ic, a, q)];
              }
          y[at(ys, b, oc, i, j)] = acc;
        }
  return { y, ys };
}

/**
 * Batch norm over every axis but 1. With `stats` it normalises with them (evaluation); without,
 * with the batch mean and biased variance, and returns those and the unbiased variance.
 */
export function loopBatchNorm(
  x: ArrayLike<number>, xs: readonly number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number,
  stats?: { mean: ArrayLike<number>; var: ArrayLike<number> },
): { y: Float64Array; mean: number[]; biasedVar: number[]; unbiasedVar: number[] } {
  const c = xs[1];
  const inner = prod(xs.slice(2));
  const outer = xs[0];
  const cnt = outer * inner;
  const mean: number[] = [];
  const biasedVar: number[] = [];
  const unbiasedVar: number[] = [];
  const y = new Float64Array(prod(xs));
  for (let k = 0; k < c; k++) {
    let m = 0;
    for (let b = 0; b < outer; b++) for (let i = 0; i < inner; i++) m += x[(b * c + k) * inner + i];
    m /= cnt;
    let ss = 0;
    for (let b = 0; b < outer; b++) for (let i = 0; i < inner; i++) ss += (x[(b * c + k) * inner + i] - m) ** 2;
    mean.push(m);
    biasedVar.push(ss / cnt);
    unbiasedVar.push(ss / (cnt - 1));
    const mu = stats ? stats.mean[k] : m;
    const v = stats ? stats.var[k] : ss / cnt;
    for (let b = 0; b < outer; b++)
      for (let i = 0; i < inner; i++) {
        const idx = (b * c + k) * inner + i;
        y[idx] = (gamma[k] * (x[idx] - mu)) / Math.sqrt(v + eps) + beta[k];
      }
  }
  return { y, mean, biasedVar, unbiasedVar };
}

export const loopLeakyRelu = (x: ArrayLike<number>, slope: number): Float64Array => Float64Array.from(x, (v) => (v > 0 ? v : slope * v));
