// CPU matrix multiply: the Wasm SIMD kernels (float32 sgemm, float64 dgemm of src/linalg) and a blocked loop for small float64 products.

import type { TypedArray } from '../../core/dtype.js';
import { sgemm } from './wasm-gemm.js';
import { commonHeap, fillArray } from './wasm-heap.js';
import { dgemmArrays, linalgUsableSync } from '../../linalg/wasm.js';

/** Below this many multiply-adds the plain loop beats copying float64 operands into Wasm. */
const DGEMM_MIN_MACS = 4096;

/** Row-major copy of op(X) where X is [rows, cols] and op transposes it when `trans`. */
function materialize(x: TypedArray, rows: number, cols: number, trans: boolean): TypedArray {
  if (!trans) return x;
  const t = new (x.constructor as { new (n: number): TypedArray })(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

/** C[M,N] = op(A) op(B) with blocking over k and j for cache reuse. */
export function matmulBlocked(a: TypedArray, b: TypedArray, m: number, n: number, k: number, transA: boolean, transB: boolean, out: TypedArray): void {
  const A = transA ? materialize(a, k, m, true) : a; // now [m, k]
  const B = transB ? materialize(b, n, k, true) : b; // now [k, n]
  fillArray(out, 0);
  const KB = 128;
  const NB = 512;
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB);
    for (let p0 = 0; p0 < k; p0 += KB) {
      const p1 = Math.min(k, p0 + KB);
      for (let i = 0; i < m; i++) {
        const ci = i * n;
        for (let p = p0; p < p1; p++) {
          const av = A[i * k + p];
          if (av === 0) continue;
          const bp = p * n;
          for (let j = j0; j < j1; j++) out[ci + j] += av * B[bp + j];
        }
      }
    }
  }
}

/** out = op(a) op(b), every element written (out may hold old values: matmul is in OVERWRITES). */
export function matmulKernel(a: TypedArray, b: TypedArray, m: number, n: number, k: number, transA: boolean, transB: boolean, out: TypedArray): void {
  if (k === 0) {
    fillArray(out, 0); // an empty sum; the GEMMs are not asked to write it
    return;
  }
  if (out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array) {
    // Operands in the tensor heap: the GEMM bound to it reads and writes them in place.
    const g = commonHeap([out, a, b])?.gemm() ?? null;
    if (g !== null) {
      if (m > 0 && n > 0) g.sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, a.byteOffset, b.byteOffset, out.byteOffset, 0);
      return;
    }
    sgemm(a, b, m, n, k, transA, transB, out);
    return;
  }
  if (out instanceof Float64Array && a instanceof Float64Array && b instanceof Float64Array && m * n * k >= DGEMM_MIN_MACS && linalgUsableSync()) {
    dgemmArrays(a, b, m, n, k, transA, transB, out);
    return;
  }
  matmulBlocked(a, b, m, n, k, transA, transB, out);
}
