// Softmax, log-softmax and the classification losses, from primitives.

import { detach, div, exp, log, max, mul, neg, sub, sum } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { mean } from './reductions.js';

/**
 * log softmax(x) = (x - m) - log Σ exp(x - m) along `axis`, with m = max(x) detached (a constant).
 * Shifting first keeps float32 precision under a common offset of the logits: x - logSumExp(x) would add
 * m back into logSumExp and subtract it again, losing about |m|·2⁻²⁴ absolutely.
 * The result does not depend on m: with y = x - m, ∂/∂x [y - log Σ exp(y)] = I - softmax(x) for any
 * constant m, so treating m as a constant leaves gradients, HVPs and forward mode exact; the rule is
 * composed from sub, exp, sum and log (no rule of its own).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = sub(x, detach(max(x, axis, true)));
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return exp(logSoftmax(x, axis));
}

/**
 * Per-sample cross-entropy -Σ_c t_c log softmax(z)_c for logits [N, C] and target
 * distributions (one-hot or soft) [N, C].
 */
export function crossEntropyPerSample(logits: Tensor, targets: Tensor): Tensor {
  if (logits.rank !== 2 || !shapesEqual(logits.shape, targets.shape)) {
    throw new Error(`crossEntropy: logits ${formatShape(logits.shape)} and targets ${formatShape(targets.shape)} must both be [N, C]`);
  }
  return neg(sum(mul(targets, logSoftmax(logits, 1)), 1));
}

/** Mean cross-entropy over the batch. */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  return mean(crossEntropyPerSample(logits, targets));
}

/** Mean of per-sample losses weighted by w: Σ w_i l_i / N. */
export function weightedMean(perSample: Tensor, weights: Tensor): Tensor {
  return div(sum(mul(perSample, weights)), perSample.shape[0]);
}

export function meanSquaredError(pred: Tensor, target: Tensor): Tensor {
  const d = sub(pred, target);
  return mean(mul(d, d));
}
