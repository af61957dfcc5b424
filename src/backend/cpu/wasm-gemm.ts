// Float32 matrix multiply for the CPU backend, running the AssemblyScript Wasm SIMD kernel (assembly/gemm.ts), optionally on worker threads in Node.
import { decodeBase64 } from '../../util/base64.js';
import { gemmWasmBase64 } from '../../generated/gemm.wasm.js';
import { gemmRelaxedWasmBase64 } from '../../generated/gemm-relaxed.wasm.js';
import { gemmMtWasmBase64 } from '../../generated/gemm-mt.wasm.js';
import { gemmMtRelaxedWasmBase64 } from '../../generated/gemm-mt-relaxed.wasm.js';
import { convWasmBase64 } from '../../generated/conv.wasm.js';
import { convMtWasmBase64 } from '../../generated/conv-mt.wasm.js';
import { convRelaxedWasmBase64 } from '../../generated/conv-relaxed.wasm.js';
import { convMtRelaxedWasmBase64 } from '../../generated/conv-mt-relaxed.wasm.js';
import { CONV_ARGS, CONV_RANGE_SOURCE, convRange } from './conv-range.js';
import { ELEMENTWISE_RANGE_SOURCE, EW_ARGS, elementwiseRange } from './elementwise-range.js';
import type { ElementwiseExports } from './wasm-heap.js';

/** Raw exports of the gemm Wasm module (pointers are byte offsets into `memory`). */
interface GemmExports {
  readonly memory: WebAssembly.Memory;
  usesRelaxedSimd(): number;
  maxSlots(): number;
  userBase(): number;
  ensureCapacity(bytes: number): number;
  sgemm(
    transA: number, transB: number, M: number, N: number, K: number,
    aPtr: number, bPtr: number, cPtr: number, accumulate: number,
  ): void;
  sgemmRange(
    transA: number, transB: number, M: number, N: number, K: number,
    aPtr: number, bPtr: number, cPtr: number, accumulate: number,
    m0: number, m1: number, n0: number, n1: number, slot: number,
  ): void;
  kBlock(K: number): number;
  panelWidth(): number;
  sgemmPacked(M: number, N: number, K: number, aPtr: number, bPacked: number, cPtr: number, accumulate: number, slot: number): void;
}

/** assembly/conv.ts, instantiated on a GEMM module's memory: one image's im2col into `cols` and its adjoint (col2im overwrites `out`). */
export interface ConvExports {
  im2col(x: number, c: number, h: number, w: number, kh: number, kw: number, ho: number, wo: number,
    sh: number, sw: number, ph: number, pw: number, cols: number): void;
  col2im(cols: number, c: number, h: number, w: number, kh: number, kw: number, ho: number, wo: number,
    sh: number, sw: number, ph: number, pw: number, out: number): void;
  im2colPacked(x: number, c: number, h: number, w: number, kh: number, kw: number, ho: number, wo: number,
    sh: number, sw: number, ph: number, pw: number, kcBlk: number, row: number, cols: number): void;
  /** dst[j, i] = src[i, j] for src rows x cols floats. */
  transpose(src: number, rows: number, cols: number, dst: number): void;
  /** 1 in the relaxed-SIMD (fused multiply-add) builds, which conv's dW runs through dwDot; 0 in the plain ones. */
  usesRelaxedSimd(): number;
  /** dWᵀ[kk, o] (+)= Σ_p cols[kk, p] · gy[o, p] for kk < K, o in [o0, o1), one image (assembly/conv.ts). */
  dwDot(cols: number, gy: number, K: number, O: number, hw: number, out: number, accumulate: number, o0: number, o1: number): void;
}

/** The conv module writes the GEMM's packed-B panels itself (im2colPacked): both must use this panel width. */
export const CONV_PANEL_WIDTH = 8;

/** C = A B with B in the packed layout (im2colPacked), single-threaded; null if the GEMM build's panels differ. */
export interface PackedGemm {
  kBlock(K: number): number;
  run(M: number, N: number, K: number, aPtr: number, bPacked: number, cPtr: number): void;
}

function packedOf(g: GemmExports): PackedGemm | null {
  if (g.panelWidth() !== CONV_PANEL_WIDTH) return null;
  return {
    kBlock: (K) => g.kBlock(K),
    run: (M, N, K, a, b, c) => g.sgemmPacked(M, N, K, a, b, c, 0, 0),
  };
}

/** The conv module bound to each GEMM instance's memory. It is under 4 KiB (and the GEMM module too), so
 * browsers' main threads may compile both synchronously. */
const convInstances = new WeakMap<GemmExports, ConvExports>();
function convFor(gemm: GemmExports, memory: WebAssembly.Memory, shared: boolean): ConvExports {
  let c = convInstances.get(gemm);
  if (!c) {
    // The conv build of the GEMM build's kind: fused multiply-add in both or in neither.
    const relaxed = gemm.usesRelaxedSimd() === 1;
    const module = new WebAssembly.Module(decodeBase64(shared ? (relaxed ? convMtRelaxedWasmBase64 : convMtWasmBase64) : (relaxed ? convRelaxedWasmBase64 : convWasmBase64)));
    c = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ConvExports;
    convInstances.set(gemm, c);
  }
  return c;
}


// ---------------------------------------------------------------------------
// Variant selection: every module comes in a plain-SIMD build and a relaxed-SIMD build (fused
// multiply-add, ~1.3x faster). The relaxed one is used where the engine validates it (Chrome 114+,
// Node 22+; not Node 20 without --experimental-wasm-relaxed-simd) unless setGemmRelaxedSimd(false).
// ---------------------------------------------------------------------------

let allowRelaxed = true;
const validated = new Map<string, boolean>();

function relaxedValid(b64: string): boolean {
  let ok = validated.get(b64);
  if (ok === undefined) {
    try {
      ok = WebAssembly.validate(decodeBase64(b64));
    } catch {
      ok = false;
    }
    validated.set(b64, ok);
  }
  return ok;
}

/** Bytes of the variant to use: relaxed where allowed and supported, else plain. */
function pickBytes(plain: string, relaxed: string): Uint8Array<ArrayBuffer> {
  return decodeBase64(allowRelaxed && relaxedValid(relaxed) ? relaxed : plain);
}

/** sgemm and im2col/col2im bound to a shared memory of the caller's (the CPU tensor heap): operands are pointers into it. */
export interface BoundGemm {
  /**
   * C = op(A) op(B) on pointers (see sgemm): on the worker threads of setGemmThreads when this is the memory
   * registered with setThreadedMemory and the product is large enough, else on the calling thread.
   */
  sgemm(transA: number, transB: number, M: number, N: number, K: number, aPtr: number, bPtr: number, cPtr: number, accumulate: number): void;
  readonly conv: ConvExports;
  readonly packed: PackedGemm | null;
  /** Bytes at the start of the memory the GEMM keeps for its packing scratch: nothing else may live below. */
  readonly userBase: number;
}

const bound = new WeakMap<WebAssembly.Memory, Map<string, BoundGemm>>();

/**
 * The shared-memory GEMM build (relaxed or plain SIMD, as sgemm picks now) and the conv module instantiated on
 * `memory`, once per memory and variant. Throws when the memory does not fit the build's declared limits
 * (shared, at most 32768 pages).
 */
export function gemmOnMemory(memory: WebAssembly.Memory): BoundGemm {
  const relaxed = allowRelaxed && relaxedValid(gemmMtRelaxedWasmBase64);
  const key = relaxed ? 'relaxed' : 'plain';
  let perMemory = bound.get(memory);
  if (!perMemory) bound.set(memory, (perMemory = new Map()));
  let b = perMemory.get(key);
  if (!b) {
    const g = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(relaxed ? gemmMtRelaxedWasmBase64 : gemmMtWasmBase64)), { env: { memory } })
      .exports as unknown as GemmExports;
    const conv = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(relaxed ? convMtRelaxedWasmBase64 : convMtWasmBase64)), { env: { memory } }).exports as unknown as ConvExports;
    const single = g.sgemm;
    b = {
      sgemm: (tA, tB, M, N, K, a, bp, c, acc) => {
        const pool = memoryPool(memory);
        if (pool !== null && M > 0 && N > 0 && M * N * K >= PARALLEL_MIN_MACS) runParallel(pool, tA, tB, M, N, K, a, bp, c, acc);
        else single(tA, tB, M, N, K, a, bp, c, acc);
      },
      conv, packed: packedOf(g), userBase: g.userBase(),
    };
    perMemory.set(key, b);
  }
  return b;
}

// ---------------------------------------------------------------------------
// Single-threaded module (works everywhere).
// ---------------------------------------------------------------------------

let stExports: GemmExports | null = null;
let stInit: Promise<void> | null = null;

/** Compiles and instantiates the module asynchronously (required on browser main threads). Idempotent. */
export async function initGemm(): Promise<void> {
  if (stExports) return;
  if (!stInit) {
    const bytes = pickBytes(gemmWasmBase64, gemmRelaxedWasmBase64);
    const pending: Promise<void> = WebAssembly.instantiate(bytes, {}).then(({ instance }) => {
      // Ignore a result made stale by setGemmRelaxedSimd while compiling.
      if (!stExports && stInit === pending) stExports = instance.exports as unknown as GemmExports;
    });
    stInit = pending;
    pending.catch(() => {
      if (stInit === pending) stInit = null;
    });
  }
  await stInit;
}

/** The instance, instantiated synchronously (fine in Node and workers) if initGemm was not awaited. */
function singleThreaded(): GemmExports {
  if (!stExports) {
    const module = new WebAssembly.Module(pickBytes(gemmWasmBase64, gemmRelaxedWasmBase64));
    stExports = new WebAssembly.Instance(module, {}).exports as unknown as GemmExports;
  }
  return stExports;
}

/** Whether the module is instantiated (sgemm will not need to compile synchronously). */
export function gemmReady(): boolean {
  return stExports !== null;
}

// ---------------------------------------------------------------------------
// Multi-threaded path (Node only): a shared-memory build of the same kernel, instantiated on the
// main thread and on `threads - 1` worker_threads. Each call splits C into `threads` blocks (by rows
// or columns); the main thread computes one and waits for the workers with Atomics.wait.
// ---------------------------------------------------------------------------

/** Pages of the shared memory: must match asconfig.json target "gemm-mt" (initialMemory/maximumMemory). */
const MT_INITIAL_PAGES = 16;
const MT_MAXIMUM_PAGES = 32768;
/** Int32 words of control block per worker. */
const CTRL_WORDS = 32;
// Control block layout (Int32 indices).
const C_SEQ = 0; // job sequence number posted by the main thread; -1 asks the worker to exit
const C_DONE = 1; // last finished sequence number, written by the worker
const C_STATUS = 2; // 0 ok, 1 the job threw in the worker (which logs it to stderr)
const C_JOBS = 3; // jobs this worker completed without an error, counted by the worker itself
const C_KIND = 4; // 0: sgemmRange; 1: a conv share (convRange); 2: an elementwise share (elementwiseRange)
const C_ARGS = 5; // 14 sgemmRange arguments, CONV_ARGS convRange arguments or EW_ARGS elementwiseRange arguments
/**
 * Waits on the control block are timed, and re-check the value: in Node 20 a notify is lost about once in a few
 * thousand products (measured: 1 of 3000 128x128 products waited out a 1000 ms timeout though its worker had
 * finished), so a lost wake-up must cost a short poll interval, not a long timeout.
 */
const MAIN_POLL_MS = 1;
const WORKER_POLL_MS = 20;
/** Spins on the done flag before sleeping: the worker's part takes about as long as the main thread's. */
const SPIN_CHECKS = 2000;
/**
 * After a job, a worker keeps polling for the next one this long before it sleeps. The ops of one training step
 * follow each other within microseconds, and waking a sleeping thread costs far more here (a halted virtual CPU:
 * measured, an elementwise pass over 623k floats took 0.29 ns per value on 2 threads against 0.17 on one when its
 * worker slept between passes). OpenMP pools spin the same way (KMP_BLOCKTIME, 200 ms by default); this is shorter.
 */
const WORKER_SPIN_MS = 2;
/** Below this many multiply-adds the wake-up cost (~tens of microseconds) outweighs a second thread. */
const PARALLEL_MIN_MACS = 1 << 21;

/** Worker body (CommonJS, run with eval): instantiates the shared module and serves jobs from its control block. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, convModule, kernelsModule, memory, ctrl, offset } = workerData;
const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
const cv = convModule ? new WebAssembly.Instance(convModule, { env: { memory } }).exports : null;
const hk = kernelsModule ? new WebAssembly.Instance(kernelsModule, { env: { memory } }).exports : null;
const c = new Int32Array(ctrl, offset, ${CTRL_WORDS});
const convRange = new Function('g', 'cv', 'a', ${JSON.stringify(CONV_RANGE_SOURCE)});
const elementwiseRange = new Function('k', 'a', ${JSON.stringify(ELEMENTWISE_RANGE_SOURCE)});
let seq = 0;
let spinning = false;
parentPort.postMessage('ready');
for (;;) {
  // Poll for a while after the last job (see WORKER_SPIN_MS), then sleep; timed, so a wake-up lost by the engine
  // costs at most ${WORKER_POLL_MS} ms (see runParallel).
  let s = Atomics.load(c, ${C_SEQ});
  if (s === seq && spinning) {
    const until = performance.now() + ${WORKER_SPIN_MS};
    while ((s = Atomics.load(c, ${C_SEQ})) === seq && performance.now() < until);
  }
  spinning = false;
  if (s === seq) {
    Atomics.wait(c, ${C_SEQ}, seq, ${WORKER_POLL_MS});
    s = Atomics.load(c, ${C_SEQ});
    if (s === seq) continue;
  }
  if (s < 0) break;
  seq = s;
  let status = 0;
  try {
    const a = ${C_ARGS};
    if (c[${C_KIND}] === 1) convRange(e, cv, c.subarray(a, a + ${CONV_ARGS}));
    else if (c[${C_KIND}] === 2) elementwiseRange(hk, c.subarray(a, a + ${EW_ARGS}));
    else e.sgemmRange(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5] >>> 0, c[a + 6] >>> 0, c[a + 7] >>> 0,
      c[a + 8], c[a + 9], c[a + 10], c[a + 11], c[a + 12], c[a + 13]);
  } catch (err) {
    status = 1;
    console.error('gemm worker failed:', err);
  }
  c[${C_STATUS}] = status;
  if (status === 0) Atomics.add(c, ${C_JOBS}, 1);
  Atomics.store(c, ${C_DONE}, seq);
  Atomics.notify(c, ${C_DONE});
  spinning = true;
}
`;

interface NodeWorker {
  postMessage(v: unknown): void;
  once(ev: 'message', fn: (msg: unknown) => void): void;
  once(ev: 'error', fn: (err: Error) => void): void;
  once(ev: 'exit', fn: (code: number) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
type WorkerCtor = new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker;

interface MtState {
  exports: GemmExports;
  /** The conv module the workers instantiated (pools on the tensor heap), or null. */
  convModule: WebAssembly.Module | null;
  /** The heap's elementwise kernel module the workers instantiated (pools on the tensor heap), or null. */
  kernelsModule: WebAssembly.Module | null;
  memory: WebAssembly.Memory;
  ctrl: Int32Array; // CTRL_WORDS per worker
  workers: NodeWorker[];
  seq: number;
  /** Set when a worker exits unexpectedly; sgemm then falls back to one thread. */
  broken: boolean;
  stopping: boolean;
}

let mt: MtState | null = null;
/**
 * The same worker threads' counterpart on the CPU tensor heap's memory: workers that instantiate the GEMM on that
 * memory, so products of heap tensors run threaded in place (no copies into mt's memory).
 */
let heapPool: MtState | null = null;
/** A shared memory whose tensors worker threads work on in place, and the heap's compiled kernel module bound to it. */
interface ThreadedMemory {
  memory: WebAssembly.Memory;
  kernels: WebAssembly.Module;
}
/** The CPU tensor heap's memory and kernel module, made on demand (registered by wasm-heap.ts; null: none). */
let threadedMemory: (() => ThreadedMemory | null) | null = null;
let threads = 1;

/**
 * Registers the memory whose products, conv and elementwise passes run on worker threads too (the CPU tensor heap's,
 * with its kernel module, which the workers instantiate instead of compiling their own): `get` is called when the
 * thread count changes and may create it. Pools for it start with the next setGemmThreads.
 */
export function setThreadedMemory(get: () => ThreadedMemory | null): void {
  threadedMemory = get;
}

/** The running pool on `memory`, or null (a pool whose worker exited is dropped here). */
function memoryPool(memory: WebAssembly.Memory): MtState | null {
  if (heapPool === null || heapPool.memory !== memory) return null;
  if (heapPool.broken) {
    const dead = heapPool;
    heapPool = null;
    console.warn('sgemm: a gemm worker thread of the tensor heap exited; its products continue single-threaded');
    stopWorkers(dead).catch(() => undefined);
    return null;
  }
  return heapPool;
}
let threadChange: Promise<number> = Promise.resolve(1);

/** Current number of threads sgemm uses for large products (1 unless setGemmThreads enabled more). */
export function getGemmThreads(): number {
  return threads;
}

/** Which build is active: relaxedSimd (fused multiply-add) and the thread count for large products. */
export function getGemmInfo(): { relaxedSimd: boolean; threads: number } {
  return { relaxedSimd: (mt?.exports ?? singleThreaded()).usesRelaxedSimd() !== 0, threads };
}

/**
 * Allows (default) or forbids the relaxed-SIMD build. Fused multiply-add rounds once instead of twice,
 * so results differ in the last bits between engines with and without it; forbid it for bit-identical
 * results everywhere. The single-threaded module switches at once; running worker threads are restarted
 * (await the returned promise before relying on the threaded path).
 */
export function setGemmRelaxedSimd(allow: boolean): Promise<number> {
  if (allow === allowRelaxed) return threadChange.catch(() => threads);
  allowRelaxed = allow;
  stExports = null;
  stInit = null;
  return changeThreads(threads, true);
}

/** True when worker threads with shared Wasm memory can be used (Node with worker_threads). */
function threadsSupported(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof SharedArrayBuffer !== 'undefined' && typeof Atomics !== 'undefined' && !!proc?.versions?.node;
}

/** Worker jobs completed by thread pools that have been stopped. */
let retiredWorkerJobs = 0;

/** sgemm parts completed by worker threads since the process started, as the workers count them (tests, diagnostics). */
export function getGemmWorkerJobs(): number {
  let n = retiredWorkerJobs;
  for (const pool of [mt, heapPool]) {
    if (pool) for (let w = 0; w < pool.workers.length; w++) n += Atomics.load(pool.ctrl, w * CTRL_WORDS + C_JOBS);
  }
  return n;
}

async function stopWorkers(state: MtState): Promise<void> {
  for (let w = 0; w < state.workers.length; w++) retiredWorkerJobs += Atomics.load(state.ctrl, w * CTRL_WORDS + C_JOBS);
  state.stopping = true;
  for (let w = 0; w < state.workers.length; w++) {
    const c = state.ctrl.subarray(w * CTRL_WORDS, (w + 1) * CTRL_WORDS);
    Atomics.store(c, C_SEQ, -1);
    Atomics.notify(c, C_SEQ);
  }
  // A worker that does not confirm its exit in time is left to the process (workers are unref'd).
  await Promise.all(state.workers.map((w) => withTimeout(w.terminate(), WORKER_STOP_MS, '').catch(() => undefined)));
}

const WORKER_START_MS = 20_000;
const WORKER_STOP_MS = 5_000;
/** Longest a gemm call waits for a worker's part before declaring the thread pool broken. */
const WORKER_JOB_MS = 60_000;

/** Rejects with `message` when `p` has not settled after `ms` (the timer does not keep the process alive). */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    (timer as { unref?: () => void }).unref?.();
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (e: unknown) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Starts n - 1 workers and the main thread's instance on `memory` (the GEMM's own shared memory when not given). */
async function startThreads(n: number, onHeap?: ThreadedMemory): Promise<MtState> {
  // Keep the specifier opaque to browser bundlers; this path only runs in Node.
  const specifier = 'node:worker_threads';
  const { Worker } = (await import(/* @vite-ignore */ specifier)) as { Worker: WorkerCtor };
  const module = await WebAssembly.compile(pickBytes(gemmMtWasmBase64, gemmMtRelaxedWasmBase64));
  const memory = onHeap?.memory ?? new WebAssembly.Memory({ initial: MT_INITIAL_PAGES, maximum: MT_MAXIMUM_PAGES, shared: true });
  // Workers on the tensor heap also run conv shares, and elementwise shares with the heap's own kernel module.
  // The conv build of the GEMM build's kind (pickBytes decides both the same way).
  const convModule = onHeap ? await WebAssembly.compile(pickBytes(convMtWasmBase64, convMtRelaxedWasmBase64)) : null;
  const kernelsModule = onHeap?.kernels ?? null;
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as GemmExports;
  const nWorkers = Math.min(n, exports.maxSlots()) - 1;
  const ctrlBuf = new SharedArrayBuffer(Math.max(1, nWorkers) * CTRL_WORDS * 4);
  const ctrl = new Int32Array(ctrlBuf);
  const workers: NodeWorker[] = [];
  try {
    for (let w = 0; w < nWorkers; w++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, convModule, kernelsModule, memory, ctrl: ctrlBuf, offset: w * CTRL_WORDS * 4 },
      });
      workers.push(worker);
      await withTimeout(new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`gemm worker exited during startup (code ${code})`)));
      }), WORKER_START_MS, `gemm worker ${w + 1} did not start within ${WORKER_START_MS} ms`);
      worker.unref(); // idle workers must not keep the process alive
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  const state: MtState = { exports, convModule, kernelsModule, memory, ctrl, workers, seq: 0, broken: false, stopping: false };
  for (const w of workers) {
    w.once('exit', () => {
      if (!state.stopping) state.broken = true;
    });
  }
  return state;
}

/**
 * Sets how many threads sgemm uses for large products (Node only: worker_threads + shared Wasm memory).
 * Resolves to the count in effect: 1 where SharedArrayBuffer/worker_threads are unavailable (browsers,
 * including cross-origin-isolated ones, since their main thread cannot Atomics.wait). At most 8.
 */
export function setGemmThreads(n: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setGemmThreads: n must be a positive integer, got ${n}`);
  return changeThreads(n, false);
}

/** Serializes thread-count changes; restarts the workers when `restart` even if the count is unchanged. */
function changeThreads(n: number, restart: boolean): Promise<number> {
  threadChange = threadChange.catch(() => threads).then(async () => {
    const want = threadsSupported() ? n : 1;
    if (want === threads && !(restart && mt)) return threads;
    const old = [mt, heapPool];
    mt = null;
    heapPool = null;
    threads = 1;
    for (const pool of old) if (pool) await stopWorkers(pool);
    if (want > 1) {
      mt = await startThreads(want);
      const onHeap = threadedMemory?.() ?? null;
      if (onHeap !== null) {
        try {
          heapPool = await startThreads(want, onHeap);
        } catch (err) {
          // The GEMM's own pool still runs; heap products stay on one thread.
          console.warn(`setGemmThreads: no worker threads on the tensor heap (${(err as Error).message})`);
        }
      }
      threads = mt.workers.length + 1;
    }
    return threads;
  });
  return threadChange;
}

/** Splits [0, n) into `parts` contiguous ranges with boundaries on multiples of `mult` (the cuts, first 0, last n). */
export function splitRange(n: number, parts: number, mult: number): number[] {
  const cuts = [0];
  for (let p = 1; p < parts; p++) {
    const cut = Math.min(n, Math.round((n * p) / parts / mult) * mult);
    cuts.push(Math.max(cut, cuts[cuts.length - 1]!));
  }
  cuts.push(n);
  return cuts;
}

function runParallel(
  st: MtState, tA: number, tB: number, M: number, N: number, K: number,
  aPtr: number, bPtr: number, cPtr: number, acc: number,
): void {
  const T = st.workers.length + 1;
  // Each thread packs all of the operand that is not split: split the larger of M and N.
  const byRows = M >= N;
  // Column cuts on 16-float (64-byte) boundaries so threads never write the same cache line of a C row.
  const cuts = byRows ? splitRange(M, T, 4) : splitRange(N, T, 16);
  const share = (w: number): number[] => byRows ? [cuts[w]!, cuts[w + 1]!, 0, N] : [0, M, cuts[w]!, cuts[w + 1]!];
  dispatch(st, 'sgemm', (w) => [0, [tA, tB, M, N, K, aPtr | 0, bPtr | 0, cPtr | 0, acc, ...share(w), w]], () => {
    const [m0, m1, n0, n1] = share(0);
    st.exports.sgemmRange(tA, tB, M, N, K, aPtr, bPtr, cPtr, acc, m0!, m1!, n0!, n1!, 0);
  });
}

/** The number of threads conv shares run on for tensors in `memory`: the heap pool's, or 1. */
export function convThreadsOn(memory: WebAssembly.Memory): number {
  const pool = memoryPool(memory);
  return pool !== null && pool.convModule !== null ? pool.workers.length + 1 : 1;
}

/**
 * Runs conv shares (see convRange) on the heap pool of `memory`: shares[t] for thread t, t = 0 on the caller with
 * `conv` (the conv module on that memory). The caller sized `shares` with convThreadsOn(memory).
 */
export function runConvShares(memory: WebAssembly.Memory, conv: ConvExports, shares: readonly number[][]): void {
  const pool = memoryPool(memory);
  if (pool === null || pool.convModule === null || shares.length !== pool.workers.length + 1) {
    throw new Error(`runConvShares: ${shares.length} shares for ${pool ? pool.workers.length + 1 : 1} thread(s)`);
  }
  dispatch(pool, 'conv', (w) => [1, shares[w]!], () => convRange(pool.exports, conv, shares[0]!));
}

/** The number of threads elementwise shares run on for tensors in `memory`: the heap pool's, or 1. */
export function elementwiseThreadsOn(memory: WebAssembly.Memory): number {
  const pool = memoryPool(memory);
  return pool !== null && pool.kernelsModule !== null ? pool.workers.length + 1 : 1;
}

/**
 * Runs an elementwise pass (`args`: elementwiseArgs, the share [0, n)) on the heap pool of `memory`, split into
 * one contiguous share per thread on 16-element boundaries; share 0 runs here with `kernels` (the heap's instance).
 */
export function runElementwiseShares(memory: WebAssembly.Memory, kernels: ElementwiseExports, args: readonly number[]): void {
  const pool = memoryPool(memory);
  if (pool === null || pool.kernelsModule === null) throw new Error('runElementwiseShares: no worker threads on this memory');
  const cuts = splitRange(args[3]!, pool.workers.length + 1, 16);
  const share = (w: number): number[] => {
    const a = args.slice();
    a[2] = cuts[w]!;
    a[3] = cuts[w + 1]!;
    return a;
  };
  dispatch(pool, 'elementwise', (w) => [2, share(w)], () => elementwiseRange(kernels, share(0)));
}

/** Posts job `job(w)` ([kind, args]) to each worker w, runs `main` here, then waits for every worker's part. */
function dispatch(st: MtState, what: string, job: (w: number) => [number, number[]], main: () => void): void {
  const T = st.workers.length + 1;
  const seq = ++st.seq;
  for (let w = 1; w < T; w++) {
    const c = st.ctrl.subarray((w - 1) * CTRL_WORDS, w * CTRL_WORDS);
    const [kind, args] = job(w);
    c[C_KIND] = kind;
    c.set(args, C_ARGS);
    Atomics.store(c, C_SEQ, seq);
    Atomics.notify(c, C_SEQ);
  }
  let mainError: unknown = null;
  try {
    main();
  } catch (err) {
    mainError = err;
  }
  let failed = false;
  for (let w = 1; w < T; w++) {
    const c = st.ctrl.subarray((w - 1) * CTRL_WORDS, w * CTRL_WORDS);
    for (let i = 0; i < SPIN_CHECKS && Atomics.load(c, C_DONE) !== seq; i++);
    const deadline = Date.now() + WORKER_JOB_MS;
    while (Atomics.load(c, C_DONE) !== seq) {
      if (Date.now() > deadline) {
        st.broken = true;
        throw new Error(`${what}: gemm worker ${w} did not finish its part within ${WORKER_JOB_MS} ms; the thread pool is abandoned (next calls use 1 thread)`);
      }
      Atomics.wait(c, C_DONE, Atomics.load(c, C_DONE), MAIN_POLL_MS);
    }
    if (c[C_STATUS] !== 0) failed = true;
  }
  if (mainError) throw mainError;
  if (failed) throw new Error(`${what}: a gemm worker thread failed (see stderr)`);
}

// ---------------------------------------------------------------------------
// Public entry point.
// ---------------------------------------------------------------------------

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`sgemm: ${name} must be a non-negative integer, got ${v}`);
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Scratch in the GEMM module's memory for kernels that keep their operands there (conv2d). */
export interface GemmArena {
  /** im2col / col2im working in this memory. */
  readonly conv: ConvExports;
  /** The packed-B product on this memory (one thread; below the size where sgemm uses the workers anyway). */
  readonly packed: PackedGemm | null;
  /** Byte address of the first of the `bytes` bytes asked for (16-byte aligned). */
  readonly base: number;
  /** A float32 view of memory (re-created per call: views die when memory grows). */
  f32(ptr: number, length: number): Float32Array;
  /** sgemm on pointers into this memory (see sgemm), on the worker threads when enabled and large enough. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, aPtr: number, bPtr: number, cPtr: number, accumulate: boolean): void;
}

/** A pool whose worker thread exited is stopped and forgotten: later calls run single-threaded. */
function dropBrokenPool(): void {
  if (!mt?.broken) return;
  const dead = mt;
  mt = null;
  threads = 1;
  console.warn('sgemm: a gemm worker thread exited; continuing single-threaded');
  stopWorkers(dead).catch(() => undefined);
}

/**
 * Reserves `bytes` bytes after the GEMM scratch of the module sgemm uses (the threaded one when
 * setGemmThreads enabled it); valid until the next call that reserves again (sgemm included).
 * `what` names the caller in the error thrown when the Wasm memory cannot hold it.
 */
export function gemmArena(bytes: number, what: string): GemmArena {
  dropBrokenPool();
  const par = mt;
  const w = par ? par.exports : singleThreaded();
  const base = bytes < 2 ** 31 - w.userBase() ? w.ensureCapacity(bytes) : 0;
  if (base === 0) throw new Error(`${what}: needs ${bytes} bytes of Wasm memory, more than it can hold`);
  return {
    conv: convFor(w, par ? par.memory : w.memory, par !== null),
    packed: packedOf(w),
    base,
    f32: (ptr, length) => new Float32Array(w.memory.buffer, ptr, length),
    gemm: (transA, transB, M, N, K, aPtr, bPtr, cPtr, accumulate) => {
      if (M === 0 || N === 0) return;
      const tA = transA ? 1 : 0, tB = transB ? 1 : 0, acc = accumulate ? 1 : 0;
      if (par && !par.broken && M * N * K >= PARALLEL_MIN_MACS) runParallel(par, tA, tB, M, N, K, aPtr, bPtr, cPtr, acc);
      else w.sgemm(tA, tB, M, N, K, aPtr, bPtr, cPtr, acc);
    },
  };
}

/**
 * C[M,N] = op(A) op(B), float32, row-major. op(A) is A ([M,K]) or, if transA, A^T with A stored [K,M];
 * op(B) is B ([K,N]) or, if transB, B^T with B stored [N,K]. Writes into `out` (length M*N) when given,
 * else into a new array; with `accumulate` the product is added to the existing contents of `out`.
 */
export function sgemm(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
  out?: Float32Array,
  accumulate = false,
): Float32Array {
  checkDim('M', M);
  checkDim('N', N);
  checkDim('K', K);
  const aLen = M * K, bLen = K * N, cLen = M * N;
  if (a.length !== aLen) {
    throw new Error(`sgemm: A has length ${a.length}, expected ${aLen} (${transA ? `[K=${K}, M=${M}]` : `[M=${M}, K=${K}]`})`);
  }
  if (b.length !== bLen) {
    throw new Error(`sgemm: B has length ${b.length}, expected ${bLen} (${transB ? `[N=${N}, K=${K}]` : `[K=${K}, N=${N}]`})`);
  }
  if (out !== undefined && out.length !== cLen) {
    throw new Error(`sgemm: out has length ${out.length}, expected ${cLen} ([M=${M}, N=${N}])`);
  }
  if (accumulate && out === undefined) throw new Error('sgemm: accumulate requires an `out` array');
  const c = out ?? new Float32Array(cLen);
  if (cLen === 0) return c;

  dropBrokenPool();
  const par = mt !== null && M * N * K >= PARALLEL_MIN_MACS ? mt : null;
  const w = par ? par.exports : singleThreaded();
  const aBytes = align16(aLen * 4), bBytes = align16(bLen * 4);
  const total = aBytes + bBytes + cLen * 4;
  // Wasm32 addresses; keep under 2 GiB so pointers stay positive int32 (and under the shared memory's maximum).
  const base = total < 2 ** 31 - w.userBase() ? w.ensureCapacity(total) : 0;
  if (base === 0) {
    throw new Error(`sgemm: operands need ${total} bytes, more than the Wasm memory can hold (M=${M}, N=${N}, K=${K})`);
  }
  const aPtr = base, bPtr = base + aBytes, cPtr = bPtr + bBytes;
  const buf = w.memory.buffer; // re-read after ensureCapacity: growth replaces the buffer
  new Float32Array(buf, aPtr, aLen).set(a);
  new Float32Array(buf, bPtr, bLen).set(b);
  const cView = new Float32Array(buf, cPtr, cLen);
  if (accumulate) cView.set(c);
  const tA = transA ? 1 : 0, tB = transB ? 1 : 0, acc = accumulate ? 1 : 0;
  if (par) runParallel(par, tA, tB, M, N, K, aPtr, bPtr, cPtr, acc);
  else w.sgemm(tA, tB, M, N, K, aPtr, bPtr, cPtr, acc);
  c.set(cView);
  return c;
}
