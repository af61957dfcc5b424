// where with every broadcast of its condition and branches, and transposes with long runs on either side, against plain loops (from the CPU-kernel mutation run: the fast paths' shape tests were unchecked).
import { describe, expect, it } from 'vitest';
import { whereKernel } from '../../src/backend/cpu/elementwise.js';
import { transposeKernel } from '../../src/backend/cpu/movement.js';

const filled = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed + i * 0.7) * 5));

describe('where with broadcasts', () => {
  const n = 100;
  const shapes: [string, number[], number[], number[]][] = [
    ['all full', [n], [n], [n]],
    ['b scalar', [n], [n], [1]],
    ['a scalar', [n], [1], [n]],
    ['c scalar', [1], [n], [n]],
    ['c scalar, b scalar', [1], [n], [1]],
    ['a and b scalars', [n], [1], [1]],
  ];
  for (const [name, cs, as, bs] of shapes) {
    it(name, () => {
      const c = filled(cs[0]!, 1), a = filled(as[0]!, 2), b = filled(bs[0]!, 3);
      const out = new Float64Array(n).fill(NaN);
      whereKernel(c, cs, a, as, b, bs, out, [n]);
      const at = (x: Float64Array, i: number): number => x[x.length === 1 ? 0 : i]!;
      expect(Array.from(out)).toEqual(Array.from({ length: n }, (_, i) => (at(c, i) !== 0 ? at(a, i) : at(b, i))));
    });
  }
});

describe('transpose', () => {
  for (const [shape, perm] of [[[3, 80], [1, 0]], [[80, 3], [1, 0]], [[2, 70, 20], [0, 2, 1]], [[20, 2, 70], [1, 0, 2]], [[70, 1, 17], [2, 1, 0]]] as [number[], number[]][]) {
    it(`[${shape}] by [${perm}]`, () => {
      const size = shape.reduce((p, d) => p * d, 1);
      const x = Float64Array.from({ length: size }, (_, i) => i);
      const outShape = perm.map((p) => shape[p]!);
      const out = new Float64Array(size).fill(NaN);
      transposeKernel(x, shape, perm, out);
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
      const want = new Float64Array(size);
      for (let k = 0; k < size; k++) {
        let rem = k, src = 0;
        for (let d = outShape.length - 1; d >= 0; d--) {
          const idx = rem % outShape[d]!;
          rem = Math.floor(rem / outShape[d]!);
          src += idx * strides[perm[d]!]!;
        }
        want[k] = x[src]!;
      }
      expect(Array.from(out)).toEqual(Array.from(want));
    });
  }
});
