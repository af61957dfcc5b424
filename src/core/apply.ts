// Applies a primitive: runs its kernel on the tensors' backend and records the graph node when traced.

import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { vjpRules } from '../autodiff/vjp-rules.js';
import type { DType } from './dtype.js';
import type { Prim, PrimParams } from './primitives.js';
import { formatShape } from './shape.js';
import { isGradEnabled, Tensor } from './tensor.js';

/** Primitives whose output carries no gradient (comparisons, max-pooling's argmax: piecewise constant). */
const NON_DIFFERENTIABLE: ReadonlySet<Prim> = new Set<Prim>(['compare', 'maxPool2dArgmax', 'batchNormStats']);

/** Inputs through which no gradient reaches a primitive's output (the mask source x of reluGrad and leakyReluGrad): alone they do not make it traced. */
const CONSTANT_INPUTS: Partial<Record<Prim, readonly number[]>> = { reluGrad: [1], leakyReluGrad: [1] };

export function applyPrim<P extends Prim>(
  prim: P,
  inputs: readonly Tensor[],
  params: PrimParams[P],
  outShape: readonly number[],
  outDtype?: DType,
): Tensor {
  const backend: Backend = inputs.length > 0 ? inputs[0].backend : getBackend();
  const dtype = outDtype ?? inputs[0].dtype;
  for (const t of inputs) {
    if (t.backend !== backend) {
      throw new Error(`${prim}: inputs live on different backends ('${backend.name}' and '${t.backend.name}')`);
    }
    if (t.dtype !== inputs[0].dtype && prim !== 'where') {
      throw new Error(`${prim}: dtype mismatch, ${inputs.map((x) => x.dtype).join(' vs ')}; use cast() first`);
    }
  }
  for (const d of outShape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${prim}: computed an invalid output shape ${formatShape(outShape)}`);
  }
  let size = 1;
  for (const d of outShape) size *= d;
  const buffer = backend.allocOutput?.(prim, size, dtype) ?? backend.alloc(size, dtype);
  backend.run(
    { prim, params, inputs: inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })), output: { shape: outShape, dtype } },
    inputs.map((t) => t.buffer),
    buffer,
  );
  const out = new Tensor(backend, buffer, outShape, dtype);
  const constant = CONSTANT_INPUTS[prim];
  if (isGradEnabled() && !NON_DIFFERENTIABLE.has(prim) && inputs.some((t, i) => t.requiresGrad && !constant?.includes(i))) {
    const rule = vjpRules[prim];
    out.requiresGrad = true;
    out.node = {
      name: prim,
      inputs,
      vjp: (g: Tensor, needs: readonly boolean[]) => rule(g, inputs, out, params, needs),
    };
  }
  return out;
}
