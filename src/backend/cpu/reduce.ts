// CPU reductions (sum, max) over any set of axes with loops specialised for reduced innermost axes and small windows; float32 sums accumulate in float64, contiguous runs in eight lanes (sumRun), kept innermost runs of heap tensors row by row in Wasm (addRows*, maxRows*), max over heap runs in Wasm (maxRun*).

import type { TypedArray } from '../../core/dtype.js';
import { stridesOf } from '../../core/shape.js';
import { collapse, Outer } from './strided.js';
import { residentKernels, WASM_MIN_ELEMENTS } from './wasm-elementwise.js';
import { fillArray, heapOf, type ElementwiseExports } from './wasm-heap.js';

/** Strides into the reduced output for each input axis (0 on reduced axes). */
function reducedStrides(inShape: readonly number[], axes: readonly number[]): number[] {
  const outShape = inShape.filter((_, i) => !axes.includes(i));
  const so = stridesOf(outShape);
  let k = 0;
  return inShape.map((_, i) => (axes.includes(i) ? 0 : so[k++]));
}

/** Blocks of column sums added in Wasm (addRows*) so far: which path ran, for tests (as getGemmWorkerJobs for threads). */
let wasmRowBlocks = 0;
export function wasmColumnSumBlocks(): number {
  return wasmRowBlocks;
}

/** Float64 accumulator for float32 sums, reused across calls (grown on demand). */
let scratch = new Float64Array(0);

export function reduceKernel(op: 'sum' | 'max', x: TypedArray, inShape: readonly number[], axes: readonly number[], out: TypedArray): void {
  const m = out.length;
  const wide = op === 'sum' && !(out instanceof Float64Array);
  // The input is walked in memory order; the output strides are 0 along reduced axes.
  const c = collapse(inShape, [stridesOf(inShape), reducedStrides(inShape, axes)]);
  const r = c.shape.length;
  const so = c.strides[1];
  const n2 = c.shape[r - 3], n1 = c.shape[r - 2], n0 = c.shape[r - 1];
  const o2 = so[r - 3], o1 = so[r - 2], o0 = so[r - 1];
  // Column sums (the innermost 16+ values kept, every row into the same run: a bias gradient) of x in the tensor
  // heap accumulate in a float64 heap block (or a float64 output there), so that sumBlock adds whole rows in Wasm
  // (addRows*), in the JS loop's order.
  const columns = op === 'sum' && x.length > 0 && o0 === 1 && o1 === 0 && n0 >= 16;
  const heap = columns && (x instanceof Float32Array || x instanceof Float64Array) ? heapOf(x) : undefined;
  const owned = heap !== undefined && wide ? heap.alloc('float64', m, 'spill', 'reduce', false) : undefined;
  if (wide && owned === undefined && scratch.length < m) scratch = new Float64Array(Math.max(m, 2 * scratch.length));
  const acc: TypedArray = owned ?? (wide ? scratch : out);
  const rows = heap !== undefined && acc instanceof Float64Array && heap.owns(acc) ? heap.kernels : null;
  fillArray(acc, op === 'sum' ? 0 : -Infinity, 0, m);
  // Max over runs (a reduced innermost axis of 32+ values) or of rows into a kept run (4+ columns) in Wasm, where x and
  // out share the heap.
  const maxKernels = op === 'max' && (o0 === 0 ? n0 >= WASM_MIN_ELEMENTS : o0 === 1 && o1 === 0 && n0 >= 4) ? residentKernels([x, out]) : null;
  if (x.length > 0) {
    const it = new Outer(c.shape, c.strides);
    let p = 0;
    for (let t = 0; t < it.count; t++) {
      const o = it.offsets[1];
      if (op === 'sum') p = sumBlock(x, p, acc, o, o2, o1, o0, n2, n1, n0, rows);
      else p = maxBlock(x, p, acc, o, o2, o1, o0, n2, n1, n0, maxKernels);
      it.next();
    }
  }
  if (wide) for (let i = 0; i < m; i++) out[i] = acc[i];
  if (owned !== undefined) heap!.free(owned);
}

/**
 * Σ x[p .. p + len) in float64, in the engine's order for a contiguous run (every sum over one, and so every mean,
 * loss and batch-norm statistic on the CPU): eight partial sums, lane j taking the values at offsets ≡ j (mod 8) of
 * the first len - len mod 8, combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)); then the last len mod 8
 * values added one by one. Eight independent additions in flight instead of one chain (a float64 add's latency
 * bounded the single chain at ~1 ns per value), and no less accurate than the sequential sum.
 */
export function sumRun(x: TypedArray, p: number, len: number): number {
  if (len >= WASM_MIN_ELEMENTS && (x instanceof Float32Array || x instanceof Float64Array)) {
    // The same order in Wasm SIMD (assembly/dot.ts) when x lives in the tensor heap.
    const k = residentKernels([x]);
    if (k !== null) return x instanceof Float32Array ? k.sumF32(x.byteOffset + 4 * p, len) : k.sumF64(x.byteOffset + 8 * p, len);
  }
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let i = p;
  for (const end8 = p + len - (len & 7); i < end8; i += 8) {
    s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3];
    s4 += x[i + 4]; s5 += x[i + 5]; s6 += x[i + 6]; s7 += x[i + 7];
  }
  let t = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  for (const end = p + len; i < end; i++) t += x[i];
  return t;
}

/**
 * acc[o + i·(o2, o1, o0)] += x[p++] over an n2 x n1 x n0 block; returns the next input position. With `rows` (given by
 * reduceKernel only for column sums: o0 = 1, o1 = 0, n0 >= 16, x and the float64 acc in the tensor heap) the block's
 * rows go to Wasm in one call.
 */
function sumBlock(x: TypedArray, p: number, acc: TypedArray, o: number, o2: number, o1: number, o0: number, n2: number, n1: number, n0: number,
  rows: ElementwiseExports | null): number {
  for (let i2 = 0; i2 < n2; i2++, o += o2) {
    if (rows !== null) {
      // The column sums of an n1 x n0 block (every row into the same run of acc) in one call.
      const add = x instanceof Float32Array ? rows.addRowsF32 : rows.addRowsF64;
      add(x.byteOffset + p * x.BYTES_PER_ELEMENT, n1, n0, acc.byteOffset + o * 8);
      wasmRowBlocks++;
      p += n1 * n0;
      continue;
    }
    for (let i1 = 0, q = o; i1 < n1; i1++, q += o1) {
      if (o0 === 0) {
        acc[q] += sumRun(x, p, n0);
        p += n0;
      } else {
        for (let i0 = 0, u = q; i0 < n0; i0++, u += o0) acc[u] += x[p++];
      }
    }
  }
  return p;
}

/** Runs and row blocks of max reductions done in Wasm (maxRun*, maxRows*) so far: which path ran, for tests. */
let wasmMaxes = 0;
export function wasmMaxCalls(): number {
  return wasmMaxes;
}

/**
 * acc[o + i·(o2, o1, o0)] = max(acc[.], x[p++]) over an n2 x n1 x n0 block, v replacing the running value when v > it
 * or v is NaN (the last NaN wins; of equal values the first stays, so -0 then +0 gives -0); returns the next input
 * position. With `wasm` (reduceKernel gives it for runs of 32+ values, o0 = 0, and for rows into a run of 4+ kept
 * values, o0 = 1 and o1 = 0, x and acc in the heap) each n1 x n0 block is one call to assembly/movement.ts, which keeps this
 * rule and its bits.
 */
function maxBlock(x: TypedArray, p: number, acc: TypedArray, o: number, o2: number, o1: number, o0: number, n2: number, n1: number, n0: number,
  wasm: ElementwiseExports | null): number {
  const bytes = x.BYTES_PER_ELEMENT;
  for (let i2 = 0; i2 < n2; i2++, o += o2) {
    if (wasm !== null) {
      // o0 = 1: rows of n0 values, each into the same run of acc; o0 = 0: n1 runs of n0 values, into acc at steps of o1.
      const [rows, runs] = x instanceof Float32Array ? [wasm.maxRowsF32, wasm.maxRunsF32] : [wasm.maxRowsF64, wasm.maxRunsF64];
      if (o0 === 1) rows(x.byteOffset + p * bytes, n1, n0, acc.byteOffset + o * bytes);
      else runs(x.byteOffset + p * bytes, n1, n0, acc.byteOffset + o * bytes, o1);
      wasmMaxes++;
      p += n1 * n0;
      continue;
    }
    for (let i1 = 0, q = o; i1 < n1; i1++, q += o1) {
      if (o0 === 0) {
        let best = acc[q];
        for (let i0 = 0; i0 < n0; i0++) {
          const v = x[p++];
          if (v > best || v !== v) best = v;
        }
        acc[q] = best;
      } else {
        for (let i0 = 0, u = q; i0 < n0; i0++, u += o0) {
          const v = x[p++];
          if (v > acc[u] || v !== v) acc[u] = v;
        }
      }
    }
  }
  return p;
}
