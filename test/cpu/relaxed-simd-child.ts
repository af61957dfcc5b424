// Child process of gemm.test.ts: bundled with esbuild and run as `node --experimental-wasm-relaxed-simd` (Node 20 only
// validates the relaxed-SIMD gemm builds with that flag), it runs the relaxed (FMA) sgemm and conv's grad-weight single-
// and multi-threaded and prints its outputs as JSON on stdout. The parent checks them against the plain SIMD build and a float64 loop.
import { fileURLToPath } from 'node:url';
import { getGemmInfo, getGemmWorkerJobs, initGemm, setGemmThreads, sgemm } from '../../src/backend/cpu/wasm-gemm.js';
import { conv2dGradWeightKernel } from '../../src/backend/cpu/conv2d.js';
import { cpuHeap } from '../../src/backend/cpu/wasm-heap.js';
import { convOutputSize } from '../../src/core/primitives.js';

/** Deterministic uniform values in [-1, 1) (xorshift32). */
export function randArray(n: number, seed: number): Float32Array {
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

export interface RelaxedCase {
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
  /** Accumulate into randArray(M * N, seed + 2). */
  acc: boolean;
  seed: number;
}

/** Single-threaded cases (odd shapes, every transpose mode, accumulate) and products large enough to be split over 2 threads. */
export const SINGLE_CASES: RelaxedCase[] = [
  [3, 5, 7], [17, 33, 65], [128, 10, 784], [63, 70, 257], [1, 300, 1],
].flatMap(([M, N, K], i) => [false, true].flatMap((tA) => [false, true].map((tB) => ({ M, N, K, tA, tB, acc: (i + Number(tA)) % 2 === 1, seed: 100 + 10 * i }))));
export const THREADED_CASES: RelaxedCase[] = [
  { M: 300, N: 200, K: 100, tA: false, tB: false, acc: false, seed: 500 },
  { M: 5, N: 1000, K: 500, tA: true, tB: false, acc: true, seed: 510 },
  { M: 257, N: 129, K: 65, tA: false, tB: true, acc: false, seed: 520 },
];

/** A case's inputs: A, B and the accumulator C0 (or null). */
export function caseInputs(c: RelaxedCase): { a: Float32Array; b: Float32Array; c0: Float32Array | null } {
  return { a: randArray(c.M * c.K, c.seed), b: randArray(c.K * c.N, c.seed + 1), c0: c.acc ? randArray(c.M * c.N, c.seed + 2) : null };
}

export function runCase(c: RelaxedCase): Float32Array {
  const { a, b, c0 } = caseInputs(c);
  if (c0 === null) return sgemm(a, b, c.M, c.N, c.K, c.tA, c.tB);
  const out = Float32Array.from(c0);
  sgemm(a, b, c.M, c.N, c.K, c.tA, c.tB, out, true);
  return out;
}

/** A conv2d grad-weight case (NCHW x, OIHW dW): the relaxed builds run it as dot products along the pixels (dwDot). */
export interface ConvCase {
  n: number; c: number; o: number; h: number; w: number; k: [number, number]; s: [number, number]; p: [number, number]; seed: number;
}

export const CONV_CASES: ConvCase[] = [
  // The benchmark's layer (3 -> 32, 32x32, 3x3 p1: 1024 pixels, a multiple of 4), large enough for 2 threads.
  { n: 3, c: 3, o: 32, h: 32, w: 32, k: [3, 3], s: [1, 1], p: [1, 1], seed: 700 },
  // 441 pixels (a tail of 1 past the vectors), K = 72 rows, 9 output channels (edge tiles of 1), on 2 threads.
  { n: 8, c: 8, o: 9, h: 21, w: 21, k: [3, 3], s: [1, 1], p: [1, 1], seed: 710 },
  // Stride 2 and a pointwise conv (the image read as its columns), odd sizes, one thread.
  { n: 2, c: 5, o: 7, h: 9, w: 11, k: [3, 3], s: [2, 2], p: [1, 1], seed: 720 },
  { n: 2, c: 6, o: 5, h: 5, w: 7, k: [1, 1], s: [1, 1], p: [0, 0], seed: 730 },
];

/** A conv case's shapes and inputs (x, gy). */
export function convCaseInputs(cc: ConvCase): { xs: number[]; ys: number[]; ws: number[]; x: Float32Array; gy: Float32Array } {
  const ho = convOutputSize(cc.h, cc.k[0], cc.s[0], cc.p[0]), wo = convOutputSize(cc.w, cc.k[1], cc.s[1], cc.p[1]);
  const xs = [cc.n, cc.c, cc.h, cc.w], ys = [cc.n, cc.o, ho, wo], ws = [cc.o, cc.c, cc.k[0], cc.k[1]];
  return { xs, ys, ws, x: randArray(cc.n * cc.c * cc.h * cc.w, cc.seed), gy: randArray(cc.n * cc.o * ho * wo, cc.seed + 1) };
}

/** dW of a conv case with its operands on the CPU tensor heap (where conv runs on threads). */
export function runConvCase(cc: ConvCase): Float32Array {
  const { xs, ys, ws, x, gy } = convCaseInputs(cc);
  const heap = cpuHeap()!;
  const onHeap = (src: Float32Array): Float32Array => {
    const a = heap.alloc('float32', src.length, 'error', 'relaxed conv case') as Float32Array;
    a.set(src);
    return a;
  };
  const dw = onHeap(new Float32Array(ws.reduce((a, b) => a * b, 1)).fill(NaN));
  conv2dGradWeightKernel(onHeap(x), xs, onHeap(gy), ys, { stride: cc.s, padding: cc.p }, dw, ws);
  return Float32Array.from(dw);
}

export interface ChildReport {
  node: string;
  execArgv: string[];
  single: { relaxedSimd: boolean; outputs: string[] };
  threaded: { relaxedSimd: boolean; threads: number; workerJobs: number; outputs: string[] };
  /** conv dW on the heap: whether its conv build is the FMA one (dwDot), each case on 1 and on 2 threads. */
  conv: { dot: boolean; single: string[]; threaded: string[]; workerJobs: number };
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

async function main(): Promise<void> {
  await initGemm();
  const single = { relaxedSimd: getGemmInfo().relaxedSimd, outputs: SINGLE_CASES.map((c) => b64(runCase(c))) };
  const convSingle = CONV_CASES.map((c) => b64(runConvCase(c)));
  const threads = await setGemmThreads(2);
  const jobs0 = getGemmWorkerJobs();
  const outputs = THREADED_CASES.map((c) => b64(runCase(c)));
  const threaded = { relaxedSimd: getGemmInfo().relaxedSimd, threads, workerJobs: getGemmWorkerJobs() - jobs0, outputs };
  const jobs1 = getGemmWorkerJobs();
  const convThreaded = CONV_CASES.map((c) => b64(runConvCase(c)));
  const conv = { dot: cpuHeap()!.gemm()!.conv.usesRelaxedSimd() === 1, single: convSingle, threaded: convThreaded, workerJobs: getGemmWorkerJobs() - jobs1 };
  await setGemmThreads(1);
  const report: ChildReport = { node: process.version, execArgv: process.execArgv, single, threaded, conv };
  process.stdout.write(JSON.stringify(report));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
