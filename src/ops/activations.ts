// Activation functions derived from primitives, written to stay finite (and differentiable) everywhere.

import { abs, square } from './elementwise.js';
import { hasKernels } from '../core/fused.js';
import { fusedLeakyRelu, fusedRelu, fusedSigmoid, fusedSoftplus } from '../core/fused-ops.js';
import { add, compare, div, exp, log, mul, neg, sub, where } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';

/**
 * max(x, 0) = x · [x > 0], relu'(0) = 0: one pass each way with the fused relu and reluGrad primitives where the
 * backend has them, else reluComposite; both give the same bits, values and derivatives of every order.
 */
export function relu(x: Tensor): Tensor {
  return hasKernels(x, ['relu', 'reluGrad']) ? fusedRelu(x) : reluComposite(x);
}

/** The reference relu: mul(x, [x > 0]) (the mask carries no gradient). */
export function reluComposite(x: Tensor): Tensor {
  return mul(x, compare(x, 0, 'gt'));
}

/**
 * σ(x): one pass with the fused sigmoid primitive where the backend has it, else sigmoidComposite; the same bits,
 * values and derivatives of every order.
 */
export function sigmoid(x: Tensor): Tensor {
  return hasKernels(x, ['sigmoid']) ? fusedSigmoid(x) : sigmoidComposite(x);
}

/** The reference σ(x) with z = e^{-|x|} ∈ (0, 1]: x ≥ 0 → 1/(1+z), x < 0 → z/(1+z). No branch overflows. */
export function sigmoidComposite(x: Tensor): Tensor {
  const z = exp(neg(abs(x)));
  const denom = add(z, 1);
  return where(compare(x, 0, 'ge'), div(1, denom), div(z, denom));
}

/** tanh(x) = sign(x) · (1 - z)/(1 + z) with z = e^{-2|x|} ∈ (0, 1]. */
export function tanh(x: Tensor): Tensor {
  const z = exp(mul(abs(x), -2));
  const t = div(sub(1, z), add(1, z));
  return where(compare(x, 0, 'ge'), t, neg(t));
}

/**
 * softplus(x) = log(1 + eˣ): one pass with the fused softplus primitive where the backend has it, else
 * softplusComposite (the same bits, values and derivatives of every order). Defined as
 * log(1 + eˣ) = max(x, 0) + log(1 + e^{-|x|}), with max(x, 0) written as where(x ≥ 0, x, 0): softplus(-∞) = 0 (x·1(x ≥ 0)
 * gave -∞·0 = NaN there; for finite x both give the same bits, ±0 + log(1 + e^{-|x|}) ≥ 0 being the same sum). At x = 0
 * the pieces' one-sided derivatives must be taken on the same side: abs takes d|x|/dx = 1 there (x ≥ 0), so the linear
 * part takes 1 too, and softplus'(0) = 1 - ½ = ½ = σ(0). (relu's 1(x > 0) would give 0 - ½ = -½.)
 */
export function softplus(x: Tensor): Tensor {
  return hasKernels(x, ['softplus']) ? fusedSoftplus(x) : softplusComposite(x);
}

/** The reference softplus (see softplus): 8 elementwise passes, which the fused primitive does in one. */
export function softplusComposite(x: Tensor): Tensor {
  return add(where(compare(x, 0, 'ge'), x, 0), log(add(exp(neg(abs(x))), 1)));
}

/**
 * Leaky ReLU: x for x > 0, slope·x otherwise (derivative 1 or slope; the slope at 0). One pass each way with the
 * fused leakyRelu and leakyReluGrad primitives where the backend has them, else leakyReluComposite: the same bits.
 */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  if (!Number.isFinite(slope)) throw new Error(`leakyRelu: the slope must be a finite number, got ${slope}`);
  return hasKernels(x, ['leakyRelu', 'leakyReluGrad']) ? fusedLeakyRelu(x, slope) : leakyReluComposite(x, slope);
}

/** The reference leaky relu: where(x > 0, x, x · slope) (the mask carries no gradient). */
export function leakyReluComposite(x: Tensor, slope = 0.01): Tensor {
  return where(compare(x, 0, 'gt'), x, mul(x, slope));
}

export { square };
