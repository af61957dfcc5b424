// Functional transforms: grad, valueAndGrad, vjp, jvp, hvp and the mixed second derivative; all compose.

import { full, zerosLike } from '../core/creation.js';
import { add, mul, sum } from '../core/ops.js';
import { isGradEnabled, Tensor, withGradMode } from '../core/tensor.js';
import { backward, backwardOrNull } from './backward.js';

let transformDepth = 0;

/** A fresh differentiable variable sharing x's storage; linked to x when x is itself traced. */
export function variable(x: Tensor): Tensor {
  const v = new Tensor(x.backend, x.buffer, x.shape, x.dtype);
  v.requiresGrad = true;
  v.label = x.label;
  if (x.requiresGrad && transformDepth > 1) v.node = { name: 'variable', inputs: [x], vjp: (g) => [g] };
  return v;
}

/** Whether results computed now may be differentiated again by an enclosing transform. */
function nestedGraph(): boolean {
  return transformDepth > 0 && isGradEnabled();
}

/** Runs fn with recording on (even under an outer noGrad), as one more level of nesting. */
function traced<T>(fn: () => T): T {
  transformDepth++;
  try {
    return withGradMode(true, fn);
  } finally {
    transformDepth--;
  }
}

function checkScalar(name: string, y: Tensor): void {
  if (y.size !== 1) throw new Error(`${name}: the function must return a scalar, got ${y.describe()}`);
}

export type ScalarFn = (xs: Tensor[]) => Tensor;

/** Value and gradient of a scalar function of several tensors. */
export function valueAndGrad(f: ScalarFn): (xs: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  const vg = valueAndGradOrNull(f);
  return (xs) => {
    const { value, grads } = vg(xs);
    return { value, grads: grads.map((g, i) => g ?? zerosLike(xs[i]!)) };
  };
}

/** valueAndGrad with null gradients for the inputs f does not depend on (no zero tensors made for them). */
export function valueAndGradOrNull(f: ScalarFn): (xs: Tensor[]) => { value: Tensor; grads: (Tensor | null)[] } {
  return (xs) => {
    const nested = nestedGraph();
    const { y, vars } = traced(() => {
      const vars = xs.map(variable);
      return { y: f(vars), vars };
    });
    checkScalar('grad', y);
    return { value: y, grads: backwardOrNull([y], [onesLike(y)], vars, { createGraph: nested }) };
  };
}

export function grad(f: ScalarFn): (xs: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (xs) => vg(xs).grads;
}

/** Outputs of f and a function pulling output cotangents back to the inputs. */
export function vjp(
  f: (xs: Tensor[]) => Tensor[],
  xs: Tensor[],
): { outputs: Tensor[]; pullback: (cts: Tensor[]) => Tensor[] } {
  const nested = nestedGraph();
  const { vars, outputs } = traced(() => {
    const vars = xs.map(variable);
    return { vars, outputs: f(vars) };
  });
  return { outputs, pullback: (cts) => backward(outputs, cts, vars, { createGraph: nested }) };
}

/**
 * Forward-mode product J t, by transposing the (linear) pullback: J t = d/du <Jᵀu, t>.
 * Exact and composable with every other transform.
 */
export function jvp(f: (xs: Tensor[]) => Tensor[], xs: Tensor[], tangents: Tensor[]): { outputs: Tensor[]; tangents: Tensor[] } {
  if (tangents.length !== xs.length) throw new Error(`jvp: ${xs.length} primals but ${tangents.length} tangents`);
  const nested = nestedGraph();
  const { outputs, us, pulled } = traced(() => {
    const vars = xs.map(variable);
    const outputs = f(vars);
    const us = outputs.map((o) => variable(zerosLike(o)));
    const pulled = backward(outputs, us, vars, { createGraph: true });
    return { outputs, us, pulled };
  });
  const linked = pulled.map((p, i) => ({ p, t: tangents[i] })).filter(({ p }) => p.requiresGrad);
  const out = linked.length === 0
    ? outputs.map(zerosLike)
    : backward(linked.map((l) => l.p), linked.map((l) => l.t), us, { createGraph: nested });
  return { outputs, tangents: out };
}

export interface SecondOrderResult {
  value: Tensor;
  /** ∂f/∂w */
  grad: Tensor[];
  /** H v with H = ∂²f/∂w∂wᵀ */
  hvp: Tensor[];
  /** vᵀ ∂²f/∂w∂λ, shaped like λ */
  mixed: Tensor[];
}

/**
 * One reverse-over-reverse pass for f(w, λ): the gradient in w, the Hessian-vector product H v
 * and the mixed term vᵀ ∂²f/∂w∂λ together (both are the gradient of <∇_w f, v>).
 */
export function hvpAndMixed(f: (w: Tensor[], lam: Tensor[]) => Tensor, w: Tensor[], lam: Tensor[], v: Tensor[]): SecondOrderResult {
  const op = secondOrderOperator(f, w, lam);
  return { value: op.value, grad: op.grad, ...op.hvpAndMixed(v) };
}

/** Hessian-vector product of a scalar function. */
export function hvp(f: ScalarFn, xs: Tensor[], vs: Tensor[]): Tensor[] {
  return hvpAndMixed((w) => f(w), xs, [], vs).hvp;
}

/** Σ_i <a_i, b_i> as a scalar tensor. */
export function innerProduct(a: readonly Tensor[], b: readonly Tensor[]): Tensor {
  let acc: Tensor | null = null;
  a.forEach((ai, i) => {
    const term = sum(mul(ai, b[i]));
    acc = acc === null ? term : add(acc, term);
  });
  if (acc === null) throw new Error('innerProduct: empty lists');
  return acc;
}

function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend });
}

/** Gradient of f(w, λ) in w, kept with its graph so that H v and vᵀ∂²f/∂w∂λ cost one reverse pass each. */
export interface SecondOrderOperator {
  value: Tensor;
  grad: Tensor[];
  /** H v */
  hvp(v: Tensor[]): Tensor[];
  /** vᵀ ∂²f/∂w∂λ */
  mixed(v: Tensor[]): Tensor[];
  /** Both, in one reverse pass. */
  hvpAndMixed(v: Tensor[]): { hvp: Tensor[]; mixed: Tensor[] };
}

/**
 * Records f and ∇_w f once; every later HVP or mixed product reuses that graph (Neumann and CG
 * apply the operator many times at the same point, so the forward pass is not repeated).
 */
export function secondOrderOperator(f: (w: Tensor[], lam: Tensor[]) => Tensor, w: Tensor[], lam: Tensor[]): SecondOrderOperator {
  // Inside an enclosing transform the products stay differentiable (e.g. grad of an HVP).
  const nested = nestedGraph();
  const { value, g, wv, lv } = traced(() => {
    const wv = w.map(variable);
    const lv = lam.map(variable);
    const value = f(wv, lv);
    checkScalar('hvp', value);
    const g = backward([value], [onesLike(value)], wv, { createGraph: true });
    return { value, g, wv, lv };
  });
  const pass = (v: Tensor[], targets: Tensor[]): Tensor[] => {
    if (v.length !== w.length) throw new Error(`hvp: ${w.length} weight tensors but ${v.length} direction tensors`);
    const linked = g.map((gi, i) => ({ gi, vi: v[i] })).filter(({ gi }) => gi.requiresGrad);
    if (linked.length === 0) return targets.map(zerosLike);
    return backward(linked.map((l) => l.gi), linked.map((l) => l.vi), targets, { createGraph: nested });
  };
  return {
    value,
    grad: nested ? g : g.map(detachCopy),
    hvp: (v) => pass(v, wv),
    mixed: (v) => pass(v, lv),
    hvpAndMixed: (v) => {
      const r = pass(v, [...wv, ...lv]);
      return { hvp: r.slice(0, w.length), mixed: r.slice(w.length) };
    },
  };
}

function detachCopy(t: Tensor): Tensor {
  return t.requiresGrad ? new Tensor(t.backend, t.buffer, t.shape, t.dtype) : t;
}
