// CPU data movement kernels: transpose, slice, pad, gather and scatter-add (in Wasm on the tensor heap: assembly/movement.ts).

import type { TypedArray } from '../../core/dtype.js';
import { sizeOf, stridesOf } from '../../core/shape.js';
import { copyStrided, stridedCopy } from './elementwise.js';
import { residentHeap, WASM_MIN_ELEMENTS } from './wasm-elementwise.js';
import { fillArray, type ElementwiseExports } from './wasm-heap.js';

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

/** Gathers and scatter-adds run in Wasm so far: which path ran, for tests. */
let wasmIndexed = 0;
export function wasmIndexedCalls(): number {
  return wasmIndexed;
}

/**
 * Runs `fn` with the kernels and a heap copy of `indices` (its byte address) when x and out live in one heap (one
 * dtype), the pass moves at least WASM_MIN_ELEMENTS values and every index lies in [0, limit) (ops.ts checks them;
 * a kernel called directly with a bad one must not touch other tensors' memory); false (nothing done) otherwise,
 * for the JS loop.
 */
function withHeapIndices(x: TypedArray, out: TypedArray, indices: Int32Array, limit: number, fn: (k: ElementwiseExports, idx: number) => void): boolean {
  if (out.length < WASM_MIN_ELEMENTS || indices.length === 0) return false;
  const heap = residentHeap([x, out]);
  if (heap === null) return false;
  for (let i = 0; i < indices.length; i++) if (!(indices[i] >= 0 && indices[i] < limit)) return false;
  // int32 indices in a float32-sized block (4 bytes each), viewed as Int32Array.
  const block = heap.alloc('float32', indices.length, 'spill', 'indices', false);
  if (block === undefined) return false;
  try {
    new Int32Array(block.buffer, block.byteOffset, indices.length).set(indices);
    fn(heap.kernels, block.byteOffset);
    wasmIndexed++;
  } finally {
    heap.free(block);
  }
  return true;
}

/** out[o, i, ·] = x[o, indices[i], ·] along `axis` (x as [outer, len, inner]). */
export function gatherKernel(x: TypedArray, inShape: readonly number[], indices: Int32Array, axis: number, out: TypedArray): void {
  const [outer, len, inner] = around(inShape, axis);
  const m = indices.length;
  const inWasm = withHeapIndices(x, out, indices, len, (k, idx) =>
    (x instanceof Float32Array ? k.gather32 : k.gather64)(x.byteOffset, outer, len, inner, idx, m, out.byteOffset));
  if (inWasm) return;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * len + indices[i]) * inner;
      out.set(x.subarray(src, src + inner), (o * m + i) * inner);
    }
  }
}

/** out[o, indices[i], ·] += x[o, i, ·] (out zeroed first, [outer, size, inner]), o then i in order: a repeated index sums its rows in that order. */
export function scatterAddKernel(x: TypedArray, inShape: readonly number[], indices: Int32Array, axis: number, size: number, out: TypedArray): void {
  const [outer, m, inner] = around(inShape, axis);
  fillArray(out, 0);
  const inWasm = withHeapIndices(x, out, indices, size, (k, idx) =>
    (x instanceof Float32Array ? k.scatterAddF32 : k.scatterAddF64)(x.byteOffset, outer, m, inner, idx, size, out.byteOffset));
  if (inWasm) return;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * m + i) * inner;
      const dst = (o * size + indices[i]) * inner;
      for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
    }
  }
}
