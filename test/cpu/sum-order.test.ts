// Contiguous sums on the CPU (reduce.ts's sumRun, assembly/dot.ts's sumF32/sumF64, and column sums by addRows*): Wasm on the heap and the JS loop give the same bits for every length, offset and dtype, equal to the documented order written out here; reductions, means and batch-norm statistics use it.
import { describe, expect, it } from 'vitest';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import { dotArrays } from '../../src/backend/cpu/dot.js';
import { reduceKernel, sumRun, wasmColumnSumBlocks } from '../../src/backend/cpu/reduce.js';
import { withBackend } from '../../src/backend/registry.js';
import { tensor } from '../../src/core/creation.js';
import { sum } from '../../src/core/ops.js';
import { mean } from '../../src/ops/reductions.js';
import { Random } from '../../src/util/random.js';

const heapBe = new CpuBackend({ heap: true });
const plainBe = new CpuBackend({ heap: false });

/** The order of sumRun written out plainly: partial sums by offset mod 8, combined pairwise, then the tail in order. */
function reference(x: ArrayLike<number>, p: number, n: number): number {
  const whole = n - (n % 8);
  const part = new Float64Array(8);
  for (let i = 0; i < whole; i++) part[i % 8] += x[p + i]!;
  let s = (part[0]! + part[1]! + (part[2]! + part[3]!)) + (part[4]! + part[5]! + (part[6]! + part[7]!));
  for (let i = whole; i < n; i++) s += x[p + i]!;
  return s;
}

const data = (be: CpuBackend, v: number[], dtype: 'float32' | 'float64') => (tensor(v, [v.length], { dtype, backend: be }).buffer as CpuBuffer).data;

describe('contiguous sums', () => {
  it('heap (Wasm) and plain arrays (JS) give the documented order\'s bits, float32 and float64, lengths 0 to 100003, at offsets', () => {
    const rng = new Random(5);
    let wasm = 0;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [0, 1, 7, 8, 9, 31, 32, 33, 39, 40, 41, 1000, 100_003]) {
        // Values over 12 orders of magnitude, so the order shows in the last bits.
        const v = Array.from({ length: n + 5 }, (_, i) => (rng.uniform() * 2 - 1) * (i % 7 === 0 ? 1e6 : i % 3 === 0 ? 1e-6 : 1));
        const h = data(heapBe, v, dtype), pl = data(plainBe, v, dtype);
        if (n >= 32 && heapBe.heap()!.owns(h)) wasm++;
        for (const p of [0, 3, 5]) {
          const want = reference(pl, p, n);
          expect(Object.is(sumRun(h, p, n), want), `${dtype} n=${n} at ${p}: heap`).toBe(true);
          expect(Object.is(sumRun(pl, p, n), want), `${dtype} n=${n} at ${p}: plain`).toBe(true);
          // And it is the sum: against the index-order float64 sum.
          let plain = 0;
          for (let i = 0; i < n; i++) plain += pl[p + i]!;
          expect(Math.abs(want - plain)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(plain)));
        }
      }
    }
    expect(wasm).toBe(2 * 7); // the lengths from 32 up ran the Wasm kernel
  });

  it('whole-tensor and row reductions, and means, follow it on both backends', async () => {
    const rng = new Random(6);
    // ±1e8 in lane 0 (offsets 0 and 5600) with values around 1e-9 everywhere else: one sequential chain loses every
    // small value added while its partial sum is near 1e8, the eight lanes keep those of lanes 1-7 (checked below).
    const v = Array.from({ length: 6 * 1001 }, (_, i) => (i === 0 ? 1e8 : i === 5600 ? -1e8 : 1e-9 * (1 + (i % 5)) * (rng.uniform() + 0.5)));
    {
      const xs = Float32Array.from(v);
      let seq = 0;
      for (const x of xs) seq += x;
      expect(Object.is(Math.fround(seq), Math.fround(reference(xs, 0, xs.length)))).toBe(false);
    }
    for (const be of [heapBe, plainBe]) {
      await withBackend(be, async () => {
        const x = tensor(v, [6, 1001]);
        const xs = (x.buffer as CpuBuffer).data;
        // One float32 rounding of the float64 sum in this order.
        expect(Object.is(sum(x).dataSync()[0], Math.fround(reference(xs, 0, 6 * 1001)))).toBe(true);
        const rows = sum(x, [1]).dataSync();
        for (let r = 0; r < 6; r++) expect(Object.is(rows[r], Math.fround(reference(xs, r * 1001, 1001)))).toBe(true);
        expect(Object.is(mean(x).dataSync()[0], Math.fround(Math.fround(reference(xs, 0, 6 * 1001)) / 6006))).toBe(true);
        const out = new Float32Array(1);
        reduceKernel('sum', xs, [6, 1001], [0, 1], out);
        expect(Object.is(out[0], Math.fround(reference(xs, 0, 6006)))).toBe(true);
      });
    }
  });

  it('sums over leading axes with the innermost kept (bias gradients) add row by row: heap (Wasm addRows) and plain arrays give the same bits', async () => {
    const rng = new Random(8);
    const cases: Array<{ shape: number[]; axes: number[] }> = [
      { shape: [128, 784], axes: [0] }, // an MLP bias gradient
      { shape: [9, 17], axes: [0] }, // 17 columns: four f64x2 steps of 4 and a tail of 1
      { shape: [3, 5, 40], axes: [0, 1] }, // two leading axes merged into the rows
      { shape: [2, 50, 33], axes: [1] }, // a kept outer axis: one call per outer index, each at its own output run
      { shape: [40, 15], axes: [0] }, // 15 columns: below the Wasm path's 16, the JS loop
    ];
    for (const { shape, axes } of cases) {
      for (const dtype of ['float32', 'float64'] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const v = Array.from({ length: n }, (_, i) => (rng.uniform() * 2 - 1) * (i % 7 === 0 ? 1e6 : i % 3 === 0 ? 1e-6 : 1));
        const h = data(heapBe, v, dtype), pl = data(plainBe, v, dtype);
        // The float64 loop in index order: every output adds its inputs in increasing index, one rounding at the end.
        const cols = shape[shape.length - 1]!, outer = axes.includes(0) ? 1 : shape[0]!, rows = n / cols / outer;
        const want = new Float64Array(outer * cols);
        for (let a = 0; a < outer; a++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) want[a * cols + c] += pl[(a * rows + r) * cols + c]!;
        const got = { heap: dtype === 'float32' ? new Float32Array(want.length) : new Float64Array(want.length), plain: dtype === 'float32' ? new Float32Array(want.length) : new Float64Array(want.length) };
        reduceKernel('sum', h, shape, axes, got.heap);
        reduceKernel('sum', pl, shape, axes, got.plain);
        const label = `${dtype} ${JSON.stringify(shape)} over ${axes}`;
        expect(heapBe.heap()!.owns(h), label).toBe(true);
        for (let i = 0; i < want.length; i++) {
          const w = dtype === 'float32' ? Math.fround(want[i]!) : want[i]!;
          if (!Object.is(got.heap[i], w) || !Object.is(got.plain[i], w)) expect.fail(`${label}: output ${i} heap ${got.heap[i]} plain ${got.plain[i]}, want ${w}`);
        }
      }
    }
    // The heap path is the Wasm one: one addRows call per block of rows into one run, none below 16 columns.
    const before = wasmColumnSumBlocks();
    const h = data(heapBe, Array.from({ length: 2 * 50 * 33 }, (_, i) => i % 13), 'float32');
    reduceKernel('sum', h, [2, 50, 33], [1], new Float32Array(66));
    expect(wasmColumnSumBlocks() - before).toBe(2);
    reduceKernel('sum', h, [206, 16], [0], new Float32Array(16)); // 16 columns: the smallest the Wasm path takes
    expect(wasmColumnSumBlocks() - before).toBe(3);
    reduceKernel('sum', h, [220, 15], [0], new Float32Array(15));
    reduceKernel('sum', data(plainBe, Array.from({ length: 2 * 50 * 33 }, (_, i) => i % 13), 'float32'), [2, 50, 33], [1], new Float32Array(66));
    expect(wasmColumnSumBlocks() - before).toBe(3);
  });

  it('dot products refuse arrays of different lengths', () => {
    expect(() => dotArrays(new Float32Array(3), new Float32Array(2))).toThrow('dot: arrays of 3 and 2 elements');
  });

  it('max along a strided axis propagates NaN, and the first of equal maxima (-0 before +0) wins, on both paths', () => {
    for (const [shape, axes] of [[[3, 2], [0]], [[2, 3], [1]]] as const) {
      // Column maxima of [[1, NaN], [2, 3], [-1, 0]] (axis 0, strided) and the same values as rows (axis 1, contiguous).
      const cols = [1, NaN, 2, 3, -1, 0];
      const x = shape[0] === 3 ? Float32Array.from(cols) : Float32Array.from([1, 2, -1, NaN, 3, 0]);
      const out = new Float32Array(2);
      reduceKernel('max', x, shape, axes, out);
      expect(out[0]).toBe(2);
      expect(Number.isNaN(out[1])).toBe(true);
    }
    for (const [shape, axes, data] of [[[2, 1], [0], [-0, 0]], [[1, 2], [1], [-0, 0]], [[2, 1], [0], [0, -0]], [[1, 2], [1], [0, -0]]] as const) {
      const out = new Float32Array(1);
      reduceKernel('max', Float32Array.from(data), shape, axes, out);
      expect(Object.is(out[0], data[0]), `${JSON.stringify(data)} along ${axes}`).toBe(true);
    }
  });
});
