// fillArray: heap arrays are filled in Wasm (fillF32/fillF64) with exactly what a typed array's own fill writes (float32 rounding, -0, NaN, Infinity), only inside [start, end), at any offset and length.
import { afterAll, describe, expect, it } from 'vitest';
import type { TypedArray } from '../../src/core/dtype.js';
import { cpuHeap, fillArray } from '../../src/backend/cpu/wasm-heap.js';

const heap = cpuHeap()!;
const live: TypedArray[] = [];
afterAll(() => live.forEach((a) => heap.free(a)));

const bytes = (a: TypedArray): number[] => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe.each(['float32', 'float64'] as const)('fillArray on %s heap arrays', (dtype) => {
  it('writes the bytes a plain fill writes, only in [start, end)', () => {
    const n = 1000;
    for (const value of [0, -0, 0.1, -2.5, NaN, Infinity, -Infinity, 3.4e38, 1e-45]) {
      for (const [start, end] of [[0, n], [3, 997], [1, 258], [0, 256], [5, 1000], [17, 17 + 255], [500, 500]]) {
        const a = heap.alloc(dtype, n, 'error', 'fill test')!;
        live.push(a);
        for (let i = 0; i < n; i++) a[i] = i + 0.5;
        const ref = dtype === 'float32' ? Float32Array.from(a) : Float64Array.from(a);
        ref.fill(value, start, end);
        fillArray(a, value, start, end);
        expect(bytes(a), `value ${value}, [${start}, ${end})`).toEqual(bytes(ref));
      }
    }
  });
});

describe('fillArray elsewhere', () => {
  it('fills plain arrays with their own fill', () => {
    const a = new Float32Array(300).fill(1);
    fillArray(a, -0, 10, 290);
    expect(Object.is(a[10], -0) && Object.is(a[289], -0) && a[9] === 1 && a[290] === 1).toBe(true);
    const b = new Float64Array(400);
    fillArray(b, 7, 1);
    expect(b[0]).toBe(0);
    expect(b[399]).toBe(7);
  });
});
