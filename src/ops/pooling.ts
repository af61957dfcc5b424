// Pooling: max-pooling on its own primitives (argmax kept for the backward), and average pooling from reshape + reductions.

import { max, reshape, slice } from '../core/ops.js';
import { maxPool2dArgmax, maxPool2dGather, pool2dParams, type Pool2dOptions } from '../core/pool-ops.js';
import type { Tensor } from '../core/tensor.js';
import { mean } from './reductions.js';

export type { Pool2dOptions } from '../core/pool-ops.js';

function windows(x: Tensor, k: number, op: string): Tensor {
  if (x.rank !== 4) throw new Error(`${op}: expects NCHW input, got ${x.describe()}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: window must be an integer >= 1, got ${JSON.stringify(k)}`);
  const [n, c, h, w] = x.shape;
  const ho = Math.floor(h / k);
  const wo = Math.floor(w / k);
  if (ho === 0 || wo === 0) throw new Error(`${op}: window ${k} is larger than the input ${x.describe()}`);
  const cropped = h === ho * k && w === wo * k ? x : slice(x, [0, 0, 0, 0], [n, c, ho * k, wo * k]);
  return reshape(cropped, [n, c, ho, k, wo, k]);
}

/**
 * Max over k×k windows, stride k by default (a ragged border is dropped, as in PyTorch), optionally another stride
 * and padding (padded positions never win). The forward pass keeps each window's argmax and the gradient goes to
 * it alone: on ties, to the first maximum in row-major window order (PyTorch's rule). Second and higher
 * derivatives work (the backward is a scatter whose own derivative is the gather).
 */
export function maxPool2d(x: Tensor, k: number | [number, number] = 2, opts: Pool2dOptions = {}): Tensor {
  const p = pool2dParams('maxPool2d', x, k, opts);
  return maxPool2dGather(x, maxPool2dArgmax(x, p), p);
}

/**
 * The reference max-pool built from reshape + max (non-overlapping windows only): same values as maxPool2d; on
 * ties its gradient is shared equally among the maxima (the max reduction's rule). Kept for tests and benchmarks.
 */
export function maxPool2dComposite(x: Tensor, k = 2): Tensor {
  return max(windows(x, k, 'maxPool2dComposite'), [3, 5]);
}

/**
 * Mean over non-overlapping k×k windows (stride k). Not a primitive: no model uses it, and its backward is one
 * broadcast (no per-window routing), so it has no hot path to remove.
 */
export function avgPool2d(x: Tensor, k = 2): Tensor {
  return mean(windows(x, k, 'avgPool2d'), [3, 5]);
}

/**
 * [N, C, H, W] -> [N, C]. One sum over the contiguous trailing axes (forward) and one broadcast (backward): the
 * reductions' kernels already stream it, so it stays a composite.
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool2d: expects NCHW input, got ${x.describe()}`);
  return mean(x, [2, 3]);
}
