// Shared IML test problem (synthetic 4x4 images, MLP 16-8-3, per-parameter L2) for the Node, WebGPU and browser suites.

import { withBackend } from '../../src/backend/registry.js';
import type { Backend } from '../../src/backend/backend.js';
import { createImageDataset, type ImageDataset } from '../../src/data/dataset.js';
import { perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import type { RunStore } from '../../src/iml/run-store.js';
import { runIml, THESIS_DEFAULTS, type ImlConfig, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { MLP } from '../../src/nn/index.js';
import { Random } from '../../src/util/random.js';

export function synthetic(n: number, seed: number, name: string): ImageDataset {
  const rng = new Random(seed);
  const labels = new Uint8Array(n).map(() => rng.int(3));
  const images = new Float32Array(n * 16).map((_, i) => Math.min(1, Math.max(0, 0.5 + 0.3 * rng.normal() + (labels[Math.floor(i / 16)] === i % 3 ? 0.3 : 0))));
  return createImageDataset({ images, labels, count: n, channels: 1, height: 4, width: 4, numClasses: 3, name });
}

export const data = { train: synthetic(40, 1, 'train'), validation: synthetic(20, 2, 'val'), test: synthetic(20, 3, 'test') };

export const config = (o: Partial<ImlConfig>): ImlConfig => ({
  ...THESIS_DEFAULTS, method: parseMethod('neumann:3'), seed: 5, innerSteps: 4, innerBatch: 8, metaEpochs: 3,
  innerLr: 1e-2, patience: 0, ...o,
});

/** A model and its per-parameter λ on `backend` (null: the CPU default); the trainer follows the model's backend. */
export const build = (backend: Backend | null = null) => {
  const make = () => new MLP([16, 8, 3], new Random(9));
  const model = backend ? withBackend(backend, make) : make();
  return { model, mk: perParameterL2(model.parameters()) };
};

/**
 * Per-epoch numbers compared across backends and hosts with a relative tolerance: continuous quantities only (losses,
 * hypergradient norm, mean decay). Accuracies move in steps of 1/20 on the 20-sample splits, so a float32 difference
 * flips them by 0.05 or not at all: no relative tolerance fits them, and they are left out.
 */
export const trace = (ms: readonly MetaEpochMetrics[]): number[] =>
  ms.flatMap((m) => [m.validation.loss, m.train.loss, m.hypergradNorm, m.meanDecay]);

/** The methods every host runs, with their meta-epoch counts (T1-T2 makes a meta-step per inner step). */
export const CASE_METHODS: readonly { spec: string; epochs: number }[] = [
  { spec: 'neumann:3', epochs: 3 },
  { spec: 'cg:3', epochs: 3 },
  { spec: 'damped-neumann:3', epochs: 3 },
  { spec: 't1t2', epochs: 2 },
];

export async function runCase(spec: string, epochs: number, backend: Backend | null = null, hooks: { store?: RunStore; resume?: boolean } = {}, extra: Partial<ImlConfig> = {}): Promise<number[]> {
  const { model, mk } = build(backend);
  const r = await runIml(model, mk, data, config({ method: parseMethod(spec), metaEpochs: epochs, ...extra }), hooks);
  if (r.summary.diverged) throw new Error(`${spec}: diverged (${r.summary.diverged.what})`);
  return trace(r.metrics);
}

/** null when every a[k] is within rel * max(1e-3, |b[k]|) of b[k] (an absolute floor of rel * 1e-3 near zero), else the first value that is not. */
export const expectCloseMessage = (a: readonly number[], b: readonly number[], rel: number): string | null => {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  const i = a.findIndex((v, k) => !(Math.abs(v - b[k]) <= rel * Math.max(1e-3, Math.abs(b[k]))));
  return i < 0 ? null : `value ${i}: ${a[i]} vs ${b[i]} (relative tolerance ${rel})`;
};
