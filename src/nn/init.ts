// Weight initialisers with PyTorch's conventions (Kaiming-uniform for Linear/Conv, fan-in bounds for biases).

import { randn, randu, type CreateOptions } from '../core/creation.js';
import type { Tensor } from '../core/tensor.js';
import type { Random } from '../util/random.js';

/** PyTorch's default Linear/Conv weight init: U(-1/√fanIn, 1/√fanIn) (kaiming_uniform with a = √5). */
export function defaultWeight(shape: number[], fanIn: number, rng: Random, opts: CreateOptions = {}): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return randu(shape, rng, -bound, bound, opts);
}

/** Kaiming-normal for ReLU networks: N(0, 2/fanIn) (fan-in mode), as the WRN reference code uses. */
export function kaimingNormal(shape: number[], fanIn: number, rng: Random, opts: CreateOptions = {}): Tensor {
  return randn(shape, rng, Math.sqrt(2 / fanIn), opts);
}
