// Elementwise Wasm kernels split over the tensor heap's worker threads (setGemmThreads(2)): every kernel and mode gives the 1-thread bits at odd lengths with NaN, ±0 and ±∞ in the data, the worker's share is counted, and passes below the thresholds stay on the caller.
import { afterAll, describe, expect, it } from 'vitest';
import type { TypedArray } from '../../src/core/dtype.js';
import { binaryKernel, type Combine } from '../../src/backend/cpu/binary.js';
import { unaryKernel, unaryKernelJs, whereKernel } from '../../src/backend/cpu/elementwise.js';
import { elementwiseArgs, elementwiseRange, EW_BINARY, EW_ARGS } from '../../src/backend/cpu/elementwise-range.js';
import { leakyReluGradKernel, leakyReluKernel, reluGradKernel, reluKernel } from '../../src/backend/cpu/relu.js';
import { sigmoidKernel, softplusKernel } from '../../src/backend/cpu/smooth.js';
import { THREADED_MIN_CHEAP, THREADED_MIN_TRANSCENDENTAL, wasmSoftplusTerms } from '../../src/backend/cpu/wasm-elementwise.js';
import { getGemmWorkerJobs, setGemmThreads } from '../../src/backend/cpu/wasm-gemm.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';
import { Random } from '../../src/util/random.js';

type DT = 'float32' | 'float64';
const heap = cpuHeap()!;
const live: TypedArray[] = [];
const alloc = (dt: DT, n: number): TypedArray => {
  const a = heap.alloc(dt, n, 'error', 'elementwise-threads test')!;
  live.push(a);
  return a;
};

/** Random values with the special ones sprinkled in (every 97th element). */
function input(dt: DT, n: number, seed: number, positive = false): TypedArray {
  const a = alloc(dt, n);
  const rng = new Random(seed);
  const special = [NaN, 0, -0, Infinity, -Infinity, 1e-30, -3];
  for (let i = 0; i < n; i++) {
    const v = i % 97 === 5 ? special[(i / 97) % special.length | 0]! : rng.normal() * 3;
    a[i] = positive ? Math.abs(v) : v;
  }
  return a;
}

/** The first index where two outputs differ in their bytes (NaN payloads included), or -1. */
function firstDifference(x: TypedArray, y: TypedArray): number {
  const a = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const b = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return Math.floor(i / x.BYTES_PER_ELEMENT);
  return -1;
}

type Case = [name: string, n: number, jobs: number, op: (out: TypedArray) => void];

/**
 * Runs every case into a fresh output on 1 thread, then on 2 (one thread change each way): the same bytes, and
 * the worker ran `jobs` shares of each.
 */
async function sameBits(dt: DT, cases: Case[]): Promise<void> {
  expect(await setGemmThreads(1)).toBe(1);
  const ones = cases.map(([, n, , op]) => {
    const out = alloc(dt, n);
    out.fill(7);
    op(out);
    return out;
  });
  expect(await setGemmThreads(2)).toBe(2);
  cases.forEach(([name, n, jobs, op], i) => {
    const two = alloc(dt, n);
    two.fill(7);
    const before = getGemmWorkerJobs();
    op(two);
    expect(getGemmWorkerJobs() - before, `${name}: worker shares`).toBe(jobs);
    expect(firstDifference(two, ones[i]!), `${name}: first element that differs`).toBe(-1);
  });
}

afterAll(async () => {
  await setGemmThreads(1);
  for (const a of live) heap.free(a);
});

describe.each(['float32', 'float64'] as const)('elementwise shares on 2 threads (%s)', (dt) => {
  const n = THREADED_MIN_CHEAP + 37; // odd: the last share ends off a 16-element boundary
  const nt = THREADED_MIN_TRANSCENDENTAL + 11;

  it.each(['add', 'sub', 'mul', 'div', 'gt', 'eq'] as Combine[])('binary %s: same shape, scalar right, scalar left', async (op) => {
    const a = input(dt, n, 1);
    const b = input(dt, n, 2);
    const s = alloc(dt, 1);
    s[0] = -0.75;
    const shape = [n];
    await sameBits(dt, [
      ['same shape', n, 1, (out) => binaryKernel(op, a, shape, b, shape, out, shape)],
      ['scalar right', n, 1, (out) => binaryKernel(op, a, shape, s, [1], out, shape)],
      ['scalar left', n, 1, (out) => binaryKernel(op, s, [1], b, shape, out, shape)],
    ]);
  });

  it('unary exp and log (transcendental threshold), neg and sqrt (cheap threshold)', async () => {
    const x = input(dt, n, 3);
    const pos = input(dt, n, 4, true);
    await sameBits(dt, [
      ['exp', nt, 1, (out) => unaryKernel('exp', x.subarray(0, nt), out)],
      ['log', nt, 1, (out) => unaryKernel('log', pos.subarray(0, nt), out)],
      ['neg', n, 1, (out) => unaryKernel('neg', x, out)],
      ['sqrt', n, 1, (out) => unaryKernel('sqrt', pos, out)],
    ]);
    // Shares run the kernels the 1-thread path runs: compare with the Math.* loops too.
    const ref = alloc(dt, nt);
    const got = alloc(dt, nt);
    unaryKernelJs('exp', x.subarray(0, nt), ref);
    unaryKernel('exp', x.subarray(0, nt), got);
    let maxUlps = 0;
    for (let i = 0; i < nt; i++) {
      if (Number.isNaN(ref[i]!)) expect(got[i]).toBeNaN();
      else if (ref[i] !== got[i]) maxUlps = Math.max(maxUlps, Math.abs(ref[i]! - got[i]!) / Math.abs(ref[i]!) / (dt === 'float32' ? 2 ** -23 : 2 ** -52));
    }
    expect(maxUlps).toBeLessThanOrEqual(2);
  });

  it('rectifiers (relu, its gradient, leaky relu with its slope, its gradient), where, softplus and sigmoid', async () => {
    const x = input(dt, n, 5);
    const g = input(dt, n, 6);
    const c = input(dt, n, 7);
    for (let i = 0; i < n; i += 3) c[i] = 0;
    const shape = [n];
    await sameBits(dt, [
      ['relu', n, 1, (out) => reluKernel(x, out)],
      ['relu grad', n, 1, (out) => reluGradKernel(g, x, out)],
      ['leaky relu', n, 1, (out) => leakyReluKernel(x, 0.1, out)],
      ['leaky relu grad', n, 1, (out) => leakyReluGradKernel(g, x, 0.1, out)],
      ['where', n, 1, (out) => whereKernel(c, shape, x, shape, g, shape, out, shape)],
      ['softplus', nt, 1, (out) => softplusKernel(x.subarray(0, nt), out)],
      ['sigmoid', nt, 1, (out) => sigmoidKernel(x.subarray(0, nt), out)],
    ]);
    // softplusTerms writes two outputs: c into `out`, dc into a second array checked the same way.
    const dcs: TypedArray[] = [];
    await sameBits(dt, [
      ['softplus terms c', nt, 1, (out) => {
        const dc = alloc(dt, nt);
        expect(wasmSoftplusTerms(x.subarray(0, nt), out, dc)).toBe(true);
        dcs.push(dc);
      }],
    ]);
    expect(firstDifference(dcs[1]!, dcs[0]!), 'softplus terms dc: first element that differs').toBe(-1);
    // The leaky slope reaches the worker's share: its half of the output scales negatives by 0.1.
    const out = alloc(dt, n);
    leakyReluKernel(x, 0.1, out);
    const slope = dt === 'float32' ? Math.fround(0.1) : 0.1;
    for (let i = n - 40; i < n; i++) if (x[i]! < 0) expect(out[i]).toBe(dt === 'float32' ? Math.fround(x[i]! * slope) : x[i]! * slope);
  });

  it('passes below the thresholds stay on the calling thread', async () => {
    const x = input(dt, THREADED_MIN_CHEAP, 8);
    const m = THREADED_MIN_CHEAP - 1;
    const shape = [m];
    await sameBits(dt, [
      ['neg', m, 0, (out) => unaryKernel('neg', x.subarray(0, m), out)],
      ['exp', THREADED_MIN_TRANSCENDENTAL - 1, 0, (out) => unaryKernel('exp', x.subarray(0, THREADED_MIN_TRANSCENDENTAL - 1), out)],
      ['sqrt at the cheap threshold', m, 0, (out) => unaryKernel('sqrt', x.subarray(0, m), out)],
      ['mul', m, 0, (out) => binaryKernel('mul', x.subarray(0, m), shape, x.subarray(1), shape, out, shape)],
    ]);
  });
});

describe('elementwiseRange', () => {
  it('runs exactly its share [i0, i1): scalar operands stay put, runs advance', () => {
    const n = 100;
    const a = alloc('float32', n);
    const s = alloc('float32', 1);
    const out = alloc('float32', n);
    for (let i = 0; i < n; i++) a[i] = i;
    s[0] = 10;
    out.fill(-1);
    const args = elementwiseArgs(EW_BINARY, 4, n, 0 /* add */, 1 /* scalar b */, [[a.byteOffset, true], [s.byteOffset, false], [out.byteOffset, true]]);
    expect(args).toHaveLength(EW_ARGS);
    args[2] = 32;
    args[3] = 48;
    elementwiseRange(heap.kernels, args);
    for (let i = 0; i < n; i++) expect(out[i]).toBe(i >= 32 && i < 48 ? i + 10 : -1);
    args[2] = 48;
    args[3] = 48;
    elementwiseRange(heap.kernels, args);
    expect(out[48]).toBe(-1);
    expect(() => elementwiseRange(heap.kernels, [9, 4, 0, 1, ...new Array(12).fill(0)])).toThrow('elementwise share: unknown kernel 9');
  });
});
