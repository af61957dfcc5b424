// Batch norm's float32 kernels on heap arrays (runs in Wasm, assembly/batch-norm.ts) give the JS loops' bits (plain arrays): runs with every remainder of 4 and 8, one channel (a single run of the whole batch), runs too short for Wasm, values under a large offset.
import { describe, expect, it } from 'vitest';
import {
  batchNormGradGammaKernel, batchNormGradInputKernel, batchNormStatsKernel, batchNormTrainKernel, wasmBatchNormPasses,
} from '../../src/backend/cpu/batch-norm.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';
import { Random } from '../../src/util/random.js';

const SHAPES: number[][] = [
  [4, 3, 16], // runs of 16: whole steps of 8 and of 4
  [2, 5, 7, 5], // 35: 4 steps of 8 and 3 left, 8 steps of 4 and 3 left
  [3, 1, 6, 6], // one channel: the statistics walk all 108 values as one run
  [2, 2, 17], // 17: one past the steps
  [2, 3, 15], // 15: below the Wasm runs' minimum of 16, the JS loops on both
  [1, 4, 64],
];

const EPS = 1e-5;

function values(n: number, rng: Random, scale: number, offset: number): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

describe('batch norm kernels, float32: Wasm runs on the heap against the JS loops', () => {
  it.each(SHAPES.flatMap((s) => [[s.join('x'), s, false], [s.join('x'), s, true]] as const))('%s (wide-ranging values: %s): statistics, output, γ̄ and x̄ bit for bit', (_name, shape, wide) => {
    const heap = cpuHeap()!;
    const rng = new Random(shape.reduce((a, b) => a * 31 + b, 7));
    const n = shape.reduce((a, b) => a * b, 1), c = shape[1]!;
    // Values around 1000 with spread 0.5 (the differences round), a gradient, and per-channel affine parameters.
    // Or values over 12 orders of magnitude, so that float64 sums in another order round differently.
    const x = wide ? values(n, rng, 1, 0).map((v, i) => v * 10 ** ((i % 13) - 6)) : values(n, rng, 0.5, 1000);
    const gy = wide ? values(n, rng, 1, 0).map((v, i) => v * 10 ** ((i % 7) - 3)) : values(n, rng, 1, 0.1);
    const gamma = values(c, rng, 0.3, 1), beta = values(c, rng, 0.3, 0), gammaBar = values(c, rng, 2, 0), betaBar = values(c, rng, 2, 0);
    const onHeap = (a: Float32Array): Float32Array => {
      const h = heap.alloc('float32', a.length, 'error', 'batch norm test') as Float32Array;
      h.set(a);
      return h;
    };
    const run = (resident: boolean) => {
      const put = resident ? onHeap : (a: Float32Array) => Float32Array.from(a);
      const xs = put(x), g = put(gy), stats = put(new Float32Array(2 * c)), y = put(new Float32Array(n)), dg = put(new Float32Array(c));
      const dx = put(new Float32Array(n));
      batchNormStatsKernel(xs, shape, stats);
      batchNormTrainKernel(xs, shape, stats, gamma, beta, EPS, y);
      batchNormGradGammaKernel(g, xs, shape, stats, EPS, dg);
      batchNormGradInputKernel(g, xs, shape, stats, gamma, gammaBar, betaBar, EPS, dx);
      return { stats: Array.from(stats), y: Array.from(y), dg: Array.from(dg), dx: Array.from(dx) };
    };
    const before = wasmBatchNormPasses();
    const wasm = run(true);
    const passes = wasmBatchNormPasses() - before;
    const js = run(false);
    expect(wasmBatchNormPasses() - before - passes, 'plain arrays never take the Wasm runs').toBe(0);
    const s = n / shape[0]! / c;
    // Each of the four passes takes the Wasm runs when its run is 16+ values (the statistics' run: all N·S with one channel).
    const statsRun = c === 1 ? n : s;
    expect(passes).toBe((statsRun >= 16 ? 1 : 0) + (s >= 16 ? 3 : 0));
    expect(wasm.stats).toStrictEqual(js.stats);
    expect(wasm.y).toStrictEqual(js.y);
    expect(wasm.dg).toStrictEqual(js.dg);
    expect(wasm.dx).toStrictEqual(js.dx);
    // And the values are batch norm's: per channel the output has mean β and the statistics are the sample moments.
    for (let ch = 0; ch < c; ch++) {
      let sum = 0, sq = 0;
      const vals: number[] = [];
      for (let b = 0; b < shape[0]!; b++) for (let i = 0; i < s; i++) vals.push(x[(b * c + ch) * s + i]!);
      for (const v of vals) sum += v;
      const mu = sum / vals.length;
      for (const v of vals) sq += (v - mu) ** 2;
      expect(Math.abs(wasm.stats[ch]! - mu)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(mu)) + 1e-6 * Math.sqrt(sq / vals.length));
      expect(Math.abs(wasm.stats[c + ch]! - sq / vals.length) / (sq / vals.length)).toBeLessThan(1e-4);
    }
  });
});
