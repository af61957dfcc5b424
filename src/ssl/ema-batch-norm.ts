// Batch-norm statistics for the EMA model: re-estimated at the averaged weights on un-augmented training images, instead of the live model's (which mix strongly augmented views and lag behind no average).

import { tensor } from '../core/creation.js';
import { keep, tidy } from '../core/scope.js';
import { noGrad, retain, type Tensor } from '../core/tensor.js';
import { getBatch, type ImageDataset } from '../data/dataset.js';
import type { Module } from '../nn/module.js';

/** How the EMA model is evaluated: with the live model's batch-norm statistics (the references) or re-estimated ones. */
export type EmaBatchNorm = 'live' | 'recompute';

/** The images a method trains on, which re-estimate its EMA model's statistics: the unlabelled pool for FixMatch, the labelled set for supervised-only. */
export function batchNormImages(method: 'fixmatch' | 'supervised', data: { labelled: ImageDataset; unlabelled: ImageDataset }): ImageDataset {
  return method === 'fixmatch' ? data.unlabelled : data.labelled;
}

/** Images used to re-estimate the statistics: at most this many, in batches of BN_BATCH. */
export const BN_IMAGES = 2048;
export const BN_BATCH = 256;

/**
 * Sets every BatchNorm's running mean and variance of `model`, at its current weights, to the exact average over
 * the batches of `ds` (first `limit` images, batches of `batchSize`) of the batch means and unbiased batch
 * variances: pass k updates with momentum 1/k (PyTorch's cumulative average). Returns the number of images.
 */
export function recomputeBatchNormStatistics(model: Module, ds: ImageDataset, limit = BN_IMAGES, batchSize = BN_BATCH): number {
  const n = Math.min(limit, ds.count);
  if (n < 2) throw new Error(`recomputeBatchNormStatistics: ${ds.name} has ${ds.count} image(s), at least 2 are needed`);
  const backend = model.parameters()[0]?.value.backend;
  let k = 0;
  for (let s = 0; s < n; s += batchSize) {
    // A last batch of one image has no variance: fold it into the previous one.
    const end = n - (s + batchSize) === 1 ? n : Math.min(n, s + batchSize);
    const idx = Array.from({ length: end - s }, (_, i) => s + i);
    k++;
    tidy(() => noGrad(() => {
      const x = tensor(getBatch(ds, idx).x, [idx.length, ds.channels, ds.height, ds.width], { backend });
      model.forward(x, { training: true, statsMomentum: 1 / k });
    }));
    if (end === n) break;
  }
  return n;
}

/**
 * Runs fn with the model's batch-norm statistics re-estimated on `ds` (recomputeBatchNormStatistics) at its current
 * weights, then puts the previous statistics back (also on errors), so training continues with its own.
 */
export async function withRecomputedBatchNorm<T>(model: Module, ds: ImageDataset, fn: () => Promise<T>): Promise<T> {
  const buffers = model.buffers();
  const saved: Tensor[] = buffers.map((b) => b.value);
  // Batch norm disposes the statistics it replaces: the recomputation starts from handles of the training ones
  // (kept out of any tidy scope), so the training statistics themselves go back into the model intact.
  buffers.forEach((b) => (b.value = keep(retain(b.value))));
  try {
    recomputeBatchNormStatistics(model, ds);
    return await fn();
  } finally {
    buffers.forEach((b, i) => {
      b.value.dispose();
      b.value = saved[i];
    });
  }
}
