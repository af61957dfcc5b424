// l2Problem.restore refuses a damaged checkpoint (no inner optimizer, another lr, disagreeing step counters, a bad data order or cursor) with an error naming the problem.
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryRunStore, type RunStore } from '../../src/iml/run-store.js';
import { runIml, type ImlConfig, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import type { Checkpoint } from '../../src/train/checkpoint.js';
import { build, config as baseConfig, data } from './cases.js';

// 2 meta-epochs of 4 inner steps of 8 out of 40 samples: the checkpoint is at step 8, cursor 24 of the second data order.
const config = (o: Partial<ImlConfig> = {}): ImlConfig => baseConfig({ metaEpochs: 2, checkpointEvery: 2, metaSubset: 10, ...o });

/** The checkpoint and metrics of the short run, written once; every resume gets its own copy. */
let original: { checkpoint: Checkpoint; metrics: MetaEpochMetrics[] };

/** A fresh store holding the original run, with its checkpoint passed through `edit` when loaded. */
async function damaged(edit: (ck: Checkpoint & { meta: Record<string, unknown> }) => void): Promise<RunStore> {
  const store = memoryRunStore();
  await store.saveCheckpoint(original.checkpoint);
  await store.writeMetrics(original.metrics);
  return {
    ...store,
    loadCheckpoint: async (backend) => {
      const ck = await store.loadCheckpoint(backend);
      edit(ck as Checkpoint & { meta: Record<string, unknown> });
      return ck;
    },
  };
}

const resume = async (edit: (ck: Checkpoint & { meta: Record<string, unknown> }) => void) => {
  const b = build();
  return runIml(b.model, b.mk, data, config({ metaEpochs: 3 }), { store: await damaged(edit), resume: true });
};

const RANGE = 'memory: checkpoint: the data order or cursor is missing or out of range for 40 training samples';

describe('l2Problem.restore on a damaged checkpoint', () => {
  let saved: { order: number[]; cursor: number; step: number; lr: number; stepCount: number };
  beforeAll(async () => {
    const store = memoryRunStore();
    const a = build();
    await runIml(a.model, a.mk, data, config(), { store });
    const ck = (await store.loadCheckpoint())!;
    original = { checkpoint: ck, metrics: await store.readMetrics() };
    const meta = ck.meta as { order: number[]; cursor: number; step: number };
    saved = { order: meta.order, cursor: meta.cursor, step: meta.step, lr: ck.optimizer!.lr, stepCount: ck.optimizer!.stepCount };
  });

  it('the undamaged checkpoint resumes (the control for the cases below)', async () => {
    expect(saved).toMatchObject({ cursor: 24, step: 8, lr: 0.01, stepCount: 8 });
    expect([...saved.order].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const r = await resume(() => {});
    expect(r.metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3]);
    expect(r.summary.diverged).toBeNull();
  });

  it('no inner optimizer state', async () => {
    await expect(resume((ck) => delete ck.optimizer)).rejects.toThrow(
      'memory: checkpoint has no optimizer states or run configuration; it was not written by an IML run');
  });

  it('an inner learning rate other than the configuration\'s', async () => {
    await expect(resume((ck) => (ck.optimizer!.lr = 0.02))).rejects.toThrow(
      'memory: checkpoint: inner optimizer lr 0.02 differs from the configuration\'s innerLr 0.01');
  });

  it('the inner optimizer\'s step count disagrees with the loop\'s', async () => {
    await expect(resume((ck) => (ck.optimizer!.stepCount = 9))).rejects.toThrow(
      'memory: checkpoint: step counters disagree (meta 8, optimizer 9)');
    await expect(resume((ck) => (ck.optimizer!.stepCount = 7))).rejects.toThrow(
      'memory: checkpoint: step counters disagree (meta 8, optimizer 7)');
  });

  // One bad entry among valid ones, at the front, the middle and the end of the order.
  const orders: [string, (o: number[]) => unknown][] = [
    ['missing', () => undefined],
    ['not an array', (o) => o.join(',')],
    ['an index equal to the sample count (40)', (o) => o.map((v, i) => (i === 5 ? 40 : v))],
    ['an index past the sample count (41)', (o) => o.map((v, i) => (i === 39 ? 41 : v))],
    ['a negative index (-1)', (o) => o.map((v, i) => (i === 0 ? -1 : v))],
    ['a non-integer index (1.5)', (o) => o.map((v, i) => (i === 17 ? 1.5 : v))],
    ['a negative non-integer index (-0.5)', (o) => o.map((v, i) => (i === 3 ? -0.5 : v))],
    ['a non-number index', (o) => o.map((v, i) => (i === 9 ? '3' : v))],
  ];
  for (const [what, edit] of orders) {
    it(`a data order with ${what}`, async () => {
      await expect(resume((ck) => (ck.meta.order = edit([...saved.order])))).rejects.toThrow(RANGE);
    });
  }

  const cursors: [string, unknown][] = [['missing', undefined], ['a string', '24'], ['negative', -1], ['negative (-8)', -8], ['not an integer', 2.5], ['NaN', NaN]];
  for (const [what, cursor] of cursors) {
    it(`a cursor that is ${what}`, async () => {
      await expect(resume((ck) => (ck.meta.cursor = cursor))).rejects.toThrow(RANGE);
    });
  }

  it('cursor 0 is valid: the resumed run starts the saved order from its first batch', async () => {
    const intact = await resume(() => {});
    const fromStart = await resume((ck) => (ck.meta.cursor = 0));
    expect(fromStart.metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3]);
    expect(fromStart.summary.diverged).toBeNull();
    // Epochs 1-2 come from the stored metrics; epoch 3 trained on other batches than the intact resume's.
    expect(fromStart.metrics.slice(0, 2)).toEqual(intact.metrics.slice(0, 2));
    expect(fromStart.metrics[2].train.loss).not.toBe(intact.metrics[2].train.loss);
  });
});
