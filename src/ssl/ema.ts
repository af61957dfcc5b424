// Exponential moving average of model weights (FixMatch evaluates the EMA model, decay 0.999); batch-norm statistics are taken from the live model.

import { keep } from '../core/scope.js';
import { add, mul } from '../core/ops.js';
import { noGrad, type Tensor } from '../core/tensor.js';
import type { Module, Parameter } from '../nn/module.js';

export class WeightEma {
  /** The averaged values, in model.parameters() order. */
  values: Tensor[];

  /**
   * `warmup`: use d_t = min(d, (1 + t) / (10 + t)) at update t = 0, 1, ... (TensorFlow's ExponentialMovingAverage
   * with num_updates), so that early in a run the average follows the weights instead of keeping the
   * initialisation's share d^t (0.999^1000 = 37% after 1000 steps); d_t = d = 0.999 from t = 8990 on.
   */
  constructor(params: readonly Pick<Parameter, 'value'>[], readonly decay: number, readonly warmup = false) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`WeightEma: decay must be in [0, 1), got ${decay}`);
    this.values = noGrad(() => params.map((p) => mul(p.value, 1)));
  }

  /** The decay used at update t (0-based). */
  decayAt(t: number): number {
    return this.warmup ? Math.min(this.decay, (1 + t) / (10 + t)) : this.decay;
  }

  /** e ← d_t e + (1 - d_t) w for every parameter (the references' ModelEMA when warmup is off), t = update number from 0. */
  update(params: readonly Pick<Parameter, 'value'>[], t = 0): void {
    if (params.length !== this.values.length) throw new Error(`WeightEma.update: ${params.length} parameters, ${this.values.length} averages`);
    const d = this.decayAt(t);
    const old = this.values;
    this.values = noGrad(() => old.map((e, i) => keep(add(mul(e, d), mul(params[i].value, 1 - d)))));
    // The averages replaced are this object's own: freed now (retain() a handle to hold one longer).
    for (const e of old) e.dispose();
  }
}

/**
 * Runs `fn` with the model's parameters set to `values` (restored afterwards, also on errors); unlike
 * functionalCall it waits for an asynchronous fn, so evaluations that read results with await see the values.
 */
export async function withParameterValues<T>(model: Module, values: readonly Tensor[], fn: () => Promise<T>): Promise<T> {
  const params = model.parameters();
  if (values.length !== params.length) throw new Error(`withParameterValues: ${values.length} values for ${params.length} parameters`);
  const saved = params.map((p) => p.value);
  params.forEach((p, i) => (p.value = values[i]));
  try {
    return await fn();
  } finally {
    params.forEach((p, i) => (p.value = saved[i]));
  }
}
