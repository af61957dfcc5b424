// Fused primitives: a backend's kernel where it has one, else the reference composite of core primitives that defines them.

import type { FusedPrim } from './primitives.js';
import type { Tensor } from './tensor.js';

/**
 * A fused primitive (FUSED_PRIMS in primitives.ts) computes in one or two passes what a reference composite of
 * core primitives computes in many, and is defined by that composite:
 *
 * - values: its op (relu and leakyRelu in src/ops/activations.ts, batchNorm in src/ops/batch-norm.ts) runs the primitive where
 *   the backend has kernels for the whole family (Backend.hasKernel) and the composite elsewhere (WebGPU), so a
 *   backend without the kernels works unchanged;
 * - derivatives: a forward primitive's rule is written out with fused backward primitives (a plain gradient: fast),
 *   and those take their own rules from their composites (src/autodiff/composite-vjp.ts), so every higher order
 *   is the composite's derivative, correct by construction. Where the rule's result is recorded to be
 *   differentiated again (createGraph: HVPs, mixed terms), it may evaluate the backward primitives' composites
 *   directly, so that later passes differentiate core ops instead of retracing composites (batch norm does).
 *
 * Tests hold each kernel to its composite: values, gradients and HVPs in float64 (test/autodiff/fused.test.ts).
 */
export function hasKernels(x: Tensor, prims: readonly FusedPrim[]): boolean {
  const be = x.backend;
  return be.hasKernel !== undefined && prims.every((p) => be.hasKernel!(p));
}
