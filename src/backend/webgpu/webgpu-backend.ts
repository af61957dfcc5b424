// The WebGPU backend: float32 storage buffers (pooled, released on dispose or garbage collection) and a WGSL kernel per primitive, batched into few submits.
/// <reference types="@webgpu/types" preserve="true" />

import type { DType, TypedArray } from '../../core/dtype.js';
import { wgsl } from '../../generated/shaders.js';
import type { Backend, DeviceBuffer, KernelCall } from '../backend.js';
import { BufferPool, sizeClass } from './buffer-pool.js';
import { runKernel } from './kernels.js';

// GPUBufferUsage / GPUMapMode values (the globals are absent in Node unless the webgpu package installs them).
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

/** Bytes of one kernel's uniform parameter block (64 u32 slots, see shaders/common.wgsl). */
export const PARAM_BYTES = 256;
export const PARAM_SLOTS = PARAM_BYTES / 4;

/** Shader modules: each is the concatenation of these shader files (shaders/NAME.wgsl). */
const MODULES = {
  elementwise: ['common', 'strided', 'elementwise'],
  compare: ['common', 'strided', 'compare'],
  movement: ['common', 'strided', 'movement'],
  reduce: ['common', 'reduce'],
  cast: ['common', 'cast'],
  matmul: ['common', 'gemm', 'matmul'],
  conv2d: ['common', 'gemm', 'conv2d'],
  pool: ['common', 'pool'],
} as const satisfies Record<string, readonly (keyof typeof wgsl)[]>;
export type ModuleName = keyof typeof MODULES;

/** Tile and workgroup sizes (the shaders' override constants). */
export interface WebGpuTuning {
  /** Workgroup size of elementwise, movement and reduction kernels (a power of two). */
  workgroupSize: number;
  /** GEMM workgroup (WGX x WGY invocations, each an 8x8 register tile) and tile depth (a multiple of 4). */
  gemm: { wgx: number; wgy: number; bk: number };
  /** Dispatches recorded before the batch is submitted. */
  batchDispatches: number;
}

export interface WebGpuBackendOptions {
  /** Upper bound on bytes kept in the buffer pool (default 256 MiB). */
  maxPooledBytes?: number;
  /** Upper bound on live plus pooled buffer bytes; allocations beyond it fail with an out-of-memory error. */
  memoryLimitBytes?: number;
  tuning?: Partial<WebGpuTuning>;
  /** Destroy the device in dispose() (true when the backend requested it). */
  ownsDevice?: boolean;
  /** Label of the adapter, for messages. */
  adapterName?: string;
  /**
   * Runs the JavaScript garbage collector (Node: see node.ts). GPU memory is invisible to the collector, so
   * the backend calls this at its asynchronous points (read, sync) once live bytes grew by `gcThresholdBytes`
   * since the last collection; buffers of unreachable tensors then return to the pool.
   */
  collectGarbage?: () => void;
  /** Growth of live bytes that triggers collectGarbage (default 64 MiB). */
  gcThresholdBytes?: number;
}

export interface WebGpuMemoryStats {
  /** Bytes of buffers that live tensors hold (their size classes). */
  liveBytes: number;
  liveBuffers: number;
  /** Bytes of freed buffers kept for reuse. */
  pooledBytes: number;
  pooledBuffers: number;
  /** All device memory the backend holds: live + pooled + the upload/parameter arena. */
  totalBytes: number;
  peakLiveBytes: number;
  /** Buffers released because their tensors were garbage-collected (no dispose()). */
  collectedBuffers: number;
  /** Fresh device allocations (pool misses). */
  createdBuffers: number;
}

/** A float32 storage buffer owned by the WebGPU backend. Tensors may share one (detach, variables). */
export class GpuBuffer implements DeviceBuffer {
  readonly dtype: DType = 'float32';
  /** null once released. */
  gpu: GPUBuffer | null;

  constructor(readonly size: number, gpu: GPUBuffer, readonly bytes: number) {
    this.gpu = gpu;
  }
}

interface Held {
  gpu: GPUBuffer;
  bytes: number;
}

/** One storage binding: a whole buffer or a window of one. */
export interface Binding {
  binding: number;
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export interface Dispatch {
  module: ModuleName;
  entry: string;
  constants: Record<string, number | boolean>;
  /** Up to 64 u32 parameters (shaders/common.wgsl slots). */
  params: Uint32Array;
  bindings: Binding[];
  /** Small read-only data (index lists) staged in the arena and bound as storage at these bindings. */
  uploads?: { binding: number; data: Uint32Array }[];
  workgroups: [number, number, number];
}

const DEFAULT_TUNING: WebGpuTuning = {
  workgroupSize: 128,
  gemm: { wgx: 8, wgy: 8, bk: 16 },
  batchDispatches: 64,
};

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly tuning: WebGpuTuning;
  readonly limits: GPUSupportedLimits;
  readonly adapterName: string;
  private readonly pool: BufferPool;
  private readonly memoryLimit: number;
  private readonly ownsDevice: boolean;
  private readonly registry: FinalizationRegistry<Held>;
  private readonly modules = new Map<ModuleName, { module: GPUShaderModule; overrides: Set<string> }>();
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  /** Host staging of the arena (parameter blocks, uploads, index lists) for the batch being recorded. */
  private arena: GPUBuffer;
  private arenaHost: Uint8Array;
  private arenaUsed = 0;
  private live = 0;
  private liveCount = 0;
  private peakLive = 0;
  private collected = 0;
  private created = 0;
  private liveAtCollect = 0;
  private readonly collectGarbage: (() => void) | null;
  private readonly gcThreshold: number;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private failure: Error | null = null;
  private disposed = false;
  /** Buffers let go while recorded work that may read them was not yet submitted: destroyed after the next flush. */
  private doomed: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice, opts: WebGpuBackendOptions = {}) {
    this.limits = device.limits;
    const wgMax = Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX);
    const t = { ...DEFAULT_TUNING, ...opts.tuning, gemm: { ...DEFAULT_TUNING.gemm, ...opts.tuning?.gemm } };
    if (t.workgroupSize > wgMax) t.workgroupSize = 2 ** Math.floor(Math.log2(wgMax));
    const { wgx, wgy, bk } = t.gemm;
    if (wgy % 2 !== 0 || bk % 4 !== 0 || wgx * wgy > wgMax) {
      throw new Error(`webgpu: GEMM tuning ${wgx}x${wgy}x${bk} needs an even WGY, BK a multiple of 4 and at most ${wgMax} invocations`);
    }
    this.tuning = t;
    this.pool = new BufferPool(opts.maxPooledBytes ?? 256 * 2 ** 20, (gpu) => this.destroyAfterSubmit(gpu));
    this.memoryLimit = opts.memoryLimitBytes ?? Infinity;
    this.ownsDevice = opts.ownsDevice ?? false;
    this.collectGarbage = opts.collectGarbage ?? null;
    this.gcThreshold = opts.gcThresholdBytes ?? 64 * 2 ** 20;
    this.adapterName = opts.adapterName ?? 'WebGPU adapter';
    this.registry = new FinalizationRegistry<Held>((held) => this.releaseCollected(held));
    this.arena = this.createArena(1 << 20);
    this.arenaHost = new Uint8Array(1 << 20);
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.failure ??= new Error(`WebGPU error on ${this.adapterName}: ${err.message}`);
    });
  }

  supports(dtype: DType): boolean {
    return dtype === 'float32';
  }

  // ---------------------------------------------------------------- memory

  alloc(size: number, dtype: DType): GpuBuffer {
    this.checkUsable('alloc');
    if (dtype !== 'float32') throw new Error(`webgpu: cannot store ${dtype} (float32 only)`);
    const bytes = sizeClass(size * 4);
    if (size * 4 > this.limits.maxStorageBufferBindingSize || bytes > this.limits.maxBufferSize) {
      throw new Error(
        `WebGPU out of memory: a tensor of ${size} float32 values (${size * 4} bytes) exceeds the device's largest ` +
          `buffer (${Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize)} bytes) on ${this.adapterName}`,
      );
    }
    let gpu = this.pool.take(bytes);
    if (gpu === undefined) {
      if (this.live + this.pool.pooledBytes + bytes > this.memoryLimit) this.pool.trim(Math.max(0, this.memoryLimit - this.live - bytes));
      if (this.live + this.pool.pooledBytes + bytes > this.memoryLimit) {
        throw new Error(
          `WebGPU out of memory: allocating ${bytes} bytes with ${this.live} bytes live exceeds the backend's limit of ` +
            `${this.memoryLimit} bytes on ${this.adapterName}; dispose() tensors you no longer need`,
        );
      }
      gpu = this.createStorage(bytes);
    }
    const buf = new GpuBuffer(size, gpu, bytes);
    this.live += bytes;
    this.liveCount++;
    if (this.live > this.peakLive) this.peakLive = this.live;
    this.registry.register(buf, { gpu, bytes }, buf);
    return buf;
  }

  /** Releases a buffer to the pool; later calls for the same buffer (shared by several tensors) do nothing. */
  free(buffer: DeviceBuffer): void {
    const b = buffer as GpuBuffer;
    if (b.gpu === null) return;
    this.registry.unregister(b);
    this.release(b.gpu, b.bytes);
    b.gpu = null;
  }

  /** A temporary buffer for a kernel's intermediate values; free() it right after recording its last use. */
  allocTemp(size: number): GpuBuffer {
    return this.alloc(size, 'float32');
  }

  private releaseCollected(held: Held): void {
    this.collected++;
    this.release(held.gpu, held.bytes);
  }

  private release(gpu: GPUBuffer, bytes: number): void {
    this.live -= bytes;
    this.liveCount--;
    // Queue order makes reuse safe: later work that receives this buffer is recorded after the work reading it.
    if (this.disposed || this.lostInfo !== null) gpu.destroy();
    else this.pool.put(bytes, gpu);
  }

  /**
   * Destroys a buffer that no tensor holds (pool full, or trimmed). Work recorded but not yet submitted may still
   * read it, and a destroyed buffer fails that submit ("used in submit while destroyed"); so while a batch is being
   * recorded it is destroyed right after the batch is submitted (submitted work keeps it alive until done).
   */
  private destroyAfterSubmit(gpu: GPUBuffer): void {
    if (this.encoder !== null) this.doomed.push(gpu);
    else gpu.destroy();
  }

  private createStorage(bytes: number): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    const gpu = this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
    this.created++;
    void this.device.popErrorScope().then((err) => {
      if (err !== null) {
        this.failure ??= new Error(
          `WebGPU out of memory: the device could not allocate ${bytes} bytes (${this.live} bytes live) on ${this.adapterName}: ${err.message}`,
        );
      }
    });
    return gpu;
  }

  private createArena(bytes: number): GPUBuffer {
    return this.device.createBuffer({ size: bytes, usage: UNIFORM | STORAGE | COPY_SRC | COPY_DST });
  }

  memoryStats(): WebGpuMemoryStats {
    return {
      liveBytes: this.live,
      liveBuffers: this.liveCount,
      pooledBytes: this.pool.pooledBytes,
      pooledBuffers: this.pool.pooledBuffers,
      totalBytes: this.live + this.pool.pooledBytes + this.arena.size,
      peakLiveBytes: this.peakLive,
      collectedBuffers: this.collected,
      createdBuffers: this.created,
    };
  }

  /** Destroys pooled buffers (memory pressure, tests). */
  trimPool(keepBytes = 0): void {
    this.pool.trim(keepBytes);
  }

  // ---------------------------------------------------------------- transfers

  write(buffer: DeviceBuffer, data: TypedArray): void {
    this.checkUsable('write');
    const b = this.usable(buffer, 'write');
    if (!(data instanceof Float32Array)) throw new Error('webgpu.write: float32 data only');
    if (data.length !== b.size) throw new Error(`webgpu.write: ${data.length} values into a buffer of ${b.size}`);
    const bytes = data.byteLength;
    if (bytes === 0) return;
    if (bytes <= this.arenaHost.byteLength / 4) {
      // Staged in the arena and copied in recording order, so a recycled buffer is never overwritten early.
      this.ensureArena(bytes + 256);
      const off = this.stage(data, 4);
      this.endPass();
      this.commandEncoder().copyBufferToBuffer(this.arena, off, b.gpu!, 0, bytes);
    } else {
      this.flush();
      this.device.queue.writeBuffer(b.gpu!, 0, data.buffer, data.byteOffset, bytes);
    }
  }

  async read(buffer: DeviceBuffer): Promise<Float32Array> {
    this.checkUsable('read');
    const b = this.usable(buffer, 'read');
    if (b.size === 0) return new Float32Array(0);
    const bytes = b.size * 4;
    this.maybeCollect();
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(b.gpu!, 0, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ);
    } catch (e) {
      staging.destroy();
      this.checkUsable('read');
      throw new Error(`WebGPU read failed on ${this.adapterName}: ${(e as Error).message}`);
    }
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    this.checkUsable('read');
    return out;
  }

  async sync(): Promise<void> {
    this.checkUsable('sync');
    this.flush();
    this.maybeCollect();
    await this.device.queue.onSubmittedWorkDone();
    this.checkUsable('sync');
  }

  /** Collects garbage when live memory grew enough; finalizers then release buffers while the caller awaits. */
  private maybeCollect(): void {
    if (this.collectGarbage === null) return;
    if (this.live < this.liveAtCollect) this.liveAtCollect = this.live;
    if (this.live - this.liveAtCollect < this.gcThreshold) return;
    this.collectGarbage();
    this.liveAtCollect = this.live;
  }

  // ---------------------------------------------------------------- kernels

  run(call: KernelCall, inputs: DeviceBuffer[], output: DeviceBuffer): void {
    this.checkUsable(call.prim);
    const ins = inputs.map((b) => this.usable(b, call.prim));
    runKernel(this, call, ins, this.usable(output, call.prim));
  }

  /**
   * Makes room for `bytes` more arena bytes (each piece 256-aligned) in the current batch, submitting the batch
   * first when they do not fit, and growing the arena when they would not fit an empty one either.
   */
  private ensureArena(bytes: number): void {
    if (Math.ceil(this.arenaUsed / 256) * 256 + bytes <= this.arenaHost.byteLength) return;
    this.flush();
    if (bytes > this.arenaHost.byteLength) {
      const size = 2 ** Math.ceil(Math.log2(bytes));
      this.arena.destroy();
      this.arena = this.createArena(size);
      this.arenaHost = new Uint8Array(size);
    }
  }

  /** Copies bytes into the arena (space made by ensureArena); returns their offset. */
  private stage(data: ArrayBufferView, align = 256): number {
    const off = Math.ceil(this.arenaUsed / align) * align;
    const bytes = Math.max(4, data.byteLength);
    if (off + bytes > this.arenaHost.byteLength) throw new Error('webgpu: internal error, arena overflow');
    this.arenaHost.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), off);
    this.arenaUsed = off + bytes;
    return off;
  }

  /** Records one compute dispatch into the current batch. */
  dispatch(d: Dispatch): void {
    const [x, y, z] = d.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new Error(`webgpu: ${d.module}.${d.entry} needs a grid of ${x}x${y}x${z} workgroups, above the device limit ${maxDim}`);
    }
    const { pipeline, layout } = this.pipeline(d.module, d.entry, d.constants);
    const uploads = d.uploads ?? [];
    this.ensureArena(PARAM_BYTES + uploads.reduce((s, u) => s + Math.ceil(Math.max(4, u.data.byteLength) / 256) * 256 + 256, 0));
    const off = this.stage(d.params.subarray(0, PARAM_SLOTS));
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: off, size: PARAM_BYTES } }];
    for (const b of d.bindings) {
      entries.push({ binding: b.binding, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size ?? b.buffer.size } });
    }
    for (const u of uploads) {
      const at = this.stage(u.data);
      entries.push({ binding: u.binding, resource: { buffer: this.arena, offset: at, size: Math.max(4, u.data.byteLength) } });
    }
    const group = this.device.createBindGroup({ layout, entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    if (++this.pendingDispatches >= this.tuning.batchDispatches) this.flush();
  }

  /** Submits everything recorded so far (uploads staged in the arena first). */
  flush(): void {
    if (this.encoder === null) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaHost.buffer, 0, Math.ceil(this.arenaUsed / 4) * 4);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.arenaUsed = 0;
    this.pendingDispatches = 0;
    for (const gpu of this.doomed.splice(0)) gpu.destroy();
  }

  private pipeline(module: ModuleName, entry: string, constants: Record<string, number | boolean>): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    const keys = Object.keys(constants).sort();
    const key = `${module}/${entry}/${keys.map((k) => `${k}=${String(constants[k])}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (p === undefined) {
      let mod = this.modules.get(module);
      if (mod === undefined) {
        const code = MODULES[module].map((f) => wgsl[f]).join('\n');
        mod = { module: this.device.createShaderModule({ label: module, code }), overrides: new Set([...code.matchAll(/override\s+(\w+)/g)].map((m) => m[1])) };
        this.modules.set(module, mod);
      }
      // Only constants the module declares (entry points of one family share a module).
      const numeric: Record<string, number> = {};
      for (const k of keys) if (mod.overrides.has(k)) numeric[k] = Number(constants[k]);
      const pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: mod.module, entryPoint: entry, constants: numeric },
      });
      p = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Number of distinct compiled pipelines (kernel variants). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.encoder === null) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (this.pass === null) this.pass = this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
  }

  // ---------------------------------------------------------------- errors and teardown

  private usable(buffer: DeviceBuffer, op: string): GpuBuffer {
    if (!(buffer instanceof GpuBuffer)) throw new Error(`webgpu.${op}: buffer does not belong to the WebGPU backend`);
    if (buffer.gpu === null) throw new Error(`webgpu.${op}: buffer used after it was freed (a disposed tensor?)`);
    return buffer;
  }

  private checkUsable(op: string): void {
    if (this.lostInfo !== null) {
      throw new Error(`WebGPU device lost (${this.lostInfo.reason}) on ${this.adapterName}: ${this.lostInfo.message || 'no message'}; '${op}' cannot run`);
    }
    if (this.disposed) throw new Error(`WebGPU backend was disposed; '${op}' cannot run`);
    if (this.failure !== null) throw this.failure;
  }

  /** Whether the device has been lost (or destroyed). */
  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** Submits pending work, destroys pooled buffers and (when owned) the device. */
  dispose(): void {
    if (this.disposed) return;
    if (this.lostInfo === null) this.flush();
    this.disposed = true;
    for (const gpu of this.doomed.splice(0)) gpu.destroy();
    this.pool.trim(0);
    this.arena.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}

/** Adapter and device for a WebGPU backend from a GPU object (navigator.gpu, or the webgpu package in Node). */
export async function createWebGpuBackend(
  gpu: GPU,
  opts: WebGpuBackendOptions & { featureLevel?: 'core' | 'compatibility'; powerPreference?: GPUPowerPreference } = {},
): Promise<WebGpuBackend> {
  const adapter = await gpu.requestAdapter({ featureLevel: opts.featureLevel ?? 'core', powerPreference: opts.powerPreference });
  if (adapter === null) throw new Error(`WebGPU: no ${opts.featureLevel ?? 'core'} adapter available`);
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.description].filter((s) => s).join(' ') || 'unnamed adapter';
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return new WebGpuBackend(device, { ...opts, ownsDevice: true, adapterName: `${name} (${opts.featureLevel ?? 'core'})` });
}
