// Reductions derived from sum and max: mean, variance, log-sum-exp.

import { detach, div, exp, log, max, mul, reshape, sub, sum, add } from '../core/ops.js';
import { normalizeAxes } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';

function countOf(x: Tensor, axes: number | readonly number[] | undefined): number {
  return normalizeAxes('mean', axes, x.rank).reduce((n, a) => n * x.shape[a], 1);
}

export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const n = countOf(x, axes);
  return div(sum(x, axes, keepDims), n);
}

/** Biased (population) variance, as batch normalisation uses. */
export function variance(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const d = sub(x, mean(x, axes, true));
  return mean(mul(d, d), axes, keepDims);
}

/**
 * log Σ exp(x) along axes, shifted by the (constant, detached) max m for stability: m + log Σ exp(x - m).
 * ∂/∂x_i = exp(x_i - m) / Σ exp(x - m) = softmax(x)_i whatever constant m is, so detaching m is exact for
 * every derivative order. (Log-softmax does not go through here: adding m back and subtracting it again
 * loses float32 precision under a large common offset; see logSoftmax in losses.ts.)
 */
export function logSumExp(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes('logSumExp', axes, x.rank);
  const m = detach(max(x, ax, true));
  const s = log(sum(exp(sub(x, m)), ax, true));
  const r = add(s, m);
  if (keepDims) return r;
  return reshape(r, x.shape.filter((_, i) => !ax.includes(i)));
}
