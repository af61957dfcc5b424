// Index arithmetic for CPU kernels: broadcast strides, axis collapsing, and an odometer over all but the innermost three axes.

import { stridesOf } from '../../core/shape.js';

/** Strides of `inShape` read as a broadcast into `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((_, i) => (i < lead || inShape[i - lead] === 1 ? 0 : s[i - lead]));
}

/** A loop nest equivalent to the original one: the shape and each operand's strides, outermost first. */
export interface Collapsed {
  shape: number[];
  strides: number[][];
}

/**
 * Rewrites a row-major walk over `shape` (operand k at strides[k]) as a walk over fewer axes that
 * visits the same elements in the same order: size-1 axes are dropped and neighbouring axes are
 * merged wherever every operand steps through them as one (stride[i] = stride[i+1] * shape[i+1]).
 * The result has at least 3 axes (leading 1s with stride 0 are added), so kernels can run their
 * innermost three axes as plain nested loops and walk the rest with an `Outer` odometer.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const k = strides.length;
  const rs: number[] = []; // collapsed shape, innermost first
  const rst: number[][] = strides.map(() => []);
  for (let i = shape.length - 1; i >= 0; i--) {
    const n = shape[i];
    if (n === 1) continue;
    const last = rs.length - 1;
    let merge = last >= 0;
    for (let j = 0; merge && j < k; j++) merge = strides[j][i] === rst[j][last] * rs[last];
    if (merge) {
      rs[last] *= n;
    } else {
      rs.push(n);
      for (let j = 0; j < k; j++) rst[j].push(strides[j][i]);
    }
  }
  while (rs.length < 3) {
    rs.push(1);
    for (let j = 0; j < k; j++) rst[j].push(0);
  }
  return { shape: rs.reverse(), strides: rst.map((s) => s.reverse()) };
}

/**
 * Odometer over the axes of a collapsed walk except the innermost three: `count` positions, and
 * after each `next()` the start offset of every operand in `offsets` (k-th operand at offsets[k]).
 */
export class Outer {
  readonly count: number;
  readonly offsets: Int32Array;
  private readonly idx: Int32Array;
  private readonly rank: number;

  constructor(
    private readonly shape: readonly number[],
    private readonly strides: readonly (readonly number[])[],
    base?: readonly number[],
  ) {
    this.rank = shape.length - 3;
    let c = 1;
    for (let i = 0; i < this.rank; i++) c *= shape[i];
    this.count = c;
    this.idx = new Int32Array(Math.max(this.rank, 0));
    this.offsets = new Int32Array(strides.length);
    if (base) for (let j = 0; j < base.length; j++) this.offsets[j] = base[j];
  }

  next(): void {
    const k = this.strides.length;
    for (let ax = this.rank - 1; ax >= 0; ax--) {
      this.idx[ax]++;
      for (let j = 0; j < k; j++) this.offsets[j] += this.strides[j][ax];
      if (this.idx[ax] < this.shape[ax]) return;
      for (let j = 0; j < k; j++) this.offsets[j] -= this.strides[j][ax] * this.shape[ax];
      this.idx[ax] = 0;
    }
  }
}
