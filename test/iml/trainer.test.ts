// The IML loop: warm-up, early stopping, divergence reporting and bit-exact resume from a checkpoint.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/index.js';
import { createImageDataset, type ImageDataset } from '../../src/data/dataset.js';
import { noMetaKnowledge, perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { runIml, THESIS_DEFAULTS, type ImlConfig } from '../../src/iml/trainer.js';
import { MLP } from '../../src/nn/index.js';

function synthetic(n: number, seed: number, name: string): ImageDataset {
  const rng = new Random(seed);
  const labels = new Uint8Array(n).map(() => rng.int(3));
  const images = new Float32Array(n * 16).map((_, i) => Math.min(1, Math.max(0, 0.5 + 0.3 * rng.normal() + (labels[Math.floor(i / 16)] === i % 3 ? 0.3 : 0))));
  return createImageDataset({ images, labels, count: n, channels: 1, height: 4, width: 4, numClasses: 3, name });
}

const data = { train: synthetic(40, 1, 'train'), validation: synthetic(20, 2, 'val'), test: synthetic(20, 3, 'test') };
const config = (o: Partial<ImlConfig>): ImlConfig => ({
  ...THESIS_DEFAULTS, method: parseMethod('neumann:3'), seed: 5, innerSteps: 4, innerBatch: 8, metaEpochs: 6,
  innerLr: 1e-2, patience: 0, ...o,
});
const build = () => {
  const model = new MLP([16, 8, 3], new Random(9));
  return { model, mk: perParameterL2(model.parameters()) };
};
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

  it('runs the baseline (no hyperparameters) and resumes it', async () => {
    const model = new MLP([16, 8, 3], new Random(9));
    const dir = tmp();
    const cfg = config({ method: parseMethod('baseline'), metaEpochs: 2, checkpointEvery: 1 });
    const r = await runIml(model, noMetaKnowledge(), data, cfg, { runDir: dir });
    expect(r.metrics.length).toBe(2);
    expect(r.metrics[0].hypergradNorm).toBe(0);
    const again = await runIml(new MLP([16, 8, 3], new Random(9)), noMetaKnowledge(), data, { ...cfg, metaEpochs: 3 }, { runDir: dir, resume: true });
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
    await runIml(b.model, b.mk, data, config({ metaSubset: 10, metaEpochs: 3, checkpointEvery: 3 }), { runDir: dir });
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
    expect(existsSync(join(dir, 'best.json'))).toBe(true);
    const c = build();
    const resumed = await runIml(c.model, c.mk, data, config({ metaSubset: 10, checkpointEvery: 3 }), { runDir: dir, resume: true });
    expect(resumed.metrics.length).toBe(6);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).metaEpoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const key = (m: (typeof full.metrics)[number]) => [m.train.loss, m.validation.loss, m.hypergradNorm, m.meanDecay];
    expect(resumed.metrics.map(key)).toEqual(full.metrics.map(key));
  });
});
