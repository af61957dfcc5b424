// Which optimizer updates the meta-parameters ω in runBilevel (RMSprop for the L2 recipes, Adam e.g. for a Confidence Network), as a JSON-able spec.

import { Adam, type AdamOptions } from '../optim/adam.js';
import type { Optimizer, ParamRef } from '../optim/optimizer.js';
import { RMSprop, type RMSpropOptions } from '../optim/rmsprop.js';

/** The meta optimizer and its settings other than lr (lr is the configuration's metaLr). */
export type MetaOptimizerSpec =
  | { kind: 'rmsprop'; options?: Omit<RMSpropOptions, 'lr'> }
  | { kind: 'adam'; options?: Omit<AdamOptions, 'lr'> };

/** The meta optimizer over ω (RMSprop at `lr` when no spec is given). */
export function createMetaOptimizer(meta: readonly ParamRef[], lr: number, spec: MetaOptimizerSpec = { kind: 'rmsprop' }): Optimizer {
  switch (spec.kind) {
    case 'rmsprop': return new RMSprop(meta, { ...spec.options, lr });
    case 'adam': return new Adam(meta, { ...spec.options, lr });
    default: throw new Error(`runBilevel: unknown meta optimizer '${String((spec as { kind: unknown }).kind)}' (expected 'rmsprop' or 'adam')`);
  }
}
