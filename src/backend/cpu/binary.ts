// CPU binary elementwise ops and comparisons with NumPy broadcasting: specialised loops per op for same-shape, scalar and strided (row/column/window) operands.

import type { TypedArray } from '../../core/dtype.js';
import type { BinaryPrim, CompareOp } from '../../core/primitives.js';
import { stridesOf } from '../../core/shape.js';
import { broadcastStrides, collapse, Outer } from './strided.js';
import { binaryRun, residentKernels, SAME, SCALAR_A, SCALAR_B, wasmBinary } from './wasm-elementwise.js';

export type Combine = BinaryPrim | CompareOp;

/** out = a (op) b with NumPy broadcasting of aShape and bShape into outShape (comparisons give 1 or 0, computed as +(a > b): no branch to mispredict). */
export function binaryKernel(
  op: Combine,
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  const n = out.length;
  if (n === 0) return;
  if (wasmBinary(op, a, b, out)) return;
  // An operand with as many elements as the output broadcasts along size-1 axes only: same layout.
  const aFull = a.length === n;
  const bFull = b.length === n;
  if (aFull && bFull) return sameShape(op, a, b, out, n);
  if (aFull && b.length === 1) return scalarRight(op, a, b[0], out, n);
  if (bFull && a.length === 1) return scalarLeft(op, a[0], b, out, n);
  const c = collapse(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape), stridesOf(outShape)]);
  const r = c.shape.length;
  const [sa, sb] = c.strides;
  const n2 = c.shape[r - 3], n1 = c.shape[r - 2], n0 = c.shape[r - 1];
  const inner = n2 * n1 * n0;
  const it = new Outer(c.shape, c.strides);
  // Rows of 16+ whose operands are runs or scalars (bias rows, per-channel scales) go to Wasm one row per call.
  const a0 = sa[r - 1], b0 = sb[r - 1];
  const k = n0 >= 16 && (a0 === 1 || b0 === 1) && a0 <= 1 && b0 <= 1 ? residentKernels([a, b, out]) : null;
  if (k !== null) {
    const mode = a0 === 1 && b0 === 1 ? SAME : a0 === 1 ? SCALAR_B : SCALAR_A;
    for (let t = 0, o = 0; t < it.count; t++) {
      let pa = it.offsets[0], pb = it.offsets[1];
      for (let i2 = 0; i2 < n2; i2++, pa += sa[r - 3], pb += sb[r - 3]) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += sa[r - 2], qb += sb[r - 2], o += n0) binaryRun(k, op, mode, a, qa, b, qb, out, o, n0);
      }
      it.next();
    }
    return;
  }
  for (let k = 0, o = 0; k < it.count; k++, o += inner) {
    block(op, a, it.offsets[0], sa[r - 3], sa[r - 2], sa[r - 1], b, it.offsets[1], sb[r - 3], sb[r - 2], sb[r - 1], out, o, n2, n1, n0);
    it.next();
  }
}

/** out[i] = a[i] (op) b[i]: operands of the output's shape. */
function sameShape(op: Combine, a: TypedArray, b: TypedArray, out: TypedArray, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return;
    case 'gt': for (let i = 0; i < n; i++) out[i] = +(a[i] > b[i]); return;
    case 'ge': for (let i = 0; i < n; i++) out[i] = +(a[i] >= b[i]); return;
    case 'lt': for (let i = 0; i < n; i++) out[i] = +(a[i] < b[i]); return;
    case 'le': for (let i = 0; i < n; i++) out[i] = +(a[i] <= b[i]); return;
    case 'eq': for (let i = 0; i < n; i++) out[i] = +(a[i] === b[i]); return;
    case 'ne': for (let i = 0; i < n; i++) out[i] = +(a[i] !== b[i]); return;
  }
}

/** out[i] = a[i] (op) s. */
function scalarRight(op: Combine, a: TypedArray, s: number, out: TypedArray, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + s; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - s; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * s; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / s; return;
    case 'gt': for (let i = 0; i < n; i++) out[i] = +(a[i] > s); return;
    case 'ge': for (let i = 0; i < n; i++) out[i] = +(a[i] >= s); return;
    case 'lt': for (let i = 0; i < n; i++) out[i] = +(a[i] < s); return;
    case 'le': for (let i = 0; i < n; i++) out[i] = +(a[i] <= s); return;
    case 'eq': for (let i = 0; i < n; i++) out[i] = +(a[i] === s); return;
    case 'ne': for (let i = 0; i < n; i++) out[i] = +(a[i] !== s); return;
  }
}

/** out[i] = s (op) b[i]. */
function scalarLeft(op: Combine, s: number, b: TypedArray, out: TypedArray, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = s + b[i]; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = s - b[i]; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = s * b[i]; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = s / b[i]; return;
    case 'gt': for (let i = 0; i < n; i++) out[i] = +(s > b[i]); return;
    case 'ge': for (let i = 0; i < n; i++) out[i] = +(s >= b[i]); return;
    case 'lt': for (let i = 0; i < n; i++) out[i] = +(s < b[i]); return;
    case 'le': for (let i = 0; i < n; i++) out[i] = +(s <= b[i]); return;
    case 'eq': for (let i = 0; i < n; i++) out[i] = +(s === b[i]); return;
    case 'ne': for (let i = 0; i < n; i++) out[i] = +(s !== b[i]); return;
  }
}

/**
 * Three nested loops (n2 x n1 x n0) of out[o++] = a[.] (op) b[.], each operand stepping by its own
 * strides; row and column broadcasts and small windows (n0 = 2) run here without a call per row.
 */
function block(
  op: Combine,
  a: TypedArray, pa: number, a2: number, a1: number, a0: number,
  b: TypedArray, pb: number, b2: number, b1: number, b0: number,
  out: TypedArray, o: number, n2: number, n1: number, n0: number,
): void {
  switch (op) {
    case 'add':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = a[ra] + b[rb];
        }
      }
      return;
    case 'sub':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = a[ra] - b[rb];
        }
      }
      return;
    case 'mul':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = a[ra] * b[rb];
        }
      }
      return;
    case 'div':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = a[ra] / b[rb];
        }
      }
      return;
    case 'gt':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = +(a[ra] > b[rb]);
        }
      }
      return;
    case 'ge':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = +(a[ra] >= b[rb]);
        }
      }
      return;
    case 'lt':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = +(a[ra] < b[rb]);
        }
      }
      return;
    case 'le':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = +(a[ra] <= b[rb]);
        }
      }
      return;
    case 'eq':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = +(a[ra] === b[rb]);
        }
      }
      return;
    case 'ne':
      for (let i2 = 0; i2 < n2; i2++, pa += a2, pb += b2) {
        for (let i1 = 0, qa = pa, qb = pb; i1 < n1; i1++, qa += a1, qb += b1) {
          for (let i0 = 0, ra = qa, rb = qb; i0 < n0; i0++, ra += a0, rb += b0) out[o++] = +(a[ra] !== b[rb]);
        }
      }
      return;
  }
}
