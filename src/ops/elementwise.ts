// Small elementwise helpers derived from primitives: abs, square, pow by integer, clamp.

import { compare, mul, neg, where, type TensorLike } from '../core/ops.js';
import type { Tensor } from '../core/tensor.js';

/** |x| = x < 0 ? -x : x (subgradient 1 at 0). */
export function abs(x: Tensor): Tensor {
  return where(compare(x, 0, 'lt'), neg(x), x);
}

export function square(x: Tensor): Tensor {
  return mul(x, x);
}

/** min(max(x, lo), hi) through selects, so the gradient is 1 inside and 0 outside. */
export function clamp(x: Tensor, lo: TensorLike, hi: TensorLike): Tensor {
  const low = where(compare(x, lo, 'lt'), lo, x);
  return where(compare(low, hi, 'gt'), hi, low);
}

/** Elementwise maximum (ties go to a). */
export function maximum(a: Tensor, b: TensorLike): Tensor {
  return where(compare(a, b, 'ge'), a, b);
}

/** Elementwise minimum (ties go to a). */
export function minimum(a: Tensor, b: TensorLike): Tensor {
  return where(compare(a, b, 'le'), a, b);
}
