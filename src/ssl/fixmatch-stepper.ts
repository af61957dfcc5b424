// One FixMatch training step's machinery shared by trainFixMatch and the Confidence Network problem: the seeded samplers and augmentation stream, the batch of weak/strong views, SGD Nesterov on the cosine schedule and the EMA update, with their checkpoint state.

import { strongAugment, weakAugment, type ImageBatch } from '../augment/index.js';
import type { OptimizerState, ParamRef } from '../optim/optimizer.js';
import { fixMatchCosineLr } from '../optim/schedule.js';
import { SGD } from '../optim/sgd.js';
import { disposeReplaced, type Tensor } from '../core/tensor.js';
import { getBatch, type ImageDataset } from '../data/dataset.js';
import { Random } from '../util/random.js';
import { WeightEma } from './ema.js';
import type { FixMatchConfig } from './fixmatch-config.js';
import type { FixMatchInputs } from './fixmatch-step.js';
import { EpochSampler, type SamplerState } from './sampler.js';

/** One step's batch: the network's inputs and what the caller may want besides (pool indices for a weight table, true labels for pseudo-label accuracy). */
export interface FixMatchBatch {
  inputs: FixMatchInputs;
  /** Pool indices of the μB unlabelled images (empty for supervised-only). */
  poolIndices: Int32Array;
  /** The pool's own labels of those images (never trained on). */
  trueLabels: Uint8Array;
  /** Learning rate of this step. */
  lr: number;
}

/** The stepper's JSON checkpoint state (random states hold NaN when no normal is cached; JSON has no NaN, so null). */
export interface StepperJson {
  augState: (number | null)[];
  labelled: { epochState: (number | null)[]; cursor: number };
  unlabelled: { epochState: (number | null)[]; cursor: number } | null;
}

const encodeState = (s: readonly number[]): (number | null)[] => s.map((v) => (Number.isNaN(v) ? null : v));
const decodeState = (s: readonly (number | null)[]): number[] => s.map((v) => (v === null ? NaN : v));
const encodeSampler = (s: SamplerState): { epochState: (number | null)[]; cursor: number } => ({ epochState: encodeState(s.epochState), cursor: s.cursor });
const decodeSampler = (s: { epochState: (number | null)[]; cursor: number }): SamplerState => ({ epochState: decodeState(s.epochState), cursor: s.cursor });

function batchOf(ds: ImageDataset, idx: Int32Array): { batch: ImageBatch; labels: Uint8Array } {
  const { x, y } = getBatch(ds, idx);
  return { batch: { data: x, count: idx.length, channels: ds.channels, height: ds.height, width: ds.width }, labels: y };
}

/**
 * The state FixMatch keeps between steps, seeded from config.seed exactly as the references' trainer: augmentation
 * Random(4s + 1), labelled order Random(4s + 2), unlabelled order Random(4s + 3) (supervised-only: none); SGD with
 * Nesterov momentum at lr_k = lr cos(7πk/16K) over K = `totalSteps`; the EMA of the weights.
 */
export class FixMatchStepper {
  readonly sgd: SGD;
  readonly ema: WeightEma;
  readonly augRng: Random;
  readonly labelled: EpochSampler;
  readonly unlabelled: EpochSampler | null;
  /** μB, unlabelled images per step (0 for supervised-only). */
  readonly u: number;
  private readonly schedule: (k: number) => number;

  constructor(private readonly params: readonly ParamRef[], private readonly c: FixMatchConfig, data: { labelled: ImageDataset; unlabelled: ImageDataset }, totalSteps = c.steps) {
    this.sgd = new SGD(params, { lr: c.lr, momentum: c.momentum, nesterov: true });
    this.sgd.checkFinite = false;
    this.ema = new WeightEma(params, c.emaDecay, c.emaWarmup);
    this.schedule = fixMatchCosineLr(c.lr, totalSteps);
    this.augRng = new Random(c.seed * 4 + 1);
    this.labelled = new EpochSampler(data.labelled.count, new Random(c.seed * 4 + 2));
    const fixmatch = c.method === 'fixmatch';
    this.unlabelled = fixmatch ? new EpochSampler(data.unlabelled.count, new Random(c.seed * 4 + 3)) : null;
    this.u = fixmatch ? c.mu * c.batchSize : 0;
  }

  /**
   * Step `step` (1-based)'s batch: sets the optimizer's lr to schedule(step − 1), draws B labelled images (weak
   * view) and μB unlabelled ones (weak, then strong view, from the same augmentation stream), laid out
   * [labelled weak | unlabelled weak | unlabelled strong].
   */
  nextBatch(data: { labelled: ImageDataset; unlabelled: ImageDataset }, step: number): FixMatchBatch {
    const c = this.c;
    const lr = this.schedule(step - 1);
    this.sgd.lr = lr;
    const l = batchOf(data.labelled, this.labelled.next(c.batchSize));
    const parts: ImageBatch[] = [weakAugment(l.batch, this.augRng, { flip: c.flip })];
    let poolIndices: Int32Array = new Int32Array(0);
    let trueLabels: Uint8Array = new Uint8Array(0);
    if (this.unlabelled) {
      poolIndices = this.unlabelled.next(this.u);
      const ub = batchOf(data.unlabelled, poolIndices);
      trueLabels = ub.labels;
      parts.push(weakAugment(ub.batch, this.augRng, { flip: c.flip }), strongAugment(ub.batch, this.augRng, { flip: c.flip }));
    }
    const size = l.batch.channels * l.batch.height * l.batch.width;
    const x = new Float32Array((c.batchSize + 2 * this.u) * size);
    let off = 0;
    for (const p of parts) {
      x.set(p.data, off);
      off += p.data.length;
    }
    const inputs: FixMatchInputs = {
      x, shape: [c.batchSize + 2 * this.u, l.batch.channels, l.batch.height, l.batch.width], labels: l.labels, unlabelled: this.u, tau: c.tau, lambdaU: c.lambdaU,
    };
    return { inputs, poolIndices, trueLabels, lr };
  }

  /** SGD on `grads` (weight decay already in them), then the EMA update number step − 1. */
  update(grads: Tensor[], step: number): void {
    this.sgd.step(grads);
    this.ema.update(this.params, step - 1);
  }

  json(): StepperJson {
    return {
      augState: encodeState(this.augRng.getState()), labelled: encodeSampler(this.labelled.state()),
      unlabelled: this.unlabelled ? encodeSampler(this.unlabelled.state()) : null,
    };
  }

  async optimizerState(): Promise<OptimizerState> {
    return this.sgd.stateDictAsync();
  }

  /** Restores json(), the optimizer and the EMA values; throws naming `where` when a part is missing. */
  restore(json: Partial<StepperJson>, optimizer: OptimizerState | undefined, ema: Tensor[], where: string): void {
    if (!json.augState || !json.labelled || (this.unlabelled && !json.unlabelled)) throw new Error(`${where}: the augmentation or sampler states are missing`);
    if (optimizer) this.sgd.loadStateDict(optimizer);
    // The averages replaced are the EMA's own: freed now.
    disposeReplaced(this.ema.values, ema);
    this.ema.values = ema;
    this.augRng.setState(decodeState(json.augState));
    this.labelled.restore(decodeSampler(json.labelled));
    if (this.unlabelled && json.unlabelled) this.unlabelled.restore(decodeSampler(json.unlabelled));
  }
}
