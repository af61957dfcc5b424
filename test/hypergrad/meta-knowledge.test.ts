// Meta-knowledge penalties: per-parameter and per-layer L2 values, the frozen form, and their λ-gradients.
import { describe, expect, it } from 'vitest';
import { checkGrads, mul, Random, randn, secondOrderOperator, valueAndGrad, type Tensor } from '../../src/index.js';
import type { MetaKnowledge } from '../../src/hypergrad/meta-knowledge.js';
import { fixedL2, perLayerL2, perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod, methodLabel } from '../../src/hypergrad/methods.js';
import { Adam } from '../../src/optim/index.js';
import { MLP } from '../../src/nn/index.js';

const f64 = { dtype: 'float64' as const };
const softplus = (x: number): number => Math.log1p(Math.exp(x));

describe('L2 meta-knowledge', () => {
  const model = new MLP([3, 4, 2], new Random(1), 'relu', f64);
  const params = model.parameters();
  const w = params.map((p) => p.value);

  it('per-parameter: Σ (softplus(λ) w)², frozen and closed forms equal, second-order checks in (w, λ)', () => {
    const mk = perParameterL2(params);
    const lam = mk.init(new Random(2));
    const want = w.reduce((s, wi, i) => {
      const wa = wi.toArray();
      return s + lam[i].toArray().reduce((t, l, j) => t + (softplus(l) * wa[j]) ** 2, 0);
    }, 0);
    expect(mk.penalty(w, lam)!.item()).toBeCloseTo(want, 12);
    expectDecayMatchesGradient(mk, w, lam);
    expectClosedFormMatchesAutodiff(mk, w, lam);
    checkGrads((xs) => [mk.penalty(xs.slice(0, 4), xs.slice(4))!], [...w, ...lam], { order: 2 });
  });

  it('per-layer: one λ per tensor (or per layer), frozen and closed forms equal', () => {
    for (const groupBy of ['tensor', 'layer'] as const) {
      const mk = perLayerL2(params, { groupBy });
      const lam = mk.init(new Random(3)).map((l) => randn(l.shape, new Random(4), 1, f64));
      expect(lam.length).toBe(groupBy === 'tensor' ? 4 : 2);
      const group = (i: number): number => (groupBy === 'tensor' ? i : Math.floor(i / 2));
      const want = w.reduce((s, wi, i) => s + softplus(lam[group(i)].item()) ** 2 * wi.toArray().reduce((t, v) => t + v * v, 0), 0);
      expect(mk.penalty(w, lam)!.item()).toBeCloseTo(want, 12);
      expectDecayMatchesGradient(mk, w, lam);
      expectClosedFormMatchesAutodiff(mk, w, lam);
    }
  });

  it('λ starts in the parameters\' dtype and backend, N(mean, std²) per group (per-layer init from the mutation survivors)', () => {
    for (const groupBy of ['tensor', 'layer'] as const) {
      const lam = perLayerL2(params, { groupBy, mean: -2, std: 0 }).init(new Random(5));
      for (const l of lam) {
        expect(l.dtype).toBe('float64');
        expect(l.backend).toBe(w[0]!.backend);
        expect(l.shape).toEqual([]);
        expect(l.item()).toBe(-2);
      }
    }
    const p32 = new MLP([3, 2], new Random(1)).parameters();
    expect(perLayerL2(p32).init(new Random(5)).map((l) => l.dtype)).toEqual(['float32', 'float32']);
    expect(perParameterL2(params, { mean: 1, std: 0 }).init(new Random(5)).map((l) => [l.dtype, l.shape.join('x'), l.toArray()[0]]))
      .toEqual(w.map((wi) => ['float64', wi.shape.join('x'), 1]));
  });

  it('the decay coefficients of one λ tensor are computed once and disposed with it', () => {
    const mk = perParameterL2(params);
    const lam = mk.init(new Random(4));
    const c1 = mk.decayCoefficients!(lam)!;
    const c2 = mk.decayCoefficients!(lam)!;
    c1.forEach((c, i) => expect(c2[i]).toBe(c));
    // The closed form of the same λ reuses them: its curvature is c ⊙ v.
    const v = w.map((t) => mul(t, 1));
    mk.closedForm!(w, lam).hvp(v).forEach((h, i) => expect(Array.from(h.toArray())).toEqual(Array.from(mul(c1[i], v[i]).toArray())));
    lam[0].dispose();
    expect(c1[0].isDisposed).toBe(true);
    expect(c1[1].isDisposed).toBe(false);
    lam.slice(1).forEach((l) => l.dispose());
    expect(c1.every((c) => c.isDisposed)).toBe(true);
  });

  it('fixed L2 (grid-searched baseline): (c/2) Σ ||w||², Adam steps with it equal weight_decay = c', () => {
    const c = 0.03;
    const mk = fixedL2(params, c);
    expect(mk.init(new Random(1))).toEqual([]);
    const want = w.reduce((s, wi) => s + (c / 2) * wi.toArray().reduce((t, v) => t + v * v, 0), 0);
    expect(mk.penalty(w, [])!.item()).toBeCloseTo(want, 12);
    expectDecayMatchesGradient(mk, w, []);
    const grads = w.map((wi) => randn(wi.shape, new Random(9), 1, f64));
    const refs = (): { name: string; value: Tensor }[] => params.map((p) => ({ name: p.name, value: p.value }));
    const a = refs();
    const b = refs();
    const withDecay = new Adam(a, { lr: 0.01 });
    const weightDecay = new Adam(b, { lr: 0.01, weightDecay: c });
    for (let k = 0; k < 3; k++) {
      withDecay.elementwiseDecay = mk.decayCoefficients([]);
      withDecay.step(grads);
      weightDecay.step(grads);
    }
    a.forEach((r, i) => expect(r.value.toArray()).toEqual(b[i].value.toArray()));
    expect(() => fixedL2(params, -1)).toThrow(/non-negative/);
  });

  it('parses baseline[:l2=C] and labels it', () => {
    expect(parseMethod('baseline')).toEqual({ kind: 'baseline', l2: 0 });
    expect(parseMethod('baseline:l2=0.001')).toEqual({ kind: 'baseline', l2: 0.001 });
    expect(methodLabel(parseMethod('baseline:l2=0.001'))).toBe('Baseline (L2=0.001)');
    expect(() => parseMethod('baseline:l2=x')).toThrow(/l2 must be a non-negative number/);
  });
});

/** The closed-form HVP and mixed products equal reverse-over-reverse through the penalty graph. */
function expectClosedFormMatchesAutodiff(mk: MetaKnowledge, w: Tensor[], lam: Tensor[]): void {
  const op = secondOrderOperator((ws, ls) => mk.penalty(ws, ls)!, w, lam);
  const cf = mk.closedForm!(w, lam);
  const v = w.map((wi, i) => randn(wi.shape, new Random(40 + i), 1, f64));
  const close = (a: Tensor[], b: Tensor[]): void => {
    expect(a.map((t) => t.shape)).toEqual(b.map((t) => t.shape));
    a.forEach((ai, i) => {
      const want = b[i].toArray();
      ai.toArray().forEach((x, j) => expect(Math.abs(x - want[j])).toBeLessThan(1e-12 * Math.max(1, Math.abs(want[j]))));
    });
  };
  close(cf.hvp(v), op.hvp(v));
  close(cf.mixed(v), op.mixed(v));
}

/** c ⊙ w from decayCoefficients equals the autodiff gradient of the penalty in w. */
function expectDecayMatchesGradient(mk: MetaKnowledge, w: Tensor[], lam: Tensor[]): void {
  const grads = valueAndGrad((ws) => mk.penalty(ws, lam)!)(w).grads;
  const coefs = mk.decayCoefficients(lam)!;
  grads.forEach((g, i) => {
    const cw = mul(coefs[i], w[i]).toArray();
    g.toArray().forEach((v, j) => expect(cw[j]).toBeCloseTo(v, 12));
  });
}

describe('L2 meta-knowledge initialisation', () => {
  const params = new MLP([3, 2], new Random(0)).parameters();
  it('refuses a negative or non-finite std and a non-finite mean', () => {
    expect(perParameterL2(params, { std: 0 }).init(new Random(1))[0].toArray().every((v) => v === -3)).toBe(true);
    expect(() => perParameterL2(params, { std: -1 })).toThrow('perParameterL2: std must be a finite number >= 0, got -1');
    expect(() => perParameterL2(params, { mean: Infinity })).toThrow('perParameterL2: mean must be a finite number, got Infinity');
    expect(() => perLayerL2(params, { std: NaN })).toThrow('perLayerL2: std must be a finite number >= 0, got NaN');
  });
});
