// Dispatch of CPU elementwise kernels to Wasm SIMD (assembly/elementwise.ts) when every operand lives in the tensor heap; the callers fall back to their JS loops otherwise, with the same bits.

import type { TypedArray } from '../../core/dtype.js';
import type { UnaryPrim } from '../../core/primitives.js';
import type { Combine } from './binary.js';
import { EW_BINARY, EW_RECTIFY, EW_SMOOTH, EW_SOFTPLUS_TERMS, EW_UNARY, EW_WHERE, elementwiseArgs } from './elementwise-range.js';
import { elementwiseThreadsOn, runElementwiseShares } from './wasm-gemm.js';
import { commonHeap, type ElementwiseExports, type WasmHeap } from './wasm-heap.js';

const BINARY_CODE: Record<Combine, number> = { add: 0, sub: 1, mul: 2, div: 3, gt: 4, ge: 5, lt: 6, le: 7, eq: 8, ne: 9 };
const UNARY_CODE: Record<UnaryPrim, number> = { neg: 0, sqrt: 1, exp: 2, log: 3 };

/** Below this many output elements the JS loops are cheaper than a call into Wasm (the same bits either way). */
export const WASM_MIN_ELEMENTS = 32;

/** Binary modes of the Wasm kernels: same shape, b a scalar, a a scalar. */
export const SAME = 0, SCALAR_B = 1, SCALAR_A = 2;

/** The heap every array is a view into, all of one dtype (float32 or float64); else null. */
export function residentHeap(arrays: readonly TypedArray[]): WasmHeap | null {
  const heap = commonHeap(arrays);
  if (heap === undefined) return null;
  const ctor = arrays[0].constructor;
  for (const a of arrays) if (a.constructor !== ctor) return null;
  return heap;
}

/** The kernels of the heap every array is a view into, all of one dtype (float32 or float64); else null. */
export function residentKernels(arrays: readonly TypedArray[]): ElementwiseExports | null {
  return residentHeap(arrays)?.kernels ?? null;
}

/**
 * Whole passes of at least this many elements split over the heap's worker threads (setGemmThreads > 1), by
 * cost per element: cheap kernels (arithmetic, compare, select, rectifiers, neg, sqrt) and transcendental ones
 * (exp, log, softplus, sigmoid, the softplus terms). Measured with the worker awake (it polls for 2 ms after a job,
 * WORKER_SPIN_MS): mul on 2 threads was 1.3-2.0x faster from 2^16 floats and slower below, exp 1.9x from 2^15.
 */
export const THREADED_MIN_CHEAP = 1 << 16;
export const THREADED_MIN_TRANSCENDENTAL = 1 << 15;

/** Splits the pass over the heap's threads when it is large enough and the heap has a pool; false: run it here. */
function threaded(heap: WasmHeap, min: number, out: TypedArray, make: (bytes: number) => number[]): boolean {
  if (out.length < min || elementwiseThreadsOn(heap.memory) < 2) return false;
  runElementwiseShares(heap.memory, heap.kernels, make(out.BYTES_PER_ELEMENT));
  return true;
}

/**
 * out[o..o+n) = a[pa..] op b[pb..] in Wasm, each operand a run (mode SAME), or one of them a scalar
 * (SCALAR_B, SCALAR_A); offsets are in elements. The arrays must have passed residentKernels.
 */
export function binaryRun(
  k: ElementwiseExports, op: Combine, mode: number,
  a: TypedArray, pa: number, b: TypedArray, pb: number, out: TypedArray, o: number, n: number,
): void {
  const f32 = out instanceof Float32Array;
  const e = f32 ? 4 : 8;
  (f32 ? k.binaryF32 : k.binaryF64)(BINARY_CODE[op], mode, a.byteOffset + pa * e, b.byteOffset + pb * e, out.byteOffset + o * e, n);
}

/** out = a op b over whole arrays (same length, or one of length 1) in Wasm; false when not every array is in the heap. */
export function wasmBinary(op: Combine, a: TypedArray, b: TypedArray, out: TypedArray): boolean {
  const n = out.length;
  if (n < WASM_MIN_ELEMENTS) return false;
  const mode = a.length === n && b.length === n ? SAME : a.length === n && b.length === 1 ? SCALAR_B : b.length === n && a.length === 1 ? SCALAR_A : -1;
  if (mode < 0) return false;
  const heap = residentHeap([a, b, out]);
  if (heap === null) return false;
  const made = threaded(heap, THREADED_MIN_CHEAP, out, (e) => elementwiseArgs(EW_BINARY, e, n, BINARY_CODE[op], mode,
    [[a.byteOffset, mode !== SCALAR_A], [b.byteOffset, mode !== SCALAR_B], [out.byteOffset, true]]));
  if (!made) binaryRun(heap.kernels, op, mode, a, 0, b, 0, out, 0, n);
  return true;
}

/** out = op(x) in Wasm (exp and log are assembly/math.ts's, as on the copy-in path); false when not resident. */
export function wasmUnary(op: UnaryPrim, x: TypedArray, out: TypedArray): boolean {
  if (out.length < WASM_MIN_ELEMENTS) return false;
  const heap = residentHeap([x, out]);
  if (heap === null || x.length !== out.length) return false;
  const min = op === 'exp' || op === 'log' ? THREADED_MIN_TRANSCENDENTAL : THREADED_MIN_CHEAP;
  if (threaded(heap, min, out, (e) => elementwiseArgs(EW_UNARY, e, out.length, UNARY_CODE[op], 0, [[x.byteOffset, true], [out.byteOffset, true]]))) return true;
  const k = heap.kernels;
  (out instanceof Float32Array ? k.unaryF32 : k.unaryF64)(UNARY_CODE[op], x.byteOffset, out.byteOffset, out.length);
  return true;
}

/** Rectifier kinds of assembly/elementwise.ts. */
export const RELU = 0, RELU_GRAD = 1, LEAKY = 2, LEAKY_GRAD = 3;

/**
 * relu / reluGrad / leakyRelu / leakyReluGrad in Wasm: x the activations, g the cotangent (for the _GRAD kinds),
 * slope already rounded to the dtype; false when not resident.
 */
export function wasmRectify(kind: number, x: TypedArray, g: TypedArray | null, slope: number, out: TypedArray): boolean {
  if (out.length < WASM_MIN_ELEMENTS) return false;
  const heap = residentHeap(g === null ? [x, out] : [x, g, out]);
  if (heap === null) return false;
  const gp = g === null ? 0 : g.byteOffset;
  const made = threaded(heap, THREADED_MIN_CHEAP, out, (e) => elementwiseArgs(EW_RECTIFY, e, out.length, kind, 0,
    [[x.byteOffset, true], [gp, g !== null], [out.byteOffset, true]], slope));
  if (made) return true;
  const k = heap.kernels;
  (out instanceof Float32Array ? k.rectifyF32 : k.rectifyF64)(kind, x.byteOffset, gp, slope, out.byteOffset, out.length);
  return true;
}

/** out = c != 0 ? a : b over arrays of one length in Wasm; false when not resident. */
export function wasmWhere(c: TypedArray, a: TypedArray, b: TypedArray, out: TypedArray): boolean {
  if (out.length < WASM_MIN_ELEMENTS) return false;
  const heap = residentHeap([c, a, b, out]);
  if (heap === null) return false;
  const made = threaded(heap, THREADED_MIN_CHEAP, out, (e) => elementwiseArgs(EW_WHERE, e, out.length, 0, 0,
    [[c.byteOffset, true], [a.byteOffset, true], [b.byteOffset, true], [out.byteOffset, true]]));
  if (made) return true;
  const k = heap.kernels;
  (out instanceof Float32Array ? k.where32 : k.where64)(c.byteOffset, a.byteOffset, b.byteOffset, out.byteOffset, out.length);
  return true;
}

/** Kinds of assembly/elementwise.ts's smooth activations. */
export const SOFTPLUS = 0, SIGMOID = 1;

/** out = softplus(x) or σ(x) in one Wasm pass (the composites' bits); false when not resident. */
export function wasmSmooth(kind: number, x: TypedArray, out: TypedArray): boolean {
  if (out.length < WASM_MIN_ELEMENTS) return false;
  const heap = residentHeap([x, out]);
  if (heap === null || x.length !== out.length) return false;
  if (threaded(heap, THREADED_MIN_TRANSCENDENTAL, out, (e) => elementwiseArgs(EW_SMOOTH, e, out.length, kind, 0, [[x.byteOffset, true], [out.byteOffset, true]]))) return true;
  const k = heap.kernels;
  (out instanceof Float32Array ? k.smoothF32 : k.smoothF64)(kind, x.byteOffset, out.byteOffset, out.length);
  return true;
}

/** c = (s·s)·2 and dc = (s·σ(x))·4, s = softplus(x), in one Wasm pass (softplusTerms*); false when not resident. */
export function wasmSoftplusTerms(x: TypedArray, c: TypedArray, dc: TypedArray): boolean {
  if (x.length < WASM_MIN_ELEMENTS) return false;
  const heap = residentHeap([x, c, dc]);
  if (heap === null || c.length !== x.length || dc.length !== x.length) return false;
  const made = threaded(heap, THREADED_MIN_TRANSCENDENTAL, x, (e) => elementwiseArgs(EW_SOFTPLUS_TERMS, e, x.length, 0, 0,
    [[x.byteOffset, true], [c.byteOffset, true], [dc.byteOffset, true]]));
  if (made) return true;
  const k = heap.kernels;
  (x instanceof Float32Array ? k.softplusTermsF32 : k.softplusTermsF64)(x.byteOffset, c.byteOffset, dc.byteOffset, x.length);
  return true;
}

/**
 * out = d − (x·w)·dc in one Wasm pass (l2HypergradTail*, the composite's bits; d null = a zero tensor); false when
 * the arrays are not all resident in one heap with one dtype and length.
 */
export function wasmL2HypergradTail(d: TypedArray | null, x: TypedArray, w: TypedArray, dc: TypedArray, out: TypedArray): boolean {
  const arrays = d === null ? [x, w, dc, out] : [d, x, w, dc, out];
  const heap = residentHeap(arrays);
  if (heap === null || arrays.some((a) => a.length !== out.length)) return false;
  const k = heap.kernels;
  (out instanceof Float32Array ? k.l2HypergradTailF32 : k.l2HypergradTailF64)(d?.byteOffset ?? 0, x.byteOffset, w.byteOffset, dc.byteOffset, out.byteOffset, out.length);
  return true;
}
