// CPU reductions (sum, max) over any set of axes; float32 sums accumulate in float64.

import type { TypedArray } from '../../core/dtype.js';
import { stridesOf } from '../../core/shape.js';
import { forEachRow } from './strided.js';

/** Strides into the reduced output for each input axis (0 on reduced axes). */
function reducedStrides(inShape: readonly number[], axes: readonly number[]): number[] {
  const outShape = inShape.filter((_, i) => !axes.includes(i));
  const so = stridesOf(outShape);
  let k = 0;
  return inShape.map((_, i) => (axes.includes(i) ? 0 : so[k++]));
}

export function reduceKernel(op: 'sum' | 'max', x: TypedArray, inShape: readonly number[], axes: readonly number[], out: TypedArray): void {
  const acc = op === 'sum' ? new Float64Array(out.length) : new Float64Array(out.length).fill(-Infinity);
  if (x.length > 0) {
    if (inShape.length === 0) {
      acc[0] = x[0];
    } else {
      const sOut = reducedStrides(inShape, axes);
      const sIn = stridesOf(inShape);
      const r = inShape.length - 1;
      const inner = inShape[r];
      const io = sOut[r];
      forEachRow(inShape, [sIn, sOut], (off) => {
        const ox = off[0];
        const oo = off[1];
        if (op === 'sum') {
          if (io === 0) {
            let s = 0;
            for (let j = 0; j < inner; j++) s += x[ox + j];
            acc[oo] += s;
          } else {
            for (let j = 0; j < inner; j++) acc[oo + j] += x[ox + j];
          }
        } else {
          for (let j = 0; j < inner; j++) {
            const v = x[ox + j];
            const o = oo + j * io;
            if (v > acc[o] || v !== v) acc[o] = v;
          }
        }
      });
    }
  }
  out.set(acc);
}
