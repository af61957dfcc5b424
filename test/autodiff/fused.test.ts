// The fused primitives (relu, leaky relu, softplus, sigmoid, batch norm) against their reference composites: values and statistics bit for bit, gradients and HVPs to 1e-12 in float64, and first- and second-order derivative checks through them.
import { describe, expect, it } from 'vitest';
import type { Backend, KernelCall } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { withBackend } from '../../src/backend/registry.js';
import { checkGrads } from '../../src/autodiff/check-grads.js';
import { hvpAndMixed, valueAndGrad, vjp } from '../../src/autodiff/transforms.js';
import { oneHot, tensor } from '../../src/core/creation.js';
import type { DType } from '../../src/core/dtype.js';
import { fusedBatchNormGradGamma, fusedBatchNormGradInput, fusedBatchNormStats } from '../../src/core/fused-ops.js';
import { add, mul, sub, sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { functionalCall } from '../../src/nn/module.js';
import { leakyRelu, relu, sigmoid, softplus } from '../../src/ops/activations.js';
import { batchNorm, batchNormGradGammaComposite, batchNormGradInputComposite } from '../../src/ops/batch-norm.js';
import { crossEntropyPerSample } from '../../src/ops/losses.js';
import { Random } from '../../src/util/random.js';
import { TinyCnn } from '../nn/tiny-cnn.js';

/** The CPU backend with the fused kernels (the default) and one whose ops compute the composites, as WebGPU does. */
const fusedBe = new CpuBackend();
const compositeBe = new CpuBackend({ fusedKernels: false });

/** Runs fn on both backends (fresh inputs made inside fn are the same seeded values on each). */
function both<T>(fn: (be: Backend) => T): { fused: T; composite: T } {
  return { fused: withBackend(fusedBe, () => fn(fusedBe)), composite: withBackend(compositeBe, () => fn(compositeBe)) };
}

/** Seeded normal values. */
function normals(n: number, seed: number, scale = 1, shift = 0): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => shift + scale * rng.normal());
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const arr = (t: Tensor): number[] => Array.from(t.dataSync());
const arrs = (ts: readonly Tensor[]): number[] => ts.flatMap(arr);

/** max |a - b| / (|b| + floor): relative per element with an absolute floor. */
function worstRel(a: readonly number[], b: readonly number[], floor: number): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  a.forEach((v, i) => {
    w = Math.max(w, Math.abs(v - b[i]) / (Math.abs(b[i]) + floor));
  });
  return w;
}

/** The primitives a backend runs while fn runs. */
function primsRun(be: CpuBackend, fn: () => void): Set<string> {
  const seen = new Set<string>();
  const run = be.run.bind(be);
  be.run = (call: KernelCall, ins, out) => {
    seen.add(call.prim);
    run(call, ins, out);
  };
  try {
    withBackend(be, fn);
  } finally {
    be.run = run;
  }
  return seen;
}

describe('relu: the fused primitive is the composite mul(x, x > 0) bit for bit', () => {
  const special = [-2, -0, 0, 1e-30, -1e-30, 3, NaN, Infinity, -Infinity, 5e-324];
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it(`${dtype}: values, gradient (relu'(0) = 0) and second-order terms, including -0, NaN and ±∞`, () => {
      const xs = [...special, ...normals(40, 1)];
      const w = normals(xs.length, 2);
      const r = both(() => {
        const x = tensor(xs, [xs.length], { dtype });
        const wt = tensor(w, [w.length], { dtype });
        const y = relu(x);
        const { grads } = valueAndGrad(([v]) => sum(mul(relu(v), wt)))([x]);
        // d/dx <relu'(x) ⊙ u, w> with u = x: the reluGrad primitive's own rule (second order, zero almost everywhere).
        const second = valueAndGrad(([v]) => sum(mul(vjp(([q]) => [relu(q)], [v]).pullback([mul(v, v)])[0], wt)))([x]).grads;
        return { y: arr(y), g: arr(grads[0]), h: arr(second[0]) };
      });
      expect(r.fused.y).toStrictEqual(r.composite.y);
      expect(r.fused.g).toStrictEqual(r.composite.g);
      expect(r.fused.h).toStrictEqual(r.composite.h);
      expect(r.fused.g.slice(1, 3).map(Math.abs)).toStrictEqual([0, 0]); // relu'(±0) = 0 (w·0), as the composite's mask [x > 0]
      expect(Object.is(r.fused.y[0], -0)).toBe(true); // x·0 for x < 0, as the composite
    });
  }

  it('the fused kernels run where the backend has them, and only there', () => {
    const f = (): void => {
      const x = tensor(normals(8, 3), [8]);
      valueAndGrad(([v]) => sum(mul(relu(v), v)))([x]);
    };
    expect([...primsRun(fusedBe, f)].filter((p) => p.startsWith('relu')).sort()).toEqual(['relu', 'reluGrad']);
    const seen = primsRun(compositeBe, f);
    expect(seen.has('relu') || seen.has('reluGrad')).toBe(false);
    expect(seen.has('compare')).toBe(true);
  });
});

describe('softplus and sigmoid: the fused primitives are their composites bit for bit (Wasm on the heap, JS on plain arrays)', () => {
  const special = [-2, -0, 0, 1e-30, -1e-30, 3, NaN, Infinity, -Infinity, 5e-324, -5e-324, 20, -20, 88, -88, 89, -104, 710, -746, 1e-8];
  const plainFused = new CpuBackend({ heap: false });
  const fusedOn = { 'heap (Wasm)': fusedBe, 'plain arrays (JS)': plainFused } as const;
  for (const [name, op] of [['softplus', softplus], ['sigmoid', sigmoid]] as const) {
    for (const dtype of ['float32', 'float64'] as DType[]) {
      for (const n of [7, 51, 1003]) {
        it(`${name}, ${dtype}, ${n} values: values, gradient and second-order terms on both fused paths`, () => {
          const xs = [...special, ...normals(Math.max(0, n - special.length), 8, 4)].slice(0, n);
          const w = normals(n, 9);
          const run = (be: Backend) => withBackend(be, () => {
            const x = tensor(xs, [n], { dtype });
            const wt = tensor(w, [n], { dtype });
            const g = vjp(([v]) => [op(v)], [x]).pullback([wt])[0];
            const second = valueAndGrad(([v]) => sum(mul(vjp(([q]) => [op(q)], [v]).pullback([mul(v, v)])[0], wt)))([x]).grads;
            return { y: arr(op(x)), g: arr(g), h: arr(second[0]) };
          });
          const ref = run(compositeBe);
          for (const [where, be] of Object.entries(fusedOn)) {
            const got = run(be);
            expect(got.y, `${where} values`).toStrictEqual(ref.y);
            expect(got.g, `${where} gradient`).toStrictEqual(ref.g);
            expect(got.h, `${where} second order`).toStrictEqual(ref.h);
          }
          // Hand-checked: softplus(0) = ln 2, σ(0) = ½, softplus'(0) = σ(0) = ½; large |x| saturates without overflow.
          const at = (v: number) => xs.indexOf(v);
          const round = dtype === 'float32' ? Math.fround : (v: number) => v;
          if (n < special.length) return;
          if (name === 'softplus') {
            expect(ref.y[at(0)]).toBe(round(Math.LN2));
            expect(ref.y[at(88)]).toBe(round(88));
            expect(ref.g[at(0)]).toBe(round(round(w[at(0)]) * 0.5));
          } else {
            expect(ref.y[at(0)]).toBe(0.5);
            expect(ref.y[at(-746)]).toBe(0);
            expect(ref.y[at(710)]).toBe(1);
          }
        });
      }
    }
  }

  it('the fused kernels run where the backend has them, and only there', () => {
    const f = () => {
      const x = tensor(normals(40, 3), [40], { dtype: 'float64' });
      valueAndGrad(([v]) => sum(mul(softplus(v), sigmoid(v))))([x]);
    };
    expect([...primsRun(fusedBe, f)].filter((p) => p === 'softplus' || p === 'sigmoid').sort()).toEqual(['sigmoid', 'softplus']);
    const seen = primsRun(compositeBe, f);
    expect(seen.has('softplus') || seen.has('sigmoid')).toBe(false);
  });
});

describe('leaky relu: the fused primitive is the composite where(x > 0, x, x · slope) bit for bit', () => {
  const special = [-2, -0, 0, 1e-30, -1e-30, 3, NaN, Infinity, -Infinity, 5e-324, -5e-324];
  for (const dtype of ['float32', 'float64'] as DType[]) {
    for (const slope of [0.1, 0.01, 0.2, -0.5]) {
      it(`${dtype}, slope ${slope}: values, gradient and second-order terms, including -0, NaN, ±∞ and subnormals`, () => {
        const xs = [...special, ...normals(40, 5)];
        const w = [...normals(xs.length - 3, 6), -0, 0, NaN];
        const r = both(() => {
          const x = tensor(xs, [xs.length], { dtype });
          const wt = tensor(w, [w.length], { dtype });
          const y = leakyRelu(x, slope);
          // The cotangent w holds -0, +0 and NaN: the fused backward must give the composite's +0 for -0 (its sum of two branches).
          const g = vjp(([v]) => [leakyRelu(v, slope)], [x]).pullback([wt])[0];
          // d/dx <leakyRelu'(x) ⊙ u, w> with u = x·x: the leakyReluGrad primitive's own rule.
          const second = valueAndGrad(([v]) => sum(mul(vjp(([q]) => [leakyRelu(q, slope)], [v]).pullback([mul(v, v)])[0], wt)))([x]).grads;
          return { y: arr(y), g: arr(g), h: arr(second[0]) };
        });
        expect(r.fused.y).toStrictEqual(r.composite.y);
        expect(r.fused.h).toStrictEqual(r.composite.h);
        if (slope >= 0) expect(r.fused.g).toStrictEqual(r.composite.g);
        // A negative slope: the composite's first-order sum adds 0·slope = -0 where x > 0, so a zero may differ in sign.
        else expect(r.fused.g.map((v) => v + 0)).toStrictEqual(r.composite.g.map((v) => v + 0));
        // The derivative is 1 above 0 and the slope at and below 0 (x as stored: 5e-324 is 0 in float32).
        const round = dtype === 'float32' ? Math.fround : (v: number) => v;
        xs.forEach((v, i) => {
          if (!Number.isFinite(v) || !Number.isFinite(w[i])) return;
          expect(r.fused.g[i]).toBe(round(v) > 0 ? round(w[i]) + 0 : round(round(w[i]) * round(slope)) + 0);
        });
      });
    }
  }

  it('first and second derivatives by finite differences away from 0; the kernels run only where the backend has them; a non-finite slope is refused', () => {
    const xs = normals(12, 7).map((v) => (Math.abs(v) < 0.05 ? v + 0.2 : v));
    withBackend(fusedBe, () => {
      const x = tensor(xs, [xs.length], { dtype: 'float64' });
      const w = tensor(normals(xs.length, 8), [xs.length], { dtype: 'float64' });
      // Second order through leakyReluGrad: f = <leakyRelu(x)², w> has f'' = 2 s(x)² w ≠ 0.
      checkGrads(([v]) => [sum(mul(mul(leakyRelu(v, 0.1), leakyRelu(v, 0.1)), w))], [x], { order: 2 });
    });
    const f = (): void => {
      const x = tensor(normals(8, 3), [8]);
      valueAndGrad(([v]) => sum(mul(leakyRelu(v, 0.1), v)))([x]);
    };
    expect([...primsRun(fusedBe, f)].filter((p) => p.startsWith('leaky')).sort()).toEqual(['leakyRelu', 'leakyReluGrad']);
    const seen = primsRun(compositeBe, f);
    expect(seen.has('leakyRelu') || seen.has('leakyReluGrad')).toBe(false);
    expect(seen.has('where')).toBe(true);
    expect(() => withBackend(fusedBe, () => leakyRelu(tensor([1], [1]), NaN))).toThrow('leakyRelu: the slope must be a finite number, got NaN');
  });
});

const SHAPES: number[][] = [[4, 3, 5, 6], [2, 5, 3, 1], [7, 4], [3, 1, 4, 4], [6, 1], [1, 3, 2, 2], [4, 3, 5]];
const EPS = 1e-5;

/** x, γ, β for a shape: x off-centre and scaled per seed, γ around 1. */
function bnInputs(s: readonly number[], seed: number, dtype: DType): { x: Tensor; gamma: Tensor; beta: Tensor } {
  return {
    x: tensor(normals(prod(s), seed, 2, 3), s, { dtype }),
    gamma: tensor(normals(s[1], seed + 1, 0.5, 1), [s[1]], { dtype }),
    beta: tensor(normals(s[1], seed + 2), [s[1]], { dtype }),
  };
}

describe('batch norm: the fused primitives against the composite', () => {
  for (const dtype of ['float32', 'float64'] as DType[]) {
    it.each(SHAPES.map((s) => [s.join('x'), s]))(`${dtype} %s: statistics, outputs and β̄ bit for bit, γ̄ and x̄ to rounding`, (_n, s) => {
      const u = normals(prod(s as number[]), 9);
      const r = both(() => {
        const { x, gamma, beta } = bnInputs(s as number[], 5, dtype);
        const { outputs, pullback } = vjp(([a, g, b]) => {
          const o = batchNorm(a, g, b, EPS);
          return [o.y, o.mean, o.variance];
        }, [x, gamma, beta]);
        const cts = pullback([tensor(u, s as number[], { dtype }), tensor(new Array(s[1]).fill(0), [s[1]], { dtype }), tensor(new Array(s[1]).fill(0), [s[1]], { dtype })]);
        return { outs: outputs.map(arr), cts: cts.map(arr) };
      });
      expect(r.fused.outs).toStrictEqual(r.composite.outs);
      expect(r.fused.cts[2]).toStrictEqual(r.composite.cts[2]);
      // γ̄ = Σ ȳ x̂ against its terms' scale √M (float32: the composite rounds each product); x̄ sums to ~0 per channel:
      // against its terms' scale |γ/s| |ȳ| ~ 1.
      const tol = dtype === 'float64' ? 1e-12 : 1e-5;
      const m = prod(s as number[]) / (s as number[])[1];
      expect(worstRel(r.fused.cts[1], r.composite.cts[1], Math.sqrt(m))).toBeLessThan(tol);
      expect(worstRel(r.fused.cts[0], r.composite.cts[0], 1)).toBeLessThan(tol);
    });
  }

  it('the statistics primitive is the composite mean and variance bit for bit in float32, under an offset', () => {
    const s = [8, 3, 7, 7];
    const r = both(() => {
      const x = tensor(normals(prod(s), 17, 0.01, 1000), s);
      const o = batchNorm(x, tensor([1, 1, 1], [3]), tensor([0, 0, 0], [3]), EPS);
      return [arr(o.mean), arr(o.variance), arr(o.y)];
    });
    expect(r.fused).toStrictEqual(r.composite);
  });

  it('one channel in float64: the statistics sum the whole batch as one run, as the composite\'s collapsed walk does', () => {
    // Wide-ranging values, so that another summation order (per image) would round differently.
    const s = [16, 1, 9, 7];
    const r = both(() => {
      const x = tensor(normals(prod(s), 23).map((v, i) => v * 10 ** ((i % 13) - 6)), s, { dtype: 'float64' });
      const o = batchNorm(x, tensor([1], [1], { dtype: 'float64' }), tensor([0], [1], { dtype: 'float64' }), EPS);
      return [arr(o.mean), arr(o.variance)];
    });
    expect(r.fused).toStrictEqual(r.composite);
  });

  it('first- and second-order derivative checks (central differences, inner products) through the fused batch norm, float64', () => {
    for (const s of [[4, 3, 5], [5, 2], [3, 1, 2, 2]]) {
      withBackend(fusedBe, () => {
        const c = tensor(normals(prod(s), 21), s, { dtype: 'float64' });
        const { x, gamma, beta } = bnInputs(s, 11, 'float64');
        checkGrads(([a, g, b]) => [mul(batchNorm(a, g, b, EPS).y, c)], [x, gamma, beta], { order: 2, eps: 1e-5, rtol: 1e-6, atol: 1e-8 });
      });
    }
  });

  it('the backward primitives (used by plain gradients) pass first- and second-order checks through their composite-derived rules, float64', () => {
    withBackend(fusedBe, () => {
      const s = [3, 2, 4];
      const f64 = { dtype: 'float64' as const };
      const { x, gamma } = bnInputs(s, 13, 'float64');
      const g = tensor(normals(prod(s), 14), s, f64);
      const gb = tensor(normals(2, 15), [2], f64);
      const bb = tensor(normals(2, 16), [2], f64);
      const opts = { order: 2 as const, eps: 1e-5, rtol: 1e-6, atol: 1e-8 };
      checkGrads(([q, v]) => [fusedBatchNormGradGamma(q, v, fusedBatchNormStats(v), EPS)], [g, x], opts);
      checkGrads(([q, v, k, a, b]) => [fusedBatchNormGradInput(q, v, fusedBatchNormStats(v), k, a, b, EPS)], [g, x, gamma, gb, bb], opts);
      // Their values are their composites'.
      const st = fusedBatchNormStats(x);
      const close = (a: Tensor, b: Tensor): void => expect(worstRel(arr(a), arr(b), Math.max(...arr(b).map(Math.abs)))).toBeLessThan(1e-13);
      close(fusedBatchNormGradGamma(g, x, st, EPS), batchNormGradGammaComposite([g, x, st], { eps: EPS }));
      close(fusedBatchNormGradInput(g, x, st, gamma, gb, bb, EPS), batchNormGradInputComposite([g, x, st, gamma, gb, bb], { eps: EPS }));
    });
  });

  it('bad inputs are named', () => {
    withBackend(fusedBe, () => {
      const x = tensor(normals(24, 1), [2, 3, 4]);
      expect(() => batchNorm(x, tensor([1, 1], [2]), tensor([0, 0, 0], [3]), EPS)).toThrow(/batchNorm: per-channel tensor .*\[2\]:float32 does not match the 3 channels of .*\[2, 3, 4\]/);
      expect(() => fusedBatchNormStats(tensor([1, 2, 3], [3]))).toThrow(/batchNormStats: expects \[N, C, \.\.\.\] input/);
    });
  });
});

/**
 * A meta-learning-shaped loss of the TinyCnn in float64: per-sample cross-entropies weighted by σ(λ_i) (as the
 * Confidence Network weights pseudo-labelled samples) on inputs scaled by 1 + λ_s·p for a fixed pattern p (a plain
 * scale would cancel in the batch norm), so that vᵀ ∂²L/∂θ∂λ goes through the batch norms' backward in g (the
 * weights) and in x (the inputs).
 */
function metaProblem(seed: number) {
  const n = 6;
  const model = new TinyCnn(new Random(seed), { dtype: 'float64' }, [3, 4]);
  const f64 = { dtype: 'float64' as const };
  const x = tensor(normals(n * 64, seed + 1), [n, 1, 8, 8], f64);
  const t = oneHot([0, 1, 2, 0, 1, 2], 3, f64);
  const w = model.parameters().map((p) => p.value);
  const lam = [tensor(normals(n, seed + 2), [n], f64), tensor([0.1], [1], f64)];
  const pattern = tensor(normals(64, seed + 4), [1, 1, 8, 8], f64);
  const rng = new Random(seed + 3);
  const v = w.map((wi) => tensor(Array.from({ length: wi.size }, () => rng.normal()), wi.shape, f64));
  const loss = (ws: Tensor[], ls: Tensor[]): Tensor => functionalCall(model, ws, () => {
    const logits = model.forward(mul(x, add(mul(pattern, ls[1]), 1)), { training: true, updateStats: false });
    return sum(mul(crossEntropyPerSample(logits, t), sigmoid(ls[0])));
  });
  return { model, w, lam, v, loss };
}

describe('a CNN with batch norm and ReLU: gradients, HVPs and mixed terms', () => {
  it('fused and composite agree to 1e-12 in float64 (value, gradient, H v, vᵀ ∂²L/∂θ∂λ)', () => {
    const r = both(() => {
      const p = metaProblem(1);
      const o = hvpAndMixed(p.loss, p.w, p.lam, p.v);
      return { value: arr(o.value), grad: arrs(o.grad), hvp: arrs(o.hvp), mixed: arrs(o.mixed) };
    });
    expect(r.fused.value[0]).toBeCloseTo(r.composite.value[0], 13);
    for (const k of ['grad', 'hvp', 'mixed'] as const) {
      const scale = Math.max(...r.composite[k].map(Math.abs));
      expect(worstRel(r.fused[k], r.composite[k], scale), k).toBeLessThan(1e-12);
    }
  });

  it('the fused H v and mixed term equal central differences of the gradient (float64)', () => {
    withBackend(fusedBe, () => {
      const p = metaProblem(3);
      const { hvp, mixed } = hvpAndMixed(p.loss, p.w, p.lam, p.v);
      const gradW = (ws: Tensor[], ls: Tensor[]): number[] => arrs(valueAndGrad((q) => p.loss(q, ls))(ws).grads);
      // A small step: a ReLU or max-pool kink within ±h v would spoil the difference (seed 2 has one at h = 1e-5).
      const h = 1e-6;
      const gp = gradW(p.w.map((wi, i) => add(wi, mul(p.v[i], h))), p.lam);
      const gm = gradW(p.w.map((wi, i) => sub(wi, mul(p.v[i], h))), p.lam);
      const fd = gp.map((a, i) => (a - gm[i]) / (2 * h));
      const scale = Math.max(...fd.map(Math.abs));
      expect(worstRel(arrs(hvp), fd, scale)).toBeLessThan(1e-6);
      // <mixed, dλ> = d/dε <∇_θ L(θ, λ + ε dλ), v>
      const dl = p.lam.map((l, i) => tensor(normals(l.size, 40 + i), l.shape, { dtype: 'float64' }));
      const vf = arrs(p.v);
      const phi = (ls: Tensor[]): number => gradW(p.w, ls).reduce((s, g, i) => s + g * vf[i], 0);
      const fdMixed = (phi(p.lam.map((l, i) => add(l, mul(dl[i], h)))) - phi(p.lam.map((l, i) => sub(l, mul(dl[i], h))))) / (2 * h);
      const exact = arrs(mixed).reduce((s, m, i) => s + m * arrs(dl)[i], 0);
      expect(Math.abs(exact - fdMixed)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fdMixed)));
    });
  });

  it('second-order derivative checks of the network output in its input and first conv weight (float64)', () => {
    withBackend(fusedBe, () => {
      const model = new TinyCnn(new Random(4), { dtype: 'float64' }, [3, 4]);
      const x = tensor(normals(4 * 64, 5), [4, 1, 8, 8], { dtype: 'float64' });
      const w1 = model.conv1.weight.value;
      const f = ([a, k]: Tensor[]): Tensor[] => [functionalCall(model, model.parameters().map((q) => (q.value === w1 ? k : q.value)), () =>
        model.forward(a, { training: true, updateStats: false }))];
      checkGrads(f, [x, w1], { order: 2, eps: 1e-5, rtol: 1e-5, atol: 1e-8 });
    });
  });

  it('a tensor passed at two positions of a backward primitive gets one whole cotangent (composite-derived rule)', () => {
    withBackend(fusedBe, () => {
      const s = [4, 3, 2, 2];
      const { x, gamma } = bnInputs(s, 31, 'float64');
      const f64 = { dtype: 'float64' as const };
      const gb = tensor(normals(3, 33), [3], f64);
      const bb = tensor(normals(3, 34), [3], f64);
      const t = tensor(normals(prod(s), 35), s, f64);
      // h(v) = <x̄(g = v, x = v), t>: the fused primitive with v at both positions against its composite.
      const fused = ([v]: Tensor[]): Tensor => sum(mul(fusedBatchNormGradInput(v, v, fusedBatchNormStats(v), gamma, gb, bb, EPS), t));
      const reference = ([v]: Tensor[]): Tensor => sum(mul(batchNormGradInputComposite([v, v, v, gamma, gb, bb], { eps: EPS }), t));
      const a = arrs(valueAndGrad(fused)([x]).grads);
      const b = arrs(valueAndGrad(reference)([x]).grads);
      expect(worstRel(a, b, Math.max(...b.map(Math.abs)))).toBeLessThan(1e-12);
    });
  });

  it('running statistics and evaluation outputs are the composite\'s bit for bit (float32), and the fused kernels ran', () => {
    const run = (be: CpuBackend) => {
      let out: number[][] = [];
      const seen = primsRun(be, () => {
        const model = new TinyCnn(new Random(6), { dtype: 'float32' }, [3, 4]);
        for (let k = 0; k < 3; k++) {
          const x = tensor(normals(5 * 64, 7 + k, 1.5, 0.5), [5, 1, 8, 8]);
          valueAndGrad(([a]) => sum(model.forward(a, { training: true })))([x]);
        }
        const bns = [model.bn1, model.bn2];
        const y = model.forward(tensor(normals(2 * 64, 20), [2, 1, 8, 8]), { training: false });
        out = [...bns.flatMap((b) => [arr(b.runningMean), arr(b.runningVar)]), arr(y)];
      });
      return { out, seen };
    };
    const fused = run(fusedBe);
    const composite = run(compositeBe);
    expect(fused.out).toStrictEqual(composite.out);
    expect(['batchNormStats', 'batchNormTrain', 'batchNormGradGamma', 'batchNormGradInput'].every((p) => fused.seen.has(p))).toBe(true);
    expect([...composite.seen].some((p) => p.startsWith('batchNorm') || p.startsWith('relu'))).toBe(false);
  });
});
