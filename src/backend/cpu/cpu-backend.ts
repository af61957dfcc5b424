// The CPU backend: typed-array storage and a kernel per primitive; the reference for other backends.

import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import type { FusedPrim, Prim, PrimParams } from '../../core/primitives.js';
import type { Backend, DeviceBuffer, KernelCall } from '../backend.js';
import {
  batchNormGradGammaKernel, batchNormGradInputKernel, batchNormStatsKernel, batchNormTrainKernel,
} from './batch-norm.js';
import { conv2dGradInputKernel, conv2dGradWeightKernel, conv2dKernel } from './conv2d.js';
import { binaryKernel } from './binary.js';
import { stridedCopy, unaryKernel, whereKernel } from './elementwise.js';
import { matmulKernel } from './matmul.js';
import { maxPool2dArgmaxKernel, maxPool2dGatherKernel, maxPool2dScatterKernel } from './pool.js';
import { gatherKernel, padKernel, scatterAddKernel, sliceKernel, transposeKernel } from './movement.js';
import { ArrayPool, type CpuMemoryStats } from './array-pool.js';
import { cpuHeap, fillArray, heapOf, type HeapOverflow, type WasmHeap } from './wasm-heap.js';
import { reduceKernel } from './reduce.js';
import { leakyReluGradKernel, leakyReluKernel, reluGradKernel, reluKernel } from './relu.js';
import { sigmoidKernel, softplusKernel } from './smooth.js';
import { broadcastStrides } from './strided.js';

export class CpuBuffer implements DeviceBuffer {
  /** Set by free(): the array went back to the pool and may now belong to another buffer. */
  released = false;
  constructor(readonly data: TypedArray) {}
  get size(): number {
    return this.data.length;
  }
  get dtype(): DType {
    return this.data instanceof Float32Array ? 'float32' : 'float64';
  }
}

type Kernel<P extends Prim> = (call: KernelCall<P>, ins: TypedArray[], out: TypedArray) => void;

const kernels: { [P in Prim]: Kernel<P> } = {
  neg: (_c, [x], out) => unaryKernel('neg', x, out),
  exp: (_c, [x], out) => unaryKernel('exp', x, out),
  log: (_c, [x], out) => unaryKernel('log', x, out),
  sqrt: (_c, [x], out) => unaryKernel('sqrt', x, out),
  add: (c, [a, b], out) => binaryKernel('add', a, c.inputs[0].shape, b, c.inputs[1].shape, out, c.output.shape),
  sub: (c, [a, b], out) => binaryKernel('sub', a, c.inputs[0].shape, b, c.inputs[1].shape, out, c.output.shape),
  mul: (c, [a, b], out) => binaryKernel('mul', a, c.inputs[0].shape, b, c.inputs[1].shape, out, c.output.shape),
  div: (c, [a, b], out) => binaryKernel('div', a, c.inputs[0].shape, b, c.inputs[1].shape, out, c.output.shape),
  compare: (c, [a, b], out) => binaryKernel(c.params.op, a, c.inputs[0].shape, b, c.inputs[1].shape, out, c.output.shape),
  where: (c, [k, a, b], out) =>
    whereKernel(k, c.inputs[0].shape, a, c.inputs[1].shape, b, c.inputs[2].shape, out, c.output.shape),
  sum: (c, [x], out) => reduceKernel('sum', x, c.inputs[0].shape, c.params.axes, out),
  max: (c, [x], out) => reduceKernel('max', x, c.inputs[0].shape, c.params.axes, out),
  broadcastTo: (c, [x], out) => stridedCopy(x, broadcastStrides(c.inputs[0].shape, c.output.shape), out, c.output.shape),
  reshape: (_c, [x], out) => out.set(x),
  transpose: (c, [x], out) => transposeKernel(x, c.inputs[0].shape, c.params.perm, out),
  slice: (c, [x], out) => sliceKernel(x, c.inputs[0].shape, c.params.begin, c.params.size, out),
  pad: (c, [x], out) => padKernel(x, c.inputs[0].shape, c.params.before, out, c.output.shape),
  matmul: (c, [a, b], out) => {
    const { transA, transB } = c.params;
    const k = transA ? c.inputs[0].shape[0] : c.inputs[0].shape[1];
    matmulKernel(a, b, c.output.shape[0], c.output.shape[1], k, transA, transB, out);
  },
  conv2d: (c, [x, w], out) => conv2dKernel(x, c.inputs[0].shape, w, c.inputs[1].shape, c.params, out, c.output.shape),
  conv2dGradInput: (c, [g, w], out) =>
    conv2dGradInputKernel(g, c.inputs[0].shape, w, c.inputs[1].shape, c.params, out, c.output.shape),
  conv2dGradWeight: (c, [x, g], out) =>
    conv2dGradWeightKernel(x, c.inputs[0].shape, g, c.inputs[1].shape, c.params, out, c.output.shape),
  gather: (c, [x], out) => gatherKernel(x, c.inputs[0].shape, c.params.indices, c.params.axis, out),
  scatterAdd: (c, [x], out) => scatterAddKernel(x, c.inputs[0].shape, c.params.indices, c.params.axis, c.params.size, out),
  cast: (_c, [x], out) => out.set(x),
  maxPool2dArgmax: (c, [x], out) => maxPool2dArgmaxKernel(x, c.inputs[0].shape, c.params, out, c.output.shape),
  maxPool2dGather: (c, [x, arg], out) => maxPool2dGatherKernel(x, c.inputs[0].shape, arg, c.params, out, c.output.shape),
  maxPool2dScatter: (c, [g, arg], out) => maxPool2dScatterKernel(g, arg, c.params, out, c.output.shape, c.inputs[0].shape),
  relu: (_c, [x], out) => reluKernel(x, out),
  reluGrad: (_c, [g, x], out) => reluGradKernel(g, x, out),
  leakyRelu: (c, [x], out) => leakyReluKernel(x, c.params.slope, out),
  leakyReluGrad: (c, [g, x], out) => leakyReluGradKernel(g, x, c.params.slope, out),
  batchNormStats: (c, [x], out) => batchNormStatsKernel(x, c.inputs[0].shape, out),
  batchNormTrain: (c, [x, stats, gamma, beta], out) => batchNormTrainKernel(x, c.inputs[0].shape, stats, gamma, beta, c.params.eps, out),
  batchNormGradGamma: (c, [g, x, stats], out) => batchNormGradGammaKernel(g, x, c.inputs[1].shape, stats, c.params.eps, out),
  batchNormGradInput: (c, [g, x, stats, gamma, gammaBar, betaBar], out) =>
    batchNormGradInputKernel(g, x, c.inputs[1].shape, stats, gamma, gammaBar, betaBar, c.params.eps, out),
  softplus: (_c, [x], out) => softplusKernel(x, out),
  sigmoid: (_c, [x], out) => sigmoidKernel(x, out),
};

/** Primitives whose kernels here write every output element whatever the output held: their outputs skip zeroing. */
export const OVERWRITES: ReadonlySet<Prim> = new Set<Prim>([
  'neg', 'exp', 'log', 'sqrt', 'add', 'sub', 'mul', 'div', 'compare', 'where', 'sum', 'max', 'broadcastTo', 'reshape',
  'transpose', 'slice', 'cast', 'relu', 'reluGrad', 'leakyRelu', 'leakyReluGrad', 'softplus', 'sigmoid', 'maxPool2dArgmax', 'maxPool2dGather',
  'maxPool2dScatter', 'matmul', 'conv2d', 'conv2dGradInput', 'conv2dGradWeight',
]);

export interface CpuBackendOptions {
  /** Bytes of released arrays kept for reuse (default 256 MiB); beyond it released arrays are left to the GC. */
  maxPooledBytes?: number;
  /**
   * Run the fused primitives (relu, leaky relu, batch norm; src/core/fused.ts) with their kernels (default true); false makes
   * their ops compute the reference composites, as on WebGPU (for tests and benchmarks).
   */
  fusedKernels?: boolean;
  /**
   * Where tensor storage lives. Default (true): the shared Wasm heap (src/backend/cpu/wasm-heap.ts), where the
   * elementwise, pooling, optimizer, GEMM and conv kernels run in Wasm SIMD on pointers, wherever shared Wasm memory
   * exists (Node; browser pages that are cross-origin isolated, after initCpuHeap), plain arrays elsewhere. Storage
   * goes back to the heap on dispose() and in tidy scopes (optimizers, batch norm and the EMA dispose the state they
   * replace), else when the GC finalizes the tensor. A WasmHeap of your own (makeWasmHeap) also works. false: plain
   * typed arrays with JS kernels everywhere, the reference the heap's kernels are tested against bit for bit
   * (`--backend cpu-js`).
   */
  heap?: boolean | WasmHeap;
  /** When the heap cannot grow: 'spill' (default) hands out plain arrays (JS kernels), 'error' throws. */
  heapOverflow?: HeapOverflow;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private allocated = 0;
  private readonly pool: ArrayPool;
  private readonly fused: boolean;
  private readonly useHeap: boolean;
  private readonly ownHeap: WasmHeap | null;
  private readonly overflow: HeapOverflow;
  private heapReused = 0;
  private heapCreated = 0;
  private spilled = 0;

  constructor(opts: CpuBackendOptions = {}) {
    this.pool = new ArrayPool(opts.maxPooledBytes ?? 256 * 2 ** 20);
    this.fused = opts.fusedKernels ?? true;
    this.useHeap = opts.heap !== false;
    this.ownHeap = typeof opts.heap === 'object' ? opts.heap : null;
    this.overflow = opts.heapOverflow ?? 'spill';
  }

  /** The Wasm heap this backend allocates in, or null (heap: false, no shared Wasm memory here, or a browser page before initCpuHeap). */
  heap(): WasmHeap | null {
    return this.useHeap ? this.ownHeap ?? cpuHeap() : null;
  }

  /** Every fused primitive has a kernel here, unless the backend was made with fusedKernels: false. */
  hasKernel(_prim: FusedPrim): boolean {
    return this.fused;
  }

  allocatedBytes(): number {
    return this.allocated;
  }

  supports(dtype: DType): boolean {
    return dtype === 'float32' || dtype === 'float64';
  }

  /**
   * A zeroed array: a released one of the same dtype and length when the pool has it (a fresh array's pages
   * are faulted in on first write, which costs more than the kernels that fill it), else a new one.
   */
  alloc(size: number, dtype: DType): CpuBuffer {
    return this.allocate(size, dtype, true);
  }

  /** An output for `prim`: not zeroed when its kernel overwrites every element (OVERWRITES). */
  allocOutput(prim: Prim, size: number, dtype: DType): CpuBuffer {
    return this.allocate(size, dtype, !OVERWRITES.has(prim));
  }

  /** An array whose contents are arbitrary, for a kernel that writes every element (the fused optimizer steps). */
  allocUnzeroed(size: number, dtype: DType): CpuBuffer {
    return this.allocate(size, dtype, false);
  }

  /** Every element `value`, written once (no zeroing first, no staging array). */
  allocFilled(size: number, dtype: DType, value: number): CpuBuffer {
    const zero = Object.is(value, 0); // +0: what a zeroed array holds (fresh heap memory already does)
    const b = this.allocate(size, dtype, zero);
    if (!zero) fillArray(b.data, value);
    return b;
  }

  private allocate(size: number, dtype: DType, zeroed: boolean): CpuBuffer {
    this.allocated += size * (dtype === 'float32' ? 4 : 8);
    const heap = this.heap();
    if (heap !== null && size > 0) {
      const a = heap.alloc(dtype, size, this.overflow, `cpu.alloc`, zeroed);
      if (a !== undefined) {
        if (heap.lastFresh) this.heapCreated++;
        else this.heapReused++;
        return new CpuBuffer(a);
      }
      this.spilled++;
    }
    const reused = this.pool.take(dtype, size);
    if (reused !== undefined) {
      if (zeroed) fillArray(reused, 0);
      return new CpuBuffer(reused);
    }
    return new CpuBuffer(allocArray(dtype, size));
  }

  /** Returns the array to the pool (dispose() and tidy scopes call this); freeing twice does nothing. */
  free(buffer: DeviceBuffer): void {
    const b = buffer as CpuBuffer;
    if (b.released) return;
    b.released = true;
    const heap = heapOf(b.data);
    if (heap !== undefined) heap.free(b.data);
    else this.pool.put(b.data);
  }

  /**
   * The pool's statistics; with the heap, its arrays count there too: reusedArrays / createdArrays add the
   * blocks this backend took from a free list / from the top of the heap, and `heap` is the (process-wide) heap.
   */
  memoryStats(): CpuMemoryStats {
    const s = this.pool.stats();
    const heap = this.heap();
    if (heap === null) return s;
    return {
      ...s, reusedArrays: s.reusedArrays + this.heapReused, createdArrays: s.createdArrays + this.heapCreated,
      spilledArrays: this.spilled, heap: heap.stats(),
    };
  }

  /** Drops pooled arrays (to the GC) until at most keepBytes remain. */
  trimPool(keepBytes = 0): void {
    this.pool.trim(keepBytes);
  }

  write(buffer: DeviceBuffer, data: TypedArray): void {
    const b = live(buffer, 'write');
    if (data.length !== b.size) throw new Error(`cpu.write: ${data.length} values into a buffer of ${b.size}`);
    b.data.set(data);
  }

  readSync(buffer: DeviceBuffer): TypedArray {
    return live(buffer, 'read').data.slice();
  }

  read(buffer: DeviceBuffer): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer));
  }

  run(call: KernelCall, inputs: DeviceBuffer[], output: DeviceBuffer): void {
    const kernel = kernels[call.prim] as Kernel<Prim>;
    kernel(call as KernelCall<Prim>, inputs.map((b) => live(b, call.prim).data), live(output, call.prim).data);
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }
}

/** The buffer, or an error naming the operation when its array was already released (a bug: use after free). */
function live(buffer: DeviceBuffer, what: string): CpuBuffer {
  const b = buffer as CpuBuffer;
  if (b.released) throw new Error(`cpu.${what}: a buffer of ${b.size} ${b.dtype} values was used after it was freed`);
  return b;
}

export type { PrimParams };
