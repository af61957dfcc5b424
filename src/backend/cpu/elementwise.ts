// CPU elementwise kernels: unary maps, broadcasting binary ops, comparisons and select.

import type { TypedArray } from '../../core/dtype.js';
import type { BinaryPrim, CompareOp, UnaryPrim } from '../../core/primitives.js';
import { shapesEqual, stridesOf } from '../../core/shape.js';
import { broadcastStrides, forEachRow } from './strided.js';

export function unaryKernel(op: UnaryPrim, x: TypedArray, out: TypedArray): void {
  const n = out.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; break;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); break;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); break;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); break;
  }
}

type Combine = BinaryPrim | CompareOp;

function combineRow(op: Combine, a: TypedArray, oa: number, sa: number, b: TypedArray, ob: number, sb: number, out: TypedArray, o: number, n: number): void {
  switch (op) {
    case 'add': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] + b[ob + j * sb]; break;
    case 'sub': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] - b[ob + j * sb]; break;
    case 'mul': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] * b[ob + j * sb]; break;
    case 'div': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] / b[ob + j * sb]; break;
    case 'gt': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] > b[ob + j * sb] ? 1 : 0; break;
    case 'ge': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] >= b[ob + j * sb] ? 1 : 0; break;
    case 'lt': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] < b[ob + j * sb] ? 1 : 0; break;
    case 'le': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] <= b[ob + j * sb] ? 1 : 0; break;
    case 'eq': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] === b[ob + j * sb] ? 1 : 0; break;
    case 'ne': for (let j = 0; j < n; j++) out[o + j] = a[oa + j * sa] !== b[ob + j * sb] ? 1 : 0; break;
  }
}

/** out = a (op) b with NumPy broadcasting of aShape and bShape into outShape. */
export function binaryKernel(
  op: Combine,
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  const n = out.length;
  if (n === 0) return;
  if (shapesEqual(aShape, outShape) && shapesEqual(bShape, outShape)) {
    combineRow(op, a, 0, 1, b, 0, 1, out, 0, n);
    return;
  }
  if (outShape.length === 0) {
    combineRow(op, a, 0, 0, b, 0, 0, out, 0, 1);
    return;
  }
  // Tensor (op) scalar and scalar (op) tensor: one flat loop.
  if (b.length === 1 && a.length === n) {
    combineRow(op, a, 0, 1, b, 0, 0, out, 0, n);
    return;
  }
  if (a.length === 1 && b.length === n) {
    combineRow(op, a, 0, 0, b, 0, 1, out, 0, n);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const so = stridesOf(outShape);
  const inner = outShape[outShape.length - 1];
  const ia = sa[sa.length - 1];
  const ib = sb[sb.length - 1];
  forEachRow(outShape, [sa, sb, so], (off) => combineRow(op, a, off[0], ia, b, off[1], ib, out, off[2], inner));
}

/** out = c != 0 ? a : b, broadcasting all three. */
export function whereKernel(
  c: TypedArray, cShape: readonly number[],
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  if (out.length === 0) return;
  if (outShape.length === 0) {
    out[0] = c[0] !== 0 ? a[0] : b[0];
    return;
  }
  const sc = broadcastStrides(cShape, outShape);
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const so = stridesOf(outShape);
  const r = outShape.length - 1;
  const inner = outShape[r];
  const [ic, ia, ib] = [sc[r], sa[r], sb[r]];
  forEachRow(outShape, [sc, sa, sb, so], (off) => {
    const [oc, oa, ob, oo] = [off[0], off[1], off[2], off[3]];
    for (let j = 0; j < inner; j++) out[oo + j] = c[oc + j * ic] !== 0 ? a[oa + j * ia] : b[ob + j * ib];
  });
}

/** Materialises a broadcast (or any strided view) into contiguous `out`. */
export function stridedCopy(x: TypedArray, strides: number[], out: TypedArray, outShape: readonly number[]): void {
  if (out.length === 0) return;
  if (outShape.length === 0) {
    out[0] = x[0];
    return;
  }
  const so = stridesOf(outShape);
  const r = outShape.length - 1;
  const inner = outShape[r];
  const ix = strides[r];
  forEachRow(outShape, [strides, so], (off) => {
    const ox = off[0];
    const oo = off[1];
    for (let j = 0; j < inner; j++) out[oo + j] = x[ox + j * ix];
  });
}
