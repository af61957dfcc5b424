// FixMatch run settings with the references' defaults (tau 0.95, lambda_u 1, mu 7, batch 64, SGD Nesterov 0.9, lr 0.03 cosine, weight decay 5e-4, EMA 0.999) and their validation.

import type { EmaBatchNorm } from './ema-batch-norm.js';

export type SslMethod = 'fixmatch' | 'supervised';
export type SslModel = 'small-cnn' | 'wrn-28-2';

export interface FixMatchConfig {
  /** 'supervised': the same model and schedule on the labelled images alone (mu and lambda_u unused). */
  method: SslMethod;
  model: SslModel;
  /** K, the total number of steps (the cosine schedule's length). */
  steps: number;
  batchSize: number;
  mu: number;
  tau: number;
  lambdaU: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  emaDecay: number;
  /** EMA decay min(emaDecay, (1 + t)/(10 + t)) at step t (see WeightEma); false: emaDecay from the first step, as the references. */
  emaWarmup: boolean;
  /** Evaluate (and log) every this many steps, and at the last step. */
  evalEvery: number;
  /** Checkpoint every this many steps (a multiple of evalEvery), and at the last step. */
  checkpointEvery: number;
  /** Horizontal flips in the weak view (a data-set property). */
  flip: boolean;
  seed: number;
  /** Evaluate on at most this many validation/test images (0: all). */
  evalLimit: number;
  /**
   * Batch-norm statistics of the evaluated EMA model: unset or 'live', the live model's (as the references);
   * 'recompute', re-estimated at the EMA weights before each evaluation on the first 2048 un-augmented images of the
   * unlabelled pool (supervised-only: of the labelled set), then put back (docs/fixmatch.md).
   */
  emaBatchNorm?: EmaBatchNorm;
}

export const FIXMATCH_DEFAULTS: Omit<FixMatchConfig, 'steps' | 'flip' | 'seed'> = {
  method: 'fixmatch',
  model: 'small-cnn',
  batchSize: 64,
  mu: 7,
  tau: 0.95,
  lambdaU: 1,
  lr: 0.03,
  momentum: 0.9,
  weightDecay: 5e-4,
  emaDecay: 0.999,
  emaWarmup: true,
  evalEvery: 100,
  checkpointEvery: 500,
  evalLimit: 0,
};

/** Throws naming the first bad field. */
export function validateFixMatchConfig(c: FixMatchConfig): FixMatchConfig {
  const int = (k: keyof FixMatchConfig, min: number): void => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`FixMatch config: ${k} must be an integer >= ${min}, got ${String(v)}`);
  };
  const num = (k: keyof FixMatchConfig, lo: number, hi: number): void => {
    const v = c[k] as number;
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new Error(`FixMatch config: ${k} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  };
  if (c.method !== 'fixmatch' && c.method !== 'supervised') throw new Error(`FixMatch config: method must be 'fixmatch' or 'supervised', got '${String(c.method)}'`);
  if (c.model !== 'small-cnn' && c.model !== 'wrn-28-2') throw new Error(`FixMatch config: model must be 'small-cnn' or 'wrn-28-2', got '${String(c.model)}'`);
  int('steps', 1);
  int('batchSize', 2);
  int('mu', c.method === 'fixmatch' ? 1 : 0);
  num('tau', 0, 1);
  num('lambdaU', 0, 1e6);
  num('lr', 0, 10);
  num('momentum', 1e-12, 0.999999);
  num('weightDecay', 0, 1);
  num('emaDecay', 0, 0.999999999);
  int('evalEvery', 1);
  int('checkpointEvery', 1);
  if (c.checkpointEvery % c.evalEvery !== 0) throw new Error(`FixMatch config: checkpointEvery (${c.checkpointEvery}) must be a multiple of evalEvery (${c.evalEvery})`);
  if (typeof c.emaWarmup !== 'boolean') throw new Error('FixMatch config: emaWarmup must be true or false');
  if (typeof c.flip !== 'boolean') throw new Error('FixMatch config: flip must be true or false');
  int('seed', 0);
  int('evalLimit', 0);
  if (c.emaBatchNorm !== undefined && c.emaBatchNorm !== 'live' && c.emaBatchNorm !== 'recompute') {
    throw new Error(`FixMatch config: emaBatchNorm must be 'live' or 'recompute', got '${String(c.emaBatchNorm)}'`);
  }
  return c;
}
