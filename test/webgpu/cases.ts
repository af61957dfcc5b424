// Seeded kernel and autodiff checks run on any backend (CPU reference, WebGPU in Node, WebGPU in Chromium), plus the comparison rule.

import type { Backend } from '../../src/backend/backend.js';
import { withBackend } from '../../src/backend/registry.js';
import { applyPrim } from '../../src/core/apply.js';
import { oneHot, randn, tensor } from '../../src/core/creation.js';
import {
  add, broadcastTo, compare, conv2d, conv2dGradInput, conv2dGradWeight, div, exp, gather, log, matmul, max, mul, neg, pad,
  reshape, scatterAdd, slice, sqrt, sub, sum, transpose, where,
} from '../../src/core/ops.js';
import type { CompareOp } from '../../src/core/primitives.js';
import type { Tensor } from '../../src/core/tensor.js';
import { hvpAndMixed, jvp } from '../../src/autodiff/transforms.js';
import { relu, softplus } from '../../src/ops/activations.js';
import { crossEntropy } from '../../src/ops/losses.js';
import { maxPool2d, maxPool2dComposite } from '../../src/ops/pooling.js';
import { maxPool2dArgmax, maxPool2dGather, maxPool2dScatter } from '../../src/core/pool-ops.js';
import type { Pool2dParams } from '../../src/core/primitives.js';
import { Random } from '../../src/util/random.js';

export type Kind = 'elementwise' | 'exact' | 'reduce' | 'matmul' | 'conv' | 'autodiff';

/**
 * Per-element bound of a check: |gpu - cpu| <= rtol * m + atol for every element, where m is |cpu| ('value'), or
 * ('terms') the same op evaluated on the CPU with every input replaced by its absolute value: Σ|x_i| for a sum,
 * (|A| |B|)_ij for a matmul, the conv of |x| with |w|. That is the scale of the classical rounding-error bound of a
 * sum (|fl(Σ x_i) - Σ x_i| <= γ_n Σ|x_i|), so an output that is small by cancellation gets an absolute bound from
 * the size of its terms, and nothing is judged against the largest value of the output. NaNs must coincide.
 */
export interface Tolerance {
  rtol: number;
  atol: number;
  scale: 'value' | 'terms';
}

/** float32 unit roundoff u = 2^-24 (half an ULP); 1 ULP relative = 2u ≈ 1.19e-7. */
const U = 2 ** -24;

/**
 * Tolerances per op, from float32 rounding. The CPU reference computes in float64 and rounds once (error <= u), so
 * each bound is the WGSL accuracy of the op (WGSL spec, "Floating Point Accuracy") plus u for the reference, with
 * about 2x margin for the unary builtins.
 */
export const TOLERANCES = {
  /** Bit-identical: movement, gather/scatter of single values, compare, where, max. */
  exact: { rtol: 0, atol: 0, scale: 'value' },
  /** neg, add, sub, mul are correctly rounded in WGSL, like the reference: equal up to 1 ULP (allowed: 2 ULP = 4 u). */
  arith: { rtol: 4 * U, atol: 1e-30, scale: 'value' },
  /** x / y: 2.5 ULP in WGSL, + 0.5 ULP reference = 3 ULP ≈ 3.6e-7. */
  div: { rtol: 8 * U, atol: 1e-30, scale: 'value' },
  /** exp(x): 3 + 2|x| ULP; |x| <= 5 in the checks gives 13 ULP + 0.5 ≈ 1.6e-6 (outputs >= e^-5, never near 0). */
  exp: { rtol: 32 * U, atol: 1e-7, scale: 'value' },
  /** log(x): absolute 2^-21 ≈ 4.8e-7 on [0.5, 2] (where log crosses 0), 3 ULP elsewhere ≈ 3.6e-7 relative. */
  log: { rtol: 8 * U, atol: 2 ** -20, scale: 'value' },
  /** sqrt(x): inherited from 1 / inverseSqrt(x): 2 + 2.5 ULP ≈ 5.4e-7; sqrt(0) = 0 exactly. */
  sqrt: { rtol: 12 * U, atol: 1e-30, scale: 'value' },
  /**
   * Sums of n terms in float32, any order: the worst case is (n - 1) u Σ|x_i|, the realistic (random-walk) error
   * a few u Σ|x_i|; 16 u ≈ 1e-6 (lavapipe measures <= 4 u).
   */
  reduce: { rtol: 1e-6, atol: 1e-30, scale: 'terms' },
  /** Dot products of length K <= 5000 (tiled, any order): the same bound on (|A||B|)_ij, 16 u (lavapipe: <= 1 u). */
  matmul: { rtol: 1e-6, atol: 1e-30, scale: 'terms' },
  /** conv2d and its two gradients: the same dot-product bound over C·kh·kw (or N·Ho·Wo) terms (lavapipe: <= 2 u). */
  conv: { rtol: 1e-6, atol: 1e-30, scale: 'terms' },
  /**
   * value, gradients, HVPs, mixed terms and JVPs of two small models: chains of ~20 float32 ops (exp/log in softplus
   * and cross-entropy, sums over <= 64 terms, two reverse passes) with O(1) intermediates: rounding of ~100 u
   * relative, 1e-5, with an absolute floor of 2e-6 for entries small by cancellation of O(1) terms (lavapipe's
   * worst: 8e-7 on an HVP entry of 0.019).
   */
  autodiff: { rtol: 1e-5, atol: 2e-6, scale: 'value' },
} as const satisfies Record<string, Tolerance>;

export type ToleranceName = keyof typeof TOLERANCES;

export interface Check {
  name: string;
  kind: Kind;
  /** Which entry of TOLERANCES bounds it. */
  tolerance: ToleranceName;
  run(be: Backend): Promise<Float32Array[]>;
  /** The per-element scale m of the bound (one array per output; see Tolerance), computed on `cpu`. */
  scale(cpu: Backend): Promise<Float32Array[]>;
}

function data(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.uniform();
  return out;
}

function ints(seed: number, n: number, lo: number, hi: number): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + rng.int(hi - lo + 1);
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A tensor of seeded uniform values in [lo, hi). */
function input(be: Backend, seed: number, shape: number[], lo = -1, hi = 1): Tensor {
  const d = data(seed, size(shape), lo, hi);
  return tensor(absInputs ? d.map(Math.abs) : d, shape, { backend: be });
}

/** Set while a 'terms' scale is computed: input() then gives |x|, so the op's result is Σ|terms| per element. */
let absInputs = false;

async function read(...ts: Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of ts) out.push(Float32Array.from(await t.data()));
  return out;
}

/** Kind of each tolerance (the grouping the tests print). */
const KIND_OF: Record<ToleranceName, Kind> = {
  exact: 'exact', arith: 'elementwise', div: 'elementwise', exp: 'elementwise', log: 'elementwise', sqrt: 'elementwise',
  reduce: 'reduce', matmul: 'matmul', conv: 'conv', autodiff: 'autodiff',
};

function check(name: string, tolerance: ToleranceName, fn: (be: Backend) => Tensor | Tensor[]): Check {
  const run = async (be: Backend): Promise<Float32Array[]> => {
    const r = withBackend(be, () => fn(be));
    return read(...(Array.isArray(r) ? r : [r]));
  };
  return {
    name,
    kind: KIND_OF[tolerance],
    tolerance,
    run,
    scale: async (cpu) => {
      if (TOLERANCES[tolerance].scale === 'value') return (await run(cpu)).map((a) => a.map(Math.abs));
      absInputs = true;
      try {
        return await run(cpu);
      } finally {
        absInputs = false;
      }
    },
  };
}

function elementwiseChecks(): Check[] {
  const c: Check[] = [];
  c.push(check('neg [1]', 'arith', (be) => neg(input(be, 1, [1]))));
  c.push(check('exp [7,13]', 'exp', (be) => exp(input(be, 2, [7, 13], -5, 5))));
  c.push(check('exp [1048579] (large)', 'exp', (be) => exp(input(be, 3, [1048579], -3, 3))));
  c.push(check('log [257,33]', 'log', (be) => log(input(be, 4, [257, 33], 0.01, 10))));
  c.push(check('sqrt [3,1,4]', 'sqrt', (be) => sqrt(input(be, 5, [3, 1, 4], 0, 10))));
  c.push(check('add [1031,257] same shape', 'arith', (be) => add(input(be, 6, [1031, 257]), input(be, 7, [1031, 257]))));
  c.push(check('sub [5,1,7]-[3,1] broadcast', 'arith', (be) => sub(input(be, 8, [5, 1, 7]), input(be, 9, [3, 1]))));
  c.push(check('mul scalar x [4,5]', 'arith', (be) => mul(input(be, 10, []), input(be, 11, [4, 5]))));
  c.push(check('div rank-5 broadcast', 'div', (be) => div(input(be, 12, [2, 1, 3, 1, 5]), input(be, 13, [1, 4, 1, 6, 1], 0.5, 2))));
  c.push(check('add [1,1,1]+[1]', 'arith', (be) => add(input(be, 14, [1, 1, 1]), input(be, 15, [1]))));
  c.push(check('mul [70001]x[1]', 'arith', (be) => mul(input(be, 16, [70001]), input(be, 17, [1]))));
  c.push(check('add [9,1]+[1,70] outer', 'arith', (be) => add(input(be, 18, [9, 1]), input(be, 19, [1, 70]))));
  const ops: CompareOp[] = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];
  for (const op of ops) {
    c.push(check(`compare ${op} [4,1,5] vs [3,1]`, 'exact', (be) =>
      compare(tensor(ints(20, 20, -2, 2), [4, 1, 5], { backend: be }), tensor(ints(21, 3, -2, 2), [3, 1], { backend: be }), op)));
  }
  c.push(check('where cond[4,1,1] a[1,3,5] b[]', 'exact', (be) =>
    where(tensor(ints(22, 4, 0, 1), [4, 1, 1], { backend: be }), input(be, 23, [1, 3, 5]), input(be, 24, []))));
  c.push(check('where same shape [300,70]', 'exact', (be) =>
    where(tensor(ints(25, 21000, 0, 1), [300, 70], { backend: be }), input(be, 26, [300, 70]), input(be, 27, [300, 70]))));
  return c;
}

function reduceChecks(): Check[] {
  const c: Check[] = [];
  const r = (name: string, shape: number[], axes: number[], seed: number): void => {
    c.push(check(`sum ${name}`, 'reduce', (be) => sum(input(be, seed, shape), axes)));
    if (size(shape) > 0) c.push(check(`max ${name}`, 'exact', (be) => max(input(be, seed, shape), axes)));
  };
  r('all of [1048583] (large)', [1048583], [0], 30);
  r('axis 0 of [37,1000]', [37, 1000], [0], 31);
  r('axis 1 of [37,1000]', [37, 1000], [1], 32);
  r('axes [0,2] of [3,4,5,6]', [3, 4, 5, 6], [0, 2], 33);
  r('axes [1,3] of [3,4,5,6]', [3, 4, 5, 6], [1, 3], 34);
  r('axis 1 of [2,70001] (split rows)', [2, 70001], [1], 35);
  r('axis 0 of [70001,3]', [70001, 3], [0], 36);
  r('axes [0,2] of [1,5,1] (size-1)', [1, 5, 1], [0, 2], 37);
  r('axis 1 of [4,1] (length 1)', [4, 1], [1], 38);
  r('axis 0 of [0,5] (empty)', [0, 5], [0], 39);
  r('all of [7,9,11]', [7, 9, 11], [0, 1, 2], 40);
  r('axis 1 of [300,200]', [300, 200], [1], 41);
  r('axes [0,1] of [128,4,5]', [128, 4, 5], [0, 1], 42);
  return c;
}

function movementChecks(): Check[] {
  const c: Check[] = [];
  c.push(check('broadcastTo [3,1,5]->[2,3,4,5]', 'exact', (be) => broadcastTo(input(be, 50, [3, 1, 5]), [2, 3, 4, 5])));
  c.push(check('broadcastTo []->[7,9]', 'exact', (be) => broadcastTo(input(be, 51, []), [7, 9])));
  c.push(check('reshape [6,4]->[4,6]', 'exact', (be) => reshape(input(be, 52, [6, 4]), [4, 6])));
  c.push(check('transpose [3,4,5] perm [2,0,1]', 'exact', (be) => transpose(input(be, 53, [3, 4, 5]), [2, 0, 1])));
  c.push(check('transpose [1,1000,3] perm [2,1,0]', 'exact', (be) => transpose(input(be, 54, [1, 1000, 3]), [2, 1, 0])));
  c.push(check('transpose [513,257]', 'exact', (be) => transpose(input(be, 55, [513, 257]))));
  c.push(check('transpose rank 6', 'exact', (be) => transpose(input(be, 56, [2, 3, 1, 2, 3, 2]), [5, 3, 1, 0, 2, 4])));
  c.push(check('slice [10,20,30] window', 'exact', (be) => slice(input(be, 57, [10, 20, 30]), [1, 2, 3], [4, 5, 6])));
  c.push(check('slice [100003] tail', 'exact', (be) => slice(input(be, 58, [100003]), [7], [-1])));
  c.push(check('pad [3,4]', 'exact', (be) => pad(input(be, 59, [3, 4]), [1, 0], [2, 3])));
  c.push(check('pad [2,3,4,5]', 'exact', (be) => pad(input(be, 60, [2, 3, 4, 5]), [0, 1, 2, 0], [1, 0, 0, 2])));
  c.push(check('gather axis 0 repeated', 'exact', (be) => gather(input(be, 61, [10, 7]), [3, 3, 0, 9, 1, 3], 0)));
  c.push(check('gather axis 1 of [3,50,4]', 'exact', (be) => gather(input(be, 62, [3, 50, 4]), [49, 0, 0, 7, 3], 1)));
  c.push(check('scatterAdd axis 0 duplicates', 'exact', (be) => scatterAdd(input(be, 63, [6, 5]), [2, 0, 2, 2, 4, 0], 0, 7)));
  c.push(check('scatterAdd axis 1 of [3,5,4]', 'exact', (be) => scatterAdd(input(be, 64, [3, 5, 4]), [1, 1, 0, 2, 1], 1, 3)));
  c.push(check('cast float32 [33,17]', 'exact', (be) => {
    const x = input(be, 65, [33, 17]);
    return applyPrim('cast', [x], { dtype: 'float32' }, x.shape, 'float32');
  }));
  return c;
}

/**
 * Max pooling: argmax offsets, values and the scatter-add are exact (selection of single values; the scatter sums the
 * same float32 terms in the CPU kernel's ascending order). Integer inputs in {-2..2} tie in most windows, so the
 * first-maximum rule is compared too.
 */
function poolChecks(): Check[] {
  const c: Check[] = [];
  const configs: { x: number[]; p: Pool2dParams; ties?: boolean }[] = [
    { x: [2, 3, 8, 6], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0] } },
    { x: [3, 2, 7, 5], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0] }, ties: true },
    { x: [1, 1, 1, 1], p: { kernel: [1, 1], stride: [1, 1], padding: [0, 0] } },
    { x: [2, 2, 9, 7], p: { kernel: [3, 3], stride: [2, 2], padding: [1, 1] } },
    { x: [2, 3, 6, 9], p: { kernel: [3, 2], stride: [1, 1], padding: [1, 1] }, ties: true },
    { x: [1, 2, 11, 10], p: { kernel: [2, 2], stride: [3, 4], padding: [0, 0] } },
    { x: [32, 32, 28, 28], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0] } },
  ];
  configs.forEach((cfg, i) => {
    const label = `x[${cfg.x}] k${cfg.p.kernel.join('x')} s${cfg.p.stride.join('x')} p${cfg.p.padding.join('x')}${cfg.ties ? ' ties' : ''}`;
    const x = (be: Backend): Tensor => (cfg.ties ? tensor(ints(700 + i, size(cfg.x), -2, 2), cfg.x, { backend: be }) : input(be, 700 + i, cfg.x));
    c.push(check(`maxPool2dArgmax ${label}`, 'exact', (be) => maxPool2dArgmax(x(be), cfg.p)));
    c.push(check(`maxPool2d ${label}`, 'exact', (be) => maxPool2d(x(be), cfg.p.kernel, cfg.p)));
    c.push(check(`maxPool2dScatter ${label}`, 'exact', (be) => {
      const arg = maxPool2dArgmax(x(be), cfg.p);
      return maxPool2dScatter(input(be, 800 + i, arg.shape as number[]), arg, cfg.p, cfg.x);
    }));
    c.push(check(`maxPool2dGather of another tensor ${label}`, 'exact', (be) =>
      maxPool2dGather(input(be, 900 + i, cfg.x), maxPool2dArgmax(x(be), cfg.p), cfg.p)));
  });
  // The scatter runs one invocation per input: past 2^22 of them the shader's exact integer division is used.
  const big: Pool2dParams = { kernel: [2, 2], stride: [2, 2], padding: [0, 0] };
  c.push(check('maxPool2dScatter x[4,32,182,182] (past 2^22 inputs)', 'exact', (be) => {
    const arg = maxPool2dArgmax(input(be, 730, [4, 32, 182, 182]), big);
    return maxPool2dScatter(input(be, 731, arg.shape as number[]), arg, big, [4, 32, 182, 182]);
  }));
  c.push(check('maxPool2dComposite [4,8,16,16] (the reference, on the GPU too)', 'exact', (be) => maxPool2dComposite(input(be, 720, [4, 8, 16, 16]), 2)));
  return c;
}

function matmulChecks(): Check[] {
  const c: Check[] = [];
  const shapes: [number, number, number][] = [[1, 1, 1], [17, 33, 65], [64, 64, 64], [128, 300, 1], [3, 5000, 7], [257, 129, 511]];
  let seed = 100;
  for (const [m, k, n] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const s = seed++;
        c.push(check(`matmul ${m}x${k}x${n}${transA ? ' transA' : ''}${transB ? ' transB' : ''}`, 'matmul', (be) =>
          matmul(input(be, s, transA ? [k, m] : [m, k]), input(be, s + 1000, transB ? [n, k] : [k, n]), { transA, transB })));
      }
    }
  }
  return c;
}

function convChecks(): Check[] {
  const c: Check[] = [];
  const configs: { x: number[]; w: number[]; stride: [number, number]; padding: [number, number] }[] = [
    { x: [2, 3, 9, 11], w: [4, 3, 3, 3], stride: [1, 1], padding: [1, 1] },
    { x: [1, 1, 5, 5], w: [1, 1, 1, 1], stride: [1, 1], padding: [0, 0] },
    { x: [3, 2, 10, 7], w: [5, 2, 5, 3], stride: [2, 1], padding: [2, 0] },
    { x: [2, 4, 16, 16], w: [8, 4, 3, 3], stride: [2, 2], padding: [1, 1] },
    { x: [4, 16, 28, 28], w: [16, 16, 3, 3], stride: [1, 1], padding: [1, 1] },
  ];
  configs.forEach((cfg, i) => {
    const label = `x[${cfg.x}] w[${cfg.w}] s${cfg.stride.join('x')} p${cfg.padding.join('x')}`;
    const ho = Math.floor((cfg.x[2] + 2 * cfg.padding[0] - cfg.w[2]) / cfg.stride[0]) + 1;
    const wo = Math.floor((cfg.x[3] + 2 * cfg.padding[1] - cfg.w[3]) / cfg.stride[1]) + 1;
    const y = [cfg.x[0], cfg.w[0], ho, wo];
    const p = { stride: cfg.stride, padding: cfg.padding };
    c.push(check(`conv2d ${label}`, 'conv', (be) => conv2d(input(be, 200 + i, cfg.x), input(be, 300 + i, cfg.w), p)));
    c.push(check(`conv2dGradInput ${label}`, 'conv', (be) => conv2dGradInput(input(be, 400 + i, y), input(be, 300 + i, cfg.w), p, cfg.x)));
    c.push(check(`conv2dGradWeight ${label}`, 'conv', (be) => conv2dGradWeight(input(be, 200 + i, cfg.x), input(be, 400 + i, y), p, cfg.w)));
  });
  return c;
}

/** Training loss with per-parameter L2 hyperparameters λ (softplus(λ) ⊙ w, squared), as in the README. */
function l2Loss(model: (x: Tensor, ws: Tensor[]) => Tensor, x: Tensor, t: Tensor) {
  return (ws: Tensor[], ls: Tensor[]): Tensor => {
    let loss = crossEntropy(model(x, ws), t);
    ws.forEach((wi, i) => {
      const r = mul(softplus(ls[i]), wi);
      loss = add(loss, mul(sum(mul(r, r)), 1e-2));
    });
    return loss;
  };
}

function mlp(x: Tensor, [w1, b1, w2, b2]: Tensor[]): Tensor {
  const h = relu(add(matmul(x, w1, { transB: true }), b1));
  return add(matmul(h, w2, { transB: true }), b2);
}

function cnn(x: Tensor, [k1, c1, w2, b2]: Tensor[]): Tensor {
  const h = relu(add(conv2d(x, k1, { padding: 1 }), reshape(c1, [1, c1.shape[0], 1, 1])));
  const p = maxPool2d(h, 2);
  return add(matmul(reshape(p, [p.shape[0], -1]), w2, { transB: true }), b2);
}

function autodiffChecks(): Check[] {
  const c: Check[] = [];
  const mlpShapes = [[16, 20], [16], [10, 16], [10]];
  const cnnShapes = [[4, 1, 3, 3], [4], [10, 64], [10]];
  const setups = [
    { name: 'MLP 20-16-10', model: mlp, shapes: mlpShapes, x: [8, 20] },
    { name: 'CNN conv3x3(1->4)+pool+linear', model: cnn, shapes: cnnShapes, x: [6, 1, 8, 8] },
  ];
  setups.forEach((s, si) => {
    const build = (be: Backend) => {
      const rng = new Random(500 + si);
      const ws = s.shapes.map((sh) => randn(sh, rng, 0.5, { backend: be }));
      const ls = s.shapes.map((sh) => randn(sh, rng, 1, { backend: be }));
      const vs = s.shapes.map((sh) => randn(sh, rng, 1, { backend: be }));
      const x = randn(s.x, rng, 1, { backend: be });
      const labels = Array.from({ length: s.x[0] }, () => rng.int(10));
      const t = oneHot(labels, 10, { backend: be });
      return { ws, ls, vs, f: l2Loss(s.model, x, t) };
    };
    c.push(check(`hvpAndMixed ${s.name}`, 'autodiff', (be) => {
      const { ws, ls, vs, f } = build(be);
      const r = hvpAndMixed(f, ws, ls, vs);
      return [r.value, ...r.grad, ...r.hvp, ...r.mixed];
    }));
    c.push(check(`jvp ${s.name}`, 'autodiff', (be) => {
      const { ws, ls, vs, f } = build(be);
      const r = jvp((w) => [f(w, ls)], ws, vs);
      return [...r.outputs, ...r.tangents];
    }));
  });
  return c;
}

/** Every check, in a fixed order (the browser run returns results in the same order). */
export function allChecks(): Check[] {
  return [
    ...elementwiseChecks(), ...reduceChecks(), ...movementChecks(), ...poolChecks(), ...matmulChecks(), ...convChecks(), ...autodiffChecks(),
  ];
}

/**
 * How far got is from want under `tol`: the largest ratio |got - want| / (rtol * m + atol) over the elements (<= 1
 * passes), with the element that attains it. A length mismatch or a NaN in only one of them is Infinity.
 */
export function elementError(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>, tol: Tolerance): { ratio: number; at: number } {
  if (got.length !== want.length || scale.length !== want.length) return { ratio: Infinity, at: -1 };
  let ratio = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return { ratio: Infinity, at: i };
      continue;
    }
    if (g === w) continue;
    const bound = tol.rtol * Math.abs(scale[i]) + tol.atol;
    const q = Math.abs(g - w) / bound; // Infinity for any difference under 'exact' and for infinities that differ
    const r = Number.isNaN(q) ? Infinity : q;
    if (!(r <= ratio)) {
      ratio = r;
      at = i;
      if (r === Infinity) break;
    }
  }
  return { ratio, at };
}

/**
 * Whether every element of every output is within the check's bound (TOLERANCES[check.tolerance]); `scale` is what
 * check.scale(cpu) returned. `factor` widens the bound (2 when both sides are float32 GPU results, each within the
 * bound of the reference). The message names the worst element: got, want, its bound.
 */
export function compareOutputs(
  check: Pick<Check, 'tolerance'>, got: Float32Array[], want: Float32Array[], scale: Float32Array[], factor = 1,
): { ok: boolean; worst: number; message: string } {
  const base: Tolerance = TOLERANCES[check.tolerance];
  const tol: Tolerance = { ...base, rtol: base.rtol * factor, atol: base.atol * factor };
  if (got.length !== want.length) return { ok: false, worst: Infinity, message: `${got.length} outputs, expected ${want.length}` };
  let worst = 0;
  let message = '';
  got.forEach((g, i) => {
    const { ratio, at } = elementError(g, want[i], scale[i] ?? [], tol);
    if (ratio > worst || (ratio === Infinity && worst !== Infinity)) {
      worst = ratio;
      const bound = at >= 0 ? tol.rtol * Math.abs(scale[i]?.[at] ?? NaN) + tol.atol : NaN;
      message = at < 0
        ? `output ${i}: length ${g.length} vs ${want[i].length} (scale ${scale[i]?.length})`
        : `output ${i} element ${at}: got ${g[at]}, want ${want[i][at]}, |Δ| ${Math.abs(g[at] - want[i][at]).toExponential(2)} vs bound ${bound.toExponential(2)} ` +
          `(${check.tolerance}: rtol ${tol.rtol.toExponential(2)} x ${tol.scale === 'terms' ? 'Σ|terms|' : '|want|'} ${Math.abs(scale[i]?.[at] ?? NaN).toExponential(2)} + atol ${tol.atol.toExponential(2)}; ${(ratio).toFixed(2)}x the bound)`;
    }
  });
  return { ok: worst <= 1, worst, message: message || 'identical' };
}

/** Float32 arrays <-> base64 (results cross the browser boundary as bytes, not decimal strings). */
export function f32ToBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToF32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
