// tidy/tidyAsync/keep: what a scope disposes and what survives (results at any depth, kept state, storage shared by views), nesting, errors.
import { describe, expect, it } from 'vitest';
import { variable } from '../../src/autodiff/transforms.js';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { tensor } from '../../src/core/creation.js';
import { add, mul } from '../../src/core/ops.js';
import { keep, tidy, tidyAsync } from '../../src/core/scope.js';
import { detach } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';

// The plain-array backend: these tests read its pool's statistics (the Wasm heap's are tested in test/cpu/wasm-heap.test.ts).
const be = (): CpuBackend => new CpuBackend({ heap: false });
const vec = (b: CpuBackend, xs: number[]): Tensor => tensor(xs, [xs.length], { backend: b, dtype: 'float64' });

describe('tidy', () => {
  it('disposes the temporaries and keeps the result, also inside arrays and plain objects at any depth', () => {
    const b = be();
    const x = vec(b, [1, 2, 3]);
    let tmp: Tensor | null = null;
    const r = tidy(() => {
      tmp = mul(x, 2);
      const y = add(tmp, 1);
      const z = mul(y, y);
      return { out: [y, { deep: z }], n: 3 };
    });
    expect(tmp!.isDisposed).toBe(true);
    expect(x.isDisposed).toBe(false);
    expect(r.out[0] instanceof Object && (r.out[0] as Tensor).toArray()).toEqual([3, 5, 7]);
    expect(((r.out[1] as { deep: Tensor }).deep).toArray()).toEqual([9, 25, 49]);
    // The temporary's array and the two scalar constants went back to the pool and are handed out again, zeroed.
    expect(b.memoryStats().pooledArrays).toBe(3);
    const again = mul(x, 0);
    expect(b.memoryStats().reusedArrays).toBe(2);
    expect(again.toArray()).toEqual([0, 0, 0]);
  });

  it('a tensor made outside, a kept tensor and a view sharing a parameter\'s storage outlive the scope', () => {
    const b = be();
    const p = vec(b, [4, 5]);
    const state: { v: Tensor | null } = { v: null };
    tidy(() => {
      const view = variable(p); // shares p's storage
      const d = detach(view);
      state.v = keep(mul(view, 10));
      return mul(d, 2);
    });
    expect(p.toArray()).toEqual([4, 5]);
    expect(state.v!.toArray()).toEqual([40, 50]);
    // p's storage was not released to the pool by disposing the views: a new allocation does not get it.
    const fresh = mul(vec(b, [1, 1]), 7);
    expect(p.toArray()).toEqual([4, 5]);
    expect(fresh.toArray()).toEqual([7, 7]);
  });

  it('nested scopes: the inner result belongs to the outer scope and is disposed there unless returned', () => {
    const b = be();
    const x = vec(b, [1]);
    let inner: Tensor | null = null;
    const outer = tidy(() => {
      inner = tidy(() => mul(x, 3));
      expect(inner.isDisposed).toBe(false);
      return add(inner, 1);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(outer.toArray()).toEqual([4]);
  });

  it('on an exception everything made inside is disposed and the error passes through', () => {
    const b = be();
    const x = vec(b, [1]);
    let t: Tensor | null = null;
    expect(() => tidy(() => {
      t = mul(x, 2);
      throw new Error('boom');
    })).toThrow('boom');
    expect(t!.isDisposed).toBe(true);
    expect(() => t!.toArray()).toThrow(/used after dispose\(\)/);
  });

  it('refuses an async function (use tidyAsync) and scopes closed out of order', async () => {
    const b = be();
    expect(() => tidy(async () => vec(b, [1]))).toThrow('tidy: fn returned a Promise; use tidyAsync for async functions');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const outer = tidyAsync(async () => {
      await Promise.resolve();
      return vec(b, [1]);
    });
    const inner = tidyAsync(async () => {
      await gate;
      return vec(b, [2]);
    });
    // The first scope ends while the second (opened inside it) is still waiting.
    await expect(outer).rejects.toThrow('tidy: scopes closed out of order (1 inner scope(s) still open); await each tidyAsync before starting the next');
    release();
    expect((await inner).toArray()).toEqual([2]);
    // The stack is sound again: a new scope disposes its temporaries.
    let t: Tensor | null = null;
    tidy(() => void (t = vec(b, [3])));
    expect(t!.isDisposed).toBe(true);
  });

  it('tidyAsync keeps what the awaited function returns and disposes the rest', async () => {
    const b = be();
    const x = vec(b, [2, 3]);
    let tmp: Tensor | null = null;
    const r = await tidyAsync(async () => {
      tmp = mul(x, x);
      await Promise.resolve();
      return { sum: add(tmp, x), read: (await tmp.data())[1] };
    });
    expect(tmp!.isDisposed).toBe(true);
    expect(r.read).toBe(9);
    expect(r.sum.toArray()).toEqual([6, 12]);
  });
});
