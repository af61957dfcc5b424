// Shared by the Node and Chromium memory tests: FixMatch training steps of a small CNN on the CPU backend, each in a tidy scope, with the backend's pool statistics sampled along the way.
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import type { CpuMemoryStats } from '../../src/backend/cpu/array-pool.js';
import { tidyAsync } from '../../src/core/scope.js';
import { SGD } from '../../src/optim/sgd.js';
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

/**
 * `steps` steps of B 4, μ 1 on 8x8 images (widths 4/8/8): gradient, decay, SGD Nesterov and the EMA, all inside
 * one tidyAsync per step, as a trainer that frees its temporaries deterministically would run them.
 */
export async function pooledSteps(steps: number, sampleAt: readonly number[]): Promise<PooledStepsRun> {
  // The plain-array pool: its statistics are the same in Node and in any page (the Wasm heap needs cross-origin isolation).
  const backend = new CpuBackend({ heap: false });
  const rng = new Random(3);
  const model = new SmallCnn(new Random(1), { backend, side: 8, widths: [4, 8, 8] });
  const params = model.parameters();
  const sgd = new SGD(params, { lr: 0.03, momentum: 0.9, nesterov: true });
  const ema = new WeightEma(params, 0.999, true);
  const B = 4, U = 4;
  const samples: PooledStepsRun['samples'] = [];
  let loss = NaN;
  for (let step = 1; step <= steps; step++) {
    const x = Float32Array.from({ length: (B + 2 * U) * 64 }, () => rng.uniform());
    const labels = Array.from({ length: B }, (_, i) => (i + step) % 10);
    loss = await tidyAsync(async () => {
      const g = await fixMatchGradient(model, params.map((p) => p.value), { x, shape: [B + 2 * U, 1, 8, 8], labels, unlabelled: U, tau: 0.5, lambdaU: 1 });
      sgd.step(addWeightDecay(g.grads, params, 5e-4));
      ema.update(params, step - 1);
      return g.loss;
    });
    if (sampleAt.includes(step)) samples.push({ step, stats: backend.memoryStats() });
  }
  let weightSum = 0;
  for (const p of params) for (const v of p.value.dataSync()) weightSum += v;
  return { samples, loss, weightSum };
}
