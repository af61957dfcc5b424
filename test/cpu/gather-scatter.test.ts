// The CPU gather and scatter-add kernels against plain index loops written out here (from the CPU-kernel mutation run: no CPU suite reached them), on any axis, with repeated indices.
import { describe, expect, it } from 'vitest';
import { gatherKernel, scatterAddKernel } from '../../src/backend/cpu/movement.js';

/** x [outer, len, inner] as nested loops: out[o, i, j] = x[o, idx[i], j]. */
function gatherRef(x: Float64Array, shape: number[], idx: number[], axis: number): Float64Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1), len = shape[axis]!, inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(outer * idx.length * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < idx.length; i++) for (let j = 0; j < inner; j++) out[(o * idx.length + i) * inner + j] = x[(o * len + idx[i]!) * inner + j]!;
  return out;
}

/** out [outer, size, inner] = Σ over i with idx[i] = k of y[o, i, j]. */
function scatterRef(y: Float64Array, shape: number[], idx: number[], axis: number, size: number): Float64Array {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1), m = shape[axis]!, inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(outer * size * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < m; i++) for (let j = 0; j < inner; j++) out[(o * size + idx[i]!) * inner + j] += y[(o * m + i) * inner + j]!;
  return out;
}

const filled = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));

describe('gather and scatter-add kernels', () => {
  for (const [shape, axis] of [[[5, 4, 3], 1], [[6, 2], 0], [[2, 3, 7], 2], [[4], 0]] as [number[], number][]) {
    it(`shape [${shape}] along axis ${axis}, indices repeated and out of order`, () => {
      const len = shape[axis]!;
      const idx = [len - 1, 0, len - 1, Math.floor(len / 2), 0];
      const x = filled(shape.reduce((a, b) => a * b, 1), 1);
      const outShape = shape.map((d, i) => (i === axis ? idx.length : d));
      const g = new Float64Array(outShape.reduce((a, b) => a * b, 1)).fill(NaN);
      gatherKernel(x, shape, Int32Array.from(idx), axis, g);
      expect(Array.from(g)).toEqual(Array.from(gatherRef(x, shape, idx, axis)));
      const y = filled(g.length, 2);
      const s = new Float64Array(x.length).fill(NaN);
      scatterAddKernel(y, outShape, Int32Array.from(idx), axis, len, s);
      expect(Array.from(s)).toEqual(Array.from(scatterRef(y, outShape, idx, axis, len)));
    });
  }
});
