// The Wasm SIMD elementwise kernels on heap-resident tensors against the plain-array backend's JS kernels (the reference, heap: false): bit for bit on random and special values, float32 and float64, odd sizes, size 1, broadcasting and large arrays; and every output that skips zeroing is written in full (outputs are poisoned with NaN first).
import { describe, expect, it } from 'vitest';
import { CpuBackend, OVERWRITES, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import type { KernelCall } from '../../src/backend/backend.js';
import type { DType, TypedArray } from '../../src/core/dtype.js';
import type { Prim } from '../../src/core/primitives.js';
import { sizeOf } from '../../src/core/shape.js';
import { Random } from '../../src/util/random.js';
import { full } from '../../src/core/creation.js';

const heapBe = new CpuBackend({ heap: true });
const jsBe = new CpuBackend({ heap: false });
const heap = heapBe.heap()!;

const SPECIALS = [0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 1e-40, -1e-40, 5e-324, 3.4e38, -3.4e38, 1e300, 2, 1e-7];

/** Values: mostly uniform in [-3, 3], every 7th a special value, every 11th an exact copy of the other operand's grid (ties for compares). */
function values(n: number, seed: number, specials = true): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => (specials && i % 7 === 3 ? SPECIALS[(i + seed) % SPECIALS.length] : i % 11 === 5 ? Math.round(rng.uniform() * 4) / 2 : rng.uniform() * 6 - 3));
}

interface Case {
  prim: Prim;
  params?: object;
  inputs: number[][];
  outShape: number[];
  outDtype?: DType;
  /** Finite inputs only (products and convolutions: a special value would make most outputs Inf or NaN). */
  finite?: boolean;
}

/** Runs one kernel on a backend: inputs written to fresh buffers, the output block poisoned with NaN before. */
function runOn(be: CpuBackend, c: Case, dtype: DType, data: number[][]): TypedArray {
  const bufs = c.inputs.map((shape, i) => {
    const b = be.alloc(sizeOf(shape), dtype) as CpuBuffer;
    b.data.set(data[i]);
    return b;
  });
  const outDtype = c.outDtype ?? dtype;
  const n = sizeOf(c.outShape);
  const poison = be.alloc(n, outDtype) as CpuBuffer;
  poison.data.fill(NaN);
  be.free(poison);
  const out = be.allocOutput(c.prim, n, outDtype);
  // The poisoned block came back, not zeroed, for kernels that write every element; the others get zeros.
  if (n > 0) expect(out.data[0]).toBe(OVERWRITES.has(c.prim) ? NaN : 0);
  const call = {
    prim: c.prim, params: c.params ?? {}, inputs: c.inputs.map((shape) => ({ shape, dtype })), output: { shape: c.outShape, dtype: outDtype },
  } as KernelCall;
  be.run(call, bufs, out);
  if (be === heapBe) for (const b of [...bufs, out]) expect(heap.owns(b.data)).toBe(b.data.length > 0); // empty arrays stay plain
  const result = out.data.slice();
  for (const b of [...bufs, out]) be.free(b);
  return result;
}

function sameBits(a: TypedArray, b: TypedArray, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (!Object.is(a[i], b[i])) throw new Error(`${what}: element ${i}: heap ${a[i]}, reference ${b[i]}`);
  }
}

function check(c: Case, seeds = [1, 2, 3]): void {
  for (const dtype of ['float32', 'float64'] as const) {
    const data = c.inputs.map((shape, i) => values(sizeOf(shape), seeds[i], !c.finite));
    if (c.prim === 'where') data[0] = data[0].map((v, i) => (i % 3 === 0 ? 0 : i % 5 === 0 ? -0 : v)); // zeros select b
    const what = `${c.prim}${c.params ? JSON.stringify(c.params) : ''} ${c.inputs.map((s) => `[${s}]`).join(' ')} ${dtype}`;
    const heapOut = runOn(heapBe, c, dtype, data);
    sameBits(heapOut, runOn(jsBe, c, dtype, data), what);
    // Finite inputs give finite outputs: an element the kernel left unwritten keeps the NaN poison on both backends.
    if (c.finite) heapOut.forEach((v, i) => { if (!Number.isFinite(v)) throw new Error(`${what}: element ${i} is ${v}`); });
  }
}

// Under 32 elements the JS loops run (WASM_MIN_ELEMENTS); 32-35 and 1023, 4099, 100003 reach Wasm with every tail length.
const SIZES = [1, 2, 3, 4, 5, 7, 8, 17, 32, 33, 34, 35, 1023, 4099, 100_003];
const BINARY = ['add', 'sub', 'mul', 'div'] as const;
const COMPARE = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const;

describe('Wasm elementwise kernels on the heap equal the JS reference bit for bit', () => {
  it('binary ops and comparisons: same shape, scalar on either side, every size', () => {
    for (const n of SIZES) {
      for (const [sa, sb] of [[[n], [n]], [[n], [1]], [[1], [n]]]) {
        for (const op of BINARY) check({ prim: op, inputs: [sa, sb], outShape: [n] });
        for (const op of COMPARE) check({ prim: 'compare', params: { op }, inputs: [sa, sb], outShape: [n] });
      }
    }
  });

  it('broadcast rows and columns (bias rows, per-channel NCHW scales, outer products), short and long rows', () => {
    const cases: [number[], number[], number[]][] = [
      [[33, 20], [20], [33, 20]], [[33, 20], [33, 1], [33, 20]], [[4, 3, 5, 6], [1, 3, 1, 1], [4, 3, 5, 6]],
      [[2, 8, 17, 17], [1, 8, 1, 1], [2, 8, 17, 17]], [[1, 8, 1, 1], [2, 8, 17, 17], [2, 8, 17, 17]],
      [[40, 1], [1, 64], [40, 64]], [[5, 1, 19], [1, 6, 19], [5, 6, 19]], [[3, 16], [16], [3, 16]], [[3, 15], [15], [3, 15]],
    ];
    for (const [sa, sb, so] of cases) {
      for (const op of BINARY) check({ prim: op, inputs: [sa, sb], outShape: so });
      check({ prim: 'compare', params: { op: 'ge' }, inputs: [sa, sb], outShape: so });
    }
  });

  it('neg, sqrt, exp and log (the heap path runs assembly/math.ts in place on the output)', () => {
    for (const n of SIZES) {
      for (const prim of ['neg', 'sqrt', 'exp', 'log'] as const) check({ prim, inputs: [[n]], outShape: [n] }, [n + 1]);
    }
  });

  it('full() fills reused blocks with its value (+0, -0, NaN, 1.5), on the heap and on plain arrays, without a staging array', () => {
    for (const be of [heapBe, jsBe]) {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const value of [0, -0, NaN, 1.5]) {
          const n = 1000;
          const poison = be.alloc(n, dtype) as CpuBuffer;
          poison.data.fill(7);
          be.free(poison);
          const t = full([10, 100], value, { dtype, backend: be });
          const got = (t.buffer as CpuBuffer).data;
          expect(got.length).toBe(n);
          for (let i = 0; i < n; i++) if (!Object.is(got[i], Math.fround(value))) throw new Error(`full(${value}) ${dtype}: element ${i} is ${got[i]}`);
          if (be === heapBe) expect(heap.owns(got)).toBe(true);
          t.dispose();
        }
      }
    }
  });

  it('float32 exp, log, softplus and sigmoid: steps of 16 on the fast path, and steps where one lane leaves it (at every position), give the reference bits', () => {
    // The heap kernel takes 16 lanes per step on a fast path and redoes a step with the full routine when any lane needs
    // it; the reference (the math module) always runs the full routine. Lanes that leave exp's fast path: results that
    // are not normal floats (k < -125 or k > 127), NaN, |x| past 2^22·ln 2; log's: anything but a positive normal float.
    const rng = new Random(11);
    const n = 16 * 64 + 5;
    const cases = [
      { prim: 'exp' as const, draw: () => rng.uniform() * 170 - 85, off: [-86.8, -87.5, -100, -103.9, 88.2, 88.5, 88.8, NaN, 1e30, -1e30, Infinity, -Infinity] },
      { prim: 'log' as const, draw: () => Math.exp(rng.uniform() * 160 - 80), off: [0, -0, -1, 1e-40, 1.1754942e-38, Infinity, -Infinity, NaN, -1e-30] },
      // softplus and sigmoid take exp's fast path for e^{−|x|}: off it where |x| > ~86.9, at ±Inf and NaN.
      ...(['softplus', 'sigmoid'] as const).map((prim) => ({
        prim, draw: () => rng.uniform() * 160 - 80, off: [-88, 88, 87.5, -100, 1e30, -1e30, NaN, Infinity, -Infinity],
      })),
    ];
    for (const { prim, draw, off } of cases) {
      const x = Array.from({ length: n }, draw);
      // Steps 0-15: one lane off the fast path at lane s; steps 16+: none (plus the tail).
      for (let s = 0; s < 16; s++) x[16 * s + s] = off[s % off.length]!;
      const c: Case = { prim, inputs: [[n]], outShape: [n] };
      sameBits(runOn(heapBe, c, 'float32', [x]), runOn(jsBe, c, 'float32', [x]), `${prim} fast/full paths`);
    }
  });

  it('relu, leaky relu and their gradients, slopes 0.1, 0, -0.5 and 1e-3 (float32-rounded for float32)', () => {
    for (const n of SIZES) {
      check({ prim: 'relu', inputs: [[n]], outShape: [n] });
      check({ prim: 'reluGrad', inputs: [[n], [n]], outShape: [n] });
      for (const slope of [0.1, 0, -0.5, 1e-3]) {
        check({ prim: 'leakyRelu', params: { slope }, inputs: [[n]], outShape: [n] });
        check({ prim: 'leakyReluGrad', params: { slope }, inputs: [[n], [n]], outShape: [n] });
      }
    }
  });

  it('where: same shape in Wasm, broadcast operands on the JS path, NaN and -0 conditions', () => {
    for (const n of SIZES) check({ prim: 'where', inputs: [[n], [n], [n]], outShape: [n] });
    check({ prim: 'where', inputs: [[6, 7], [6, 7], [1]], outShape: [6, 7] });
    check({ prim: 'where', inputs: [[6, 7], [7], [6, 1]], outShape: [6, 7] });
  });

  it('the other kernels whose outputs skip zeroing write every element (sum, max, broadcast, reshape, transpose, slice, cast)', () => {
    check({ prim: 'sum', params: { axes: [1] }, inputs: [[5, 9, 4]], outShape: [5, 4] });
    check({ prim: 'sum', params: { axes: [0, 2] }, inputs: [[5, 9, 4]], outShape: [9] });
    check({ prim: 'max', params: { axes: [2] }, inputs: [[5, 9, 4]], outShape: [5, 9] });
    check({ prim: 'broadcastTo', params: { shape: [6, 5, 4] }, inputs: [[5, 1]], outShape: [6, 5, 4] });
    check({ prim: 'reshape', params: { shape: [4, 45] }, inputs: [[5, 9, 4]], outShape: [4, 45] });
    check({ prim: 'transpose', params: { perm: [2, 0, 1] }, inputs: [[5, 9, 4]], outShape: [4, 5, 9] });
    check({ prim: 'slice', params: { begin: [1, 2, 0], size: [3, 4, 4] }, inputs: [[5, 9, 4]], outShape: [3, 4, 4] });
    for (const dtype of ['float32', 'float64'] as const) {
      const to = dtype === 'float32' ? 'float64' : 'float32';
      const data = [values(37, 5)];
      const c: Case = { prim: 'cast', params: { dtype: to }, inputs: [[37]], outShape: [37], outDtype: to };
      sameBits(runOn(heapBe, c, dtype, data), runOn(jsBe, c, dtype, data), `cast ${dtype} -> ${to}`);
    }
  });

  it('matmul (every transpose, K = 0, a row, a column) and conv2d in all three directions run in place on the heap', () => {
    const mm = (m: number, n: number, k: number, transA: boolean, transB: boolean): Case => ({
      prim: 'matmul', params: { transA, transB }, finite: true, inputs: [transA ? [k, m] : [m, k], transB ? [n, k] : [k, n]], outShape: [m, n],
    });
    for (const [m, n, k] of [[17, 33, 65], [1, 40, 7], [40, 1, 7], [5, 6, 0], [130, 70, 300]]) {
      for (const tA of [false, true]) for (const tB of [false, true]) check(mm(m, n, k, tA, tB));
    }
    const convs: { x: number[]; w: number[]; stride: [number, number]; padding: [number, number] }[] = [
      { x: [3, 4, 11, 9], w: [5, 4, 3, 3], stride: [1, 1], padding: [1, 1] },
      { x: [2, 3, 12, 12], w: [4, 3, 3, 3], stride: [2, 2], padding: [1, 1] },
      { x: [2, 6, 7, 5], w: [3, 6, 1, 1], stride: [1, 1], padding: [0, 0] },
    ];
    for (const c of convs) {
      const ho = Math.floor((c.x[2] + 2 * c.padding[0] - c.w[2]) / c.stride[0]) + 1;
      const wo = Math.floor((c.x[3] + 2 * c.padding[1] - c.w[3]) / c.stride[1]) + 1;
      const y = [c.x[0], c.w[0], ho, wo];
      const params = { stride: c.stride, padding: c.padding };
      // float32 only reaches the Wasm conv; float64 checks the JS reference against itself, harmlessly.
      check({ prim: 'conv2d', params, inputs: [c.x, c.w], outShape: y, finite: true });
      check({ prim: 'conv2dGradInput', params: { ...params, inputShape: c.x }, inputs: [y, c.w], outShape: c.x, finite: true });
      check({ prim: 'conv2dGradWeight', params: { ...params, weightShape: c.w }, inputs: [c.x, y], outShape: c.w, finite: true });
    }
  });

  it('2x2 stride-2 max pooling (argmax with ties and NaN, gather, scatter) on odd sizes and rows of any length', () => {
    for (const shape of [[2, 3, 8, 8], [1, 2, 7, 9], [3, 1, 2, 2], [2, 4, 28, 28], [1, 1, 5, 19], [1, 3, 14, 14]]) {
      const [n, c, h, w] = shape;
      const y = [n, c, Math.floor(h / 2), Math.floor(w / 2)];
      const params = { kernel: [2, 2], stride: [2, 2], padding: [0, 0] };
      // Values on a coarse grid (ties in most windows), some NaN, -0 and -Infinity.
      const x = values(sizeOf(shape), 4).map((v, i) => (i % 13 === 0 ? NaN : i % 17 === 0 ? -Infinity : Math.round(v)));
      const argCase: Case = { prim: 'maxPool2dArgmax', params, inputs: [shape], outShape: y };
      const arg = runOn(jsBe, argCase, 'float32', [x]);
      sameBits(runOn(heapBe, argCase, 'float32', [x]), arg, `maxPool2dArgmax [${shape}]`);
      const gy = values(sizeOf(y), 5);
      const gatherCase: Case = { prim: 'maxPool2dGather', params, inputs: [shape, y], outShape: y };
      const both = [x, Array.from(arg)];
      sameBits(runOn(heapBe, gatherCase, 'float32', both), runOn(jsBe, gatherCase, 'float32', both), `maxPool2dGather [${shape}]`);
      const scatterCase: Case = { prim: 'maxPool2dScatter', params: { ...params, inputShape: shape }, inputs: [y, y], outShape: shape };
      const gyArg = [gy, Array.from(arg)];
      sameBits(runOn(heapBe, scatterCase, 'float32', gyArg), runOn(jsBe, scatterCase, 'float32', gyArg), `maxPool2dScatter [${shape}]`);
    }
    // A bad offset is reported with its position on the heap path too.
    const bad = Array.from({ length: 16 }, (_, i) => (i === 9 ? 4 : i % 4));
    const gatherBad: Case = { prim: 'maxPool2dGather', params: { kernel: [2, 2], stride: [2, 2], padding: [0, 0] }, inputs: [[1, 1, 8, 8], [1, 1, 4, 4]], outShape: [1, 1, 4, 4] };
    expect(() => runOn(heapBe, gatherBad, 'float32', [values(64, 1), bad])).toThrow('maxPool2dGather: argmax 4 at output 9 is not an offset of a 2x2 window');
  });

  it('hand-checked values (so that both paths cannot be wrong the same way)', () => {
    const t = (prim: Prim, params: object, ins: number[][]): number[] =>
      Array.from(runOn(heapBe, { prim, params, inputs: ins.map((v) => [v.length]), outShape: [ins[0].length] }, 'float32', ins));
    expect(t('mul', {}, [[1, 2, 3, 4, 5], [2, 2, 2, 2, -2]])).toEqual([2, 4, 6, 8, -10]);
    expect(t('div', {}, [[1, 0, -1, 9, 1], [2, 0, 0, 3, -0]])).toEqual([0.5, NaN, -Infinity, 3, -Infinity]);
    expect(t('compare', { op: 'le' }, [[1, 2, NaN, 4, -0], [2, 2, 2, 3, 0]])).toEqual([1, 1, 0, 0, 1]);
    expect(t('relu', {}, [[-1, 0, 2, -0, 3.5]])).toEqual([-0, 0, 2, -0, 3.5]);
    expect(t('leakyRelu', { slope: 0.5 }, [[-2, 0, 2, -4, 1]])).toEqual([-1, 0, 2, -2, 1]);
    expect(t('sqrt', {}, [[4, 9, 0, -1, 2.25]])).toEqual([2, 3, 0, NaN, 1.5]);
    expect(t('exp', {}, [[0, 1, -Infinity, Infinity, Math.log(2)]]).map((v) => Math.fround(v))).toEqual([1, Math.fround(Math.E), 0, Infinity, 2]);
  });
});
