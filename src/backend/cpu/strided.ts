// Index arithmetic for CPU kernels: broadcast strides and an odometer over an output shape.

import { stridesOf } from '../../core/shape.js';

/** Strides of `inShape` read as a broadcast into `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((_, i) => (i < lead || inShape[i - lead] === 1 ? 0 : s[i - lead]));
}

/**
 * Calls `row(offsets, count)` for every innermost row of `outShape`, where offsets[k] is the
 * starting element of input k in that row (and offsets[last] the output's), and the innermost
 * strides are the last entries of `strides[k]`.
 */
export function forEachRow(outShape: readonly number[], strides: number[][], row: (offsets: Int32Array) => void): void {
  const rank = outShape.length;
  const k = strides.length;
  const offsets = new Int32Array(k);
  if (rank <= 1) {
    row(offsets);
    return;
  }
  let total = 1;
  for (let i = 0; i < rank - 1; i++) total *= outShape[i];
  if (total === 0) return;
  const idx = new Int32Array(rank - 1);
  for (let r = 0; r < total; r++) {
    row(offsets);
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      for (let j = 0; j < k; j++) offsets[j] += strides[j][ax];
      if (idx[ax] < outShape[ax]) break;
      for (let j = 0; j < k; j++) offsets[j] -= strides[j][ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
}
