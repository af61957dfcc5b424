// Released CPU arrays kept by dtype and length and handed out again, bounded in bytes, with memory statistics.

import type { DType, TypedArray } from '../../core/dtype.js';
import type { WasmHeapStats } from './wasm-heap.js';

export interface CpuMemoryStats {
  /** Bytes of arrays waiting in the pool. */
  pooledBytes: number;
  pooledArrays: number;
  /** Allocations served from the pool / by a new array since the backend was made. */
  reusedArrays: number;
  createdArrays: number;
  /** Releases the pool had no room for (left to the garbage collector). */
  droppedArrays: number;
  /** With the Wasm heap: arrays handed out as plain arrays because the heap could not grow. */
  spilledArrays?: number;
  /** With the Wasm heap: its statistics (one heap per process, shared by every CPU backend). */
  heap?: WasmHeapStats;
}

/** Pooled arrays per (dtype, length): training steps repeat the same shapes, so exact lengths reuse well. */
export class ArrayPool {
  private readonly free = new Map<number, TypedArray[]>();
  private pooled = 0;
  private count = 0;
  private reused = 0;
  private created = 0;
  private dropped = 0;

  constructor(readonly maxPooledBytes: number) {
    if (!(maxPooledBytes >= 0)) throw new Error(`ArrayPool: maxPooledBytes must be >= 0, got ${maxPooledBytes}`);
  }

  /** A pooled array of this dtype and length (contents arbitrary), or undefined (counted as a new array). */
  take(dtype: DType, length: number): TypedArray | undefined {
    const a = this.free.get(key(dtype, length))?.pop();
    if (a === undefined) {
      this.created++;
      return undefined;
    }
    this.pooled -= a.byteLength;
    this.count--;
    this.reused++;
    return a;
  }

  put(a: TypedArray): void {
    if (a.length === 0) return;
    if (this.pooled + a.byteLength > this.maxPooledBytes) {
      this.dropped++;
      return;
    }
    const k = key(a instanceof Float32Array ? 'float32' : 'float64', a.length);
    let list = this.free.get(k);
    if (list === undefined) {
      list = [];
      this.free.set(k, list);
    }
    list.push(a);
    this.pooled += a.byteLength;
    this.count++;
  }

  /** Drops pooled arrays, largest first, until at most keepBytes remain. */
  trim(keepBytes = 0): void {
    const lists = [...this.free.entries()].sort((x, y) => (y[1][0]?.byteLength ?? 0) - (x[1][0]?.byteLength ?? 0));
    for (const [k, list] of lists) {
      while (list.length > 0 && this.pooled > keepBytes) {
        this.pooled -= list.pop()!.byteLength;
        this.count--;
      }
      if (list.length === 0) this.free.delete(k);
    }
  }

  stats(): CpuMemoryStats {
    return { pooledBytes: this.pooled, pooledArrays: this.count, reusedArrays: this.reused, createdArrays: this.created, droppedArrays: this.dropped };
  }
}

function key(dtype: DType, length: number): number {
  return length * 2 + (dtype === 'float32' ? 0 : 1);
}
