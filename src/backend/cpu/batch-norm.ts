// CPU kernels of the fused batch-norm primitives on [N, C, S] (channel axis 1, S the trailing axes): the statistics and normalise + affine (rounding like the composite's ops), and the backward's γ̄ and x̄ passes; float32 runs of heap tensors in Wasm (assembly/batch-norm.ts, the same bits).

import type { TypedArray } from '../../core/dtype.js';
import { sumRun } from './reduce.js';
import { residentKernels } from './wasm-elementwise.js';
import type { ElementwiseExports } from './wasm-heap.js';

/**
 * The heap's kernels when every array is a float32 view into it and the runs are long enough to pay for a call
 * (assembly/batch-norm.ts: each run's bits are the JS loop's); else null.
 */
function wasmRuns(len: number, arrays: TypedArray[]): ElementwiseExports | null {
  // residentKernels asks for one dtype throughout; the runs are float32 kernels.
  const k = len >= 16 && arrays[0] instanceof Float32Array ? residentKernels(arrays) : null;
  if (k !== null) wasmPasses++;
  return k;
}

/** Batch-norm passes that ran their runs in Wasm so far: which path ran, for tests (as getGemmWorkerJobs for threads). */
let wasmPasses = 0;
export function wasmBatchNormPasses(): number {
  return wasmPasses;
}

const fr = Math.fround;

/** N, C and S = the product of the axes after the channel axis. */
function dims(shape: readonly number[]): { n: number; c: number; s: number } {
  let s = 1;
  for (let i = 2; i < shape.length; i++) s *= shape[i];
  return { n: shape[0], c: shape[1], s };
}

/**
 * The order in which reduceKernel (reduce.ts) sums each channel, and so the composite's mean and variance: a
 * float64 partial sum per row of `len` contiguous values (in sumRun's eight lanes), added to its channel's float64
 * total, the rows being the
 * N·C runs of S values; with one channel the collapsed walk is a single row of all N·S values. Float32 results
 * are then rounded once, as reduceKernel rounds its float64 accumulator.
 */
function rowsOf(n: number, c: number, s: number): { rows: number; len: number } {
  return c === 1 ? { rows: 1, len: n * s } : { rows: n, len: s };
}

/** Σ (x[i] - u)² over x[p .. p + len) in sumRun's order, each difference and square rounded to float32 when `f32` (as the composite's sub and mul). */
function squaredDeviationsRun(x: TypedArray, p: number, len: number, u: number, f32: boolean): number {
  const sq = f32 ? (v: number): number => {
    const d = fr(v - u);
    return fr(d * d);
  } : (v: number): number => (v - u) * (v - u);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let i = p;
  for (const end8 = p + len - (len & 7); i < end8; i += 8) {
    s0 += sq(x[i]); s1 += sq(x[i + 1]); s2 += sq(x[i + 2]); s3 += sq(x[i + 3]);
    s4 += sq(x[i + 4]); s5 += sq(x[i + 5]); s6 += sq(x[i + 6]); s7 += sq(x[i + 7]);
  }
  let t = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  for (const end = p + len; i < end; i++) t += sq(x[i]);
  return t;
}

/** s = √(σ² + ε) per channel, float32 rounding after the add and after the root as the composite's ops round. */
function stdDevs(stats: TypedArray, c: number, eps: number, f32: boolean): Float64Array {
  const sd = new Float64Array(c);
  if (f32) {
    const e = fr(eps);
    for (let ch = 0; ch < c; ch++) sd[ch] = fr(Math.sqrt(fr(stats[c + ch] + e)));
  } else {
    for (let ch = 0; ch < c; ch++) sd[ch] = Math.sqrt(stats[c + ch] + eps);
  }
  return sd;
}

/**
 * out [2, C] = [μ; σ²], μ = Σx / M and σ² = Σ(x - μ)² / M over each channel's M = N·S values: two passes, the
 * composite mean(x) and variance(x) = mean((x - μ)²) bit for bit (in float32 every difference, square and
 * quotient rounded; M a float32 constant, exact below 2^24).
 */
export function batchNormStatsKernel(x: TypedArray, shape: readonly number[], out: TypedArray): void {
  const { n, c, s } = dims(shape);
  const { rows, len } = rowsOf(n, c, s);
  const f32 = out instanceof Float32Array;
  const m = f32 ? fr(n * s) : n * s;
  const acc = new Float64Array(c);
  for (let r = 0, p = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      acc[ch] += sumRun(x, p, len);
      p += len;
    }
  }
  const mu = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) mu[ch] = f32 ? fr(fr(acc[ch]) / m) : acc[ch] / m;
  acc.fill(0);
  const k = wasmRuns(len, [x, out]);
  for (let r = 0, p = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      acc[ch] += k !== null ? k.bnSqDevF32(x.byteOffset + 4 * p, len, mu[ch]) : squaredDeviationsRun(x, p, len, mu[ch], f32);
      p += len;
    }
  }
  for (let ch = 0; ch < c; ch++) {
    out[ch] = mu[ch];
    out[c + ch] = f32 ? fr(acc[ch]) / m : acc[ch] / m;
  }
}

/** out = γ (x - μ)/s + β, s = √(σ² + ε): one pass, each op rounded in float32 as the composite's sub, div, mul, add. */
export function batchNormTrainKernel(
  x: TypedArray, shape: readonly number[], stats: TypedArray, gamma: TypedArray, beta: TypedArray, eps: number, out: TypedArray,
): void {
  const { n, c, s } = dims(shape);
  const f32 = out instanceof Float32Array;
  const sd = stdDevs(stats, c, eps, f32);
  const k = wasmRuns(s, [x, out]);
  for (let b = 0, p = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const u = stats[ch], d = sd[ch], g = gamma[ch], bt = beta[ch];
      const end = p + s;
      if (k !== null) {
        k.bnTrainF32(x.byteOffset + 4 * p, s, u, d, g, bt, out.byteOffset + 4 * p);
        p = end;
      } else if (f32) for (; p < end; p++) out[p] = fr(fr(fr(x[p] - u) / d) * g) + bt;
      else for (; p < end; p++) out[p] = ((x[p] - u) / d) * g + bt;
    }
  }
}

/**
 * out [C] = γ̄ = Σ g x̂ = (Σ g (x - μ)) / s per channel: one pass in float64, rounded once (the composite rounds every
 * product g·x̂ before its sum, so float32 results differ in the last bits; float64 ones agree to rounding).
 */
export function batchNormGradGammaKernel(
  g: TypedArray, x: TypedArray, shape: readonly number[], stats: TypedArray, eps: number, out: TypedArray,
): void {
  const { n, c, s } = dims(shape);
  const sd = stdDevs(stats, c, eps, out instanceof Float32Array);
  const acc = new Float64Array(c);
  const k = wasmRuns(s, [g, x]);
  for (let b = 0, p = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const u = stats[ch];
      let t = 0;
      const end = p + s;
      if (k !== null) {
        t = k.bnGradGammaF32(g.byteOffset + 4 * p, x.byteOffset + 4 * p, s, u);
        p = end;
      }
      for (; p < end; p++) t += g[p] * (x[p] - u);
      acc[ch] += t;
    }
  }
  for (let ch = 0; ch < c; ch++) out[ch] = acc[ch] / sd[ch];
}

/**
 * out = x̄ = (γ/s) (g - β̄/M - x̂ γ̄/M), x̂ = (x - μ)/s, per channel of M = N·S values, in float64 and rounded once
 * (not the composite's bits: its x̄ sums a dozen rounded terms).
 */
export function batchNormGradInputKernel(
  g: TypedArray, x: TypedArray, shape: readonly number[], stats: TypedArray,
  gamma: TypedArray, gammaBar: TypedArray, betaBar: TypedArray, eps: number, out: TypedArray,
): void {
  const { n, c, s } = dims(shape);
  const m = n * s;
  const sd = stdDevs(stats, c, eps, out instanceof Float32Array);
  const runs = wasmRuns(s, [g, x, out]);
  for (let b = 0, p = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      // x̄ = a (g - b0 - (x - μ) k) with a = γ/s, b0 = β̄/M, k = γ̄/(M s).
      const u = stats[ch], a = gamma[ch] / sd[ch], b0 = betaBar[ch] / m, k = gammaBar[ch] / (m * sd[ch]);
      const end = p + s;
      if (runs !== null) {
        runs.bnGradInputF32(g.byteOffset + 4 * p, x.byteOffset + 4 * p, s, u, a, b0, k, out.byteOffset + 4 * p);
        p = end;
      }
      for (; p < end; p++) out[p] = a * (g[p] - b0 - (x[p] - u) * k);
    }
  }
}
