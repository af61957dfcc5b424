// The Confidence Network problem on runBilevel: a frozen all-ones CN under the baseline method is FixMatch exactly; a CN (and a table) run stopped and resumed from its checkpoint repeats the uninterrupted run bit for bit; every inverse-HVP method runs; the recorded weights and AUROC.
import { describe, expect, it } from 'vitest';
import { runBilevel } from '../../src/bilevel/loop.js';
import { grad } from '../../src/autodiff/transforms.js';
import { tensor } from '../../src/core/creation.js';
import type { Tensor } from '../../src/core/tensor.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { auroc } from '../../src/report/auroc.js';
import { evaluate } from '../../src/train/evaluate.js';
import { withParameterValues } from '../../src/ssl/ema.js';
import { batchNormImages, withRecomputedBatchNorm } from '../../src/ssl/ema-batch-norm.js';
import { Random } from '../../src/util/random.js';
import { confidenceWeights } from '../../src/ssl/confidence-net.js';
import { confidenceProblem, type ConfidenceMetrics } from '../../src/ssl/confidence-problem.js';
import { memoryFixMatchStore } from '../../src/ssl/fixmatch-store.js';
import { trainFixMatch } from '../../src/ssl/fixmatch-trainer.js';
import type { BilevelEpochMetrics } from '../../src/bilevel/loop.js';
import { allOnesCn, classifier, cnData, cnFixMatchConfig, cnProblem, loopConfig } from './confidence-cases.js';

const TIMING = ['epochSeconds', 'approximationSeconds'];
const strip = (ms: readonly BilevelEpochMetrics<ConfidenceMetrics>[]) => ms.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !TIMING.includes(k))));
const values = (ts: readonly Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data())));

describe('Confidence Network problem', () => {
  it('phase 2 with a frozen CN whose weights are all exactly 1 is plain FixMatch: the same metrics, weights and EMA', async () => {
    const { data } = cnData();
    const loop = loopConfig({ method: parseMethod('baseline'), warmupSteps: 0, metaEpochs: 3, innerSteps: 2 });
    const cfg = cnFixMatchConfig(loop);
    const { cn, omega } = await allOnesCn();
    // The weighting really is all ones on the pool (so the comparison below is the claim, not a coincidence).
    const w = await confidenceWeights(cn, omega, tensor(data.unlabelled.images, [data.unlabelled.count, 1, 8, 8])).data();
    expect(Array.from(w).every((v) => v === 1)).toBe(true);

    const reference = classifier(cfg);
    const fm = await trainFixMatch(reference, data, cfg, memoryFixMatchStore());
    const model = classifier(cfg);
    const problem = confidenceProblem(model, data, { config: cfg, weighting: { kind: 'cn', cn, omega } });
    const r = await runBilevel(problem, loop);
    expect(r.metrics.map((m) => m.innerStep)).toEqual(fm.metrics.map((m) => m.step));
    r.metrics.forEach((m, i) => {
      const f = fm.metrics[i];
      expect([m.testAccuracy, m.testLoss, m.supervisedLoss, m.unsupervisedLoss, m.maskRate, m.pseudoAccuracy, m.lr])
        .toEqual([f.testAccuracy, f.testLoss, f.supervisedLoss, f.unsupervisedLoss, f.maskRate, f.pseudoAccuracy, f.lr]);
      expect(m.meanWeight).toBe(1);
    });
    expect(fm.metrics.some((m) => m.unsupervisedLoss > 0)).toBe(true);
    expect(await values(model.parameters().map((p) => p.value))).toEqual(await values(reference.parameters().map((p) => p.value)));
    expect(await values(model.buffers().map((p) => p.value))).toEqual(await values(reference.buffers().map((p) => p.value)));
    expect(await values(problem.stepper.ema.values)).toEqual(await values(await emaOf(data, cfg)));
  });

  for (const kind of ['cn', 'table'] as const) {
    it(`${kind}: stopped after meta-epoch 2 and resumed from its checkpoint, the run repeats the uninterrupted one bit for bit`, async () => {
      const loop = loopConfig({ metaEpochs: 3 });
      const cfg = cnFixMatchConfig(loop);
      const a = cnProblem(kind, cfg);
      const full = await runBilevel(a.problem, loop, { store: memoryRunStore() });
      expect(full.diverged).toBeNull();
      expect(full.metrics.every((m) => m.hypergradNorm > 0 && Number.isFinite(m.hypergradNorm))).toBe(true);

      const store = memoryRunStore<BilevelEpochMetrics<ConfidenceMetrics>>();
      const b = cnProblem(kind, cfg);
      await runBilevel(b.problem, { ...loop, metaEpochs: 2 }, { store });
      const c = cnProblem(kind, cfg);
      // Other initial weights: everything must come from the checkpoint.
      c.model.parameters().forEach((p) => (p.value = tensor(new Float32Array(p.value.size).fill(0.5), p.value.shape)));
      const resumed = await runBilevel(c.problem, loop, { store, resume: true });
      expect(strip(resumed.metrics)).toEqual(strip(full.metrics));
      expect(await values(c.model.parameters().map((p) => p.value))).toEqual(await values(a.model.parameters().map((p) => p.value)));
      expect(await values(c.model.buffers().map((p) => p.value))).toEqual(await values(a.model.buffers().map((p) => p.value)));
      expect(await values(resumed.meta)).toEqual(await values(full.meta));
      expect(await values(c.problem.stepper.ema.values)).toEqual(await values(a.problem.stepper.ema.values));
      expect(resumed.best.metaEpoch).toBe(full.best.metaEpoch);
      expect(await values(resumed.best.meta!)).toEqual(await values(full.best.meta!));
    });
  }

  it('records the pool sample weights after every meta-epoch; the AUROC is that of the recorded original-image weights', async () => {
    const loop = loopConfig({ metaEpochs: 2 });
    const { problem } = cnProblem('cn', cnFixMatchConfig(loop));
    const { inDistribution } = cnData();
    const r = await runBilevel(problem, loop);
    for (const m of r.metrics) {
      expect(m.poolWeights!.original).toHaveLength(8);
      expect(m.poolWeights!.weak).toHaveLength(8);
      expect(m.poolWeights!.weak).not.toEqual(m.poolWeights!.original);
      const flags = [0, 1, 2, 3, 4, 5, 7, 8].map((i) => inDistribution[i]);
      expect(m.poolAuroc).toBe(auroc(m.poolWeights!.original, flags));
      expect(m.meanWeightId).not.toBeNull();
      expect(m.meanWeightOod).not.toBeNull();
    }
    // The weights moved from one meta-epoch to the next (ω is learned).
    expect(r.metrics[1].poolWeights!.original).not.toEqual(r.metrics[0].poolWeights!.original);
  });

  for (const spec of ['neumann:2', 'cg:2', 't1t2', 'damped-neumann:2:power=2']) {
    it(`${spec} is selectable: finite non-zero hypergradients, ω moves`, async () => {
      const loop = loopConfig({ method: parseMethod(spec), metaEpochs: 1, innerSteps: 2 });
      const { problem } = cnProblem('cn', cnFixMatchConfig(loop));
      const omega0 = await values(problem.init(null as never));
      const r = await runBilevel(problem, loop);
      expect(r.diverged).toBeNull();
      expect(r.metrics[0].hypergradNorm).toBeGreaterThan(0);
      expect(await values(r.meta)).not.toEqual(omega0);
    });
  }

  it("metaUnlabelled sets the unlabelled images of a meta-step's L_T: the table gets a gradient on that many draws, the same stream with the default on u", async () => {
    const loop = loopConfig();
    const cfg = cnFixMatchConfig(loop);
    const u = cfg.mu * cfg.batchSize;
    // The weights the table's scores get a first-order gradient for: pool images of the meta-batch whose pseudo-label passed τ.
    const touched = async (metaUnlabelled?: number): Promise<{ nonZero: number }> => {
      const { problem, model } = cnProblem('table', cfg, undefined, metaUnlabelled);
      const omega = problem.init(null as never);
      const theta = model.parameters().map((p) => p.value);
      const rng = new Random(21);
      const obj = await problem.metaObjective(theta, omega, rng);
      const [g] = grad((om: Tensor[]) => obj.trainLoss(theta, om))(omega);
      return { nonZero: Array.from(await g.data()).filter((x) => x !== 0).length };
    };
    const small = await touched();
    const large = await touched(5 * u);
    const { data } = cnData();
    expect(small.nonZero).toBeGreaterThan(0);
    expect(small.nonZero).toBeLessThanOrEqual(u);
    // Five times the draws reach more distinct images, never more than drawn or than the pool holds.
    expect(large.nonZero).toBeGreaterThan(small.nonZero);
    expect(large.nonZero).toBeLessThanOrEqual(Math.min(5 * u, data.unlabelled.count));
    expect(() => cnProblem('table', cfg, undefined, 2.5)).toThrow(/metaUnlabelled must be an integer >= 0, got 2.5/);
  });

  it('refuses a weighting on supervised-only and a table of the wrong size, naming them', () => {
    const { data } = cnData();
    const cfg = cnFixMatchConfig(loopConfig());
    const cn = { kind: 'table' as const, table: { size: 3 } as never };
    expect(() => confidenceProblem(classifier(cfg), data, { config: cfg, weighting: cn })).toThrow(/weight table has 3 entries for a pool of \d+ images/);
    expect(() => confidenceProblem(classifier(cfg), data, { config: { ...cfg, method: 'supervised', mu: 0 }, weighting: cn })).toThrow(/'table' weighting needs FixMatch/);
  });
});

/** The EMA trainFixMatch ends with, read from its final checkpoint. */
async function emaOf(data: ReturnType<typeof cnData>['data'], cfg: Parameters<typeof trainFixMatch>[2]): Promise<Tensor[]> {
  const store = memoryFixMatchStore();
  const model = classifier(cfg);
  await trainFixMatch(model, data, cfg, store);
  const ck = await store.loadCheckpoint();
  return model.parameters().map((p) => ck!.params[`ema/${p.name}`]);
}

describe('Confidence Network problem evaluation', () => {
  it("emaBatchNorm 'recompute' changes only the EMA's test numbers: the same training, L_V and ω; the test loss is the EMA's with statistics re-estimated on the pool", async () => {
    const loop = loopConfig({ metaEpochs: 2 });
    const live = cnProblem('cn', cnFixMatchConfig(loop));
    const rec = cnProblem('cn', cnFixMatchConfig(loop, { emaBatchNorm: 'recompute' }));
    const a = await runBilevel(live.problem, loop);
    const b = await runBilevel(rec.problem, loop);
    const pick = (ms: typeof a.metrics, k: 'trainLoss' | 'validationLoss' | 'testLoss') => ms.map((m) => m[k]);
    expect(pick(b.metrics, 'trainLoss')).toEqual(pick(a.metrics, 'trainLoss'));
    expect(pick(b.metrics, 'validationLoss')).toEqual(pick(a.metrics, 'validationLoss'));
    expect(await values(b.meta)).toEqual(await values(a.meta));
    expect(pick(b.metrics, 'testLoss')).not.toEqual(pick(a.metrics, 'testLoss'));
    // The last test loss, recomputed here from the run's EMA weights and the pool's images (the live statistics come back afterwards).
    const { data } = cnData();
    const before = await values(rec.model.buffers().map((x) => x.value));
    const expected = await withParameterValues(rec.model, rec.problem.stepper.ema.values, () =>
      withRecomputedBatchNorm(rec.model, batchNormImages('fixmatch', data), () => evaluate(rec.model, data.test, { flatten: false })));
    expect(b.metrics[b.metrics.length - 1].testLoss).toBe(expected.loss);
    expect(await values(rec.model.buffers().map((x) => x.value))).toEqual(before);
  });
});

describe('Confidence Network problem checkpoints', () => {
  it('refuses to resume with other FixMatch settings, naming the field', async () => {
    const loop = loopConfig({ metaEpochs: 1 });
    const store = memoryRunStore<BilevelEpochMetrics<ConfidenceMetrics>>();
    await runBilevel(cnProblem('cn', cnFixMatchConfig(loop)).problem, loop, { store });
    const other = cnProblem('cn', cnFixMatchConfig(loop, { tau: 0.5 }));
    await expect(runBilevel(other.problem, { ...loop, metaEpochs: 2 }, { store, resume: true })).rejects.toThrow(/other settings; refusing to resume:\n {2}tau: checkpoint 0.34, now 0.5/);
  });

  it('refuses to resume with another number of unlabelled images per meta-step, naming it', async () => {
    const loop = loopConfig({ metaEpochs: 1 });
    const store = memoryRunStore<BilevelEpochMetrics<ConfidenceMetrics>>();
    await runBilevel(cnProblem('table', cnFixMatchConfig(loop)).problem, loop, { store });
    const other = cnProblem('table', cnFixMatchConfig(loop), undefined, 24);
    await expect(runBilevel(other.problem, { ...loop, metaEpochs: 2 }, { store, resume: true })).rejects.toThrow(/metaUnlabelled: checkpoint 8, now 24/);
  });
});
