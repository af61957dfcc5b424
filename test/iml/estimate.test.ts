// The recipe cost estimate (iml experiment --dry-run): its formula per method, from the two gradient times it measures.
import { describe, expect, it } from 'vitest';
import { estimateRecipe } from '../../src/iml/estimate.js';
import { getRecipe } from '../../src/iml/recipes.js';
import { planRecipe } from '../../src/iml/recipe-plan.js';
import { data } from './cases.js';

describe('estimateRecipe', () => {
  it('per meta-epoch: the inner steps, one meta-step (T1-T2: one per inner step; identity and T1-T2 with the closed-form penalty: the validation gradient alone) and the evaluation', () => {
    const plan = planRecipe(getRecipe('overfit-small-val'), { quick: true, methods: ['identity', 't1t2', 'neumann:3', 'cg:2'], seeds: [0, 1] });
    const c = plan.config;
    const e = estimateRecipe(plan, data);
    const inner = e.innerGradientSeconds, meta = e.metaGradientSeconds;
    expect(inner).toBeGreaterThan(0);
    expect(meta).toBeGreaterThan(0);
    // Identity and T1-T2 differ only in how many meta-steps they take; the evaluation term cancels in the difference.
    const perStep = (e.perMethodSeconds.t1t2! - e.perMethodSeconds.identity!) / (2 * c.metaEpochs * (c.innerSteps - 1));
    expect(perStep / meta).toBeCloseTo(1, 9);
    // Neumann(3) and CG(2): 1 + 2 (L_T's graph) + 2 per HVP gradients, against identity's 1.
    const extra = (spec: string) => (e.perMethodSeconds[spec]! - e.perMethodSeconds.identity!) / (2 * c.metaEpochs * meta);
    expect(extra('neumann:3')).toBeCloseTo(2 + 6, 9);
    expect(extra('cg:2')).toBeCloseTo(2 + 4, 9);
    expect(e.totalSeconds).toBeCloseTo(Object.values(e.perMethodSeconds).reduce((a, b) => a + b, 0), 9);
    expect(e.runs).toBe(8);
  });

  it('each total rebuilt from the measured gradient times: warm-up, inner steps, meta-steps, the evaluation of the three splits; no closed form adds L_T\'s graph (from the mutation survivors)', () => {
    const recipe = getRecipe('overfit-small-val');
    for (const over of [{ warmupSteps: 3, metaSubset: 10 }, { warmupSteps: 0, metaSubset: 0, closedFormPenalty: false }]) {
      const plan = planRecipe(recipe, { quick: true, methods: ['identity', 'neumann:2'], seeds: [0], overrides: { config: over } });
      const t0 = performance.now();
      const e = estimateRecipe(plan, data);
      const wall = (performance.now() - t0) / 1000;
      // The measured times: 3 timed inner gradients and 2 at the meta batch ran inside the call.
      expect(e.innerGradientSeconds).toBeGreaterThan(0);
      expect(e.metaGradientSeconds).toBeGreaterThan(0);
      expect(3 * e.innerGradientSeconds + 2 * e.metaGradientSeconds).toBeLessThanOrEqual(wall);
      const c = { ...plan.config, ...plan.variants[0]!.config };
      expect(plan.variants).toHaveLength(1);
      const metaN = c.metaSubset > 0 ? Math.min(c.metaSubset, data.train.count) : data.train.count;
      // Timed at the inner batch (32 of the 40 training samples) and at the meta batch.
      expect([e.innerSamples, e.metaSamples]).toEqual([Math.min(c.innerBatch, data.train.count), metaN]);
      expect(e.innerSamples).toBe(32);
      const evaluation = (e.metaGradientSeconds / metaN) * (data.train.count + data.validation.count + data.test.count) / 3;
      const graph = c.closedFormPenalty === false ? 2 : 0;
      const total = (metaGradients: number): number =>
        c.warmupSteps * e.innerGradientSeconds + c.metaEpochs * (c.innerSteps * e.innerGradientSeconds + metaGradients * e.metaGradientSeconds + evaluation);
      expect(e.perMethodSeconds.identity! / total(1 + graph)).toBeCloseTo(1, 9);
      expect(e.perMethodSeconds['neumann:2']! / total(1 + 2 + 2 * 2)).toBeCloseTo(1, 9);
    }
  });
});
