// CPU data movement kernels: transpose, slice, pad, gather and scatter-add.

import type { TypedArray } from '../../core/dtype.js';
import { sizeOf, stridesOf } from '../../core/shape.js';
import { copyStrided, stridedCopy } from './elementwise.js';
import { fillArray } from './wasm-heap.js';

export function transposeKernel(x: TypedArray, inShape: readonly number[], perm: readonly number[], out: TypedArray): void {
  const si = stridesOf(inShape);
  const outShape = perm.map((p) => inShape[p]);
  stridedCopy(x, perm.map((p) => si[p]), out, outShape);
}

export function sliceKernel(x: TypedArray, inShape: readonly number[], begin: readonly number[], size: readonly number[], out: TypedArray): void {
  const si = stridesOf(inShape);
  let base = 0;
  for (let i = 0; i < begin.length; i++) base += begin[i] * si[i];
  copyStrided(x, base, si, out, 0, stridesOf(size), size);
}

export function padKernel(x: TypedArray, inShape: readonly number[], before: readonly number[], out: TypedArray, outShape: readonly number[]): void {
  fillArray(out, 0);
  if (x.length === 0) return;
  const so = stridesOf(outShape);
  let base = 0;
  for (let i = 0; i < before.length; i++) base += before[i] * so[i];
  // x, read in order, lands in the interior window of out.
  copyStrided(x, 0, stridesOf(inShape), out, base, so, inShape);
}

/** Splits a shape around `axis` into [outer, axisLength, inner]. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

export function gatherKernel(x: TypedArray, inShape: readonly number[], indices: Int32Array, axis: number, out: TypedArray): void {
  const [outer, len, inner] = around(inShape, axis);
  const m = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * len + indices[i]) * inner;
      out.set(x.subarray(src, src + inner), (o * m + i) * inner);
    }
  }
}

export function scatterAddKernel(x: TypedArray, inShape: readonly number[], indices: Int32Array, axis: number, size: number, out: TypedArray): void {
  const [outer, m, inner] = around(inShape, axis);
  fillArray(out, 0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * m + i) * inner;
      const dst = (o * size + indices[i]) * inner;
      for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
    }
  }
}
