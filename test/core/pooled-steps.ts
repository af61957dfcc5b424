// Shared by the memory and heap tests (Node, Chromium, the heap's GC child process): FixMatch training steps, each in a tidy scope; the pool statistics of a small CNN's run sampled along the way.
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import type { CpuMemoryStats } from '../../src/backend/cpu/array-pool.js';
import { tidyAsync } from '../../src/core/scope.js';
import { SGD } from '../../src/optim/sgd.js';
import type { Module } from '../../src/nn/module.js';
import { WeightEma } from '../../src/ssl/ema.js';
import { fixMatchGradient } from '../../src/ssl/fixmatch-step.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { addWeightDecay } from '../../src/ssl/weight-decay.js';
import { Random } from '../../src/util/random.js';

export interface PooledStepsRun {
  samples: { step: number; stats: CpuMemoryStats }[];
  /** The last step's loss and a checksum of the final weights. */
  loss: number;
  weightSum: number;
}

/** The run of FixMatch steps the memory and heap tests share; model and hyperparameters per caller. */
export interface FixMatchStepsOptions {
  model: Module;
  steps: number;
  /** Images are channels x side x side (default 1 x 8 x 8). */
  channels?: number;
  side?: number;
  /** Seed of the random images (default 3). */
  seed?: number;
  lr?: number;
  tau?: number;
  /** Called after each step (1-based), outside its tidy scope, with the step's loss and the EMA. */
  afterStep?: (step: number, loss: number, ema: WeightEma) => void | Promise<void>;
}

/**
 * FixMatch steps of B 4, μ 1 on random images: gradient, decay, SGD Nesterov and the EMA, all inside one tidyAsync
 * per step, as a trainer that frees its temporaries deterministically would run them. Returns the last loss.
 */
export async function fixMatchSteps(o: FixMatchStepsOptions): Promise<number> {
  const { model, steps, channels = 1, side = 8 } = o;
  const rng = new Random(o.seed ?? 3);
  const params = model.parameters();
  const sgd = new SGD(params, { lr: o.lr ?? 0.03, momentum: 0.9, nesterov: true });
  const ema = new WeightEma(params, 0.999, true);
  const B = 4, U = 4, n = B + 2 * U;
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    const x = Float32Array.from({ length: n * channels * side * side }, () => rng.uniform());
    const labels = Array.from({ length: B }, (_, i) => (i + step) % 10);
    loss = await tidyAsync(async () => {
      const g = await fixMatchGradient(model, params.map((p) => p.value), { x, shape: [n, channels, side, side], labels, unlabelled: U, tau: o.tau ?? 0.5, lambdaU: 1 });
      sgd.step(addWeightDecay(g.grads, params, 5e-4));
      ema.update(params, step - 1);
      return g.loss;
    });
    await o.afterStep?.(step, loss, ema);
  }
  return loss;
}

/** `steps` steps of the small CNN (widths 4/8/8) on 8x8 images, with the backend's pool statistics sampled at `sampleAt`. */
export async function pooledSteps(steps: number, sampleAt: readonly number[]): Promise<PooledStepsRun> {
  // The plain-array pool: its statistics are the same in Node and in any page (the Wasm heap needs cross-origin isolation).
  const backend = new CpuBackend({ heap: false });
  const model = new SmallCnn(new Random(1), { backend, side: 8, widths: [4, 8, 8] });
  const samples: PooledStepsRun['samples'] = [];
  const loss = await fixMatchSteps({
    model, steps,
    afterStep: (step) => {
      if (sampleAt.includes(step)) samples.push({ step, stats: backend.memoryStats() });
    },
  });
  let weightSum = 0;
  for (const p of model.parameters()) for (const v of p.value.dataSync()) weightSum += v;
  return { samples, loss, weightSum };
}
