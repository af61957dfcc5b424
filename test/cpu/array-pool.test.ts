// The CPU backend's pool of released arrays (the plain-array backend, heap: false): reuse by dtype and length, zeroed hand-outs, the byte bound, trimming, and use after free reported.
import { describe, expect, it } from 'vitest';
import { ArrayPool } from '../../src/backend/cpu/array-pool.js';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';

describe('CPU array pool', () => {
  it('hands a released array out again for the same dtype and length only, zeroed', () => {
    const b = new CpuBackend({ heap: false });
    const a = b.alloc(5, 'float32') as CpuBuffer;
    a.data.fill(7);
    const raw = a.data;
    b.free(a);
    b.free(a); // twice: nothing
    expect(b.memoryStats()).toMatchObject({ pooledBytes: 20, pooledArrays: 1, createdArrays: 1, reusedArrays: 0 });
    expect((b.alloc(5, 'float64') as CpuBuffer).data).not.toBe(raw);
    expect((b.alloc(4, 'float32') as CpuBuffer).data).not.toBe(raw);
    const again = b.alloc(5, 'float32') as CpuBuffer;
    expect(again.data).toBe(raw);
    expect(Array.from(again.data)).toEqual([0, 0, 0, 0, 0]);
    expect(b.memoryStats()).toMatchObject({ pooledBytes: 0, pooledArrays: 0, createdArrays: 3, reusedArrays: 1 });
  });

  it('keeps at most maxPooledBytes and trims largest first', () => {
    const p = new ArrayPool(100);
    p.put(new Float64Array(8)); // 64 bytes
    p.put(new Float32Array(8)); // 32
    p.put(new Float32Array(4)); // 16: over the bound
    expect(p.stats()).toMatchObject({ pooledBytes: 96, pooledArrays: 2, droppedArrays: 1 });
    p.trim(40);
    expect(p.stats()).toMatchObject({ pooledBytes: 32, pooledArrays: 1 });
    expect(p.take('float64', 8)).toBeUndefined();
    expect(p.take('float32', 8)?.length).toBe(8);
    expect(() => new ArrayPool(-1)).toThrow('ArrayPool: maxPooledBytes must be >= 0, got -1');
  });

  it('a freed buffer used by a kernel, a read or a write is an error naming the operation', () => {
    const b = new CpuBackend({ heap: false });
    const x = b.alloc(3, 'float32');
    const out = b.alloc(3, 'float32');
    b.free(x);
    expect(() => b.readSync(x)).toThrow('cpu.read: a buffer of 3 float32 values was used after it was freed');
    expect(() => b.write(x, new Float32Array(3))).toThrow('cpu.write: a buffer of 3 float32 values was used after it was freed');
    expect(() => b.run({ prim: 'neg', params: {}, inputs: [{ shape: [3], dtype: 'float32' }], output: { shape: [3], dtype: 'float32' } }, [x], out))
      .toThrow('cpu.neg: a buffer of 3 float32 values was used after it was freed');
  });
});
