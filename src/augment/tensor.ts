// Augmentation of image tensors on any backend: the values are read (await), augmented on the host (identical everywhere) and written back as a tensor on the same backend.

import { tensor } from '../core/creation.js';
import type { Tensor } from '../core/tensor.js';
import type { Random } from '../util/random.js';
import type { ImageBatch } from './levels.js';
import { strongAugment, type RandAugmentOptions } from './randaugment.js';
import { weakAugment, type WeakOptions } from './weak.js';

async function batchOf(where: string, x: Tensor): Promise<ImageBatch> {
  if (x.rank !== 4) throw new Error(`${where}: expected an NCHW image tensor, got ${x.describe()}`);
  const [count, channels, height, width] = x.shape;
  const values = await x.data();
  return { data: values instanceof Float32Array ? values : Float32Array.from(values), count, channels, height, width };
}

/** Weak views of an NCHW tensor with values in [0, 1] (see weakAugment), on the tensor's backend and dtype. */
export async function weakAugmentTensor(x: Tensor, rng: Random, options: WeakOptions): Promise<Tensor> {
  const out = weakAugment(await batchOf('weakAugmentTensor', x), rng, options);
  return tensor(out.data, x.shape, { backend: x.backend, dtype: x.dtype });
}

/** Strong views (weak + RandAugment + Cutout) of an NCHW tensor with values in [0, 1], on the tensor's backend and dtype. */
export async function strongAugmentTensor(x: Tensor, rng: Random, weak: WeakOptions, options: RandAugmentOptions = {}): Promise<Tensor> {
  const out = strongAugment(await batchOf('strongAugmentTensor', x), rng, weak, options);
  return tensor(out.data, x.shape, { backend: x.backend, dtype: x.dtype });
}
