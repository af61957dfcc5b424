// Kernel micro-benchmarks (portable): matmul, conv2d, elementwise and an MLP Hessian-vector product on any backend, timed to completion, with GFLOPS and a checksum.

import { hvp } from '../autodiff/transforms.js';
import type { Backend } from '../backend/backend.js';
import { getBackend, withBackend } from '../backend/registry.js';
import { randn } from '../core/creation.js';
import { add, conv2d, matmul, mul, sum } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { tanh } from '../ops/activations.js';
import { Random } from '../util/random.js';

/** The kernels benchKernel measures. */
export const KERNELS = ['matmul', 'conv2d', 'elementwise', 'hvp'] as const;
export type KernelName = (typeof KERNELS)[number];

export interface KernelBenchOptions {
  /** matmul: n for n×n · n×n; conv2d: image side s of an [8, 16, s, s] input and a 32×16×3×3 kernel; elementwise: n² elements; hvp: hidden width n of a 64-sample MLP layer. */
  size: number;
  /** Default: the current backend. */
  backend?: Backend;
  /** Timed repetitions (the median is reported); default 5. */
  repeats?: number;
  /** Untimed runs first (kernel compilation, pools, JIT); default 1. */
  warmup?: number;
  /**
   * Each timed sample repeats the kernel until it has run this long (coarse browser timers, tiny kernels) and
   * reports the mean of one run; default 10 ms.
   */
  minSampleMs?: number;
  /** Seed of the random inputs; default 0. */
  seed?: number;
}

export interface KernelBenchResult {
  kernel: KernelName;
  size: number;
  backend: string;
  /** The problem in words, e.g. '256x256 · 256x256'. */
  shape: string;
  /** Floating-point operations of one run (multiply and add counted apart; for hvp an estimate, see flopsOf). */
  flops: number;
  /** Median milliseconds of one run, including reading the scalar checksum back (which waits for the device). */
  ms: number;
  /** Every timed sample: milliseconds of one run, averaged over `iterations` runs. */
  samples: number[];
  /** Runs per sample (enough to last minSampleMs). */
  iterations: number;
  gflops: number;
  /** Sum of the output: the same seed gives the same value on every backend up to rounding. */
  checksum: number;
}

interface Prepared {
  shape: string;
  flops: number;
  /** One run: returns a scalar whose read waits for the whole computation. */
  run: () => Tensor;
}

/** Inputs and the operation of one kernel at one size, on the current backend. */
function prepare(kernel: KernelName, n: number, rng: Random): Prepared {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`benchKernel: size must be a positive integer, got ${n}`);
  switch (kernel) {
    case 'matmul': {
      const a = randn([n, n], rng);
      const b = randn([n, n], rng);
      return { shape: `${n}x${n} · ${n}x${n}`, flops: 2 * n * n * n, run: () => sum(matmul(a, b)) };
    }
    case 'conv2d': {
      const x = randn([8, 16, n, n], rng);
      const w = randn([32, 16, 3, 3], rng, 0.1);
      return { shape: `[8, 16, ${n}, ${n}] * [32, 16, 3, 3], padding 1`, flops: 2 * 8 * 32 * 16 * 9 * n * n, run: () => sum(conv2d(x, w, { padding: 1 })) };
    }
    case 'elementwise': {
      const a = randn([n * n], rng);
      const b = randn([n * n], rng);
      const c = randn([n * n], rng);
      return { shape: `a·b + c on ${n * n} elements`, flops: 2 * n * n, run: () => sum(add(mul(a, b), c)) };
    }
    case 'hvp': {
      // f(W) = Σ tanh(X W)², X [64, n], W [n, n]: H v by reverse over reverse.
      const x = randn([64, n], rng);
      const w = randn([n, n], rng, 1 / Math.sqrt(n));
      const v = randn([n, n], rng);
      const f = (ws: Tensor[]): Tensor => {
        const h = tanh(matmul(x, ws[0]!));
        return sum(mul(h, h));
      };
      // Four 64·n·n products (forward, backward, and both again for the second pass), 2 flops each.
      return { shape: `Σ tanh(X W)², X [64, ${n}], W [${n}, ${n}]`, flops: 4 * 2 * 64 * n * n, run: () => sum(hvp(f, [w], [v])[0]!) };
    }
    default:
      throw new Error(`benchKernel: unknown kernel '${String(kernel)}'; choose one of ${KERNELS.join(', ')}`);
  }
}

/** Times one kernel at one size: `warmup` untimed runs, then the median of `repeats` samples of runs read back to completion. */
export async function benchKernel(kernel: KernelName, opts: KernelBenchOptions): Promise<KernelBenchResult> {
  const backend = opts.backend ?? getBackend();
  const repeats = opts.repeats ?? 5;
  const warmup = opts.warmup ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`benchKernel: repeats must be an integer >= 1, got ${repeats}`);
  const p = withBackend(backend, () => prepare(kernel, opts.size, new Random(opts.seed ?? 0)));
  const minSampleMs = opts.minSampleMs ?? 10;
  let checksum = NaN;
  const once = async (): Promise<void> => {
    const out = withBackend(backend, p.run);
    checksum = (await out.data())[0]!;
    out.dispose();
  };
  const timed = async (iterations: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await once();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) await once();
  // Calibrate: grow the runs per sample until one sample lasts minSampleMs.
  let iterations = 1;
  for (let ms = await timed(1); ms < minSampleMs && iterations < 1 << 20; ms = await timed(iterations)) {
    iterations *= ms > 0 ? Math.min(100, Math.max(2, Math.ceil((1.2 * minSampleMs) / ms))) : 100;
  }
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push((await timed(iterations)) / iterations);
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return { kernel, size: opts.size, backend: backend.name, shape: p.shape, flops: p.flops, ms, samples, iterations, gflops: p.flops / (ms * 1e6), checksum };
}
