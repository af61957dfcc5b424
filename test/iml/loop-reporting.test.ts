// What the meta-training loop and the dry-run estimate report (and what ends or refuses a run), checked against the clock and the formula: T1-T2's summed approximation time within its epoch, the epoch time without the comparisons, checkpoints exactly at the configured epochs (and none when off); the estimate's evaluation and comparison terms, every method's HVP count, and the duration format. (From the iml/bilevel mutation survivors.)
import { describe, expect, it } from 'vitest';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { estimateRecipe, formatDuration, hvpsPerMetaStep } from '../../src/iml/estimate.js';
import { planRecipe } from '../../src/iml/recipe-plan.js';
import { getRecipe } from '../../src/iml/recipes.js';
import { memoryRunStore, type MemoryRunStore } from '../../src/iml/run-store.js';
import { runIml, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { build, config, data, synthetic } from './cases.js';
import { createImageDataset } from '../../src/data/dataset.js';

describe('times and checkpoints of a run', () => {
  it('T1-T2: the approximation time summed over its meta-steps lies between 0 and the epoch time', async () => {
    const { model, mk } = build();
    const { metrics } = await runIml(model, mk, data, config({ method: parseMethod('t1t2'), metaEpochs: 2 }));
    for (const m of metrics) {
      expect(m.approximationSeconds).toBeGreaterThan(0);
      expect(m.approximationSeconds).toBeLessThanOrEqual(m.epochSeconds);
    }
  });

  it('the epoch time leaves out the comparisons with the reference: both fit in the wall-clock time of the run', async () => {
    const { model, mk } = build();
    // The reference (CG with 400 steps, ~800 gradients) costs far more than the method (Neumann(1)): counting it twice
    // (or not subtracting it) would overshoot the wall clock.
    const cfg = config({ method: parseMethod('neumann:1'), metaEpochs: 3, compare: { every: 1, reference: parseMethod('cg:400'), methods: [parseMethod('identity')] } });
    const start = performance.now();
    const { metrics } = await runIml(model, mk, data, cfg);
    const wall = (performance.now() - start) / 1000;
    let total = 0;
    for (const m of metrics) {
      expect(m.epochSeconds).toBeGreaterThan(0);
      const ref = m.comparisons![0].referenceSeconds;
      expect(ref).toBeGreaterThan(0);
      // The epoch itself (inner steps, one Neumann(1) meta-step, evaluation) is cheaper than the 400-step reference.
      expect(m.epochSeconds).toBeLessThan(ref * 2);
      total += m.epochSeconds + ref;
    }
    expect(total).toBeLessThanOrEqual(wall);
  });

  it('checkpoints are written at every checkpointEvery-th meta-epoch and the last one, and never when it is 0', async () => {
    for (const [every, want] of [[2, [2, 4, 5]], [0, []], [5, [5]]] as const) {
      const store = memoryRunStore();
      const seen: number[] = [];
      const save = store.saveCheckpoint;
      store.saveCheckpoint = async (ck) => {
        seen.push((ck.meta as { startEpoch: number }).startEpoch - 1);
        return save(ck);
      };
      const { model, mk } = build();
      await runIml(model, mk, data, config({ method: parseMethod('identity'), metaEpochs: 5, checkpointEvery: every }), { store });
      expect(seen, `checkpointEvery ${every}`).toEqual([...want]);
    }
  });
});

describe('the dry-run estimate', () => {
  it('HVPs per meta-step: the step count, plus the power iterations for damped Neumann, one per weight for the exact solve', () => {
    expect(hvpsPerMetaStep(parseMethod('neumann:7'), 100)).toBe(7);
    expect(hvpsPerMetaStep(parseMethod('cg:4'), 100)).toBe(4);
    expect(hvpsPerMetaStep(parseMethod('damped-neumann:3:power=6'), 100)).toBe(9);
    expect(hvpsPerMetaStep(parseMethod('exact'), 6634)).toBe(6634);
    expect(hvpsPerMetaStep(parseMethod('identity'), 100)).toBe(0);
    expect(hvpsPerMetaStep(parseMethod('t1t2'), 100)).toBe(0);
  });

  it('identity: per meta-epoch the inner steps, one validation gradient and the evaluation of the three splits at the meta batch\'s per-sample cost', () => {
    const plan = planRecipe(getRecipe('overfit-small-val'), { quick: true, methods: ['identity', 'baseline'], seeds: [0, 1, 2] });
    const c = plan.config;
    const e = estimateRecipe(plan, data);
    const inner = e.innerGradientSeconds, meta = e.metaGradientSeconds;
    const metaN = c.metaSubset > 0 ? Math.min(c.metaSubset, data.train.count) : data.train.count;
    const evalSeconds = (meta / metaN) * (data.train.count + data.validation.count + data.test.count) / 3;
    const perEpoch = (x: number): number => (x / 3 - c.warmupSteps * inner) / c.metaEpochs;
    expect(perEpoch(e.perMethodSeconds.identity!)).toBeCloseTo(c.innerSteps * inner + meta + evalSeconds, 12);
    // The baseline takes no meta-step.
    expect(perEpoch(e.perMethodSeconds.baseline!)).toBeCloseTo(c.innerSteps * inner + evalSeconds, 12);
    expect(e.parameters).toBe(16 * 16 + 16 + 16 * 3 + 3);
  });

  it('comparisons with the exact inverse add (2 per weight + 2 per HVP of each compared method) gradients every compareExact.every meta-epochs, not for T1-T2', () => {
    const base = { quick: true, methods: ['identity', 't1t2'], seeds: [0] };
    const plain = planRecipe(getRecipe('overfit-small-val'), base);
    const compared = planRecipe(getRecipe('overfit-small-val'), { ...base, overrides: { compareExact: { every: 4, methods: ['neumann:3', 'cg:2'] } } });
    expect(plain.compareExact).toBeUndefined();
    const e1 = estimateRecipe(compared, data);
    const p = e1.parameters;
    // The gradient times are measured anew in each estimate: the terms are rebuilt from this one's own times.
    const want = ((2 * p + 2 * 3 + 2 * 2) * e1.metaGradientSeconds) / 4;
    const identityWithout = (c: typeof e1): number => {
      const k = plain.config;
      const metaN = k.metaSubset > 0 ? Math.min(k.metaSubset, data.train.count) : data.train.count;
      const ev = (c.metaGradientSeconds / metaN) * (data.train.count + data.validation.count + data.test.count) / 3;
      return k.warmupSteps * c.innerGradientSeconds + k.metaEpochs * (k.innerSteps * c.innerGradientSeconds + c.metaGradientSeconds + ev);
    };
    expect((e1.perMethodSeconds.identity! - identityWithout(e1)) / plain.config.metaEpochs).toBeCloseTo(want, 12);
    // T1-T2 is never compared.
    const t1t2Without = (c: typeof e1): number => {
      const k = plain.config;
      const metaN = k.metaSubset > 0 ? Math.min(k.metaSubset, data.train.count) : data.train.count;
      const ev = (c.metaGradientSeconds / metaN) * (data.train.count + data.validation.count + data.test.count) / 3;
      return k.warmupSteps * c.innerGradientSeconds + k.metaEpochs * (k.innerSteps * (c.innerGradientSeconds + c.metaGradientSeconds) + ev);
    };
    expect(e1.perMethodSeconds.t1t2!).toBeCloseTo(t1t2Without(e1), 12);
  });

  it('formats durations in seconds, minutes from 90 s, hours and minutes from 1 h', () => {
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(89.4)).toBe('89 s');
    expect(formatDuration(90)).toBe('2 min');
    expect(formatDuration(3599)).toBe('60 min');
    expect(formatDuration(3600)).toBe('1 h 0 min');
    expect(formatDuration(2 * 3600 + 29 * 60 + 40)).toBe('2 h 30 min');
  });
});

describe('what ends a run or refuses to resume it', () => {
  it('a non-finite hypergradient (a validation image of NaN pixels) ends the run as diverged, with its meta-epoch, step and norm', async () => {
    const v = synthetic(20, 2, 'val');
    const images = Float32Array.from(v.images, (x, i) => (i < 16 ? NaN : x));
    const validation = createImageDataset({ images, labels: v.labels, count: v.count, channels: 1, height: 4, width: 4, numClasses: 3, name: 'val-nan' });
    const { model, mk } = build();
    const r = await runIml(model, mk, { ...data, validation }, config({ method: parseMethod('identity'), metaEpochs: 3 }));
    expect(r.summary.diverged).not.toBeNull();
    expect(r.summary.diverged!.metaEpoch).toBe(1);
    expect(r.summary.diverged!.step).toBe(4);
    expect(r.summary.diverged!.what).toBe('hypergradient norm is NaN (identity)');
  });

  it('resuming refuses a checkpoint without the run configuration or the meta optimizer, and metrics lines out of order', async () => {
    const run = async (store: MemoryRunStore<MetaEpochMetrics>, resume: boolean) => {
      const { model, mk } = build();
      return runIml(model, mk, data, config({ method: parseMethod('identity'), metaEpochs: 4, checkpointEvery: 2 }), { store, resume });
    };
    const store = memoryRunStore();
    await run(store, false);
    // Resuming the finished run trains no further and is accepted as it is.
    expect((await run(store, true)).metrics.map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4]);
    const load = store.loadCheckpoint;
    for (const damage of ['identity', 'meta optimizer'] as const) {
      store.loadCheckpoint = async (b) => {
        const c = (await load(b))!;
        if (damage === 'identity') c.meta = { ...(c.meta as object), identity: undefined };
        else c.optimizers = {};
        return c;
      };
      await expect(run(store, true), damage).rejects.toThrow('memory: checkpoint has no optimizer states or run configuration; it was not written by an IML run');
    }
    store.loadCheckpoint = load;
    const ms = await store.readMetrics();
    await store.writeMetrics([ms[0], ms[1], ms[1], ms[3]]);
    await expect(run(store, true)).rejects.toThrow('memory: metrics line 3 is meta-epoch 2, expected 3');
  });
});
