// The IML loop: warm-up, early stopping, divergence reporting and bit-exact resume from a checkpoint.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/index.js';
import { noMetaKnowledge } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { fileRunStore } from '../../src/node/file-run-store.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { runIml, type ImlConfig } from '../../src/iml/trainer.js';
import { build, config as baseConfig, data } from './cases.js';
import { MLP } from '../../src/nn/index.js';

// The shared problem, with 6 meta-epochs unless a test says otherwise.
const config = (o: Partial<ImlConfig>): ImlConfig => baseConfig({ metaEpochs: 6, ...o });

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'iml-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('IML trainer', () => {
  it('runs warm-up steps before the first meta-update', async () => {
    const { model, mk } = build();
    const r = await runIml(model, mk, data, config({ warmupSteps: 7, metaEpochs: 2 }));
    expect(r.metrics.map((m) => m.innerStep)).toEqual([11, 15]);
    expect(r.metrics[0].hypergradNorm).toBeGreaterThan(0);
  });

  it('stops early after `patience` meta-updates without a better validation loss', async () => {
    const { model, mk } = build();
    // Learning rates that change nothing: the validation loss never improves after epoch 1.
    const r = await runIml(model, mk, data, config({ innerLr: 0, metaLr: 0, patience: 3, metaEpochs: 50 }));
    expect(r.summary.stoppedEarly).toBe(true);
    expect(r.summary.metaEpochsRun).toBe(4);
    expect(r.summary.bestMetaEpoch).toBe(1);
  });

  it('continueAfterEarlyStop trains to the budget with the early-stopping checkpoint frozen (thesis Test vs ES Test)', async () => {
    // A high inner learning rate makes the validation loss rise after a few meta-epochs.
    const base = { innerLr: 0.3, patience: 2, metaEpochs: 10 };
    const a = build();
    const stopped = await runIml(a.model, a.mk, data, config(base));
    expect(stopped.summary.stoppedEarly).toBe(true);
    const esAt = stopped.summary.earlyStopEpoch!;
    expect(esAt).toBe(stopped.summary.metaEpochsRun);
    expect(esAt).toBeLessThan(10);
    const b = build();
    const cont = await runIml(b.model, b.mk, data, config({ ...base, continueAfterEarlyStop: true }));
    expect(cont.summary.stoppedEarly).toBe(false);
    expect(cont.summary.metaEpochsRun).toBe(10);
    expect(cont.summary.earlyStopEpoch).toBe(esAt);
    // The same trajectory up to the stop; ES Test and its epoch frozen there, Test from the last epoch.
    expect(cont.metrics.slice(0, esAt).map((m) => m.validation.loss)).toEqual(stopped.metrics.map((m) => m.validation.loss));
    expect(cont.summary.bestMetaEpoch).toBe(stopped.summary.bestMetaEpoch);
    expect(cont.summary.esTest).toBe(stopped.summary.esTest);
    expect(cont.summary.test).toBe(cont.metrics[9].test.accuracy);
    expect(cont.summary.esTest).toBe(cont.metrics[cont.summary.bestMetaEpoch - 1].test.accuracy);
  });

  it('resuming a run that stopped early trains no further and reports the same summary', async () => {
    const dir = tmp();
    const a = build();
    const cfg = config({ innerLr: 0.3, patience: 2, metaEpochs: 10, checkpointEvery: 4 });
    const first = await runIml(a.model, a.mk, data, cfg, { store: fileRunStore(dir) });
    expect(first.summary.stoppedEarly).toBe(true);
    const b = build();
    const again = await runIml(b.model, b.mk, data, cfg, { store: fileRunStore(dir), resume: true });
    expect(again.summary).toEqual(first.summary);
    expect(again.metrics.map((m) => m.validation.loss)).toEqual(first.metrics.map((m) => m.validation.loss));
  });

  it('runs the baseline (no hyperparameters) and resumes it', async () => {
    const model = new MLP([16, 8, 3], new Random(9));
    const dir = tmp();
    const cfg = config({ method: parseMethod('baseline'), metaEpochs: 2, checkpointEvery: 1 });
    const r = await runIml(model, noMetaKnowledge(), data, cfg, { store: fileRunStore(dir) });
    expect(r.metrics.length).toBe(2);
    expect(r.metrics[0].hypergradNorm).toBe(0);
    const again = await runIml(new MLP([16, 8, 3], new Random(9)), noMetaKnowledge(), data, { ...cfg, metaEpochs: 3 }, { store: fileRunStore(dir), resume: true });
    expect(again.metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3]);
  });

  it('reports divergence with the meta-epoch and step instead of producing NaN', async () => {
    const { model, mk } = build();
    const r = await runIml(model, mk, data, config({ innerLr: 1e30, metaEpochs: 3 }));
    expect(r.summary.diverged).not.toBeNull();
    expect(r.summary.diverged!.step).toBeGreaterThan(0);
  });

  it('a diverging approximation ends the run as diverged, and diverging comparisons are recorded, not thrown', async () => {
    const { model, mk } = build();
    const r = await runIml(model, mk, data, config({ method: parseMethod('neumann:60:alpha=50'), metaEpochs: 2 }));
    expect(r.summary.diverged?.what).toMatch(/neumann: non-finite/);
    const b = build();
    const cmp = { every: 1, reference: parseMethod('cg:200'), methods: [parseMethod('neumann:60:alpha=50'), parseMethod('identity')] };
    const ok = await runIml(b.model, b.mk, data, config({ metaEpochs: 1, compare: cmp }));
    const [bad, id] = ok.metrics[0].comparisons!;
    expect(bad.relativeError).toBe(Infinity);
    expect(Number.isFinite(id.cosine)).toBe(true);
  });

  it('resuming from a checkpoint reproduces the uninterrupted run exactly', async () => {
    const a = build();
    const full = await runIml(a.model, a.mk, data, config({ metaSubset: 10 }));
    const dir = tmp();
    const b = build();
    await runIml(b.model, b.mk, data, config({ metaSubset: 10, metaEpochs: 3, checkpointEvery: 3 }), { store: fileRunStore(dir) });
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
    expect(existsSync(join(dir, 'best.json'))).toBe(true);
    const c = build();
    const resumed = await runIml(c.model, c.mk, data, config({ metaSubset: 10, checkpointEvery: 3 }), { store: fileRunStore(dir), resume: true });
    expect(resumed.metrics.length).toBe(6);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).metaEpoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const key = (m: (typeof full.metrics)[number]) => [m.train.loss, m.validation.loss, m.hypergradNorm, m.meanDecay];
    expect(resumed.metrics.map(key)).toEqual(full.metrics.map(key));
  });

  it('closed-form penalty curvature (default) follows the generic penalty-graph path', async () => {
    for (const spec of ['neumann:3', 'cg:3', 't1t2']) {
      const a = build();
      const fast = await runIml(a.model, a.mk, data, config({ method: parseMethod(spec), metaEpochs: 3 }));
      const b = build();
      const generic = await runIml(b.model, b.mk, data, config({ method: parseMethod(spec), metaEpochs: 3, closedFormPenalty: false }));
      const key = (m: (typeof fast.metrics)[number]) => [m.validation.loss, m.hypergradNorm, m.meanDecay];
      const f = fast.metrics.flatMap(key);
      const g = generic.metrics.flatMap(key);
      expect(f.length).toBe(9);
      f.forEach((v, i) => expect(Math.abs(v - g[i]), `${spec}[${i}]`).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(g[i]))));
    }
  });

  it('an in-memory run store (browsers) resumes exactly like a run folder, and keeps copies, not live tensors', async () => {
    const a = build();
    const full = await runIml(a.model, a.mk, data, config({ metaSubset: 10 }));
    const store = memoryRunStore();
    const b = build();
    await runIml(b.model, b.mk, data, config({ metaSubset: 10, metaEpochs: 3, checkpointEvery: 3 }), { store });
    expect((await store.readMetrics()).map((m) => m.metaEpoch)).toEqual([1, 2, 3]);
    expect(store.best).not.toBeNull();
    const saved = (await store.loadCheckpoint())!;
    const savedW = saved.params['fc1.weight'].toArray();
    const c = build();
    const resumed = await runIml(c.model, c.mk, data, config({ metaSubset: 10, checkpointEvery: 3 }), { store, resume: true });
    expect((await store.readMetrics()).map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const key = (m: (typeof full.metrics)[number]) => [m.train.loss, m.validation.loss, m.hypergradNorm, m.meanDecay];
    expect(resumed.metrics.map(key)).toEqual(full.metrics.map(key));
    // The checkpoint of meta-epoch 3 was replaced by the one of meta-epoch 6, whose weights differ.
    expect((await store.loadCheckpoint())!.params['fc1.weight'].toArray()).not.toEqual(savedW);
    expect(await memoryRunStore().loadCheckpoint()).toBeNull();
  });
});
