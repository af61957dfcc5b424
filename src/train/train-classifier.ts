// Supervised training of a classifier with minibatches, divergence detection and periodic evaluation.

import { valueAndGrad } from '../autodiff/transforms.js';
import type { Tensor } from '../core/tensor.js';
import type { ImageDataset } from '../data/dataset.js';
import { crossEntropy } from '../ops/losses.js';
import { functionalCall, type Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Random } from '../util/random.js';
import { batchTensors, evaluate, type Evaluation } from './evaluate.js';

export interface TrainOptions {
  steps: number;
  batchSize: number;
  seed: number;
  /** Flatten images to [N, CHW] (MLPs) or keep NCHW (conv nets). */
  flatten: boolean;
  /** Called after every step with the training loss of that batch. */
  onStep?: (step: number, loss: number) => void;
}

export interface TrainResult {
  train: Evaluation;
  validation: Evaluation;
  test: Evaluation;
  finalLoss: number;
}

export class DivergenceError extends Error {
  constructor(readonly step: number, readonly value: number) {
    super(`training diverged at step ${step}: loss is ${value}`);
  }
}

/** Trains `model` on `train` with `optimizer`, then evaluates on all three splits. */
export async function trainClassifier(
  model: Module,
  optimizer: Optimizer,
  data: { train: ImageDataset; validation: ImageDataset; test: ImageDataset },
  opts: TrainOptions,
): Promise<TrainResult> {
  const rng = new Random(opts.seed);
  const params = model.parameters();
  let order = rng.permutation(data.train.count);
  let cursor = 0;
  let finalLoss = NaN;
  for (let step = 1; step <= opts.steps; step++) {
    if (cursor + opts.batchSize > order.length) {
      order = rng.permutation(data.train.count);
      cursor = 0;
    }
    const idx = order.subarray(cursor, cursor + opts.batchSize);
    cursor += opts.batchSize;
    const { x, t } = batchTensors(data.train, idx, opts.flatten, params[0]?.value.backend);
    const lossFn = (ws: Tensor[]): Tensor => functionalCall(model, ws, () => crossEntropy(model.forward(x, { training: true }), t));
    const { value, grads } = valueAndGrad(lossFn)(params.map((p) => p.value));
    finalLoss = (await value.data())[0];
    if (!Number.isFinite(finalLoss)) throw new DivergenceError(step, finalLoss);
    optimizer.step(grads);
    opts.onStep?.(step, finalLoss);
  }
  const ev = (ds: ImageDataset): Promise<Evaluation> => evaluate(model, ds, { flatten: opts.flatten });
  return { train: await ev(data.train), validation: await ev(data.validation), test: await ev(data.test), finalLoss };
}
