// What a hypergradient reports besides its value: the seconds (total, approximation, comparison, reference) bounded by the wall clock around the call, the comparison metrics when the reference is zero or an approximation diverges, CG's note on zero curvature, the method parser's refusals and labels, scalar reads of mixed dtypes, power iteration on a zero operator. (From the hypergrad mutation survivors.)
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/core/creation.js';
import { add, mul, sub, sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { compareInverseHvps, hypergradient, type LossFn } from '../../src/hypergrad/hypergradient.js';
import { cgInverseHvp, type LinearOperator } from '../../src/hypergrad/inverse-hvp.js';
import { fixedL2, perLayerL2 } from '../../src/hypergrad/meta-knowledge.js';
import { methodLabel, parseMethod } from '../../src/hypergrad/methods.js';
import { topEigenvalue } from '../../src/hypergrad/power-iteration.js';
import { readScalars, vcosine, vdot, type VectorList } from '../../src/hypergrad/vector-list.js';

const f64 = { dtype: 'float64' as const };
const vec = (xs: number[]): VectorList => [tensor(xs, [xs.length], f64)];
const diag = (d: number[]): LinearOperator => {
  const D = tensor(d, [d.length], f64);
  return (v) => [mul(v[0], D)];
};

describe('seconds reported by a hypergradient', () => {
  // L_T = Σ d_i (w_i - 1)² / 2 + Σ λ_i w_i², L_V = Σ (w_i - 2)²: H = diag(d + 2λ).
  const d = tensor([1, 2, 3, 4], [4], f64);
  const trainLoss: LossFn = (ws, lm) => add(sum(mul(mul(mul(sub(ws[0], 1), sub(ws[0], 1)), d), 0.5)), sum(mul(lm[0], mul(ws[0], ws[0]))));
  const valLoss: LossFn = (ws) => sum(mul(sub(ws[0], 2), sub(ws[0], 2)));
  it('total, approximation and comparison lie between 0 and the wall-clock time of the call; the reference within the comparison', async () => {
    const w = [tensor([0.5, -1, 2, 0], [4], f64)];
    const lam = [tensor([0.1, 0.2, 0.3, 0.4], [4], f64)];
    for (const spec of ['cg:3', 'neumann:5:alpha=0.05', 'identity']) {
      const start = performance.now();
      const r = await hypergradient(trainLoss, valLoss, w, lam, parseMethod(spec), {}, { reference: parseMethod('cg:20'), methods: [parseMethod('neumann:2')] });
      const wall = (performance.now() - start) / 1000;
      const s = r.seconds;
      expect(s.total, spec).toBeGreaterThan(0);
      expect(s.total, spec).toBeLessThanOrEqual(wall);
      expect(s.approximation, spec).toBeGreaterThanOrEqual(0);
      expect(s.approximation, spec).toBeLessThanOrEqual(s.total);
      expect(s.comparison, spec).toBeGreaterThan(0);
      expect(s.total + s.comparison, spec).toBeLessThanOrEqual(wall);
      const c = r.comparisons![0];
      expect(c.referenceSeconds, spec).toBeGreaterThan(0);
      expect(c.referenceSeconds, spec).toBeLessThanOrEqual(s.comparison);
    }
  });
  it('a method needing the dense solver says so when no solver is registered (this file does not import src/linalg)', async () => {
    const w = [tensor([0.5, -1, 2, 0], [4], f64)];
    const lam = [tensor([0.1, 0.2, 0.3, 0.4], [4], f64)];
    await expect(hypergradient(trainLoss, valLoss, w, lam, parseMethod('exact'))).rejects.toThrow('exact hypergradient: no dense solver registered (import src/linalg)');
    await expect(hypergradient(trainLoss, valLoss, w, lam, parseMethod('baseline'))).rejects.toThrow('baseline has no hypergradient');
  });
});

describe('comparison metrics at the edges', () => {
  it('a zero reference gives relative error NaN (not Infinity) and cosine 0, with the reference norm 0', async () => {
    // CG with 0 steps returns x = 0 for any b; identity returns b itself.
    const [c] = await compareInverseHvps(diag([1, 2, 3]), vec([1, -1, 2]), { reference: parseMethod('cg:0'), methods: [parseMethod('identity')] });
    expect(c.referenceNorm).toBe(0);
    expect(c.relativeError).toBeNaN();
    expect(c.cosine).toBe(0);
    expect(c.norm).toBeCloseTo(Math.sqrt(6), 14);
    expect(c.method).toBe('IFT-Identity');
    expect(c.reference).toBe('CG(0)');
  });
  it('an approximation that diverges is a row with cosine NaN, infinite error and norm, and its reason appended to the reference note', async () => {
    // α = 1 on eigenvalues 10 and 20: |1 - αλ| = 9 and 19, the series overflows float64 within ~300 terms.
    const [c] = await compareInverseHvps(diag([10, 20]), vec([1, 1]), { reference: parseMethod('cg:5'), methods: [parseMethod('neumann:400:alpha=1')] });
    expect(c.cosine).toBeNaN();
    expect(c.relativeError).toBe(Infinity);
    expect(c.norm).toBe(Infinity);
    expect(c.referenceNorm).toBeCloseTo(Math.hypot(0.1, 0.05), 12);
    expect(c.referenceNote).toMatch(/^\d+ iterations, returned iterate \d+ .*; neumann: non-finite values at iteration \d+ \(float32 under\/overflow or a diverging series\)$/);
  });
  it('cosine of a zero vector with anything is 0', async () => {
    expect(await vcosine(vec([0, 0]), vec([1, 2]))).toBe(0);
    expect(await vcosine(vec([1, 2]), vec([0, 0]))).toBe(0);
    expect(await vcosine(vec([1, 2]), vec([2, 4]))).toBeCloseTo(1, 15);
  });
});

describe('CG notes zero curvature', () => {
  it('pᵀHp = 0 on the first direction stops CG and is reported as iteration 1', async () => {
    const r = await cgInverseHvp(diag([0, 1]), vec([1, 0]), { steps: 3 });
    expect(r.note).toContain('negative curvature pᵀ(H+ridge)p ≤ 0 at iteration 1');
    expect(r.residuals).toEqual([]);
  });
});

describe('method specs', () => {
  it('refuse bad step counts and empty or unknown options, naming the part', () => {
    expect(() => parseMethod('neumann:-1')).toThrow("method 'neumann:-1': the number of steps must be a non-negative integer (e.g. neumann:3), got '-1'");
    expect(() => parseMethod('neumann:1.5')).toThrow("got '1.5'");
    expect(() => parseMethod('neumann: :alpha=0.1')).toThrow("the number of steps must be a non-negative integer (e.g. neumann:3), got ' '");
    expect(() => parseMethod('cg')).toThrow("method 'cg': the number of steps must be a non-negative integer (e.g. cg:3)");
    expect(() => parseMethod('identity:x')).toThrow("method 'identity:x': identity takes no options, got 'x'");
    expect(() => parseMethod('cg:3:=5')).toThrow("method 'cg:3:=5': unknown option '' (cg accepts ridge=R, warm)");
    expect(() => parseMethod('cg:3:fast')).toThrow("unknown flag 'fast' (cg accepts ridge=R, warm)");
    expect(() => parseMethod('cg:3:ridge= :warm')).toThrow("ridge must be a non-negative number, got ' '");
    expect(() => parseMethod('damped-neumann:3:power= :damping=0.1')).toThrow("power must be a positive integer, got ' '");
    expect(() => parseMethod('damped-neumann:3:power=0')).toThrow("power must be a positive integer, got '0'");
    expect(parseMethod('neumann:0')).toEqual({ kind: 'neumann', steps: 0, alpha: 0.1 });
    expect(parseMethod(' cg:2:warm ')).toEqual({ kind: 'cg', steps: 2, ridge: 0, warmStart: true });
  });
  it('labels every kind with its options', () => {
    expect(methodLabel(parseMethod('exact'))).toBe('Exact');
    expect(methodLabel(parseMethod('exact:damping=0.001'))).toBe('Exact (δ=0.001)');
    expect(methodLabel(parseMethod('cg:3:ridge=0.5:warm'))).toBe('CG(3, ridge=0.5, warm)');
    expect(methodLabel(parseMethod('damped-neumann:4:damping=0.01'))).toBe('Damped Neumann(4, δ=0.01)');
    expect(methodLabel(parseMethod('neumann:2:alpha=0.3'))).toBe('Neumann(2, α=0.3)');
  });
});

describe('meta-knowledge labels and limits', () => {
  const params = [
    { name: 'fc1.weight', layer: 'fc1', value: tensor([1, 2], [2], f64) },
    { name: 'fc1.bias', layer: 'fc1', value: tensor([3], [1], f64) },
  ];
  it('per-layer and per-tensor L2 say which; a fixed weight of 0 is allowed', () => {
    expect(perLayerL2(params, { groupBy: 'layer' }).kind).toBe('per-layer L2');
    expect(perLayerL2(params).kind).toBe('per-tensor L2');
    const zero = fixedL2(params, 0);
    expect(zero.kind).toBe('fixed L2 0');
    expect(zero.penalty(params.map((p) => p.value), [])!.item()).toBe(0);
  });
});

describe('vector-list helpers', () => {
  it('readScalars reads float32 and float64 scalars together, each as its own dtype gives it', async () => {
    const a = tensor([0.1], [], { dtype: 'float32' });
    const b = tensor([0.1], [], f64);
    expect(await readScalars([a, b])).toEqual([Math.fround(0.1), 0.1]);
    expect(await readScalars([b, b, a])).toEqual([0.1, 0.1, Math.fround(0.1)]);
    expect(await readScalars([])).toEqual([]);
    await expect(readScalars([tensor([1, 2], [2], f64)])).rejects.toThrow(/readScalars: tensor .*\[2\]:float64 has 2 elements, expected 1/);
  });
  it('vdot refuses lists of different lengths or sizes', async () => {
    await expect(vdot(vec([1, 2]), [...vec([1, 2]), ...vec([3])])).rejects.toThrow('vdot: vector lists of 1 and 2 tensors');
    await expect(vdot(vec([1, 2]), vec([1, 2, 3]))).rejects.toThrow('vdot: tensor 0 has 2 and 3 elements');
  });
});

describe('power iteration', () => {
  it('a zero operator gives eigenvalue 0 and a finite unit vector after one HVP', async () => {
    let calls = 0;
    const zero: LinearOperator = (v) => (calls++, [mul(v[0], 0)]);
    const r = await topEigenvalue(zero, vec([1, 2, 3]), { iterations: 5, init: vec([3, 0, 4]) });
    expect(r.value).toBe(0);
    expect(r.hvps).toBe(1);
    expect(calls).toBe(1);
    r.vector[0].toArray().forEach((v, i) => expect(v).toBeCloseTo([0.6, 0, 0.8][i], 15));
  });
  it('finds the top eigenvalue from an unnormalised start', async () => {
    const r = await topEigenvalue(diag([1, -5, 2]), vec([1, 1, 1]), { iterations: 200, init: vec([10, 10, 10]) });
    expect(r.value).toBeCloseTo(-5, 10);
  });
});

export type { Tensor };
