// Replaced state is freed at once, not left to the garbage collector: optimizers, batch norm and the weight EMA dispose the values they replace, retain() handles keep a value alive, disposeWith ties caches to their key, and IML meta-epochs of every method keep the CPU heap's live bytes flat (the hypergradient's tensors included).
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { withBackend } from '../../src/backend/registry.js';
import { randn, tensor } from '../../src/core/creation.js';
import { tidy } from '../../src/core/scope.js';
import { disposeWith, retain, type Tensor } from '../../src/core/tensor.js';
import { createImageDataset } from '../../src/data/dataset.js';
import { perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { runIml, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { BatchNorm, MLP } from '../../src/nn/index.js';
import { Adam } from '../../src/optim/adam.js';
import { SGD } from '../../src/optim/sgd.js';
import { withRecomputedBatchNorm } from '../../src/ssl/ema-batch-norm.js';
import { WeightEma } from '../../src/ssl/ema.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';
import { config, data } from '../iml/cases.js';

const vec = (v: number[]): Tensor => tensor(v, [v.length]);

describe('optimizers, batch norm and EMA free what they replace', () => {
  it('an optimizer disposes the values it made and its replaced buffers, never the caller\'s initial tensor', () => {
    const w0 = vec([1, 2, 3]);
    const p = { name: 'w', value: w0 };
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    opt.step([vec([1, 1, 1])]);
    const w1 = p.value;
    const held = retain(w1);
    const buf1 = opt.stateDict().params.w.buffers.momentum_buffer;
    opt.step([vec([1, 1, 1])]);
    expect(w0.isDisposed).toBe(false); // the caller's
    expect(w1.isDisposed).toBe(true); // made by step 1, replaced by step 2
    expect(() => w1.dataSync()).toThrow(/used after dispose/);
    // A retain() handle shares the storage and keeps the values.
    expect(Array.from(held.dataSync())).toEqual([1 - 0.1, 2 - 0.1, 3 - 0.1].map(Math.fround));
    expect(buf1).toEqual([1, 1, 1]);
    expect(p.value.isDisposed).toBe(false);
  });

  it('loading a state dict frees the buffers it replaces; the loaded ones survive a tidy scope', () => {
    const p = { name: 'w', value: vec([1, 2]) };
    const opt = new Adam([p], { lr: 0.1 });
    opt.step([vec([1, -1])]);
    const state = opt.stateDict();
    opt.step([vec([1, -1])]);
    tidy(() => opt.loadStateDict(state));
    opt.step([vec([1, -1])]); // reads the loaded buffers: they were kept
    expect(p.value.toArray().every(Number.isFinite)).toBe(true);
  });

  it('batch norm disposes its replaced running statistics; withRecomputedBatchNorm puts the training ones back intact', async () => {
    const bn = new BatchNorm(2);
    const mean0 = bn.runningMean;
    const x = randn([4, 2, 3, 3], new Random(1));
    tidy(() => bn.forward(x, { training: true }));
    expect(mean0.isDisposed).toBe(true);
    const before = Array.from(bn.runningMean.dataSync());
    const cnn = new SmallCnn(new Random(2), { side: 8, widths: [2, 2, 2] });
    tidy(() => cnn.forward(randn([4, 1, 8, 8], new Random(3)), { training: true }));
    const stats = cnn.buffers().map((b) => Array.from(b.value.dataSync()));
    const images = createImageDataset({ images: new Float32Array(6 * 64).map((_, i) => (i % 7) / 7), labels: new Uint8Array(6), count: 6, channels: 1, height: 8, width: 8, numClasses: 10, name: 'bn' });
    const inside = await withRecomputedBatchNorm(cnn, images, async () => cnn.buffers().map((b) => Array.from(b.value.dataSync())));
    expect(inside).not.toEqual(stats);
    expect(cnn.buffers().map((b) => Array.from(b.value.dataSync()))).toEqual(stats);
    expect(before.length).toBe(2);
  });

  it('the weight EMA disposes the averages it replaces', () => {
    const params = [{ value: vec([1, 2]) }];
    const ema = new WeightEma(params, 0.5);
    const first = ema.values[0];
    ema.update(params);
    expect(first.isDisposed).toBe(true);
    expect(ema.values[0].toArray()).toEqual([1, 2]);
  });

  it('disposeWith: the dependents go with their owner handle, not with a retain() of it', () => {
    const owner = vec([1, 2]);
    const handle = retain(owner);
    const dep = vec([3]);
    disposeWith(owner, [dep]);
    handle.dispose();
    expect(dep.isDisposed).toBe(false);
    owner.dispose();
    expect(dep.isDisposed).toBe(true);
    expect(() => disposeWith(owner, [vec([4])])).toThrow(/already disposed/);
  });
});

describe('IML meta-epochs keep the CPU heap flat', () => {
  // The leak this guards against: runBilevel's meta-step returned the hypergradient result (hypergradient, inverse-HVP
  // solution, validation gradient) out of its tidy scope, so every meta-step (every inner step for T1-T2) left
  // θ-sized tensors to the garbage collector.
  for (const spec of ['neumann:3', 'cg:3:warm', 'identity', 't1t2', 'damped-neumann:3']) {
    it(`${spec}: live heap bytes after meta-epoch 2 equal those after meta-epochs 4 and 6`, async () => {
      const be = new CpuBackend({ heap: true });
      const heap = be.heap()!;
      const { model, mk } = withBackend(be, () => {
        const m = new MLP([16, 8, 3], new Random(9));
        return { model: m, mk: perParameterL2(m.parameters()) };
      });
      const live: number[] = [];
      const r = await runIml(model, mk, data, config({ method: parseMethod(spec), metaEpochs: 6, patience: 0 }), {
        store: memoryRunStore<MetaEpochMetrics>(), onMetaEpoch: () => void live.push(heap.stats().liveBytes),
      });
      expect(r.summary.diverged).toBe(null);
      expect(live).toHaveLength(6);
      expect(live[5]).toBe(live[1]);
      expect(live[3]).toBe(live[1]);
    });
  }
});
