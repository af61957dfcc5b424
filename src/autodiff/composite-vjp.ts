// The reverse-mode rule of a fused primitive taken from its reference composite: retrace the composite and pull the cotangent back through it.

import { isGradEnabled, withGradMode, type Tensor } from '../core/tensor.js';
import { backward } from './backward.js';

/** A primitive's definition in core ops: the same function of the same inputs and parameters (some inputs may go unused). */
export type Composite<Params> = (inputs: readonly Tensor[], params: Params) => Tensor;

/**
 * x̄_i = (∂c/∂x_i)ᵀ ȳ, with c the composite that defines the primitive, by reverse mode through a fresh trace of c
 * on the primitive's own inputs. Inside a recorded backward pass (createGraph) the pullback is recorded as well, as
 * a function of ȳ and of every input (also those whose cotangent this pass does not need: a higher order may
 * differentiate in them), so every order of derivative is c's, at the price of running c forward once per call.
 * The pullback stops at the inputs; a tensor passed at several positions gets its whole cotangent at the first
 * and null at the others, since the caller adds up the parts of every position.
 */
export function compositeVjp<Params>(
  composite: Composite<Params>, g: Tensor, inputs: readonly Tensor[], params: Params, needs: readonly boolean[],
): (Tensor | null)[] {
  const record = isGradEnabled();
  const targets: Tensor[] = [];
  const slot = inputs.map((t, i) => {
    if (!needs[i] || targets.includes(t)) return -1;
    targets.push(t);
    return targets.length - 1;
  });
  if (targets.length === 0) return inputs.map(() => null);
  const y = withGradMode(true, () => composite(inputs, params));
  const cts = backward([y], [g], targets, { createGraph: record, stopAt: inputs });
  return slot.map((k) => (k < 0 ? null : cts[k]));
}
