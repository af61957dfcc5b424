// The max-pool kernels' argmax: gather and scatter refuse values that are not in-image window positions (negative, fractional, past the window, in the padding, past the image edge) on the general path and on the 2x2 path (JS and Wasm), naming the value and the output; an all -Infinity window picks its first in-image position.
import { describe, expect, it } from 'vitest';
import { maxPool2dArgmaxKernel, maxPool2dGatherKernel, maxPool2dScatterKernel } from '../../src/backend/cpu/pool.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';

/** x is 1x1x5x5; a 3x3 window, stride 2, padding 1: a 3x3 output whose corner windows reach into the padding. */
const P3 = { kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1] as [number, number] };
const xShape = [1, 1, 5, 5], yShape = [1, 1, 3, 3];
const x = Float64Array.from({ length: 25 }, (_, i) => i);
// In-image argmax for every output: the window's centre (offset 4) is inside the image for all nine.
const valid = (): Float64Array => new Float64Array(9).fill(4);

const gather = (arg: Float64Array): Float64Array => {
  const out = new Float64Array(9);
  maxPool2dGatherKernel(x, xShape, arg, P3, out, yShape);
  return out;
};
const scatter = (arg: Float64Array): Float64Array => {
  const out = new Float64Array(25);
  maxPool2dScatterKernel(Float64Array.from({ length: 9 }, (_, i) => i + 1), arg, P3, out, xShape, yShape);
  return out;
};

describe('max-pool argmax checks, general windows', () => {
  it('reads the centres of the windows when every argmax is valid', () => {
    // Output (i, j) has its window centre at input (2i, 2j).
    expect(Array.from(gather(valid()))).toEqual([0, 2, 4, 10, 12, 14, 20, 22, 24]);
    const s = scatter(valid());
    expect([s[0], s[2], s[4], s[10], s[12], s[24]]).toEqual([1, 2, 3, 4, 5, 9]);
    expect(s.reduce((a, b) => a + b, 0)).toBe(45);
  });

  // [output, argmax, why]
  const bad: [number, number, string][] = [
    [4, -1, 'negative'],
    [4, 1.5, 'not an integer'],
    [4, 9, 'past the 3x3 window (row 3)'],
    [0, 0, 'the padding row above output (0, 0)'],
    [0, 3, 'the padding column left of output (0, 0)'],
    [8, 8, 'the padding row below output (2, 2): row 5 of 5'],
    [8, 5, 'the padding column right of output (2, 2): column 5 of 5'],
  ];
  for (const [o, r, why] of bad) {
    it(`refuses argmax ${r} at output ${o}: ${why}`, () => {
      const arg = valid();
      arg[o] = r;
      const msg = (op: string) => `${op}: argmax ${r} at output ${o} is not an in-image position of a 3x3 window`;
      expect(() => gather(arg)).toThrow(msg('maxPool2dGather'));
      expect(() => scatter(arg)).toThrow(msg('maxPool2dScatter'));
    });
  }
  it('accepts the in-image positions next to each edge', () => {
    const arg = valid();
    arg[0] = 8; // output (0, 0): input (1, 1)
    arg[8] = 0; // output (2, 2): input (3, 3)
    arg[2] = 7; // output (0, 2): input (1, 4), the last column
    arg[6] = 5; // output (2, 0): input (4, 1)
    expect(Array.from(gather(arg))).toEqual([6, 2, 9, 10, 12, 14, 21, 22, 18]);
  });
});

describe('max-pool argmax checks, 2x2 windows', () => {
  const P2 = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [0, 0] as [number, number] };
  const x2Shape = [1, 2, 2, 4], y2Shape = [1, 2, 1, 2];
  for (const where of ['JS (float64)', 'Wasm (float32 in the heap)'] as const) {
    const make = (n: number, fill: (i: number) => number) => {
      if (where === 'JS (float64)') return Float64Array.from({ length: n }, (_, i) => fill(i));
      const a = cpuHeap()!.alloc('float32', n, 'error', 'test')!;
      for (let i = 0; i < n; i++) a[i] = fill(i);
      return a;
    };
    it(`${where}: gathers the chosen offsets, and refuses 4, -1 and 0.5 naming the output`, () => {
      const xv = make(16, (i) => i);
      const arg = make(4, (i) => [3, 0, 1, 2][i]);
      const out = make(4, () => 0);
      maxPool2dGatherKernel(xv, x2Shape, arg, P2, out, y2Shape);
      // Plane 0 rows [0..3], [4..7]; plane 1 rows [8..11], [12..15]: offsets 3, 0, 1, 2.
      expect(Array.from(out)).toEqual([5, 2, 9, 14]);
      for (const [o, r] of [[2, 4], [2, -1], [2, 0.5], [0, 7]] as const) {
        const keep = arg[o];
        arg[o] = r;
        const msg = (op: string) => `${op}: argmax ${r} at output ${o} is not an offset of a 2x2 window`;
        expect(() => maxPool2dGatherKernel(xv, x2Shape, arg, P2, out, y2Shape)).toThrow(msg('maxPool2dGather'));
        expect(() => maxPool2dScatterKernel(out, arg, P2, xv, x2Shape, y2Shape)).toThrow(msg('maxPool2dScatter'));
        arg[o] = keep;
      }
    });
  }
});

describe('max-pool argmax of windows without a number above -Infinity', () => {
  it('picks the first in-image position of each window, never the padding', () => {
    const allInf = new Float64Array(25).fill(-Infinity);
    const arg = new Float64Array(9);
    maxPool2dArgmaxKernel(allInf, xShape, P3, arg, yShape);
    // Windows start at (2i - 1, 2j - 1): the first in-image offset is (1, 1) -> 4 at the top-left corner, (1, 0) -> 3
    // along the top edge, (0, 1) -> 1 along the left edge, and 0 inside.
    expect(Array.from(arg)).toEqual([4, 3, 3, 1, 0, 0, 1, 0, 0]);
    // Those positions of the 5x5 image x (x[i] = i): (0,0), (0,1), (0,3), (1,0), (1,1), (1,3), (3,0), (3,1), (3,3).
    expect(Array.from(gather(arg))).toEqual([0, 1, 3, 5, 6, 8, 15, 16, 18]);
  });
});
