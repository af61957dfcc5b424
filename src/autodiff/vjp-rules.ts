// Reverse-mode rules, one per primitive, each written in differentiable ops so every order of derivative works.

import type { Prim, PrimParams } from '../core/primitives.js';
import { isGradEnabled, type Tensor } from '../core/tensor.js';
import {
  broadcastTo, cast, compare, conv2d, conv2dGradInput, conv2dGradWeight, div, gather, matmul, mul, neg, pad,
  reshape, scatterAdd, slice, sum, sumTo, transpose, where,
} from '../core/ops.js';
import { fusedBatchNormGradGamma, fusedBatchNormGradInput, fusedLeakyReluGrad, fusedReluGrad } from '../core/fused-ops.js';
import { maxPool2dGather, maxPool2dScatter } from '../core/pool-ops.js';
import { batchNormBackwardComposite, batchNormGradGammaComposite, batchNormGradInputComposite } from '../ops/batch-norm.js';
import { compositeVjp } from './composite-vjp.js';
import { sigmoidComposite, softplusComposite } from '../ops/activations.js';

const softplusOf = (inputs: readonly Tensor[]): Tensor => softplusComposite(inputs[0]);
const sigmoidOf = (inputs: readonly Tensor[]): Tensor => sigmoidComposite(inputs[0]);

export type VjpRule<P extends Prim> = (
  g: Tensor, inputs: readonly Tensor[], out: Tensor, params: PrimParams[P], needs: readonly boolean[],
) => (Tensor | null)[];

/** Computes a cotangent only when that input needs one. */
function when(need: boolean, fn: () => Tensor): Tensor | null {
  return need ? fn() : null;
}

/** Reshapes a reduced cotangent back to keep-dims form and broadcasts it over the reduced axes. */
function unreduce(g: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return broadcastTo(reshape(g, keep), x.shape);
}

export const vjpRules: { [P in Prim]: VjpRule<P> } = {
  // y = -x:       x̄ = -ȳ
  neg: (g) => [neg(g)],
  // y = exp(x):   x̄ = ȳ · y
  exp: (g, _x, y) => [mul(g, y)],
  // y = log(x):   x̄ = ȳ / x
  log: (g, [x]) => [div(g, x)],
  // y = √x:       x̄ = ȳ / (2y)
  sqrt: (g, _x, y) => [div(g, mul(y, 2))],
  // y = a + b:    ā = Σ_bcast ȳ,  b̄ = Σ_bcast ȳ
  add: (g, [a, b], _y, _p, n) => [when(n[0], () => sumTo(g, a.shape)), when(n[1], () => sumTo(g, b.shape))],
  // y = a - b:    ā = Σ ȳ,  b̄ = -Σ ȳ
  sub: (g, [a, b], _y, _p, n) => [when(n[0], () => sumTo(g, a.shape)), when(n[1], () => sumTo(neg(g), b.shape))],
  // y = a · b:    ā = Σ ȳ·b,  b̄ = Σ ȳ·a
  mul: (g, [a, b], _y, _p, n) => [when(n[0], () => sumTo(mul(g, b), a.shape)), when(n[1], () => sumTo(mul(g, a), b.shape))],
  // y = a / b:    ā = Σ ȳ/b,  b̄ = -Σ ȳ·y/b
  div: (g, [a, b], y, _p, n) => [when(n[0], () => sumTo(div(g, b), a.shape)), when(n[1], () => sumTo(neg(div(mul(g, y), b)), b.shape))],
  // comparisons are piecewise constant: no gradient (never recorded)
  compare: () => [null, null],
  // y = c ? a : b:  ā = Σ (c ? ȳ : 0),  b̄ = Σ (c ? 0 : ȳ),  c̄ = none
  where: (g, [c, a, b], _y, _p, n) => [null, when(n[1], () => sumTo(where(c, g, 0), a.shape)), when(n[2], () => sumTo(where(c, 0, g), b.shape))],
  // y = Σ_axes x:  x̄ = broadcast(ȳ)
  sum: (g, [x], _y, { axes }) => [unreduce(g, x, axes)],
  // y = max_axes x: x̄ = [x = y] · (ȳ / #ties)  (ties share the cotangent equally). The division
  // runs on the reduced shape and y, ȳ / #ties broadcast inside compare and mul (no materialised
  // broadcast); mask ∈ {0, 1}, so this equals (ȳ · mask) / #ties bit for bit.
  max: (g, [x], y, { axes }) => {
    const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const mask = compare(x, reshape(y, keep), 'eq');
    return [mul(mask, reshape(div(g, sum(mask, axes)), keep))];
  },
  // y = broadcast(x): x̄ = Σ over broadcast axes of ȳ
  broadcastTo: (g, [x]) => [sumTo(g, x.shape)],
  // y = reshape(x): x̄ = reshape(ȳ, shape(x))
  reshape: (g, [x]) => [reshape(g, x.shape)],
  // y = transpose(x, p): x̄ = transpose(ȳ, p⁻¹)
  transpose: (g, _x, _y, { perm }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(g, inv)];
  },
  // y = x[b : b+s]:  x̄ = zero-pad ȳ back to shape(x)
  slice: (g, [x], _y, { begin, size }) => [pad(g, begin, x.shape.map((d, i) => d - begin[i] - size[i]))],
  // y = pad(x):      x̄ = the interior window of ȳ
  pad: (g, [x], _y, { before }) => [slice(g, before, x.shape)],
  // C = op(A) op(B): Ā and B̄ by the four transpose cases, each again a matmul
  matmul: (g, [a, b], _y, { transA, transB }, n) => {
    if (!transA && !transB) return [when(n[0], () => matmul(g, b, { transB: true })), when(n[1], () => matmul(a, g, { transA: true }))];
    if (transA && !transB) return [when(n[0], () => matmul(b, g, { transB: true })), when(n[1], () => matmul(a, g))];
    if (!transA && transB) return [when(n[0], () => matmul(g, b)), when(n[1], () => matmul(g, a, { transA: true }))];
    return [
      when(n[0], () => matmul(b, g, { transA: true, transB: true })),
      when(n[1], () => matmul(g, a, { transA: true, transB: true })),
    ];
  },
  // y = conv(x, w): x̄ = convᵀ_input(ȳ, w),  w̄ = convᵀ_weight(x, ȳ)
  conv2d: (g, [x, w], _y, p, n) => [when(n[0], () => conv2dGradInput(g, w, p, x.shape)), when(n[1], () => conv2dGradWeight(x, g, p, w.shape))],
  // y = convᵀ_input(g, w) is bilinear: ḡ = conv(ȳ, w),  w̄ = convᵀ_weight(ȳ, g)
  conv2dGradInput: (c, [g, w], _y, p, n) => [when(n[0], () => conv2d(c, w, p)), when(n[1], () => conv2dGradWeight(c, g, p, w.shape))],
  // y = convᵀ_weight(x, g) is bilinear: x̄ = convᵀ_input(g, ȳ),  ḡ = conv(x, ȳ)
  conv2dGradWeight: (c, [x, g], _y, p, n) => [when(n[0], () => conv2dGradInput(g, c, p, x.shape)), when(n[1], () => conv2d(x, c, p))],
  // y = x[idx] along axis: x̄ = scatter-add of ȳ at idx
  gather: (g, [x], _y, { indices, axis }) => [scatterAdd(g, indices, axis, x.shape[axis])],
  // y = scatter-add(x, idx): x̄ = ȳ[idx]
  scatterAdd: (g, _x, _y, { indices, axis }) => [gather(g, indices, axis)],
  // y = cast(x): x̄ = cast(ȳ) back to x's dtype
  cast: (g, [x]) => [cast(g, x.dtype)],
  // a = argmax offsets of each window: piecewise constant in x, so no gradient (never recorded)
  maxPool2dArgmax: () => [null],
  // y = G_a x (gather at the fixed argmax a, linear in x):  x̄ = G_aᵀ ȳ = scatter-add of ȳ to the argmaxes,  ā = none.
  // Forward mode (jvp transposes this pullback): ẏ = G_a ẋ, the tangent gathered at the argmaxes.
  // Max-pool = G_a(x) x with a = argmax(x) locally constant, so this is its derivative wherever the maximum is unique;
  // on ties it is the one-sided derivative that sends everything to the first maximum (PyTorch's rule).
  maxPool2dGather: (g, [x, a], _y, p) => [maxPool2dScatter(g, a, p, x.shape), null],
  // z = G_aᵀ g (scatter-add at the fixed argmax a, linear in g):  ḡ = G_a z̄ = z̄ gathered at the argmaxes,  ā = none.
  // Gather and scatter are each other's transposes, so every order of derivative stays in these two primitives.
  maxPool2dScatter: (c, [, a], _y, { kernel, stride, padding }) => [maxPool2dGather(c, a, { kernel, stride, padding }), null],

  // Fused primitives (src/core/fused.ts): each equals a composite of the primitives above, and so do its rules.
  // y = relu(x) = x · [x > 0]:  x̄ = ȳ · [x > 0]: the composite mul(x, mask)'s rule with its constant mask, bit for bit
  // (relu'(0) = 0).
  relu: (g, [x]) => [fusedReluGrad(g, x)],
  // z = reluGrad(g, x) = g · [x > 0], linear in g with a piecewise-constant mask:  ḡ = z̄ · [x > 0],  x̄ = none
  // (the rule of the composite mul(g, mask); every higher derivative through relu is 0 away from x = 0).
  reluGrad: (c, [, x], _y, _p, n) => [when(n[0], () => fusedReluGrad(c, x)), null],
  // y = leakyRelu(x) = where(x > 0, x, a x) = x · s(x), s(x) = 1 for x > 0, a (the slope) otherwise, piecewise constant:
  //   x̄ = where(x > 0, ȳ, 0) + where(x > 0, 0, ȳ) · a = ȳ s(x) + 0, the composite's two branch cotangents summed
  //   (its + 0 turns -0 into +0; for a < 0 the composite adds 0·a = -0 where x > 0: a zero's sign may differ there).
  leakyRelu: (g, [x], _y, { slope }) => [fusedLeakyReluGrad(g, x, slope)],
  // y = softplus(x):  x̄ = ȳ · softplus'(x) = ȳ · σ(x), taken from the composite x·1(x ≥ 0) + log(1 + e^{-|x|}) by
  // reverse mode through a retrace of it (compositeVjp): the composite's bits, and every higher order its derivative.
  softplus: (g, inputs, _y, p, n) => compositeVjp(softplusOf, g, inputs, p, n),
  // y = σ(x):  x̄ = ȳ · σ(x)(1 − σ(x)), likewise from the composite where(x ≥ 0, 1/(1+z), z/(1+z)), z = e^{-|x|}.
  sigmoid: (g, inputs, _y, p, n) => compositeVjp(sigmoidOf, g, inputs, p, n),
  // z = leakyReluGrad(g, x) = g s(x) + 0, linear in g:  ḡ = z̄ s(x) + 0 (the composite's rule),  x̄ = none (s is
  // piecewise constant: every higher derivative in x is 0 away from x = 0).
  leakyReluGrad: (c, [, x], _y, { slope }, n) => [when(n[0], () => fusedLeakyReluGrad(c, x, slope)), null],
  // [μ; σ²] of x: carries no gradient (never recorded); the primitives that read it differentiate through x.
  batchNormStats: () => [null],
  // y = γ x̂ + β, x̂ = (x - μ)/s, s = √(σ² + ε), μ and σ² the mean and biased variance of the M values of each channel
  // (the statistics input is x's own, so its cotangent is none and x̄ includes the paths through μ and σ²):
  //   β̄ = Σ ȳ,   γ̄ = Σ ȳ x̂,   x̄ = (γ/s) (ȳ - β̄/M - x̂ γ̄/M)
  // A plain gradient (not recorded) takes β̄ as one sum and γ̄, x̄ from the fused backward primitives below, x̄ taking
  // γ̄ and β̄ as inputs. A recorded one (createGraph: an HVP or a mixed term differentiates it again) evaluates
  // their definition, batchNormBackwardComposite, in core ops instead: every later pass then differentiates core
  // ops, where the fused primitives' own rules would retrace their composites in each pass.
  batchNormTrain: (g, [x, stats, gamma], _y, p, n) => {
    if (isGradEnabled()) {
      const c = batchNormBackwardComposite(g, x, gamma, p.eps, { x: n[0], gamma: n[2], beta: n[3] });
      return [c.x, null, c.gamma, c.beta];
    }
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const betaBar = n[0] || n[3] ? sum(g, axes) : null;
    const gammaBar = n[0] || n[2] ? fusedBatchNormGradGamma(g, x, stats, p.eps) : null;
    return [
      when(n[0], () => fusedBatchNormGradInput(g, x, stats, gamma, gammaBar!, betaBar!, p.eps)),
      null,
      n[2] ? gammaBar : null,
      n[3] ? betaBar : null,
    ];
  },
  // γ̄ = batchNormGradGamma(g, x, stats) and x̄ = batchNormGradInput(g, x, stats, γ, γ̄, β̄): the rules of their
  // composites in src/ops/batch-norm.ts (x̂ recomputed from x in core ops), so every derivative of them is exact by
  // construction (batchNormTrain's rule makes them only when not recording, so these run when they are called
  // directly under a transform).
  batchNormGradGamma: (c, inputs, _y, p, n) => compositeVjp(batchNormGradGammaComposite, c, inputs, p, n),
  batchNormGradInput: (c, inputs, _y, p, n) => compositeVjp(batchNormGradInputComposite, c, inputs, p, n),
};
