// Checks the Wasm SIMD sgemm against a float64 triple loop for all transpose modes, odd shapes and accumulate; the
// 2-thread path (workers verified to have done their parts) and the relaxed-SIMD (FMA) builds, the latter in a child
// Node started with --experimental-wasm-relaxed-simd where the engine needs it (Node 20).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getGemmInfo,
  getGemmThreads,
  getGemmWorkerJobs,
  initGemm,
  setGemmRelaxedSimd,
  setGemmThreads,
  sgemm,
} from '../../src/backend/cpu/wasm-gemm.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';
import { gemmRelaxedWasmBase64 } from '../../src/generated/gemm-relaxed.wasm.js';
import { gemmMtRelaxedWasmBase64 } from '../../src/generated/gemm-mt-relaxed.wasm.js';
import { skipOrFail } from '../require-or-skip.js';
import { caseInputs, CONV_CASES, convCaseInputs, runCase, runConvCase, SINGLE_CASES, THREADED_CASES, type ChildReport, type RelaxedCase } from './relaxed-simd-child.js';
import { conv2dGradWeightJs } from '../../src/backend/cpu/conv2d-js.js';

/** Deterministic uniform values in [-1, 1). */
function randArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** float64 reference: op(A) op(B) (+ C0). */
function refGemm(
  a: Float32Array, b: Float32Array, M: number, N: number, K: number,
  tA: boolean, tB: boolean, c0?: Float32Array,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = c0 ? c0[i * N + j]! : 0;
      for (let k = 0; k < K; k++) {
        const av = tA ? a[k * M + i]! : a[i * K + k]!;
        const bv = tB ? b[j * K + k]! : b[k * N + j]!;
        s += av * bv;
      }
      c[i * N + j] = s;
    }
  }
  return c;
}

/** max |got - ref| / max |ref| (absolute error if ref is all zero). */
function relErr(got: Float32Array, ref: Float64Array): number {
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  return maxRef > 0 ? maxErr / maxRef : maxErr;
}

// [M, N, K]
const shapes: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 1],
  [5, 9, 3],
  [17, 33, 65],
  [128, 10, 784],
  [128, 784, 10],
  [200, 1, 300],
  [1, 300, 1],
  [1, 1, 300],
  [63, 70, 257],
  [130, 2050, 9],
  [6, 17, 600],
  [9, 12, 1000],
  [260, 44, 390],
  [131, 20, 5],
];
const modes: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

describe('wasm sgemm', () => {
  it('initializes asynchronously', async () => {
    await initGemm();
    await initGemm();
  });

  for (const [tA, tB] of modes) {
    for (const [M, N, K] of shapes) {
      it(`${tA ? 'At' : 'A'}*${tB ? 'Bt' : 'B'} M=${M} N=${N} K=${K}`, () => {
        const a = randArray(M * K, 1 + M * 7 + K);
        const b = randArray(K * N, 3 + N * 11 + K);
        const got = sgemm(a, b, M, N, K, tA, tB);
        expect(got.length).toBe(M * N);
        expect(relErr(got, refGemm(a, b, M, N, K, tA, tB))).toBeLessThanOrEqual(1e-5);
      });
    }
  }

  for (const [tA, tB] of modes) {
    it(`accumulates into out (${tA ? 'At' : 'A'}*${tB ? 'Bt' : 'B'}, 37x29x300)`, () => {
      const [M, N, K] = [37, 29, 300];
      const a = randArray(M * K, 5);
      const b = randArray(K * N, 6);
      const c0 = randArray(M * N, 7);
      const out = Float32Array.from(c0);
      const ret = sgemm(a, b, M, N, K, tA, tB, out, true);
      expect(ret).toBe(out);
      expect(relErr(out, refGemm(a, b, M, N, K, tA, tB, c0))).toBeLessThanOrEqual(1e-5);
    });
  }

  it('overwrites out when not accumulating, and handles K = 0 and empty outputs', () => {
    const a = randArray(6, 1), b = randArray(9, 2);
    const out = new Float32Array(6).fill(42);
    sgemm(a, b, 2, 3, 3, false, false, out);
    expect(relErr(out, refGemm(a, b, 2, 3, 3, false, false))).toBeLessThanOrEqual(1e-5);
    const z = new Float32Array(6).fill(42);
    sgemm(new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, z);
    expect(Array.from(z)).toEqual([0, 0, 0, 0, 0, 0]);
    const keep = new Float32Array(6).fill(42);
    sgemm(new Float32Array(0), new Float32Array(0), 2, 3, 0, false, false, keep, true);
    expect(Array.from(keep)).toEqual([42, 42, 42, 42, 42, 42]);
    expect(sgemm(new Float32Array(0), new Float32Array(5), 0, 5, 1, false, false).length).toBe(0);
  });

  it('reuses memory across calls of different sizes and stays correct', () => {
    for (const [M, N, K] of [[300, 300, 300], [2, 3, 4], [520, 260, 130], [7, 7, 7]] as const) {
      const a = randArray(M * K, M);
      const b = randArray(K * N, N);
      expect(relErr(sgemm(a, b, M, N, K, false, false), refGemm(a, b, M, N, K, false, false))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('throws clear errors on wrong lengths', () => {
    expect(() => sgemm(new Float32Array(5), new Float32Array(6), 2, 3, 2, false, false)).toThrow(/A has length 5, expected 4/);
    expect(() => sgemm(new Float32Array(4), new Float32Array(5), 2, 3, 2, false, false)).toThrow(/B has length 5, expected 6/);
    expect(() => sgemm(new Float32Array(4), new Float32Array(6), 2, 3, 2, false, false, new Float32Array(5))).toThrow(
      /out has length 5, expected 6/,
    );
    expect(() => sgemm(new Float32Array(4), new Float32Array(6), 2, 3, 2, false, false, undefined, true)).toThrow(/accumulate/);
    expect(() => sgemm(new Float32Array(4), new Float32Array(6), 2.5, 3, 2, false, false)).toThrow(/M must be/);
  });
});

describe('wasm sgemm with worker threads', () => {
  // Large enough (>= 2^21 multiply-adds) to be split; covers row splits (M >= N) and column splits.
  const mtShapes: Array<[number, number, number]> = [
    [300, 200, 100],
    [64, 700, 100],
    [1000, 3, 1000],
    [5, 1000, 500],
    [257, 129, 65],
  ];

  it('switches to 2 threads in Node', async () => {
    expect(await setGemmThreads(2)).toBe(2);
    expect(getGemmThreads()).toBe(2);
  });

  for (const [tA, tB] of modes) {
    for (const [M, N, K] of mtShapes) {
      it(`2 threads ${tA ? 'At' : 'A'}*${tB ? 'Bt' : 'B'} M=${M} N=${N} K=${K}`, () => {
        const a = randArray(M * K, 11 + M);
        const b = randArray(K * N, 13 + N);
        const c0 = randArray(M * N, 17);
        const jobs0 = getGemmWorkerJobs();
        expect(relErr(sgemm(a, b, M, N, K, tA, tB), refGemm(a, b, M, N, K, tA, tB))).toBeLessThanOrEqual(1e-5);
        const out = Float32Array.from(c0);
        sgemm(a, b, M, N, K, tA, tB, out, true);
        expect(relErr(out, refGemm(a, b, M, N, K, tA, tB, c0))).toBeLessThanOrEqual(1e-5);
        // Each product was split: the one worker thread computed its part of both (counted by the worker itself).
        expect(getGemmWorkerJobs() - jobs0).toBe(2);
      });
    }
  }

  it('leaves small products (< 2^21 multiply-adds) on the calling thread', () => {
    const jobs0 = getGemmWorkerJobs();
    const [M, N, K] = [100, 100, 100];
    const a = randArray(M * K, 3), b = randArray(K * N, 4);
    expect(relErr(sgemm(a, b, M, N, K, false, false), refGemm(a, b, M, N, K, false, false))).toBeLessThanOrEqual(1e-5);
    expect(getGemmWorkerJobs()).toBe(jobs0);
  });

  it('matches the single-threaded result exactly and switches back to 1 thread', async () => {
    const [M, N, K] = [333, 222, 111];
    const a = randArray(M * K, 21), b = randArray(K * N, 22);
    const jobs0 = getGemmWorkerJobs();
    const par = sgemm(a, b, M, N, K, false, false);
    expect(getGemmWorkerJobs() - jobs0).toBe(1);
    expect(await setGemmThreads(1)).toBe(1);
    expect(getGemmThreads()).toBe(1);
    const seq = sgemm(a, b, M, N, K, false, false);
    expect(Array.from(par)).toEqual(Array.from(seq));
  });

  it('runs products of heap tensors on the workers in place, with the single-threaded bits', async () => {
    const heap = cpuHeap()!;
    expect(heap).not.toBeNull();
    const [M, N, K] = [300, 200, 100];
    const put = (src: Float32Array): Float32Array => {
      const a = heap.alloc('float32', src.length, 'error', 'test') as Float32Array;
      a.set(src);
      return a;
    };
    const a = put(randArray(M * K, 31)), b = put(randArray(K * N, 32));
    const par = put(new Float32Array(M * N)), seq = put(new Float32Array(M * N));
    const run = (out: Float32Array): void => heap.gemm()!.sgemm(0, 0, M, N, K, a.byteOffset, b.byteOffset, out.byteOffset, 0);
    expect(await setGemmThreads(2)).toBe(2);
    const jobs0 = getGemmWorkerJobs();
    run(par);
    // The worker thread computed its part of the product, on the heap's own memory.
    expect(getGemmWorkerJobs() - jobs0).toBe(1);
    expect(relErr(par, refGemm(a, b, M, N, K, false, false))).toBeLessThanOrEqual(1e-5);
    // Small products stay on the calling thread.
    heap.gemm()!.sgemm(0, 0, 10, 10, 10, a.byteOffset, b.byteOffset, seq.byteOffset, 0);
    expect(getGemmWorkerJobs() - jobs0).toBe(1);
    expect(await setGemmThreads(1)).toBe(1);
    run(seq);
    expect(getGemmWorkerJobs() - jobs0).toBe(1);
    expect(Array.from(par)).toEqual(Array.from(seq));
    for (const x of [a, b, par, seq]) heap.free(x);
  });

  it('rejects a bad thread count', () => {
    expect(() => setGemmThreads(0)).toThrow(/positive integer/);
  });
});

describe('wasm sgemm build variants', () => {
  const relaxedSupported = WebAssembly.validate(Uint8Array.from(atob(gemmRelaxedWasmBase64), (ch) => ch.charCodeAt(0)));

  it('uses the relaxed-SIMD (FMA) build exactly when the engine supports it', () => {
    expect(getGemmInfo().relaxedSimd).toBe(relaxedSupported);
  });

  it('plain-SIMD build can be forced and agrees with the default build', async () => {
    const [M, N, K] = [70, 90, 300];
    const a = randArray(M * K, 31), b = randArray(K * N, 32);
    const ref = refGemm(a, b, M, N, K, false, true);
    const dflt = sgemm(a, b, M, N, K, false, true);
    await setGemmRelaxedSimd(false);
    try {
      expect(getGemmInfo().relaxedSimd).toBe(false);
      const plain = sgemm(a, b, M, N, K, false, true);
      expect(relErr(plain, ref)).toBeLessThanOrEqual(1e-5);
      expect(relErr(dflt, ref)).toBeLessThanOrEqual(1e-5);
      if (!relaxedSupported) expect(Array.from(plain)).toEqual(Array.from(dflt));
    } finally {
      await setGemmRelaxedSimd(true);
    }
    expect(getGemmInfo().relaxedSimd).toBe(relaxedSupported);
  });
});

/** Bytes of a base64 string (the relaxed builds are validated from them). */
const bytesOf = (b64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
const f32 = (b64: string): Float32Array => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};

/** (|op(A)| |op(B)| + |C0|)_ij: the scale of the rounding-error bound of each output element. */
function absScale(c: RelaxedCase): Float64Array {
  const { a, b, c0 } = caseInputs(c);
  return refGemm(a.map(Math.abs), b.map(Math.abs), c.M, c.N, c.K, c.tA, c.tB, c0?.map(Math.abs));
}

/** Largest |got - want|_ij / (u (|A||B| + |C0|)_ij) over the elements, u = 2^-24: the error in units of roundoff. */
function unitsOfRoundoff(got: ArrayLike<number>, want: ArrayLike<number>, scale: Float64Array): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (d > 0) worst = Math.max(worst, d / (2 ** -24 * scale[i]!));
  }
  return worst;
}

describe('relaxed-SIMD (FMA) sgemm in a child Node with --experimental-wasm-relaxed-simd', () => {
  const suite = 'the relaxed-SIMD sgemm checks';
  // Node 22+ validates relaxed SIMD without the flag (and may not know it any more); Node 20 needs it.
  const flags = WebAssembly.validate(bytesOf(gemmRelaxedWasmBase64)) ? [] : ['--experimental-wasm-relaxed-simd'];
  let report: ChildReport;
  let dir = '';
  const plain = new Map<RelaxedCase, Float32Array>();
  let plainConv: Float32Array[] = [];

  beforeAll(async () => {
    const esbuild = await import('esbuild');
    dir = mkdtempSync(join(tmpdir(), 'iml-relaxed-'));
    const file = join(dir, 'relaxed-simd-child.mjs');
    await esbuild.build({
      entryPoints: [join(import.meta.dirname, 'relaxed-simd-child.ts')],
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: file, logLevel: 'silent',
    });
    report = JSON.parse(execFileSync(process.execPath, [...flags, file], { encoding: 'utf8', timeout: 120_000 })) as ChildReport;
    // The reference: this process's plain-SIMD build, single-threaded.
    await setGemmRelaxedSimd(false);
    try {
      expect(getGemmInfo().relaxedSimd).toBe(false);
      for (const c of [...SINGLE_CASES, ...THREADED_CASES]) plain.set(c, runCase(c));
      plainConv = CONV_CASES.map(runConvCase);
    } finally {
      await setGemmRelaxedSimd(true);
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the child engine validates both relaxed builds and the child ran them (1 thread, then 2 with a worker doing its parts)', (ctx) => {
    expect(report.execArgv).toEqual(flags);
    if (!report.single.relaxedSimd) {
      ctx.skip(skipOrFail(suite, `Node ${report.node} ${flags.join(' ')} does not validate the relaxed-SIMD gemm build`, { tag: 'gemm' }));
    }
    expect(report.single.relaxedSimd).toBe(true);
    expect(report.threaded).toMatchObject({ relaxedSimd: true, threads: 2, workerJobs: THREADED_CASES.length });
    if (flags.length > 0) {
      // Without the flag this engine refuses them, so the flag is what the child ran under.
      expect(WebAssembly.validate(bytesOf(gemmMtRelaxedWasmBase64))).toBe(false);
    }
  });

  it('relaxed results agree with the plain-SIMD build and the float64 loop element by element (every transpose mode, accumulate, 2 threads)', (ctx) => {
    if (!report.single.relaxedSimd) ctx.skip('the child engine has no relaxed SIMD (see the previous test)');
    const cases = [
      ...SINGLE_CASES.map((c, i) => ({ c, got: f32(report.single.outputs[i]!) })),
      ...THREADED_CASES.map((c, i) => ({ c, got: f32(report.threaded.outputs[i]!) })),
    ];
    expect(cases.map((x) => x.got.length)).toEqual(cases.map(({ c }) => c.M * c.N));
    let differing = 0;
    const failures: string[] = [];
    for (const { c, got } of cases) {
      const { a, b, c0 } = caseInputs(c);
      const scale = absScale(c);
      const ref = refGemm(a, b, c.M, c.N, c.K, c.tA, c.tB, c0 ?? undefined);
      const p = plain.get(c)!;
      // Each float32 result is within a few u (|A||B| + |C0|) of the exact one (blocked sums, random-walk rounding;
      // the worst case K u is far looser): 16 u against float64, 32 u between the two builds.
      const vsRef = unitsOfRoundoff(got, ref, scale);
      const vsPlain = unitsOfRoundoff(got, p, scale);
      const label = `${c.tA ? 'At' : 'A'}*${c.tB ? 'Bt' : 'B'} ${c.M}x${c.N}x${c.K}${c.acc ? ' +C0' : ''}`;
      if (!(vsRef <= 16)) failures.push(`${label}: ${vsRef.toFixed(1)} u from the float64 loop`);
      if (!(vsPlain <= 32)) failures.push(`${label}: ${vsPlain.toFixed(1)} u from the plain-SIMD build`);
      for (let i = 0; i < got.length; i++) if (got[i] !== p[i]) differing++;
    }
    console.log(`[gemm] relaxed SIMD in ${report.node} ${flags.join(' ')}: ${differing} elements differ from the plain build in the last bits (fused multiply-add)`);
    expect(failures, failures.join('\n')).toEqual([]);
  });
  it('relaxed conv dW (dot products along the pixels) agrees with the float64 loop and the plain build, and 2 threads give the 1-thread bits', (ctx) => {
    if (!report.single.relaxedSimd) ctx.skip('the child engine has no relaxed SIMD (see the first test)');
    expect(report.conv.dot).toBe(true);
    // The first two cases are large enough for the 2-thread split of dW's rows.
    expect(report.conv.workerJobs).toBeGreaterThanOrEqual(2);
    const failures: string[] = [];
    CONV_CASES.forEach((cc, i) => {
      const got = f32(report.conv.single[i]!);
      expect(f32(report.conv.threaded[i]!), `case ${i}: 2 threads`).toEqual(got);
      const { xs, ys, ws, x, gy } = convCaseInputs(cc);
      const p = { stride: cc.s, padding: cc.p };
      const ref = new Float64Array(got.length), scale = new Float64Array(got.length);
      conv2dGradWeightJs(Float64Array.from(x), xs, Float64Array.from(gy), ys, p, ref, ws);
      conv2dGradWeightJs(Float64Array.from(x, Math.abs), xs, Float64Array.from(gy, Math.abs), ys, p, scale, ws);
      const vsRef = unitsOfRoundoff(got, ref, scale), vsPlain = unitsOfRoundoff(got, plainConv[i]!, scale);
      if (!(vsRef <= 16)) failures.push(`conv case ${i}: ${vsRef.toFixed(1)} u from the float64 loop`);
      if (!(vsPlain <= 32)) failures.push(`conv case ${i}: ${vsPlain.toFixed(1)} u from the plain build`);
      // Not the plain build's bits: a different order of the same sums (lanes of 4 pixels, then fused multiply-add).
      expect(got.some((v, j) => v !== plainConv[i]![j]), `case ${i}: differs from the plain GEMM somewhere`).toBe(true);
    });
    expect(failures, failures.join('\n')).toEqual([]);
  });
});
