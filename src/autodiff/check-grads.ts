// Derivative checks in the manner of JAX's check_grads: central differences, the vjp/jvp inner-product identity, recursion for order 2.

import { randn } from '../core/creation.js';
import { add, mul, sub } from '../core/ops.js';
import { noGrad, Tensor } from '../core/tensor.js';
import { Random } from '../util/random.js';
import { jvp, vjp } from './transforms.js';

export type MultiFn = (xs: Tensor[]) => Tensor[];

export interface CheckGradsOptions {
  /** 1: first derivatives; 2: also the derivatives of the jvp and vjp (second order). */
  order?: 1 | 2;
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
  /** Modes to check: forward (jvp against differences), reverse (vjp against jvp by inner product). */
  modes?: ('fwd' | 'rev')[];
}

export class GradCheckError extends Error {}

function flat(ts: readonly Tensor[]): number[] {
  return ts.flatMap((t) => Array.from(t.dataSync()));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function norm(a: readonly number[]): number {
  return Math.sqrt(dot(a, a));
}

function assertClose(what: string, got: readonly number[], want: readonly number[], rtol: number, atol: number): void {
  if (got.length !== want.length) throw new GradCheckError(`${what}: length ${got.length} vs ${want.length}`);
  const diff = got.map((g, i) => g - want[i]);
  const err = norm(diff);
  const bad = got.findIndex((g) => !Number.isFinite(g));
  if (bad >= 0) throw new GradCheckError(`${what}: non-finite value ${got[bad]} at ${bad}`);
  // A non-finite reference (the function is not finite around the point) cannot confirm anything: NaN compares false.
  const badRef = want.findIndex((w) => !Number.isFinite(w));
  if (badRef >= 0) throw new GradCheckError(`${what}: non-finite reference value ${want[badRef]} at ${badRef}`);
  if (!(err <= atol + rtol * norm(want))) {
    throw new GradCheckError(`${what}: |got - want| = ${err.toExponential(3)} exceeds ${atol} + ${rtol}·|want| (|want| = ${norm(want).toExponential(3)}); got[0..4]=${got.slice(0, 4).map((v) => v.toPrecision(6))} want[0..4]=${want.slice(0, 4).map((v) => v.toPrecision(6))}`);
  }
}

function randomLike(ts: readonly Tensor[], rng: Random): Tensor[] {
  return ts.map((t) => randn(t.shape, rng, 1, { dtype: t.dtype, backend: t.backend }));
}

/** Central difference of f along t: (f(x + εt) - f(x - εt)) / 2ε. */
function numericalJvp(f: MultiFn, xs: Tensor[], ts: Tensor[], eps: number): number[] {
  return noGrad(() => {
    const plus = f(xs.map((x, i) => add(x, mul(ts[i], eps))));
    const minus = f(xs.map((x, i) => sub(x, mul(ts[i], eps))));
    const p = flat(plus);
    const m = flat(minus);
    return p.map((v, i) => (v - m[i]) / (2 * eps));
  });
}

/**
 * Checks the derivatives of f at xs. Throws GradCheckError with the failing quantity.
 * order 2 recurses on x ↦ jvp(f, x, t) and x ↦ vjp(f, x)(u) for fixed random t, u.
 */
export function checkGrads(f: MultiFn, xs: Tensor[], opts: CheckGradsOptions = {}): void {
  const order = opts.order ?? 1;
  const eps = opts.eps ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-7;
  const modes = opts.modes ?? ['fwd', 'rev'];
  const rng = new Random(opts.seed ?? 0);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new Error(`checkGrads: eps must be a finite number > 0, got ${eps}`);
  const ts = randomLike(xs, rng);
  const outs = noGrad(() => f(xs));
  if (!Array.isArray(outs)) throw new Error(`checkGrads: f must return an array of tensors, got ${(outs as unknown) instanceof Tensor ? 'one tensor (return [y])' : typeof outs}`);
  const us = randomLike(outs, rng);

  const exact = jvp(f, xs, ts).tangents;
  if (modes.includes('fwd')) {
    assertClose(`jvp vs central difference (order ${order})`, flat(exact), numericalJvp(f, xs, ts, eps), rtol, atol);
  }
  if (modes.includes('rev')) {
    // <u, J t> must equal <Jᵀ u, t>.
    const pulled = vjp(f, xs).pullback(us);
    const lhs = dot(flat(us), flat(exact));
    const rhs = dot(flat(pulled), flat(ts));
    assertClose(`vjp inner-product identity (order ${order})`, [rhs], [lhs], rtol, atol);
    assertClose(`vjp vs central difference of <u, f> (order ${order})`, [rhs], [dot(flat(us), numericalJvp(f, xs, ts, eps))], rtol, atol);
  }
  if (order === 2) {
    const next = { ...opts, order: 1 as const, seed: (opts.seed ?? 0) + 1 };
    checkGrads((x) => jvp(f, x, ts).tangents, xs, next);
    checkGrads((x) => vjp(f, x).pullback(us), xs, next);
  }
}
