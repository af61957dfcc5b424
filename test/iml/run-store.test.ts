// memoryRunStore: a saved checkpoint is a detached copy that keeps every value (NaN, ±Infinity, -0 included) of the parameters, optimizer states and meta.
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/index.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import type { OptimizerState } from '../../src/optim/optimizer.js';

describe('memoryRunStore', () => {
  it('checkpoints keep NaN, ±Infinity and -0, and later changes to what was saved do not reach them', async () => {
    const store = memoryRunStore();
    const w = tensor([1, -0, NaN], [3]);
    const buffers = { m: [NaN, -0, Infinity], v: [-Infinity, 0, 2] };
    const optimizer = { format: 'iml-optimizer', version: 1, kind: 'adam', lr: 0.1, stepCount: 3, hyperparameters: { beta1: 0.9 }, params: { w: { shape: [3], dtype: 'float32', buffers } } } as unknown as OptimizerState;
    const meta = { best: { loss: NaN, epoch: 2 }, history: [-0, Infinity] };
    await store.saveCheckpoint({ params: { w }, optimizer, optimizers: { meta: optimizer }, step: 7, meta });
    buffers.m[0] = 5;
    meta.history[0] = 9;
    w.dataSync()[0] = 42;
    const ck = (await store.loadCheckpoint())!;
    expect(ck.step).toBe(7);
    const wd = Array.from(ck.params.w!.dataSync());
    expect(wd[0]).toBe(1);
    expect(Object.is(wd[1], -0)).toBe(true);
    expect(wd[2]).toBeNaN();
    for (const st of [ck.optimizer!, ck.optimizers!.meta!]) {
      const b = (st.params.w as unknown as { buffers: { m: number[]; v: number[] } }).buffers;
      expect(b.m[0]).toBeNaN();
      expect(Object.is(b.m[1], -0)).toBe(true);
      expect(b.m[2]).toBe(Infinity);
      expect(b.v).toEqual([-Infinity, 0, 2]);
    }
    const m = ck.meta as typeof meta;
    expect(m.best.loss).toBeNaN();
    expect(Object.is(m.history[0], -0)).toBe(true);
    expect(m.history[1]).toBe(Infinity);
    // Each load is its own copy too.
    (ck.meta as typeof meta).history[1] = 1;
    expect(((await store.loadCheckpoint())!.meta as typeof meta).history[1]).toBe(Infinity);
  });

  it('loads each tensor with its dtype, shape and values into fresh storage, and a run without optimizer states has none', async () => {
    const store = memoryRunStore();
    const w64 = tensor([0.1, 1 + 2 ** -40, -3], [3, 1], { dtype: 'float64' });
    await store.saveCheckpoint({ params: { w64 }, step: 2 });
    const a = (await store.loadCheckpoint())!;
    expect(a.params.w64!.dtype).toBe('float64');
    expect(a.params.w64!.shape).toEqual([3, 1]);
    expect(Array.from(a.params.w64!.dataSync())).toEqual([0.1, 1 + 2 ** -40, -3]);
    expect(a.optimizer).toBeUndefined();
    expect(a.optimizers).toBeUndefined();
    a.params.w64!.dataSync()[0] = 7;
    expect((await store.loadCheckpoint())!.params.w64!.dataSync()[0]).toBe(0.1);
    expect(await memoryRunStore().loadCheckpoint()).toBeNull();
  });
});
