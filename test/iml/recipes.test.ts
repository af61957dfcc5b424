// The recipes pinned field by field: each is a thesis protocol (docs/RESULTS.md reports what they ran), so a change to one must show up here as a deliberate edit (from the mutation survivors: nothing checked them).
import { describe, expect, it } from 'vitest';
import { getRecipe, RECIPES } from '../../src/iml/recipes.js';

const THESIS_METHODS = ['neumann:3', 'neumann:10', 'neumann:20', 'neumann:35', 'neumann:50', 'cg:3', 'cg:5', 'cg:10', 'identity', 't1t2'];

describe('recipes', () => {
  it('4.1 overfit-small-val: 50/50/50 MNIST samples, per-parameter L2, every thesis method, 1000 meta-epochs of 50 inner steps, patience 15 then on', () => {
    expect(getRecipe('overfit-small-val')).toEqual({
      name: 'overfit-small-val',
      title: 'Learning a per-parameter L2 regulariser: overfitting a small validation set',
      section: '4.1', dataset: 'mnist', hidden: 0, split: { train: 50, validation: 50, test: 50 }, metaKnowledge: 'per-parameter',
      methods: [...THESIS_METHODS, 'damped-neumann:10'], seeds: [0, 1, 2],
      config: { innerSteps: 50, innerBatch: 32, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 1000, warmupSteps: 0, patience: 15, continueAfterEarlyStop: true, metaSubset: 0, checkpointEvery: 25 },
      quick: { metaEpochs: 40, patience: 15, methods: ['neumann:3', 'neumann:20', 'cg:3', 'identity', 't1t2', 'damped-neumann:10'], seeds: [0] },
    });
  });

  it('4.1.3 exact-vs-approx: 14x14 MNIST, 32 hidden units, every approximation compared with the exact solve every 5 meta-updates', () => {
    expect(getRecipe('exact-vs-approx')).toEqual({
      name: 'exact-vs-approx',
      title: 'Approximate vs exact inverse-Hessian-vector products along training (14x14 MNIST, 32 hidden units)',
      section: '4.1.3', dataset: 'mnist', imageSize: 14, hidden: 32, split: { train: 50, validation: 50, test: 50 }, metaKnowledge: 'per-parameter',
      methods: ['neumann:3', 'identity'], seeds: [0, 1, 2],
      compareExact: { every: 5, methods: ['neumann:3', 'neumann:10', 'neumann:20', 'neumann:35', 'neumann:50', 'cg:3', 'cg:5', 'cg:10', 'identity', 'damped-neumann:10'] },
      config: { innerSteps: 50, innerBatch: 32, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 100, warmupSteps: 0, patience: 0, metaSubset: 0, checkpointEvery: 25 },
      quick: { metaEpochs: 10, methods: ['neumann:3'], seeds: [0] },
    });
  });

  it('4.2 per-layer and 4.2.4 inner-steps ablation: full MNIST, per-layer L2, 1000 warm-up steps, the fixed-L2 grid as baselines, 50 constant meta-updates across the ablation', () => {
    expect(getRecipe('per-layer')).toEqual({
      name: 'per-layer', title: 'Learning a per-layer L2 regulariser on full data', section: '4.2', dataset: 'mnist', hidden: 0, metaKnowledge: 'per-layer',
      methods: ['baseline', 'baseline:l2=0.0001', 'baseline:l2=0.001', 'baseline:l2=0.01', 'baseline:l2=0.1', 'neumann:3', 'neumann:10', 'neumann:20', 'cg:3', 'cg:5', 'identity', 't1t2', 'damped-neumann:10'],
      seeds: [0, 1, 2],
      config: { innerSteps: 500, innerBatch: 128, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 50, warmupSteps: 1000, patience: 15, metaSubset: 500, checkpointEvery: 5 },
      quick: { metaEpochs: 5, warmupSteps: 200, innerSteps: 100, methods: ['baseline', 'neumann:3', 'cg:3', 'identity'], seeds: [0] },
    });
    expect(getRecipe('inner-steps-ablation')).toEqual({
      name: 'inner-steps-ablation', title: 'Ablation of the number of inner steps between meta-updates (per-layer L2)', section: '4.2.4', dataset: 'mnist', hidden: 0,
      metaKnowledge: 'per-layer', methods: ['neumann:3', 'cg:3', 'identity'], seeds: [0, 1, 2],
      config: { innerSteps: 500, innerBatch: 128, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 50, warmupSteps: 1000, patience: 0, metaSubset: 500, checkpointEvery: 5 },
      variants: [50, 100, 200, 300, 500].map((n) => ({ label: `inner ${n}`, config: { innerSteps: n } })),
      quick: { metaEpochs: 4, warmupSteps: 200, methods: ['neumann:3'], seeds: [0] },
    });
  });

  it('compare (npm start): a short per-layer run of baseline, Neumann(3), CG(3) and identity on one seed', () => {
    expect(getRecipe('compare')).toEqual({
      name: 'compare', title: 'Short IML comparison on MNIST (per-layer L2): baseline vs Neumann(3) vs CG(3) vs identity', section: '4.2 (short)',
      dataset: 'mnist', hidden: 0, metaKnowledge: 'per-layer', methods: ['baseline', 'neumann:3', 'cg:3', 'identity'], seeds: [0],
      config: { innerSteps: 100, innerBatch: 128, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 4, warmupSteps: 200, patience: 0, metaSubset: 500, checkpointEvery: 0 },
      quick: {},
    });
  });

  it('has exactly these recipes, and an unknown name lists them', () => {
    expect(Object.keys(RECIPES)).toEqual(['overfit-small-val', 'exact-vs-approx', 'per-layer', 'inner-steps-ablation', 'compare']);
    expect(() => getRecipe('toString')).toThrow(new Error("unknown recipe 'toString'; choose one of overfit-small-val, exact-vs-approx, per-layer, inner-steps-ablation, compare"));
  });
});
