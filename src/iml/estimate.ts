// Rough cost of a recipe before it runs: how many runs, gradients and HVPs, and a time measured from a few gradient steps of the real model on this machine.

import { valueAndGrad } from '../autodiff/transforms.js';
import type { ImageDataset } from '../data/dataset.js';
import { parseMethod, type HypergradMethod } from '../hypergrad/methods.js';
import { MLP } from '../nn/layers.js';
import { functionalCall } from '../nn/module.js';
import { crossEntropy } from '../ops/losses.js';
import { batchTensors } from '../train/evaluate.js';
import { Random } from '../util/random.js';
import type { RecipePlan } from './recipe-plan.js';

/** HVPs one meta-step of `m` costs on a model with `parameters` weights (exact: one per weight, for the dense Hessian). */
export function hvpsPerMetaStep(m: HypergradMethod, parameters: number): number {
  switch (m.kind) {
    case 'neumann': return m.steps;
    case 'cg': return m.steps;
    case 'damped-neumann': return m.steps + m.powerIterations;
    case 'exact': return parameters;
    default: return 0;
  }
}

export interface RecipeEstimate {
  runs: number;
  parameters: number;
  /** Seconds of one training gradient at the inner batch size, and of one at the meta-step's batch. */
  innerGradientSeconds: number;
  metaGradientSeconds: number;
  /** The batch sizes those two gradients were timed at (the inner batch and the meta-step's, capped by the training set). */
  innerSamples: number;
  metaSamples: number;
  /** Upper bound (every run to its meta-epoch budget), per method spec, for all seeds and variants. */
  perMethodSeconds: Record<string, number>;
  totalSeconds: number;
}

/** Mean seconds of one gradient of the model's loss on the first min(n, ds.count) samples, and that sample count. */
function timeGradient(model: MLP, ds: ImageDataset, n: number, repeats: number): { seconds: number; samples: number } {
  const idx = Array.from({ length: Math.min(n, ds.count) }, (_, i) => i);
  const { x, t } = batchTensors(ds, idx, true);
  const f = (ws: ReturnType<MLP['parameters']>[number]['value'][]) => functionalCall(model, ws, () => crossEntropy(model.forward(x, { training: true }), t));
  const w = model.parameters().map((p) => p.value);
  valueAndGrad(f)(w).value.dataSync();
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) valueAndGrad(f)(w).value.dataSync();
  return { seconds: (performance.now() - t0) / 1000 / repeats, samples: idx.length };
}

/**
 * Estimates the plan's cost on the CPU backend from the measured gradient time: per meta-epoch, the inner
 * steps, one meta-step (validation gradient, the method's HVPs at ~2 gradients each, the mixed term; identity and
 * T1-T2 with the closed-form penalty: the validation gradient alone) and the
 * evaluation of three splits; T1-T2 takes a meta-step after every inner step; comparisons with the exact
 * inverse are added. Early stopping can only make runs shorter.
 */
export function estimateRecipe(plan: RecipePlan, data: { train: ImageDataset; validation: ImageDataset; test: ImageDataset }): RecipeEstimate {
  const inputs = data.train.channels * data.train.height * data.train.width;
  const model = new MLP([inputs, plan.hidden || inputs, data.train.numClasses], new Random(0));
  const parameters = model.parameterCount();
  const metaN = plan.config.metaSubset > 0 ? Math.min(plan.config.metaSubset, data.train.count) : data.train.count;
  const innerTiming = timeGradient(model, data.train, plan.config.innerBatch, 3);
  const metaTiming = timeGradient(model, data.train, metaN, 2);
  const inner = innerTiming.seconds, meta = metaTiming.seconds;
  const evalSeconds = (meta / Math.max(1, metaN)) * (data.train.count + data.validation.count + data.test.count) / 3;
  const perMethodSeconds: Record<string, number> = {};
  let total = 0;
  for (const spec of plan.methods) {
    const m = parseMethod(spec);
    let s = 0;
    for (const v of plan.variants) {
      const c = { ...plan.config, ...v.config };
      // A meta-step: the validation gradient (1), L_T's gradient with its graph kept (~2, for the HVPs and the mixed
      // term) and ~2 gradients per HVP. With the penalty's closed form, identity and T1-T2 need neither graph nor HVP.
      const graph = (m.kind === 'identity' || m.kind === 't1t2') && c.closedFormPenalty !== false ? 0 : 2;
      const metaStep = m.kind === 'baseline' ? 0 : (1 + graph + 2 * hvpsPerMetaStep(m, parameters)) * meta;
      const metaSteps = m.kind === 't1t2' ? c.innerSteps : 1;
      const compare = plan.compareExact && m.kind !== 't1t2'
        ? (2 * parameters + plan.compareExact.methods.reduce((a, x) => a + 2 * hvpsPerMetaStep(parseMethod(x), parameters), 0)) * meta / plan.compareExact.every : 0;
      s += (c.warmupSteps * inner + c.metaEpochs * (c.innerSteps * inner + metaSteps * metaStep + evalSeconds + compare)) * plan.seeds.length;
    }
    perMethodSeconds[spec] = s;
    total += s;
  }
  return { runs: plan.variants.length * plan.methods.length * plan.seeds.length, parameters, innerGradientSeconds: inner, metaGradientSeconds: meta, innerSamples: innerTiming.samples, metaSamples: metaTiming.samples, perMethodSeconds, totalSeconds: total };
}

/** '3 h 20 min', '4 min', '12 s'. */
export function formatDuration(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  if (seconds >= 90) return `${Math.round(seconds / 60)} min`;
  return `${Math.max(1, Math.round(seconds))} s`;
}
