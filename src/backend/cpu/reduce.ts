// CPU reductions (sum, max) over any set of axes with loops specialised for reduced innermost axes and small windows; float32 sums accumulate in float64.

import type { TypedArray } from '../../core/dtype.js';
import { stridesOf } from '../../core/shape.js';
import { collapse, Outer } from './strided.js';

/** Strides into the reduced output for each input axis (0 on reduced axes). */
function reducedStrides(inShape: readonly number[], axes: readonly number[]): number[] {
  const outShape = inShape.filter((_, i) => !axes.includes(i));
  const so = stridesOf(outShape);
  let k = 0;
  return inShape.map((_, i) => (axes.includes(i) ? 0 : so[k++]));
}

/** Float64 accumulator for float32 sums, reused across calls (grown on demand). */
let scratch = new Float64Array(0);

export function reduceKernel(op: 'sum' | 'max', x: TypedArray, inShape: readonly number[], axes: readonly number[], out: TypedArray): void {
  const m = out.length;
  const wide = op === 'sum' && !(out instanceof Float64Array);
  if (wide && scratch.length < m) scratch = new Float64Array(Math.max(m, 2 * scratch.length));
  const acc: TypedArray = wide ? scratch : out;
  acc.fill(op === 'sum' ? 0 : -Infinity, 0, m);
  if (x.length > 0) {
    // The input is walked in memory order; the output strides are 0 along reduced axes.
    const c = collapse(inShape, [stridesOf(inShape), reducedStrides(inShape, axes)]);
    const r = c.shape.length;
    const so = c.strides[1];
    const n2 = c.shape[r - 3], n1 = c.shape[r - 2], n0 = c.shape[r - 1];
    const o2 = so[r - 3], o1 = so[r - 2], o0 = so[r - 1];
    const it = new Outer(c.shape, c.strides);
    let p = 0;
    for (let t = 0; t < it.count; t++) {
      const o = it.offsets[1];
      if (op === 'sum') p = sumBlock(x, p, acc, o, o2, o1, o0, n2, n1, n0);
      else p = maxBlock(x, p, acc, o, o2, o1, o0, n2, n1, n0);
      it.next();
    }
  }
  if (wide) for (let i = 0; i < m; i++) out[i] = acc[i];
}

/** acc[o + i·(o2, o1, o0)] += x[p++] over an n2 x n1 x n0 block; returns the next input position. */
function sumBlock(x: TypedArray, p: number, acc: TypedArray, o: number, o2: number, o1: number, o0: number, n2: number, n1: number, n0: number): number {
  for (let i2 = 0; i2 < n2; i2++, o += o2) {
    for (let i1 = 0, q = o; i1 < n1; i1++, q += o1) {
      if (o0 === 0) {
        let s = 0;
        for (let i0 = 0; i0 < n0; i0++) s += x[p++];
        acc[q] += s;
      } else {
        for (let i0 = 0, u = q; i0 < n0; i0++, u += o0) acc[u] += x[p++];
      }
    }
  }
  return p;
}

/** acc[o + i·(o2, o1, o0)] = max(acc[.], x[p++]) (NaN wins) over an n2 x n1 x n0 block; returns the next input position. */
function maxBlock(x: TypedArray, p: number, acc: TypedArray, o: number, o2: number, o1: number, o0: number, n2: number, n1: number, n0: number): number {
  for (let i2 = 0; i2 < n2; i2++, o += o2) {
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
