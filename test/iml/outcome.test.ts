// Outcome checks for meta-learning: on problems where more weight decay provably helps, every method must learn more decay and beat the baseline; summaries and early stopping must agree with the metrics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createImageDataset, type ImageDataset } from '../../src/data/dataset.js';
import { fixedL2, noMetaKnowledge, perLayerL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { fileRunStore } from '../../src/node/file-run-store.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { runIml, THESIS_DEFAULTS, type ImlConfig } from '../../src/iml/trainer.js';
import { MLP } from '../../src/nn/index.js';
import { loadCheckpoint } from '../../src/node/checkpoint-file.js';
// Registers the dense exact inverse-HVP ('exact' method).
import '../../src/linalg/index.js';
import { evaluate } from '../../src/train/evaluate.js';
import { Random } from '../../src/util/random.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Images of pure noise with labels independent of them: nothing generalises, so the best validation loss is that of uniform predictions (log 3), reached as the weights shrink to 0. */
function noise(n: number, seed: number, name: string): ImageDataset {
  const rng = new Random(seed);
  return createImageDataset({
    images: new Float32Array(n * 16).map(() => rng.uniform()), labels: new Uint8Array(n).map(() => rng.int(3)),
    count: n, channels: 1, height: 4, width: 4, numClasses: 3, name,
  });
}
const data = { train: noise(24, 11, 'train'), validation: noise(300, 12, 'val'), test: noise(60, 13, 'test') };

const config = (spec: string, o: Partial<ImlConfig> = {}): ImlConfig => ({
  ...THESIS_DEFAULTS, method: parseMethod(spec), seed: 3, innerSteps: 25, innerBatch: 24, innerLr: 3e-2, metaLr: 0.02,
  metaEpochs: 8, patience: 0, ...o,
});

// Per-layer L2 (one λ per weight and bias tensor) starting at softplus(-3) ≈ 0.05.
const model = () => {
  const m = new MLP([16, 32, 3], new Random(4));
  return { m, mk: perLayerL2(m.parameters(), { groupBy: 'tensor', std: 0 }) };
};

describe('meta-training learns what provably helps (labels independent of the images)', async () => {
  const b = model();
  const baseline = await runIml(b.m, noMetaKnowledge(), data, config('baseline'));
  const logC = Math.log(3);

  it('the baseline overfits: its validation loss ends above log 3', () => {
    expect(baseline.metrics.at(-1)!.validation.loss).toBeGreaterThan(logC + 0.02);
  });

  for (const spec of ['neumann:3', 'cg:3', 'identity', 't1t2', 'damped-neumann:3', 'exact']) {
    it(`${spec}: the learned L2 weights of the weight matrices grow and the validation loss ends below the baseline's`, async () => {
      const r = model();
      const store = memoryRunStore();
      const c = config(spec, spec === 't1t2' ? { metaLr: 0.002 } : {});
      const { metrics, summary } = await runIml(r.m, r.mk, data, { ...c, checkpointEvery: c.metaEpochs }, { store });
      expect(summary.diverged).toBeNull();
      const lam = (await store.loadCheckpoint())!.params;
      // λ started at -3 (softplus 0.049); a hypergradient of the wrong sign would push the weights' λ down instead.
      for (const name of r.mk.names.filter((n) => n.includes('weight'))) {
        expect(lam[`lam:${name}`].toArray()[0], `${spec} ${name}`).toBeGreaterThan(-3 + 0.05);
      }
      expect(metrics.at(-1)!.meanDecay).toBeGreaterThan(metrics[0].meanDecay);
      expect(metrics.at(-1)!.validation.loss).toBeLessThan(baseline.metrics.at(-1)!.validation.loss - 0.005);
    });
  }
});

describe('summaries and early stopping agree with the metrics', () => {
  it('every summary field is what the per-epoch metrics say', async () => {
    // The baseline overfits the noise: its validation loss rises after a few epochs and patience runs out.
    const { m } = model();
    const { metrics, summary } = await runIml(m, noMetaKnowledge(), data, config('baseline', { metaEpochs: 12, patience: 3, continueAfterEarlyStop: true }));
    const vals = metrics.map((x) => x.validation.loss);
    const stopAt = summary.earlyStopEpoch;
    expect(stopAt).not.toBeNull();
    // Best epoch: lowest validation loss among the epochs before patience ran out (ties: the first).
    const considered = vals.slice(0, stopAt!);
    const best = considered.indexOf(Math.min(...considered)) + 1;
    expect(summary.bestMetaEpoch).toBe(best);
    expect(stopAt! - best).toBe(3);
    expect(summary.esTest).toBe(metrics[best - 1].test.accuracy);
    expect(summary.test).toBe(metrics.at(-1)!.test.accuracy);
    expect(summary.metaEpochsRun).toBe(12);
    expect(summary.stoppedEarly).toBe(false);
    expect(summary.trainMax).toBe(Math.max(...metrics.map((x) => x.train.accuracy)));
    expect(summary.validationMax).toBe(Math.max(...metrics.map((x) => x.validation.accuracy)));
    const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;
    expect(summary.meanEpochSeconds).toBeCloseTo(mean(metrics.map((x) => x.epochSeconds)), 12);
    expect(summary.meanApproximationSeconds).toBeCloseTo(mean(metrics.map((x) => x.approximationSeconds)), 12);
    expect(summary.maxApproximationBytes).toBe(Math.max(...metrics.map((x) => x.approximationBytes)));
  });

  it('best.json holds the state of the best meta-epoch: the same weights as a run stopped there, and its validation loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iml-outcome-'));
    dirs.push(dir);
    const a = model();
    // Baseline with a fixed L2 weight of 1e-3 (so the decay path is exercised): it overfits the noise and stops early.
    const { summary, metrics } = await runIml(a.m, fixedL2(a.m.parameters(), 1e-3), data, config('baseline:l2=0.001', { metaEpochs: 12, patience: 2, checkpointEvery: 1 }), { store: fileRunStore(dir) });
    expect(summary.stoppedEarly).toBe(true);
    const bestCk = await loadCheckpoint(join(dir, 'best.json'));
    expect(bestCk.meta).toEqual({ metaEpoch: summary.bestMetaEpoch, validationLoss: metrics[summary.bestMetaEpoch - 1].validation.loss });
    // The same seed stopped at the best epoch ends in exactly those weights and λ.
    const b = model();
    const stopped = memoryRunStore();
    await runIml(b.m, fixedL2(b.m.parameters(), 1e-3), data, config('baseline:l2=0.001', { metaEpochs: summary.bestMetaEpoch, patience: 0, checkpointEvery: 1 }), { store: stopped });
    expect(summary.bestMetaEpoch).toBeLessThan(summary.metaEpochsRun);
    for (const p of b.m.parameters()) expect(bestCk.params[p.name].toArray(), p.name).toEqual(p.value.toArray());
    expect(Object.keys(bestCk.params).sort()).toEqual(b.m.parameters().map((p) => p.name).sort());
    // Evaluating the restored weights gives the recorded validation loss.
    const c = model();
    for (const p of c.m.parameters()) p.value = bestCk.params[p.name];
    expect((await evaluate(c.m, data.validation)).loss).toBe(metrics[summary.bestMetaEpoch - 1].validation.loss);
  });
});
