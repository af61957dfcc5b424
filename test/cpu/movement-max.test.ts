// Strided copies (transpose, slice, pad, broadcast), gather, scatter-add and max reductions on heap tensors (assembly/movement.ts) against the plain-array backend's JS loops, bit for bit: every permutation, every remainder of the 4x4 (float64: 2x2) block transposes, runs with NaN, ±0 and ±Inf, both dtypes; counters say that Wasm ran.
import { describe, expect, it } from 'vitest';
import type { KernelCall } from '../../src/backend/backend.js';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import { wasmCopyBlocks } from '../../src/backend/cpu/elementwise.js';
import { wasmIndexedCalls } from '../../src/backend/cpu/movement.js';
import { wasmMaxCalls } from '../../src/backend/cpu/reduce.js';
import type { DType, TypedArray } from '../../src/core/dtype.js';
import type { Prim } from '../../src/core/primitives.js';
import { sizeOf } from '../../src/core/shape.js';
import { Random } from '../../src/util/random.js';

const heapBe = new CpuBackend({ heap: true });
const jsBe = new CpuBackend({ heap: false });
const heap = heapBe.heap()!;

/** Values uniform in [-4, 4], or with every `special`-th one of NaN, ±0, ±Inf. */
function values(n: number, seed: number, special = 0): number[] {
  const rng = new Random(seed);
  const specials = [NaN, 0, -0, Infinity, -Infinity];
  return Array.from({ length: n }, (_, i) => (special > 0 && i % special === special - 1 ? specials[(i + seed) % specials.length]! : rng.uniform() * 8 - 4));
}

function run(be: CpuBackend, prim: Prim, params: object, inShape: number[], outShape: number[], dtype: DType, data: number[]): TypedArray {
  const x = be.alloc(sizeOf(inShape), dtype) as CpuBuffer;
  x.data.set(data);
  const out = be.allocOutput(prim, sizeOf(outShape), dtype);
  // Poisoned: an element the kernel leaves unwritten shows up as a difference (the JS output is 0 or its own value).
  out.data.fill(12345);
  be.run({ prim, params, inputs: [{ shape: inShape, dtype }], output: { shape: outShape, dtype } } as KernelCall, [x], out);
  if (be === heapBe && out.data.length > 0) expect(heap.owns(out.data) && heap.owns(x.data)).toBe(true);
  const got = out.data.slice();
  be.free(x);
  be.free(out);
  return got;
}

/** The heap kernel and the JS loop give the same bits (NaN for NaN) for prim on both dtypes. */
function same(prim: Prim, params: object, inShape: number[], outShape: number[], data: number[]): void {
  for (const dtype of ['float32', 'float64'] as const) {
    const a = run(heapBe, prim, params, inShape, outShape, dtype, data);
    const b = run(jsBe, prim, params, inShape, outShape, dtype, data);
    const what = `${prim} ${JSON.stringify(params)} [${inShape}] ${dtype}`;
    expect(a.length, what).toBe(b.length);
    for (let i = 0; i < a.length; i++) {
      if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
      if (!Object.is(a[i], b[i])) throw new Error(`${what}: element ${i}: heap ${a[i]}, reference ${b[i]}`);
    }
  }
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

/** How many Wasm calls fn made (copies, gathers and scatters, max reductions together). */
function wasmCalls(fn: () => void): number {
  const count = (): number => wasmCopyBlocks() + wasmMaxCalls() + wasmIndexedCalls();
  const before = count();
  fn();
  return count() - before;
}

describe('strided copies on the heap equal the JS loops', () => {
  it('transpose: every permutation of ranks 2-4, every remainder of the block transposes', () => {
    const shapes = [[9, 13], [4, 4], [33, 6], [5, 9, 4], [7, 6, 11], [3, 4, 5, 6], [2, 7, 9, 3]];
    let calls = 0;
    for (const shape of shapes) {
      const data = values(sizeOf(shape), shape.length, 11);
      for (const perm of permutations(shape.length)) {
        calls += wasmCalls(() => same('transpose', { perm }, shape, perm.map((p) => shape[p]), data));
      }
    }
    expect(calls).toBeGreaterThan(50);
  });

  it('NCHW <-> NHWC and a 784 x 784 transpose (the shapes users move), large enough for many blocks', () => {
    const x = values(4 * 19 * 13 * 17, 3, 97);
    same('transpose', { perm: [0, 2, 3, 1] }, [4, 19, 13, 17], [4, 13, 17, 19], x);
    same('transpose', { perm: [0, 3, 1, 2] }, [4, 19, 13, 17], [4, 17, 19, 13], x);
    same('transpose', { perm: [1, 0] }, [131, 97], [97, 131], values(131 * 97, 4, 0));
  });

  it('slice (short and long runs, a strided innermost window), pad and broadcasts (rows, columns, a scalar)', () => {
    const x = values(6 * 10 * 70, 5, 13);
    same('slice', { begin: [1, 2, 3], size: [4, 7, 60] }, [6, 10, 70], [4, 7, 60], x);
    same('slice', { begin: [0, 1, 1], size: [6, 8, 5] }, [6, 10, 70], [6, 8, 5], x);
    same('slice', { begin: [2, 0, 0], size: [1, 10, 70] }, [6, 10, 70], [1, 10, 70], x);
    same('pad', { before: [0, 1, 2], after: [1, 0, 3] }, [6, 10, 70], [7, 11, 75], x);
    same('pad', { before: [0, 0, 1, 1], after: [0, 0, 1, 1] }, [3, 2, 7, 9], [3, 2, 9, 11], values(3 * 2 * 7 * 9, 6, 7));
    same('broadcastTo', { shape: [5, 40, 33] }, [40, 1], [5, 40, 33], values(40, 7, 5));
    same('broadcastTo', { shape: [9, 40, 33] }, [1, 33], [9, 40, 33], values(33, 8, 5));
    same('broadcastTo', { shape: [77] }, [1], [77], [-0]);
  });

  it('one Wasm call per block of 32+ values, the JS loop below', () => {
    const count = (inShape: number[], perm: number[]): number =>
      wasmCalls(() => run(heapBe, 'transpose', { perm }, inShape, perm.map((p) => inShape[p]!), 'float32', values(sizeOf(inShape), 3)));
    expect(count([4, 8], [1, 0])).toBe(1);
    expect(count([31, 1], [1, 0])).toBe(0);
    expect(count([3, 4, 5, 9], [0, 2, 1, 3])).toBe(3);
  });

  it('copies move bits: NaN payloads arrive unchanged', () => {
    const x = heapBe.alloc(64, 'float32') as CpuBuffer;
    const bits = new Uint32Array(x.data.buffer, x.data.byteOffset, 64);
    for (let i = 0; i < 64; i++) bits[i] = 0x7fc00000 + i;
    const out = heapBe.allocOutput('transpose', 64, 'float32');
    heapBe.run({ prim: 'transpose', params: { perm: [1, 0] }, inputs: [{ shape: [8, 8], dtype: 'float32' }], output: { shape: [8, 8], dtype: 'float32' } } as KernelCall, [x], out);
    const got = new Uint32Array(out.data.buffer, out.data.byteOffset, 64);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(got[i * 8 + j]).toBe(0x7fc00000 + j * 8 + i);
    heapBe.free(out);
    // A broadcast (a splat fill) too: one value's payload into every element, float32 and float64.
    const one = heapBe.alloc(1, 'float64') as CpuBuffer;
    new Uint32Array(one.data.buffer, one.data.byteOffset, 2).set([0x12345, 0x7ff80000 + 7]);
    const wide = heapBe.allocOutput('broadcastTo', 40, 'float64');
    heapBe.run({ prim: 'broadcastTo', params: { shape: [40] }, inputs: [{ shape: [1], dtype: 'float64' }], output: { shape: [40], dtype: 'float64' } } as KernelCall, [one], wide);
    const wideBits = new Uint32Array(wide.data.buffer, wide.data.byteOffset, 80);
    for (let i = 0; i < 40; i++) expect([wideBits[2 * i], wideBits[2 * i + 1]]).toEqual([0x12345, 0x7ff80007]);
    const narrow = heapBe.allocOutput('broadcastTo', 40, 'float32');
    heapBe.run({ prim: 'broadcastTo', params: { shape: [40] }, inputs: [{ shape: [1], dtype: 'float32' }], output: { shape: [40], dtype: 'float32' } } as KernelCall, [x], narrow);
    expect(Array.from(new Uint32Array(narrow.data.buffer, narrow.data.byteOffset, 40))).toEqual(Array(40).fill(0x7fc00000));
    for (const b of [x, one, wide, narrow]) heapBe.free(b);
  });
});

describe('max reductions on the heap equal the JS loop', () => {
  it('every axis set of [5, 9, 40] and [3, 37, 33] (runs of 32+ and rows into kept runs in Wasm), with and without NaN and ±Inf', () => {
    let calls = 0;
    for (const shape of [[5, 9, 40], [3, 37, 33], [2, 70, 4]]) {
      for (const special of [0, 29, 6]) {
        const x = values(sizeOf(shape), shape[1]! + special, special);
        for (const axes of [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
          const outShape = shape.filter((_, i) => !axes.includes(i));
          calls += wasmCalls(() => same('max', { axes }, shape, outShape, x));
        }
      }
    }
    expect(calls).toBeGreaterThan(20);
  });

  it('rank 4 (blocks at offsets from the outer odometer): runs and columns of every block land in their own outputs', () => {
    const shape = [3, 4, 5, 33];
    for (const special of [0, 23]) {
      const x = values(sizeOf(shape), 9 + special, special);
      for (const axes of [[1, 3], [3], [1], [0, 2], [1, 2], [0, 3]]) {
        const outShape = shape.filter((_, i) => !axes.includes(i));
        expect(wasmCalls(() => same('max', { axes }, shape, outShape, x))).toBeGreaterThan(0);
      }
    }
  });

  it('Wasm takes runs from 32 values and columns from 4 (one call per block), the JS loop below', () => {
    const count = (inShape: number[], axes: number[]): number =>
      wasmCalls(() => run(heapBe, 'max', { axes }, inShape, inShape.filter((_, i) => !axes.includes(i)), 'float32', values(sizeOf(inShape), 2)));
    expect(count([32], [0])).toBe(1);
    expect(count([31], [0])).toBe(0);
    expect(count([5, 40], [1])).toBe(1);
    expect(count([6, 4], [0])).toBe(1);
    expect(count([6, 3], [0])).toBe(0);
    // Two outer positions, each three blocks of 4 runs (the reduced axis 1 between them).
    expect(count([2, 3, 4, 40], [1, 3])).toBe(6);
  });

  it('ties of -0 and +0 keep the first, the last NaN wins, and a NaN carried in from an earlier block stays', () => {
    const n = 67;
    const zeros = (first: number): number[] => Array.from({ length: n }, (_, i) => (i === 20 ? first : i === 40 ? -first : -1 - i));
    for (const first of [0, -0]) {
      same('max', { axes: [0] }, [n], [], zeros(first));
      expect(Object.is(run(heapBe, 'max', { axes: [0] }, [n], [], 'float32', zeros(first))[0], first)).toBe(true);
    }
    // Rows into kept runs: the same rule column by column.
    same('max', { axes: [0] }, [3, 37], [37], [...Array(37).fill(-0), ...Array(37).fill(0), ...Array(37).fill(-0)]);
    const nan = Array.from({ length: 2 * n }, (_, i) => (i === 5 ? NaN : i));
    same('max', { axes: [0, 2] }, [2, 1, n], [1], nan);
    // Only -Infinity: the result is -Infinity, not the start value.
    same('max', { axes: [1] }, [2, n], [2], Array(2 * n).fill(-Infinity));
  });

  it('hand-checked values', () => {
    const x = Array.from({ length: 64 }, (_, i) => Math.sin(i) * 10);
    const top = Math.max(...x.map((v) => Math.fround(v)));
    expect(run(heapBe, 'max', { axes: [0] }, [64], [], 'float32', x)[0]).toBe(top);
    const cols = run(heapBe, 'max', { axes: [0] }, [16, 4], [4], 'float64', x);
    expect(Array.from(cols)).toEqual([0, 1, 2, 3].map((j) => Math.max(...x.filter((_, i) => i % 4 === j))));
  });
});

describe('gather and scatter-add on the heap equal the JS loops', () => {
  it('any axis, rows of 1 to 37 values, repeated and unordered indices; sums of repeated rows in the JS order', () => {
    let calls = 0;
    for (const [shape, axis] of [[[40, 3], 0], [[5, 40, 3], 1], [[3, 4, 37], 2], [[2, 50, 37], 1], [[64], 0], [[7, 9, 5, 2], 1]] as [number[], number][]) {
      const len = shape[axis]!;
      const indices = Int32Array.from({ length: len + 9 }, (_, i) => (i * 7 + 3) % len);
      const outShape = shape.map((d, i) => (i === axis ? indices.length : d));
      const x = values(sizeOf(shape), len, 17);
      calls += wasmCalls(() => same('gather', { indices, axis }, shape, outShape, x));
      const y = values(sizeOf(outShape), len + 1, 0);
      calls += wasmCalls(() => same('scatterAdd', { indices, axis, size: len }, outShape, shape, y));
    }
    expect(calls).toBeGreaterThan(6);
  });

  it('an index out of range given to the kernel directly stays on the JS path (no other heap memory is touched)', () => {
    const guard = heapBe.alloc(64, 'float32') as CpuBuffer;
    guard.data.fill(5);
    for (const bad of [40, -1]) {
      const indices = Int32Array.from([0, 1, bad, 2]);
      const calls = wasmCalls(() => {
        same('gather', { indices, axis: 0 }, [40, 8], [4, 8], values(320, 1));
        same('scatterAdd', { indices, axis: 0, size: 40 }, [4, 8], [40, 8], values(32, 1));
      });
      expect(calls).toBe(0);
    }
    expect(Array.from(guard.data).every((v) => v === 5)).toBe(true);
    heapBe.free(guard);
  });

  it('Wasm from 32 values moved; the heap copy of the indices is freed again', () => {
    const live = heap.stats().liveBytes;
    const calls = (rows: number, inner: number): number =>
      wasmCalls(() => run(heapBe, 'gather', { indices: Int32Array.from({ length: rows }, (_, i) => (i * 3) % 7), axis: 0 }, [7, inner], [rows, inner], 'float64', values(7 * inner, 4)));
    expect(calls(8, 4)).toBe(1);
    expect(calls(31, 1)).toBe(0);
    expect(calls(32, 1)).toBe(1);
    expect(heap.stats().liveBytes).toBe(live);
  });
});
