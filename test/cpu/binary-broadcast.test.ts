// Binary kernels on heap arrays whose broadcast leaves rows of 16+ for the Wasm row path, with one or both operands constant along the rows, against plain loops (from the CPU-kernel mutation run: the row path's choice of modes was unchecked).
import { afterAll, describe, expect, it } from 'vitest';
import type { TypedArray } from '../../src/core/dtype.js';
import { binaryKernel, type Combine } from '../../src/backend/cpu/binary.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';

const heap = cpuHeap()!;
const live: TypedArray[] = [];
afterAll(() => live.forEach((a) => heap.free(a)));
const arr = (n: number, seed: number): TypedArray => {
  const a = heap.alloc('float64', n, 'error', 'binary-broadcast test')!;
  live.push(a);
  for (let i = 0; i < n; i++) a[i] = Math.round(Math.sin(seed + i * 0.9) * 8) / 4;
  return a;
};
const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);

/** out[i, j] = a[i or 0, j or 0] op b[...] for 2-D shapes broadcast to [rows, cols]. */
function reference(op: Combine, a: TypedArray, as: number[], b: TypedArray, bs: number[], rows: number, cols: number): number[] {
  const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, div: (x: number, y: number) => x / y, gt: (x: number, y: number) => +(x > y) } as Record<string, (x: number, y: number) => number>;
  const at = (x: TypedArray, s: number[], i: number, j: number): number => x[(s[0] === 1 ? 0 : i) * s[1]! + (s[1] === 1 ? 0 : j)]!;
  const out: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out.push(f[op]!(at(a, as, i, j), at(b, bs, i, j)));
  return out;
}

describe('binary kernels with broadcast rows on the heap', () => {
  const rows = 5, cols = 20;
  const cases: [string, number[], number[]][] = [
    ['a rows, b a column', [rows, cols], [rows, 1]],
    ['a a column, b rows', [rows, 1], [rows, cols]],
    ['a a row, b a column', [1, cols], [rows, 1]],
    ['both columns', [rows, 1], [rows, 1]],
    ['a column, b a scalar', [rows, 1], [1, 1]],
    ['a row, b rows', [1, cols], [rows, cols]],
  ];
  for (const [name, as, bs] of cases) {
    it(name, () => {
      for (const op of ['add', 'sub', 'mul', 'div', 'gt'] as Combine[]) {
        const a = arr(size(as), 1), b = arr(size(bs), 2);
        const out = arr(rows * cols, 3);
        out.fill(NaN);
        binaryKernel(op, a, as, b, bs, out, [rows, cols]);
        expect(Array.from(out), op).toEqual(reference(op, a, as, b, bs, rows, cols));
      }
    });
  }
});
