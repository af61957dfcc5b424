// Dot products of CPU arrays in float64 in a fixed order (assembly/dot.ts's): Wasm SIMD when both live in the tensor heap, this JS loop otherwise, the same bits.

import type { TypedArray } from '../../core/dtype.js';
import { residentKernels, WASM_MIN_ELEMENTS } from './wasm-elementwise.js';

/**
 * Σ a_i·b_i in float64: element i goes to partial sum i mod 8 for the whole steps of 8, the partial sums are combined
 * as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the last n mod 8 products are added in order. Float32
 * products are exact in float64, so only the additions round. Eight independent sums also let the CPU overlap them.
 */
export function dotArrays(a: TypedArray, b: TypedArray): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`dot: arrays of ${n} and ${b.length} elements`);
  if (n >= WASM_MIN_ELEMENTS) {
    const k = residentKernels([a, b]);
    if (k !== null) return (a instanceof Float32Array ? k.dotF32 : k.dotF64)(a.byteOffset, b.byteOffset, n);
  }
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
    s4 += a[i + 4] * b[i + 4];
    s5 += a[i + 5] * b[i + 5];
    s6 += a[i + 6] * b[i + 6];
    s7 += a[i + 7] * b[i + 7];
  }
  let s = (s0 + s1 + (s2 + s3)) + (s4 + s5 + (s6 + s7));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}
