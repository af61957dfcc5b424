// CPU kernels of the fused relu, reluGrad, leakyRelu and leakyReluGrad primitives: one branch-free pass each, their composites' values bit for bit.

import type { TypedArray } from '../../core/dtype.js';
import { LEAKY, LEAKY_GRAD, RELU, RELU_GRAD, wasmRectify } from './wasm-elementwise.js';

/** out = x · [x > 0]: -0 for negative x and NaN for NaN and -∞, like mul(x, compare(x, 0, 'gt')). */
export function reluKernel(x: TypedArray, out: TypedArray): void {
  if (wasmRectify(RELU, x, null, 0, out)) return;
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v * +(v > 0);
  }
}

/** out = g · [x > 0]. */
export function reluGradKernel(g: TypedArray, x: TypedArray, out: TypedArray): void {
  if (wasmRectify(RELU_GRAD, x, g, 0, out)) return;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = g[i] * +(x[i] > 0);
}

/**
 * The factor s per mask value m = [x > 0] (index 0: the slope, 1: one), read by index so that no branch depends on
 * the sign of random activations. The slope is what the composite's mul(x, slope) applies: a scalar of the
 * tensor's dtype, so rounded to float32 for float32 tensors.
 */
function factors(out: TypedArray, slope: number): Float64Array {
  return Float64Array.of(out instanceof Float32Array ? Math.fround(slope) : slope, 1);
}

/** out = x · s(x), s = 1 for x > 0 and the slope otherwise: the composite where(x > 0, x, x · slope) bit for bit. */
export function leakyReluKernel(x: TypedArray, slope: number, out: TypedArray): void {
  const s = factors(out, slope);
  if (wasmRectify(LEAKY, x, null, s[0], out)) return;
  const n = out.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v * s[+(v > 0)];
  }
}

/**
 * out = g · s(x) + 0: where(x > 0, g, 0) + where(x > 0, 0, g) · slope, the composite's backward, bit for bit for a
 * slope >= 0 (the + 0 turns -0 into +0 as that sum does; with a negative slope the composite's first-order zero
 * is 0 · slope = -0 where x > 0, so a zero cotangent there may differ in sign).
 */
export function leakyReluGradKernel(g: TypedArray, x: TypedArray, slope: number, out: TypedArray): void {
  const s = factors(out, slope);
  if (wasmRectify(LEAKY_GRAD, x, g, s[0], out)) return;
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = g[i] * s[+(x[i] > 0)] + 0;
}
