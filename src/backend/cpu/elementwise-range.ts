// One thread's share [i0, i1) of an elementwise Wasm kernel on the tensor heap, as source text: the main thread and the heap pool's worker threads (Node) compile and run the same code.

import type { ElementwiseExports } from './wasm-heap.js';

/** Kernels a share can run (word 0 of its arguments). */
export const EW_BINARY = 0;
export const EW_UNARY = 1;
export const EW_RECTIFY = 2;
export const EW_WHERE = 3;
export const EW_SMOOTH = 4;
export const EW_SOFTPLUS_TERMS = 5;
/** Int32 words of an elementwise job's arguments (see elementwiseRange). */
export const EW_ARGS = 16;

/**
 * One share. Arguments `a` (EW_ARGS words): kernel (EW_*); element size in bytes (4: the F32 export, 8: the F64
 * one); the share [i0, i1) (words 2-3); the kernel's op or kind code; the binary mode; four pointer slots (words
 * 6-13), each a byte address and a flag (1: a run that starts at element i0 too; 0: a scalar or an unused slot);
 * the rectifier's slope as the two halves of a float64 (words 14-15, little-endian).
 *
 * Elementwise kernels compute each output element from the inputs at that index only, so any split gives the
 * one-thread bits. Kept as source text, compiled once here and once in each worker, like conv-range.ts.
 */
export const ELEMENTWISE_RANGE_SOURCE = `
const e = a[1], i0 = a[2], n = a[3] - i0;
if (n <= 0) return;
const off = i0 * e, f32 = e === 4;
const p = (j) => (a[j] >>> 0) + (a[j + 1] !== 0 ? off : 0);
switch (a[0]) {
  case 0: (f32 ? k.binaryF32 : k.binaryF64)(a[4], a[5], p(6), p(8), p(10), n); break;
  case 1: (f32 ? k.unaryF32 : k.unaryF64)(a[4], p(6), p(8), n); break;
  case 2: {
    const bits = new Int32Array([a[14], a[15]]);
    (f32 ? k.rectifyF32 : k.rectifyF64)(a[4], p(6), p(8), new Float64Array(bits.buffer)[0], p(10), n);
    break;
  }
  case 3: (f32 ? k.where32 : k.where64)(p(6), p(8), p(10), p(12), n); break;
  case 4: (f32 ? k.smoothF32 : k.smoothF64)(a[4], p(6), p(8), n); break;
  case 5: (f32 ? k.softplusTermsF32 : k.softplusTermsF64)(p(6), p(8), p(10), n); break;
  default: throw new Error('elementwise share: unknown kernel ' + a[0]);
}
`;

type ElementwiseRangeFn = (k: ElementwiseExports, a: ArrayLike<number>) => void;
let compiled: ElementwiseRangeFn | null = null;

/** Runs one share (ELEMENTWISE_RANGE_SOURCE) on this thread. */
export function elementwiseRange(k: ElementwiseExports, a: ArrayLike<number>): void {
  compiled ??= new Function('k', 'a', ELEMENTWISE_RANGE_SOURCE) as ElementwiseRangeFn;
  compiled(k, a);
}

const slopeBits = new Int32Array(2);
const slopeValue = new Float64Array(slopeBits.buffer);

/**
 * The arguments of a whole pass over n elements (the share [0, n); the pool rewrites words 2-3 per thread).
 * `ptrs`: up to four [byte address, advances] pairs in the kernel's argument order.
 */
export function elementwiseArgs(kernel: number, bytes: number, n: number, code: number, mode: number,
  ptrs: readonly (readonly [number, boolean])[], slope = 0): number[] {
  const a = new Array<number>(EW_ARGS).fill(0);
  a[0] = kernel;
  a[1] = bytes;
  a[3] = n;
  a[4] = code;
  a[5] = mode;
  ptrs.forEach(([ptr, runs], i) => {
    a[6 + 2 * i] = ptr | 0;
    a[7 + 2 * i] = runs ? 1 : 0;
  });
  slopeValue[0] = slope;
  a[14] = slopeBits[0]!;
  a[15] = slopeBits[1]!;
  return a;
}
