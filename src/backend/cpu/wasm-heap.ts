// The CPU backend's tensor heap: one shared Wasm memory that holds tensor storage, a size-class allocator over it, and the elementwise kernel module bound to it (so kernels take pointers and nothing is copied).
//
// Why shared memory: growing a non-shared Wasm memory detaches its ArrayBuffer, which would empty every typed-array
// view a tensor holds. A shared memory's old SharedArrayBuffers stay valid after growth (they alias the first
// bytes of the new one), so views handed out before a grow keep working and a pointer is a view's byteOffset.
// Shared memory needs SharedArrayBuffer: always in Node, and in browsers only when the page is cross-origin
// isolated. Elsewhere (or before the kernel module is compiled on a browser's main thread, see initCpuHeap) the
// backend keeps plain typed arrays and its JS kernels: the results are the same bits either way.

import type { DType, TypedArray } from '../../core/dtype.js';
import { decodeBase64 } from '../../util/base64.js';
import { heapKernelsWasmBase64 } from '../../generated/heap-kernels.wasm.js';
import { gemmOnMemory, setThreadedMemory, type BoundGemm } from './wasm-gemm.js';

/** Exports of assembly/heap-kernels.ts: elementwise.ts, pool.ts, optim.ts, dot.ts, batch-norm.ts and movement.ts (pointers are byte addresses in the heap's memory). */
export interface ElementwiseExports {
  binaryF32(op: number, mode: number, a: number, b: number, out: number, n: number): void;
  binaryF64(op: number, mode: number, a: number, b: number, out: number, n: number): void;
  unaryF32(op: number, x: number, out: number, n: number): void;
  unaryF64(op: number, x: number, out: number, n: number): void;
  rectifyF32(kind: number, x: number, g: number, slope: number, out: number, n: number): void;
  rectifyF64(kind: number, x: number, g: number, slope: number, out: number, n: number): void;
  where32(c: number, a: number, b: number, out: number, n: number): void;
  smoothF32(kind: number, x: number, out: number, n: number): void;
  smoothF64(kind: number, x: number, out: number, n: number): void;
  softplusTermsF32(x: number, c: number, dc: number, n: number): void;
  softplusTermsF64(x: number, c: number, dc: number, n: number): void;
  dotF32(a: number, b: number, n: number): number;
  dotF64(a: number, b: number, n: number): number;
  sumF32(x: number, n: number): number;
  sumF64(x: number, n: number): number;
  addRowsF32(x: number, rows: number, n: number, acc: number): void;
  bnSqDevF32(x: number, n: number, u: number): number;
  bnTrainF32(x: number, n: number, u: number, d: number, g: number, b: number, out: number): void;
  bnGradGammaF32(g: number, x: number, n: number, u: number): number;
  bnGradInputF32(g: number, x: number, n: number, u: number, a: number, b0: number, k: number, out: number): void;
  addRowsF64(x: number, rows: number, n: number, acc: number): void;
  where64(c: number, a: number, b: number, out: number, n: number): void;
  argmax2x2(x: number, planes: number, h: number, w: number, ho: number, wo: number, out: number): void;
  checkArgs2x2(arg: number, n: number): number;
  gather2x2(x: number, arg: number, planes: number, h: number, w: number, ho: number, wo: number, out: number): void;
  scatter2x2(gy: number, arg: number, planes: number, h: number, w: number, ho: number, wo: number, out: number): void;
  adamF32(param: number, grad: number, decay: number, m: number, v: number, out: number, n: number, flags: number,
    wd: number, sd: number, lw: number, beta2: number, omb2: number, sqrtBc2: number, eps: number, negStep: number): void;
  adamF64(param: number, grad: number, decay: number, m: number, v: number, out: number, n: number, flags: number,
    wd: number, sd: number, lw: number, beta2: number, omb2: number, sqrtBc2: number, eps: number, negStep: number): void;
  rmspropF32(param: number, grad: number, v: number, out: number, n: number, hasWd: number, wd: number, alpha: number, oma: number, eps: number, negLr: number): void;
  rmspropF64(param: number, grad: number, v: number, out: number, n: number, hasWd: number, wd: number, alpha: number, oma: number, eps: number, negLr: number): void;
  l2HypergradTailF32(d: number, x: number, w: number, dc: number, out: number, n: number): void;
  l2HypergradTailF64(d: number, x: number, w: number, dc: number, out: number, n: number): void;
  firstNonFiniteF32(x: number, n: number): number;
  firstNonFiniteF64(x: number, n: number): number;
  fillF32(out: number, v: number, n: number): void;
  fillF64(out: number, v: number, n: number): void;
  copyBlock32(src: number, s2: number, s1: number, s0: number, dst: number, d2: number, d1: number, d0: number, n2: number, n1: number, n0: number): void;
  copyBlock64(src: number, s2: number, s1: number, s0: number, dst: number, d2: number, d1: number, d0: number, n2: number, n1: number, n0: number): void;
  maxRunsF32(x: number, runs: number, n: number, acc: number, step: number): void;
  maxRunsF64(x: number, runs: number, n: number, acc: number, step: number): void;
  maxRowsF32(x: number, rows: number, cols: number, acc: number): void;
  maxRowsF64(x: number, rows: number, cols: number, acc: number): void;
  gather32(x: number, outer: number, len: number, inner: number, idx: number, m: number, out: number): void;
  gather64(x: number, outer: number, len: number, inner: number, idx: number, m: number, out: number): void;
  scatterAddF32(x: number, outer: number, m: number, inner: number, idx: number, size: number, out: number): void;
  scatterAddF64(x: number, outer: number, m: number, inner: number, idx: number, size: number, out: number): void;
}

export interface WasmHeapStats {
  /** Size of the Wasm memory (bytes); it grows and never shrinks. */
  heapBytes: number;
  /** Bytes in blocks that hold live arrays (block capacities, so including the rounding of sizes). */
  liveBytes: number;
  liveBlocks: number;
  /** Bytes in released blocks waiting on their size class's free list. */
  freeBytes: number;
  /** Bytes below the top of the heap: every block ever handed out lies there (plus the reserved first page). */
  topBytes: number;
  /** Blocks given back because their array was garbage-collected without dispose() (a leak the registry caught). */
  finalizedBlocks: number;
}

const PAGE = 65536;
/** wasm32 addresses: at most 65536 pages (4 GiB). */
export const MAX_HEAP_PAGES = 65536;
/**
 * The process heap's default limit, 2 GiB: tensor state that training loops replace without dispose() (parameter
 * values, optimizer buffers, running statistics) is released only when the GC collects it, and the GC does not see
 * Wasm memory, so the heap is bounded and allocations past the bound spill to plain arrays the GC does see.
 */
const DEFAULT_PAGES = 32768;
/** Bytes below this are left to the kernel modules' own data (they have none today; one page to be safe). */
const RESERVED = PAGE;
/** 32 MiB: the GEMM's packing scratch (about 27 MiB of address space, mostly untouched) and a first few tensors. */
const INITIAL_PAGES = 512;

/**
 * A block's capacity for a request of `bytes`: multiples of 64 up to 1 KiB, then four size classes per power of
 * two (at most 25% rounding), all multiples of 16 so SIMD kernels may work on whole vectors.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return Math.max(64, Math.ceil(bytes / 64) * 64);
  const step = 2 ** (Math.ceil(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

/** What alloc does when the heap cannot grow (4 GiB, or the host refuses): hand out a plain array, or throw. */
export type HeapOverflow = 'spill' | 'error';

/** The heap each SharedArrayBuffer belongs to (every heap registers the buffers its memory has had). */
const heapOfBuffer = new WeakMap<ArrayBufferLike, WasmHeap>();

/** The heap `a` is a view into, or undefined for a plain array. */
export function heapOf(a: TypedArray): WasmHeap | undefined {
  return heapOfBuffer.get(a.buffer);
}

/** Below this many elements a typed array's own fill is cheaper than a call into Wasm. */
const WASM_FILL_MIN = 256;

/**
 * a[start..end) = value. Heap arrays are filled in Wasm (fillF32/fillF64): V8 fills a typed array over shared memory
 * with one relaxed atomic store per element, 4x slower than a plain fill. Same values either way.
 */
export function fillArray(a: TypedArray, value: number, start = 0, end = a.length): void {
  const heap = end - start >= WASM_FILL_MIN ? heapOf(a) : undefined;
  if (heap === undefined) {
    a.fill(value, start, end);
    return;
  }
  if (end <= start) return;
  if (a instanceof Float32Array) heap.kernels.fillF32(a.byteOffset + start * 4, value, end - start);
  else heap.kernels.fillF64(a.byteOffset + start * 8, value, end - start);
}

/** The one heap every array is a view into, or undefined (a plain array among them, or two heaps): the kernels' residency check. */
export function commonHeap(arrays: readonly TypedArray[]): WasmHeap | undefined {
  const heap = heapOf(arrays[0]);
  if (heap === undefined) return undefined;
  for (let i = 1; i < arrays.length; i++) if (heapOf(arrays[i]) !== heap) return undefined;
  return heap;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly kernels: ElementwiseExports;
  private buffer: ArrayBufferLike;
  private top: number;
  private readonly gemmBound: boolean;
  private readonly freeLists = new Map<number, (TypedArray | number)[]>();
  /** Live blocks: pointer -> capacity. */
  private readonly live = new Map<number, number>();
  private liveBytes = 0;
  private freeBytes = 0;
  private finalized = 0;
  private readonly registry: FinalizationRegistry<number>;
  /** Whether the last alloc moved the top of the heap (false: it reused a free block). */
  lastFresh = false;

  /** `module`: the compiled kernel module (assembly/heap-kernels.ts), instantiated here and in worker threads on this memory. */
  constructor(readonly module: WebAssembly.Module, readonly maxPages = DEFAULT_PAGES) {
    if (!(Number.isInteger(maxPages) && maxPages >= INITIAL_PAGES && maxPages <= MAX_HEAP_PAGES)) {
      throw new Error(`WasmHeap: maxPages must be an integer in [${INITIAL_PAGES}, ${MAX_HEAP_PAGES}], got ${maxPages}`);
    }
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maxPages, shared: true });
    this.kernels = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as ElementwiseExports;
    this.buffer = this.memory.buffer;
    heapOfBuffer.set(this.buffer, this);
    // The GEMM and conv modules on this memory: tensors start above the GEMM's scratch.
    let base = RESERVED;
    try {
      base = Math.max(base, Math.ceil(gemmOnMemory(this.memory).userBase / 64) * 64);
      this.gemmBound = true;
    } catch {
      this.gemmBound = false; // a limit above the GEMM build's 2 GiB: matmul and conv copy through the GEMM's own memory
    }
    this.top = base;
    if (!this.reserve(base)) throw new Error(`WasmHeap: cannot reserve the ${base} bytes the GEMM scratch needs`);
    this.registry = new FinalizationRegistry((ptr) => {
      if (!this.live.has(ptr)) return;
      this.finalized++;
      this.release(ptr);
    });
  }

  /**
   * sgemm and im2col/col2im on this memory (operands are heap pointers), or null when this heap's limit is past the
   * GEMM build's. On the process heap, sgemm uses the worker threads of setGemmThreads for large products.
   */
  gemm(): BoundGemm | null {
    return this.gemmBound ? gemmOnMemory(this.memory) : null;
  }

  /** True when `a` is a view into this heap (then a.byteOffset is its pointer). */
  owns(a: TypedArray): boolean {
    return heapOfBuffer.get(a.buffer) === this;
  }

  /**
   * An array of `length` elements in the heap, zeroed unless `zeroed` is false (then a reused block keeps old values), or undefined when the heap cannot grow to hold it and
   * overflow is 'spill' (the caller then uses a plain array). With 'error' it throws, naming the sizes.
   */
  alloc(dtype: DType, length: number, overflow: HeapOverflow, what: string, zeroed = true): TypedArray | undefined {
    const bytes = length * (dtype === 'float32' ? 4 : 8);
    const cap = sizeClass(bytes);
    const entry = this.freeLists.get(cap)?.pop();
    let view: TypedArray | undefined;
    let ptr: number;
    if (entry === undefined) {
      if (!this.reserve(this.top + cap)) {
        if (overflow === 'spill') return undefined;
        throw new Error(
          `${what}: ${bytes} bytes (${length} ${dtype}) do not fit in the CPU tensor heap: it holds ${this.liveBytes} bytes of ` +
          `live tensors and its limit is ${this.maxPages * PAGE} bytes (wasm32 allows at most 4 GiB). Dispose tensors you no ` +
          `longer need, or make the backend with heapOverflow: 'spill' to keep further arrays outside the heap (JS kernels).`,
        );
      }
      ptr = this.top;
      this.top += cap;
    } else {
      this.freeBytes -= cap;
      if (typeof entry === 'number') {
        ptr = entry;
      } else {
        ptr = entry.byteOffset;
        // The freed view itself when it has this dtype and length (training repeats shapes): it is still registered.
        if (entry.length === length && (entry instanceof Float32Array) === (dtype === 'float32')) view = entry;
        else this.registry.unregister(entry);
      }
    }
    this.lastFresh = entry === undefined;
    this.live.set(ptr, cap);
    this.liveBytes += cap;
    if (view === undefined) {
      view = dtype === 'float32' ? new Float32Array(this.buffer, ptr, length) : new Float64Array(this.buffer, ptr, length);
      this.registry.register(view, ptr, view);
    }
    if (zeroed && entry !== undefined) fillArray(view, 0); // never-used memory is already zero
    return view;
  }

  /**
   * Gives a live view's block back to its free list, with the view (still registered with the GC backstop, so the
   * next request of the same dtype and length takes it as it is). A view that is not a live block is an error.
   */
  free(a: TypedArray): void {
    const ptr = a.byteOffset;
    const cap = this.live.get(ptr);
    if (cap === undefined || !this.owns(a)) throw new Error(`WasmHeap.free: the array at byte ${ptr} is not a live heap block`);
    this.release(ptr, a, cap);
  }

  stats(): WasmHeapStats {
    return {
      heapBytes: this.buffer.byteLength, liveBytes: this.liveBytes, liveBlocks: this.live.size,
      freeBytes: this.freeBytes, topBytes: this.top, finalizedBlocks: this.finalized,
    };
  }

  /** Puts a block on its size class's free list: with its view after free(), as a bare pointer after a GC took the view. */
  private release(ptr: number, view?: TypedArray, cap = this.live.get(ptr)!): void {
    this.live.delete(ptr);
    this.liveBytes -= cap;
    this.freeBytes += cap;
    let list = this.freeLists.get(cap);
    if (list === undefined) {
      list = [];
      this.freeLists.set(cap, list);
    }
    list.push(view ?? ptr);
  }

  /** Grows the memory (at least doubling, up to the maximum) so that `end` bytes are addressable. */
  private reserve(end: number): boolean {
    if (end <= this.buffer.byteLength) return true;
    const have = this.buffer.byteLength / PAGE;
    const need = Math.ceil(end / PAGE);
    if (need > this.maxPages) return false;
    const target = Math.min(this.maxPages, Math.max(need, have * 2));
    try {
      this.memory.grow(target - have);
    } catch {
      try {
        this.memory.grow(need - have);
      } catch {
        return false;
      }
    }
    this.buffer = this.memory.buffer;
    heapOfBuffer.set(this.buffer, this);
    return true;
  }
}

let compiled: WebAssembly.Module | null = null;
let processPages = DEFAULT_PAGES;
let heap: WasmHeap | null = null;
let unavailable = false;
let syncRefused = false;

// setGemmThreads starts worker threads on the process heap's memory too (making the heap if it can).
setThreadedMemory(() => {
  const h = cpuHeap();
  return h !== null && h.gemm() !== null ? { memory: h.memory, kernels: h.module } : null;
});
let pending: Promise<void> | null = null;

/** Whether shared Wasm memory can exist here (Node; browsers only when cross-origin isolated). */
function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles the kernel module asynchronously (browsers' main threads refuse to compile modules over 4 KiB
 * synchronously). Until it resolves there, the backend allocates plain arrays. Idempotent.
 */
export async function initCpuHeap(): Promise<void> {
  if (compiled !== null || unavailable) return;
  if (!sharedMemorySupported()) {
    unavailable = true;
    return;
  }
  pending ??= WebAssembly.compile(decodeBase64(heapKernelsWasmBase64)).then((m) => {
    compiled ??= m;
  });
  await pending;
}

/**
 * The process's tensor heap, made on first use; null where shared Wasm memory is unavailable, or while the
 * module cannot be compiled synchronously and initCpuHeap has not finished.
 */
export function cpuHeap(): WasmHeap | null {
  if (heap !== null) return heap;
  if (unavailable) return null;
  if (compiled === null) {
    if (!sharedMemorySupported()) {
      unavailable = true;
      return null;
    }
    if (syncRefused) return null; // compiling in the background (initCpuHeap)
    try {
      compiled = new WebAssembly.Module(decodeBase64(heapKernelsWasmBase64));
    } catch {
      // A browser's main thread refuses modules over 4 KiB: plain arrays until the background compile is done.
      syncRefused = true;
      void initCpuHeap().catch(() => {
        unavailable = true;
      });
      return null;
    }
  }
  heap = new WasmHeap(compiled, processPages);
  return heap;
}

/** A heap of its own with at most `maxBytes` (tests, tools); the CPU backend takes one with `heap: makeWasmHeap(...)`. */
export function makeWasmHeap(maxBytes: number): WasmHeap {
  if (cpuHeap() === null || compiled === null) throw new Error('makeWasmHeap: shared Wasm memory is not available here');
  return new WasmHeap(compiled, Math.ceil(maxBytes / PAGE));
}

/** Sets the process heap's limit in bytes (default 2 GiB, at most 4 GiB); only before the heap is first used. */
export function setCpuHeapLimit(maxBytes: number): void {
  const pages = Math.ceil(maxBytes / PAGE);
  if (!(pages >= INITIAL_PAGES && pages <= MAX_HEAP_PAGES)) {
    throw new Error(`setCpuHeapLimit: ${maxBytes} bytes is outside [${INITIAL_PAGES * PAGE}, ${MAX_HEAP_PAGES * PAGE}]`);
  }
  if (heap !== null) throw new Error('setCpuHeapLimit: the CPU heap already exists; set its limit before the first CPU tensor');
  processPages = pages;
}
