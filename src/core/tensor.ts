// The Tensor value: shape, dtype, backend storage and (when traced) the graph node that made it.

import type { Backend, DeviceBuffer } from '../backend/backend.js';
import type { DType, TypedArray } from './dtype.js';
import { track } from './scope.js';
import { formatShape, sizeOf } from './shape.js';

/** How many live tensors share each storage (variable() and detach() share it): freed when the last one is disposed. */
const users = new WeakMap<DeviceBuffer, number>();
/** Tensors disposed together with a tensor (caches derived from it): see disposeWith. */
const dependents = new WeakMap<Tensor, Tensor[]>();

/** A recorded application: its differentiable inputs and the vector-Jacobian product back to them. */
export interface GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /**
   * Cotangent of the output -> cotangents of the inputs (null = zero), written in differentiable ops.
   * `needs[k]` false lets the rule skip input k (e.g. data batches), saving its kernels.
   */
  readonly vjp: (cotangent: Tensor, needs: readonly boolean[]) => (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with graph recording switched on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn without recording a graph (optimizer updates, evaluation). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

let tensorIds = 1;

/** The id the next tensor will get (ids increase: a tensor made after this call has an id >= it). */
export function nextTensorId(): number {
  return tensorIds;
}

export class Tensor {
  readonly id = tensorIds++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: Backend;
  private storage: DeviceBuffer | null;
  /** The node that produced this tensor when it was traced; null for constants and leaves. */
  node: GradNode | null = null;
  /** True when gradients can flow to this tensor (a variable, or computed from one). */
  requiresGrad = false;
  /** Optional label used in error messages and parameter trees. */
  label?: string;

  constructor(backend: Backend, buffer: DeviceBuffer, shape: readonly number[], dtype: DType) {
    if (buffer.size !== sizeOf(shape)) {
      throw new Error(`Tensor: buffer of ${buffer.size} elements does not match shape ${formatShape(shape)}`);
    }
    this.backend = backend;
    this.storage = buffer;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    users.set(buffer, (users.get(buffer) ?? 0) + 1);
    track(this);
  }

  get buffer(): DeviceBuffer {
    if (this.storage === null) throw new Error(`Tensor ${this.describe()} was used after dispose()`);
    return this.storage;
  }

  get size(): number {
    return this.buffer.size;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.storage === null;
  }

  describe(): string {
    return `${this.label ?? `#${this.id}`}${formatShape(this.shape)}:${this.dtype}`;
  }

  /** Synchronous copy of the values (CPU backend only). */
  dataSync(): TypedArray {
    if (!this.backend.readSync) {
      throw new Error(`dataSync: backend '${this.backend.name}' can only be read asynchronously; use await tensor.data()`);
    }
    return this.backend.readSync(this.buffer);
  }

  /** Copy of the values, on any backend. */
  data(): Promise<TypedArray> {
    return this.backend.read(this.buffer);
  }

  /** The single value of a one-element tensor (CPU backend). */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor ${this.describe()} has ${this.size} elements, expected 1`);
    return this.dataSync()[0];
  }

  toArray(): number[] {
    return Array.from(this.dataSync());
  }

  /**
   * Releases the storage now (to the backend's pool) unless another live tensor shares it; the tensor must
   * not be used afterwards. Disposing twice does nothing.
   */
  dispose(): void {
    const s = this.storage;
    if (s === null) return;
    this.storage = null;
    const deps = dependents.get(this);
    if (deps !== undefined) {
      dependents.delete(this);
      for (const d of deps) d.dispose();
    }
    const n = (users.get(s) ?? 1) - 1;
    if (n > 0) {
      users.set(s, n);
    } else {
      users.delete(s);
      this.backend.free(s);
    }
  }

  toString(): string {
    return `Tensor${formatShape(this.shape)}(${this.dtype})`;
  }
}

/**
 * A second handle on t's storage (same values, no graph, no copy): the storage lives until every handle is
 * disposed. Take one to hold a value beyond the next update of the slot it came from, since optimizers, batch
 * norm and EMA dispose the values they replace (docs/memory.md).
 */
export function retain(t: Tensor): Tensor {
  const r = new Tensor(t.backend, t.buffer, t.shape, t.dtype);
  if (t.label !== undefined) r.label = t.label;
  return r;
}

/** Disposes every tensor of `old` that is not also in `kept`: the state an owner replaced, whatever it carried over stays. */
export function disposeReplaced(old: Iterable<Tensor> | undefined, kept: readonly Tensor[]): void {
  if (old === undefined) return;
  for (const t of old) if (!kept.includes(t)) t.dispose();
}

/**
 * Ties `deps` to `owner`: disposing the owner (this very handle) disposes them too. For caches computed from a
 * tensor and keyed on it, which would otherwise wait for the garbage collector.
 */
export function disposeWith(owner: Tensor, deps: readonly Tensor[]): void {
  if (owner.isDisposed) throw new Error(`disposeWith: owner ${owner.describe()} is already disposed`);
  const list = dependents.get(owner);
  if (list === undefined) dependents.set(owner, [...deps]);
  else list.push(...deps);
}
