// Loads the float64 linear-algebra Wasm module (assembly/linalg.ts, embedded as base64: the same bytes in Node and browsers) and manages its memory.

import { decodeBase64 } from '../util/base64.js';
import { linalgWasmBase64 } from '../generated/linalg.wasm.js';

/** Raw exports of assembly/linalg.ts. Pointers are byte offsets into `memory` (unsigned; JS sees them as numbers). */
export interface LinalgExports {
  readonly memory: WebAssembly.Memory;
  userBase(): number;
  ensureCapacity(end: number): number;
  dgemm(
    transA: number, transB: number, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, lowerOnly: number,
  ): void;
  dgemv(trans: number, m: number, n: number, a: number, lda: number, x: number, y: number, accumulate: number): void;
  symvUpper(n: number, a: number, lda: number, diag: number, x: number, y: number): void;
  trsm(upper: number, trans: number, unit: number, n: number, nrhs: number, a: number, lda: number, b: number, ldb: number): void;
  cholesky(n: number, a: number, lda: number): number;
  choleskySolve(n: number, nrhs: number, l: number, lda: number, b: number, ldb: number): void;
  lu(n: number, a: number, lda: number, ipiv: number): number;
  ldlt(n: number, a: number, lda: number, ipiv: number, work: number, nb: number): number;
  ldltSolve(n: number, nrhs: number, a: number, lda: number, ipiv: number, b: number, ldb: number): void;
  ldltInertia(n: number, a: number, lda: number, ipiv: number, out: number): void;
  rcondLdlt(n: number, f: number, lda: number, ipiv: number, anorm: number, work: number): number;
  luSolve(n: number, nrhs: number, lu: number, lda: number, ipiv: number, b: number, ldb: number, trans: number): void;
  norm1(n: number, a: number, lda: number, work: number): number;
  rcondCholesky(n: number, l: number, lda: number, anorm: number, work: number): number;
  rcondLu(n: number, lu: number, lda: number, ipiv: number, anorm: number, work: number): number;
  symmetrize(n: number, a: number, lda: number, mode: number): number;
  eigh(n: number, a: number, lda: number, w: number, work: number, vectors: number): number;
}


let exportsCache: LinalgExports | null = null;
let initPromise: Promise<void> | null = null;

/** Compiles and instantiates the module asynchronously (needed on browser main threads for large modules). Idempotent. */
export async function initLinalg(): Promise<void> {
  if (exportsCache) return;
  if (!initPromise) {
    initPromise = (async () => {
      const { instance } = await WebAssembly.instantiate(decodeBase64(linalgWasmBase64), {});
      if (!exportsCache) exportsCache = instance.exports as unknown as LinalgExports;
    })();
    initPromise.catch(() => {
      initPromise = null;
    });
  }
  await initPromise;
}

/** Whether the module is instantiated (no synchronous compile will happen on first use). */
export function linalgReady(): boolean {
  return exportsCache !== null;
}

/** The instance; compiled synchronously on first use if initLinalg() was not awaited (fine in Node and workers). */
export function linalgWasm(): LinalgExports {
  if (!exportsCache) {
    const module = new WebAssembly.Module(decodeBase64(linalgWasmBase64));
    exportsCache = new WebAssembly.Instance(module, {}).exports as unknown as LinalgExports;
  }
  return exportsCache;
}

// ---------------------------------------------------------------------------
// Memory: a first-fit allocator with coalescing over [userBase, top), growing the Wasm memory
// (never shrinking: Wasm cannot) as the top moves up. Blocks are 64-byte aligned.
// ---------------------------------------------------------------------------

const ALIGN = 64;
/** wasm32 memories end at 4 GiB. */
const MAX_BYTES = 2 ** 32;

interface FreeBlock {
  ptr: number;
  size: number;
}

class WasmHeap {
  private top = 0;
  private readonly free: FreeBlock[] = []; // sorted by ptr, never adjacent
  private readonly sizes = new Map<number, number>();
  private inUse = 0;
  private peak = 0;

  constructor(private readonly w: LinalgExports) {
    this.top = w.userBase() >>> 0;
    if (!w.ensureCapacity(this.top)) throw new Error('linalg: cannot reserve the Wasm packing scratch');
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let ptr = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size >= size) {
        ptr = f.ptr;
        if (f.size === size) this.free.splice(i, 1);
        else {
          f.ptr += size;
          f.size -= size;
        }
        break;
      }
    }
    if (ptr < 0) {
      // Reuse a free block at the top, then extend.
      const last = this.free.at(-1);
      let start = this.top;
      if (last && last.ptr + last.size === this.top) {
        start = last.ptr;
        this.free.pop();
      }
      const end = start + size;
      if (end > MAX_BYTES || !this.w.ensureCapacity(end)) {
        if (start !== this.top) this.free.push({ ptr: start, size: this.top - start });
        const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
        throw new RangeError(
          `linalg: out of Wasm memory allocating ${mib(size)} (${mib(this.inUse)} in use; wasm32 addresses end at 4 GiB)`,
        );
      }
      ptr = start;
      this.top = end;
    }
    this.sizes.set(ptr, size);
    this.inUse += size;
    this.peak = Math.max(this.peak, this.inUse);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.inUse -= size;
    // Insert sorted and coalesce with neighbours.
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    const block = { ptr, size };
    this.free.splice(lo, 0, block);
    const next = this.free[lo + 1];
    if (next && block.ptr + block.size === next.ptr) {
      block.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev.ptr + prev.size === block.ptr) {
      prev.size += block.size;
      this.free.splice(lo, 1);
    }
  }

  stats(): WasmMemoryStats {
    return {
      bytesInUse: this.inUse,
      peakBytesInUse: this.peak,
      memoryBytes: this.w.memory.buffer.byteLength,
    };
  }

  resetPeak(): void {
    this.peak = this.inUse;
  }
}

export interface WasmMemoryStats {
  /** Bytes held by live blocks (matrices, factors, scratch vectors). */
  bytesInUse: number;
  /** Largest bytesInUse since the start or the last resetLinalgPeak(). */
  peakBytesInUse: number;
  /** Current size of the Wasm memory (it never shrinks). */
  memoryBytes: number;
}

let heap: WasmHeap | null = null;

function getHeap(): WasmHeap {
  if (!heap) heap = new WasmHeap(linalgWasm());
  return heap;
}

/** Memory accounting of the linalg module. */
export function linalgMemoryStats(): WasmMemoryStats {
  return getHeap().stats();
}

/** Restarts peak tracking at the current usage (e.g. before measuring one solver). */
export function resetLinalgPeak(): void {
  getHeap().resetPeak();
}

const registry =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<number>((ptr) => heap?.release(ptr)) : null;

/**
 * A block of Wasm memory seen as `length` float64 values (or int32 values for kind 'i32').
 * The view is recreated when memory growth replaces the underlying ArrayBuffer, so always go
 * through `.view` instead of keeping an old Float64Array across allocations.
 * Freed explicitly by free(), or when garbage-collected (FinalizationRegistry).
 */
export class WasmArray<T extends Float64Array | Int32Array = Float64Array> {
  readonly ptr: number;
  private cached: T | null = null;
  private alive = true;

  constructor(readonly length: number, private readonly kind: 'f64' | 'i32' = 'f64') {
    if (!Number.isInteger(length) || length < 0) throw new Error(`WasmArray: length must be a non-negative integer, got ${length}`);
    const bytes = length * (kind === 'f64' ? 8 : 4);
    this.ptr = getHeap().alloc(bytes);
    registry?.register(this, this.ptr, this);
  }

  get view(): T {
    if (!this.alive) throw new Error('WasmArray: used after free()');
    const buf = linalgWasm().memory.buffer;
    if (this.cached === null || this.cached.buffer !== buf) {
      this.cached = (this.kind === 'f64' ? new Float64Array(buf, this.ptr, this.length) : new Int32Array(buf, this.ptr, this.length)) as T;
    }
    return this.cached;
  }

  get freed(): boolean {
    return !this.alive;
  }

  free(): void {
    if (!this.alive) return;
    this.alive = false;
    this.cached = null;
    registry?.unregister(this);
    getHeap().release(this.ptr);
  }
}

/** Runs fn with temporary float64 blocks of the given lengths, freeing them afterwards. */
export function withScratch<R>(lengths: readonly number[], fn: (...blocks: WasmArray[]) => R): R {
  const blocks: WasmArray[] = [];
  try {
    for (const n of lengths) blocks.push(new WasmArray(n));
    return fn(...blocks);
  } finally {
    for (const b of blocks) b.free();
  }
}

// ---------------------------------------------------------------------------
// Float64 GEMM on plain typed arrays (the CPU backend's float64 matmul): operands are copied into
// one reusable Wasm block, multiplied there, and the product copied out.
// ---------------------------------------------------------------------------

let gemmBlock: WasmArray | null = null;

/** True where the module can be used synchronously right now: already instantiated, or in Node (sync compile is allowed). */
export function linalgUsableSync(): boolean {
  if (exportsCache) return true;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return !!proc?.versions?.node;
}

/**
 * out[M,N] = op(A) op(B) (+ out if accumulate), float64 row-major: op(A) is A [M,K] or, with transA,
 * Aᵀ for A stored [K,M]; op(B) is B [K,N] or, with transB, Bᵀ for B stored [N,K].
 */
export function dgemmArrays(
  a: Float64Array, b: Float64Array, M: number, N: number, K: number,
  transA: boolean, transB: boolean, out: Float64Array, accumulate = false,
): void {
  const w = linalgWasm();
  const need = M * K + K * N + M * N;
  if (!gemmBlock || gemmBlock.length < need) {
    const old = gemmBlock?.length ?? 0;
    gemmBlock?.free();
    gemmBlock = new WasmArray(Math.max(need, Math.min(2 * old, need + (1 << 20))));
  }
  const v = gemmBlock.view;
  const oB = M * K;
  const oC = oB + K * N;
  v.set(a.length === M * K ? a : a.subarray(0, M * K), 0);
  v.set(b.length === K * N ? b : b.subarray(0, K * N), oB);
  if (accumulate) v.set(out.subarray(0, M * N), oC);
  const p = gemmBlock.ptr;
  w.dgemm(transA ? 1 : 0, transB ? 1 : 0, M, N, K, 1, p, transA ? M : K, p + 8 * oB, transB ? K : N, p + 8 * oC, N, accumulate ? 1 : 0, 0);
  out.set(gemmBlock.view.subarray(oC, oC + M * N));
}
