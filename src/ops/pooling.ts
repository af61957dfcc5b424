// Pooling from reshape + reductions (non-overlapping windows) and global average pooling.

import { max, reshape, slice } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { mean } from './reductions.js';

function windows(x: Tensor, k: number, op: string): Tensor {
  if (x.rank !== 4) throw new Error(`${op}: expects NCHW input, got ${x.describe()}`);
  const [n, c, h, w] = x.shape;
  const ho = Math.floor(h / k);
  const wo = Math.floor(w / k);
  if (ho === 0 || wo === 0) throw new Error(`${op}: window ${k} is larger than the input ${x.describe()}`);
  const cropped = h === ho * k && w === wo * k ? x : slice(x, [0, 0, 0, 0], [n, c, ho * k, wo * k]);
  return reshape(cropped, [n, c, ho, k, wo, k]);
}

/** Max over non-overlapping k×k windows (stride k; a ragged border is dropped, as in PyTorch). */
export function maxPool2d(x: Tensor, k = 2): Tensor {
  return max(windows(x, k, 'maxPool2d'), [3, 5]);
}

/** Mean over non-overlapping k×k windows (stride k). */
export function avgPool2d(x: Tensor, k = 2): Tensor {
  return mean(windows(x, k, 'avgPool2d'), [3, 5]);
}

/** [N, C, H, W] -> [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool2d: expects NCHW input, got ${x.describe()}`);
  return mean(x, [2, 3]);
}
