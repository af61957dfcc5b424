// Size-bucketed pool of GPU storage buffers: freed buffers are kept per size class and handed out again.
/// <reference types="@webgpu/types" preserve="true" />

/** Smallest buffer handed out (bytes); also the granularity below 4 KiB. */
export const MIN_BUFFER_BYTES = 256;

/**
 * The size class of a request: multiples of 256 bytes up to 4 KiB, then four classes per power of
 * two (x, 1.25x, 1.5x, 1.75x), so at most a quarter of a buffer is unused.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 4096) return Math.max(MIN_BUFFER_BYTES, Math.ceil(bytes / 256) * 256);
  const step = 2 ** Math.floor(Math.log2(bytes)) / 4;
  return Math.ceil(bytes / step) * step;
}

/** Free buffers by size class, bounded in total bytes (beyond the bound, released buffers are destroyed). */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooled = 0;
  private count = 0;

  /** `destroy` frees a buffer the pool lets go (the backend defers it past work not yet submitted). */
  constructor(public maxPooledBytes: number, private readonly destroy: (buffer: GPUBuffer) => void = (b) => b.destroy()) {}

  get pooledBytes(): number {
    return this.pooled;
  }

  get pooledBuffers(): number {
    return this.count;
  }

  /** A pooled buffer of exactly this class, or undefined. */
  take(cls: number): GPUBuffer | undefined {
    const list = this.free.get(cls);
    const b = list?.pop();
    if (b !== undefined) {
      this.pooled -= cls;
      this.count--;
    }
    return b;
  }

  /** Keeps the buffer for reuse, or destroys it when the pool is full. */
  put(cls: number, buffer: GPUBuffer): void {
    if (this.pooled + cls > this.maxPooledBytes) {
      this.destroy(buffer);
      return;
    }
    let list = this.free.get(cls);
    if (list === undefined) {
      list = [];
      this.free.set(cls, list);
    }
    list.push(buffer);
    this.pooled += cls;
    this.count++;
  }

  /** Destroys pooled buffers until at most `keepBytes` remain (largest classes first). */
  trim(keepBytes = 0): void {
    const classes = [...this.free.keys()].sort((a, b) => b - a);
    for (const cls of classes) {
      const list = this.free.get(cls)!;
      while (list.length > 0 && this.pooled > keepBytes) {
        this.destroy(list.pop()!);
        this.pooled -= cls;
        this.count--;
      }
      if (list.length === 0) this.free.delete(cls);
    }
  }
}
