// The backend interface: storage plus one kernel per primitive, so backends are thin plug-ins.

import type { DType, TypedArray } from '../core/dtype.js';
import type { FusedPrim, Prim, PrimParams } from '../core/primitives.js';

/** Opaque storage owned by one backend. */
export interface DeviceBuffer {
  readonly size: number;
  readonly dtype: DType;
}

export interface TensorSpec {
  shape: readonly number[];
  dtype: DType;
}

/** One primitive application: what a backend's `run` receives. */
export interface KernelCall<P extends Prim = Prim> {
  prim: P;
  params: PrimParams[P];
  inputs: TensorSpec[];
  output: TensorSpec;
}

export interface Backend {
  readonly name: string;
  /** Whether the backend can store this dtype (WebGPU: float32 only). */
  supports(dtype: DType): boolean;
  /** A zeroed buffer. */
  alloc(size: number, dtype: DType): DeviceBuffer;
  /**
   * The output buffer of one `run` of `prim`, whose contents may be left arbitrary where that kernel writes every
   * element (the CPU backend then skips zeroing a reused array). Without this method, alloc is used.
   */
  allocOutput?(prim: Prim, size: number, dtype: DType): DeviceBuffer;
  /** A buffer with every element `value` (creation ops); without this method, alloc + write of a filled array. */
  allocFilled?(size: number, dtype: DType, value: number): DeviceBuffer;
  free(buffer: DeviceBuffer): void;
  write(buffer: DeviceBuffer, data: TypedArray): void;
  read(buffer: DeviceBuffer): Promise<TypedArray>;
  /** Synchronous read where the backend allows it (CPU); undefined otherwise. */
  readSync?(buffer: DeviceBuffer): TypedArray;
  run(call: KernelCall, inputs: DeviceBuffer[], output: DeviceBuffer): void;
  /**
   * Whether `run` has a kernel for this fused primitive. Without one (or without this method) the primitive is
   * never run here: its op computes the reference composite of core primitives instead (src/core/fused.ts).
   */
  hasKernel?(prim: FusedPrim): boolean;
  /** Bytes allocated so far (cumulative), where the backend counts them; used for memory reports. */
  allocatedBytes?(): number;
  sync(): Promise<void>;
}
