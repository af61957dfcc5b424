// Accuracy and mean loss of a classifier over a dataset, in batches, without recording a graph.

import { tensor } from '../core/creation.js';
import { tidyAsync } from '../core/scope.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import type { ImageDataset } from '../data/dataset.js';
import { getBatch } from '../data/dataset.js';
import { crossEntropy } from '../ops/losses.js';
import { oneHot } from '../core/creation.js';
import type { Module } from '../nn/module.js';
import type { Backend } from '../backend/backend.js';

export interface Evaluation {
  accuracy: number;
  loss: number;
  count: number;
}

/**
 * Batch of a dataset as tensors: images [N, C, H, W] (or flattened [N, CHW]) and one-hot targets, on
 * `backend` (default: the current default backend).
 */
export function batchTensors(ds: ImageDataset, indices: ArrayLike<number>, flatten: boolean, backend?: Backend): { x: Tensor; t: Tensor; labels: Uint8Array } {
  const b = getBatch(ds, indices);
  const n = indices.length;
  const shape = flatten ? [n, ds.channels * ds.height * ds.width] : [n, ds.channels, ds.height, ds.width];
  return { x: tensor(b.x, shape, { backend }), t: oneHot(b.y, ds.numClasses, { backend }), labels: b.y };
}

export function argmaxRows(logits: Float32Array | Float64Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c] > logits[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Accuracy and mean cross-entropy over a dataset, in batches; reads results asynchronously (any backend). */
export async function evaluate(model: Module, ds: ImageDataset, opts: { batchSize?: number; flatten?: boolean } = {}): Promise<Evaluation> {
  const bs = opts.batchSize ?? 500;
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < ds.count; start += bs) {
    const idx = Array.from({ length: Math.min(bs, ds.count - start) }, (_, i) => start + i);
    const { lossValue, logitValues, labels } = await tidyAsync(async () => {
      const { logits, loss, labels } = noGrad(() => {
        const b = batchTensors(ds, idx, opts.flatten ?? true, model.parameters()[0]?.value.backend);
        const out = model.forward(b.x, { training: false });
        return { logits: out, loss: crossEntropy(out, b.t), labels: b.labels };
      });
      const [lossValue, logitValues] = await Promise.all([loss.data(), logits.data()]);
      return { lossValue, logitValues, labels };
    });
    lossSum += lossValue[0] * idx.length;
    const pred = argmaxRows(logitValues, idx.length, ds.numClasses);
    pred.forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
  }
  return { accuracy: ds.count ? correct / ds.count : 0, loss: ds.count ? lossSum / ds.count : 0, count: ds.count };
}
