// A tiny FixMatch run stopped after a checkpoint and resumed reproduces the uninterrupted run bit for bit (CPU); the supervised baseline; the SSL split.
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.js';
import { TIMING_FIELDS, type FixMatchMetrics } from '../../src/ssl/fixmatch-metrics.js';
import { memoryFixMatchStore } from '../../src/ssl/fixmatch-store.js';
import { trainFixMatch } from '../../src/ssl/fixmatch-trainer.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { sslSplit } from '../../src/ssl/ssl-split.js';
import { EpochSampler } from '../../src/ssl/sampler.js';
import { Random } from '../../src/util/random.js';
import { tinyConfig, tinyData, toyData } from './cases.js';

const strip = (ms: FixMatchMetrics[]) => ms.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !(TIMING_FIELDS as string[]).includes(k))));

async function weightsOf(model: SmallCnn): Promise<number[][]> {
  return Promise.all([...model.parameters(), ...model.buffers()].map(async (p) => Array.from(await p.value.data())));
}

describe('FixMatch trainer', () => {
  it('stopped after step 3 (checkpoint at 2) and resumed: identical metrics, weights, EMA and buffers', async () => {
    const data = tinyData();
    const cfg = tinyConfig();
    const m1 = new SmallCnn(new Random(cfg.seed), { side: 8, numClasses: 3, widths: [4, 4, 4] });
    const s1 = memoryFixMatchStore();
    const full = await trainFixMatch(m1, data, cfg, s1);
    expect(full.finished).toBe(true);
    expect(full.metrics.map((m) => m.step)).toEqual([2, 4, 6]);
    // The unsupervised branch was exercised.
    expect(full.metrics.some((m) => m.maskRate > 0 && m.unsupervisedLoss > 0)).toBe(true);

    const m2 = new SmallCnn(new Random(cfg.seed), { side: 8, numClasses: 3, widths: [4, 4, 4] });
    const s2 = memoryFixMatchStore();
    const part = await trainFixMatch(m2, data, cfg, s2, { stopAfter: 3 });
    expect(part.finished).toBe(false);
    const m3 = new SmallCnn(new Random(99), { side: 8, numClasses: 3, widths: [4, 4, 4] }); // other init: everything must come from the checkpoint
    const resumed = await trainFixMatch(m3, data, cfg, s2, { resume: true });
    expect(resumed.finished).toBe(true);
    expect(strip(await s2.readMetrics())).toEqual(strip(full.metrics));
    expect(await weightsOf(m3)).toEqual(await weightsOf(m1));
    const c1 = await s1.loadCheckpoint();
    const c2 = await s2.loadCheckpoint();
    for (const k of Object.keys(c1!.params)) expect(Array.from(await c2!.params[k].data())).toEqual(Array.from(await c1!.params[k].data()));
    expect(c2!.optimizer).toEqual(c1!.optimizer);
  });

  it('refuses to resume with a different configuration, naming the field', async () => {
    const data = tinyData();
    const store = memoryFixMatchStore();
    await trainFixMatch(new SmallCnn(new Random(3), { side: 8, numClasses: 3, widths: [4, 4, 4] }), data, tinyConfig(), store, { stopAfter: 2 });
    await expect(trainFixMatch(new SmallCnn(new Random(3), { side: 8, numClasses: 3, widths: [4, 4, 4] }), data, tinyConfig({ tau: 0.5 }), store, { resume: true }))
      .rejects.toThrow(/tau: checkpoint 0.34, now 0.5/);
  });

  it('supervised-only baseline: no unlabelled statistics, loss = supervised loss', async () => {
    const data = tinyData();
    const r = await trainFixMatch(new SmallCnn(new Random(3), { side: 8, numClasses: 3, widths: [4, 4, 4] }), data, tinyConfig({ method: 'supervised', mu: 0 }), memoryFixMatchStore());
    for (const m of r.metrics) {
      expect(m.maskRate).toBe(0);
      expect(m.unsupervisedLoss).toBe(0);
      expect(m.loss).toBe(m.supervisedLoss);
    }
  });
});

describe('SSL split and sampler', () => {
  it('takes L images per class, balanced and seeded; the rest is the unlabelled pool', () => {
    const ds = toyData(90, 5);
    const s = sslSplit(ds, 4, 1);
    expect(s.labelled.count).toBe(12);
    expect(Array.from(s.labelled.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(s.unlabelled.count).toBe(78);
    expect(sslSplit(ds, 4, 1).labelled.images).toEqual(s.labelled.images);
    expect(sslSplit(ds, 4, 2).labelled.images).not.toEqual(s.labelled.images);
    // Disjoint: every image appears once in labelled + unlabelled.
    const key = (d: ImageDataset, i: number) => Array.from(d.images.subarray(i * 64, (i + 1) * 64)).join(',');
    const all = new Set([...Array.from({ length: 12 }, (_, i) => key(s.labelled, i)), ...Array.from({ length: 78 }, (_, i) => key(s.unlabelled, i))]);
    expect(all.size).toBe(90);
    expect(() => sslSplit(ds, 31, 0)).toThrow(/class 0 has 30 images, 31 labelled ones requested/);
  });

  it('sampler: each epoch a permutation; restore continues identically', () => {
    const a = new EpochSampler(5, new Random(1));
    const first = [...a.next(5)].sort();
    expect(first).toEqual([0, 1, 2, 3, 4]);
    a.next(3);
    const st = a.state();
    const rest = [...a.next(9)];
    const b = new EpochSampler(5, new Random(7));
    b.restore(st);
    expect([...b.next(9)]).toEqual(rest);
  });
});
