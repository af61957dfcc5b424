// CPU kernels of the fused relu and reluGrad primitives: one pass each, the composite's products x·[x > 0] and g·[x > 0] bit for bit.

import type { TypedArray } from '../../core/dtype.js';

/** out = x · [x > 0]: -0 for negative x and NaN for NaN and -∞, like mul(x, compare(x, 0, 'gt')). */
export function reluKernel(x: TypedArray, out: TypedArray): void {
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v * +(v > 0);
  }
}

/** out = g · [x > 0]. */
export function reluGradKernel(g: TypedArray, x: TypedArray, out: TypedArray): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = g[i] * +(x[i] > 0);
}
