// The thesis' chapter-4 experiments as recipes: data, model, meta-knowledge, methods, seeds and protocol.

import type { ImlConfig } from './trainer.js';

export type MetaKnowledgeKind = 'per-parameter' | 'per-layer';

export interface Recipe {
  name: string;
  title: string;
  /** Thesis section reproduced. */
  section: string;
  dataset: 'mnist' | 'fashion-mnist' | 'cifar10';
  imageSize?: number;
  /** Hidden units of the MLP; 0 = as many as inputs (thesis). */
  hidden: number;
  /** Samples per split; 0 in a field = the dataset's default split for that field. */
  split?: { train: number; validation: number; test: number };
  metaKnowledge: MetaKnowledgeKind;
  methods: string[];
  seeds: number[];
  config: Omit<ImlConfig, 'method' | 'seed' | 'compare'>;
  /**
   * Along each trajectory, every this many meta-updates, compare these approximations' inverse-HVPs
   * with the exact one at the same point.
   */
  compareExact?: { every: number; methods: string[] };
  /** Reduced protocol for `--quick` (finishes in minutes). */
  quick: Partial<Omit<ImlConfig, 'method' | 'seed'>> & { methods?: string[]; seeds?: number[] };
  /** Extra variants run as separate configurations (the inner-steps ablation). */
  variants?: { label: string; config: Partial<ImlConfig> }[];
}

/** Fixed L2 weights of the grid-searched baseline (a subset of the thesis' appendix A.2 grid). */
const L2_GRID = [1e-4, 1e-3, 1e-2, 1e-1];

const THESIS_METHODS = ['neumann:3', 'neumann:10', 'neumann:20', 'neumann:35', 'neumann:50', 'cg:3', 'cg:5', 'cg:10', 'identity', 't1t2'];

export const RECIPES: Record<string, Recipe> = {
  'overfit-small-val': {
    name: 'overfit-small-val',
    title: 'Learning a per-parameter L2 regulariser: overfitting a small validation set',
    section: '4.1',
    dataset: 'mnist',
    hidden: 0,
    split: { train: 50, validation: 50, test: 50 },
    metaKnowledge: 'per-parameter',
    methods: [...THESIS_METHODS, 'damped-neumann:10'],
    seeds: [0, 1, 2],
    config: {
      innerSteps: 50, innerBatch: 32, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 1000, warmupSteps: 0,
      // Thesis 4.1: "Test" after the 1000th meta-epoch, "ES Test" at the early-stopping checkpoint.
      patience: 15, continueAfterEarlyStop: true, metaSubset: 0, checkpointEvery: 25,
    },
    quick: { metaEpochs: 40, patience: 15, methods: ['neumann:3', 'neumann:20', 'cg:3', 'identity', 't1t2', 'damped-neumann:10'], seeds: [0] },
  },
  'exact-vs-approx': {
    name: 'exact-vs-approx',
    title: 'Approximate vs exact inverse-Hessian-vector products along training (14x14 MNIST, 32 hidden units)',
    section: '4.1.3',
    dataset: 'mnist',
    imageSize: 14,
    hidden: 32,
    split: { train: 50, validation: 50, test: 50 },
    metaKnowledge: 'per-parameter',
    // Trajectories; at every 5th meta-update all approximations are compared with the exact solve there.
    methods: ['neumann:3', 'identity'],
    seeds: [0, 1, 2],
    compareExact: {
      every: 5,
      methods: ['neumann:3', 'neumann:10', 'neumann:20', 'neumann:35', 'neumann:50', 'cg:3', 'cg:5', 'cg:10', 'identity', 'damped-neumann:10'],
    },
    config: {
      innerSteps: 50, innerBatch: 32, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 100, warmupSteps: 0,
      patience: 0, metaSubset: 0, checkpointEvery: 25,
    },
    quick: { metaEpochs: 10, methods: ['neumann:3'], seeds: [0] },
  },
  'per-layer': {
    name: 'per-layer',
    title: 'Learning a per-layer L2 regulariser on full data',
    section: '4.2',
    dataset: 'mnist',
    hidden: 0,
    metaKnowledge: 'per-layer',
    // The baseline without regularisation plus a small grid of fixed L2 weights (thesis appendix A.2).
    methods: ['baseline', ...L2_GRID.map((c) => `baseline:l2=${c}`), 'neumann:3', 'neumann:10', 'neumann:20', 'cg:3', 'cg:5', 'identity', 't1t2', 'damped-neumann:10'],
    seeds: [0, 1, 2],
    config: {
      innerSteps: 500, innerBatch: 128, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 50, warmupSteps: 1000,
      patience: 15, metaSubset: 500, checkpointEvery: 5,
    },
    quick: { metaEpochs: 5, warmupSteps: 200, innerSteps: 100, methods: ['baseline', 'neumann:3', 'cg:3', 'identity'], seeds: [0] },
  },
  'inner-steps-ablation': {
    name: 'inner-steps-ablation',
    title: 'Ablation of the number of inner steps between meta-updates (per-layer L2)',
    section: '4.2.4',
    dataset: 'mnist',
    hidden: 0,
    metaKnowledge: 'per-layer',
    methods: ['neumann:3', 'cg:3', 'identity'],
    seeds: [0, 1, 2],
    // The thesis keeps the number of meta-updates constant (50) while the inner steps shrink: no early stopping.
    config: {
      innerSteps: 500, innerBatch: 128, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 50, warmupSteps: 1000,
      patience: 0, metaSubset: 500, checkpointEvery: 5,
    },
    variants: [50, 100, 200, 300, 500].map((n) => ({ label: `inner ${n}`, config: { innerSteps: n } })),
    quick: { metaEpochs: 4, warmupSteps: 200, methods: ['neumann:3'], seeds: [0] },
  },
  compare: {
    name: 'compare',
    title: 'Short IML comparison on MNIST (per-layer L2): baseline vs Neumann(3) vs CG(3) vs identity',
    section: '4.2 (short)',
    dataset: 'mnist',
    hidden: 0,
    metaKnowledge: 'per-layer',
    methods: ['baseline', 'neumann:3', 'cg:3', 'identity'],
    seeds: [0],
    config: {
      innerSteps: 100, innerBatch: 128, innerLr: 1e-4, metaLr: 0.1, metaEpochs: 4, warmupSteps: 200,
      patience: 0, metaSubset: 500, checkpointEvery: 0,
    },
    quick: {},
  },
};

export function getRecipe(name: string): Recipe {
  const r = Object.prototype.hasOwnProperty.call(RECIPES, name) ? RECIPES[name] : undefined;
  if (!r) throw new Error(`unknown recipe '${name}'; choose one of ${Object.keys(RECIPES).join(', ')}`);
  return r;
}
