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
});
