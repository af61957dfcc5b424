// Child process of gemm.test.ts: bundled with esbuild and run as `node --experimental-wasm-relaxed-simd` (Node 20 only
// validates the relaxed-SIMD gemm builds with that flag), it runs the relaxed (FMA) sgemm single- and multi-threaded
// and prints its outputs as JSON on stdout. The parent checks them against the plain SIMD build and a float64 loop.
import { fileURLToPath } from 'node:url';
import { getGemmInfo, getGemmWorkerJobs, initGemm, setGemmThreads, sgemm } from '../../src/backend/cpu/wasm-gemm.js';

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

export interface ChildReport {
  node: string;
  execArgv: string[];
  single: { relaxedSimd: boolean; outputs: string[] };
  threaded: { relaxedSimd: boolean; threads: number; workerJobs: number; outputs: string[] };
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

async function main(): Promise<void> {
  await initGemm();
  const single = { relaxedSimd: getGemmInfo().relaxedSimd, outputs: SINGLE_CASES.map((c) => b64(runCase(c))) };
  const threads = await setGemmThreads(2);
  const jobs0 = getGemmWorkerJobs();
  const outputs = THREADED_CASES.map((c) => b64(runCase(c)));
  const threaded = { relaxedSimd: getGemmInfo().relaxedSimd, threads, workerJobs: getGemmWorkerJobs() - jobs0, outputs };
  await setGemmThreads(1);
  const report: ChildReport = { node: process.version, execArgv: process.execArgv, single, threaded };
  process.stdout.write(JSON.stringify(report));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
