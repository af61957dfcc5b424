// The max-pooling primitives against float64 nested loops (values, argmax, scatter) and the composite, PyTorch's tie rule, finite differences of order 1 and 2, HVPs through a tiny CNN, and input errors.
import { describe, expect, it } from 'vitest';
import {
  checkGrads, conv2d, crossEntropy, grad, hvp, matmul, maxPool2d, maxPool2dComposite, mul, noGrad, oneHot, reshape, sum,
  tanh, tensor, vjp, type Tensor,
} from '../../src/index.js';
import { maxPool2dArgmax, maxPool2dGather, maxPool2dScatter, pool2dParams } from '../../src/core/pool-ops.js';
import type { Pool2dParams } from '../../src/core/primitives.js';
import { at, expectClose, f32, f64, normals, prod } from '../reference/helpers.js';

interface Config {
  x: [number, number, number, number];
  k: [number, number];
  s: [number, number];
  p: [number, number];
}

/**
 * PyTorch's max_pool2d in float64 nested loops: padding is -inf, so it never wins; the first maximum in row-major
 * window order wins ties. Returns values, the flat input index of each argmax, and the scatter-add of g to them.
 */
function refMaxPool(c: Config, x: ArrayLike<number>, g?: ArrayLike<number>) {
  const [n, ch, h, w] = c.x;
  const ho = Math.floor((h + 2 * c.p[0] - c.k[0]) / c.s[0]) + 1;
  const wo = Math.floor((w + 2 * c.p[1] - c.k[1]) / c.s[1]) + 1;
  const ys = [n, ch, ho, wo];
  const y = new Float64Array(prod(ys));
  const arg = new Int32Array(prod(ys));
  const dx = new Float64Array(prod(c.x));
  for (let a = 0; a < n; a++)
    for (let b = 0; b < ch; b++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let best = -Infinity;
          let bi = -1;
          for (let di = 0; di < c.k[0]; di++)
            for (let dj = 0; dj < c.k[1]; dj++) {
              const yy = i * c.s[0] - c.p[0] + di;
              const xx = j * c.s[1] - c.p[1] + dj;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              const idx = at(c.x, a, b, yy, xx);
              if (bi < 0 || x[idx] > best) {
                best = x[idx];
                bi = idx;
              }
            }
          const o = at(ys, a, b, i, j);
          y[o] = best;
          arg[o] = bi;
          if (g) dx[bi] += g[o];
        }
  return { y, arg, dx, ys };
}

const params = (c: Config): Pool2dParams => ({ kernel: c.k, stride: c.s, padding: c.p });

/** Flat input indices of the primitive's argmax (it stores window offsets dy·kw + dx). */
function flatArgmax(c: Config, offsets: ArrayLike<number>, ys: number[]): number[] {
  const out: number[] = [];
  for (let o = 0; o < offsets.length; o++) {
    const j = o % ys[3];
    const i = Math.floor(o / ys[3]) % ys[2];
    const plane = Math.floor(o / (ys[2] * ys[3]));
    const dy = Math.floor(offsets[o] / c.k[1]);
    const dx = offsets[o] % c.k[1];
    out.push((plane * c.x[2] + i * c.s[0] - c.p[0] + dy) * c.x[3] + j * c.s[1] - c.p[1] + dx);
  }
  return out;
}

const CONFIGS: Array<[string, Config]> = [
  ['2x2 stride 2 (the models)', { x: [2, 3, 8, 6], k: [2, 2], s: [2, 2], p: [0, 0] }],
  ['2x2 stride 2, odd sides (ragged border dropped)', { x: [3, 2, 7, 5], k: [2, 2], s: [2, 2], p: [0, 0] }],
  ['size 1 everywhere, kernel 1', { x: [1, 1, 1, 1], k: [1, 1], s: [1, 1], p: [0, 0] }],
  ['one window covering a 2x2 image', { x: [1, 1, 2, 2], k: [2, 2], s: [2, 2], p: [0, 0] }],
  ['3x3 stride 2 padding 1 (overlapping, ResNet stem)', { x: [2, 2, 9, 7], k: [3, 3], s: [2, 2], p: [1, 1] }],
  ['3x3 stride 1 padding 1 (heavy overlap)', { x: [1, 3, 5, 6], k: [3, 3], s: [1, 1], p: [1, 1] }],
  ['rectangular 2x3 kernel, stride (1, 2), padding (1, 0)', { x: [2, 1, 6, 9], k: [2, 3], s: [1, 2], p: [1, 0] }],
  ['stride larger than the kernel (gaps)', { x: [1, 2, 11, 10], k: [2, 2], s: [3, 4], p: [0, 0] }],
  ['1xk kernel over a single row', { x: [4, 1, 1, 13], k: [1, 4], s: [1, 3], p: [0, 2] }],
  ['large 2x2 (float32 path at CNN size)', { x: [8, 16, 32, 34], k: [2, 2], s: [2, 2], p: [0, 0] }],
  ['large 3x3 stride 2 padding 1', { x: [4, 8, 33, 31], k: [3, 3], s: [2, 2], p: [1, 1] }],
  // 2x2 windows one setting away from the 2x2 stride-2 fast path (from the mutation survivors): each must take the general path.
  ['2x2 stride (2, 1)', { x: [2, 2, 6, 7], k: [2, 2], s: [2, 1], p: [0, 0] }],
  ['2x2 stride (1, 2)', { x: [2, 2, 7, 6], k: [2, 2], s: [1, 2], p: [0, 0] }],
  ['2x2 stride 1 (overlapping)', { x: [1, 3, 5, 5], k: [2, 2], s: [1, 1], p: [0, 0] }],
  ['2x2 stride 2 padding (1, 0)', { x: [2, 2, 7, 6], k: [2, 2], s: [2, 2], p: [1, 0] }],
  ['2x2 stride 2 padding (0, 1)', { x: [2, 2, 6, 7], k: [2, 2], s: [2, 2], p: [0, 1] }],
  ['2x3 stride 2', { x: [1, 2, 6, 9], k: [2, 3], s: [2, 2], p: [0, 0] }],
  ['3x2 stride 2', { x: [1, 2, 9, 6], k: [3, 2], s: [2, 2], p: [0, 0] }],
  ['2x2 stride 2, float32 size, padding (1, 1)', { x: [4, 8, 30, 30], k: [2, 2], s: [2, 2], p: [1, 1] }],
];

describe.each(CONFIGS)('maxPool2d %s against float64 nested loops', (_name, c) => {
  const x = normals(prod(c.x), 100 + prod(c.x));
  const opts = { stride: c.s, padding: c.p };

  it('values, argmax and gradient (float64, exact)', () => {
    const { y, arg, ys } = refMaxPool(c, x);
    const g = normals(prod(ys), 7);
    const want = refMaxPool(c, x, g).dx;
    const xt = tensor(x, c.x, f64);
    const { outputs, pullback } = vjp(([a]) => [maxPool2d(a, c.k, opts)], [xt]);
    expect(outputs[0].shape).toEqual(ys);
    expectClose(outputs[0].toArray(), y, { rtol: 0, atol: 0, label: 'y' });
    expect(flatArgmax(c, maxPool2dArgmax(xt, params(c)).toArray(), ys)).toEqual(Array.from(arg));
    expectClose(pullback([tensor(g, ys, f64)])[0].toArray(), want, { rtol: 0, atol: 0, label: 'dx' });
  });

  it('float32: the max of rounded values is the rounded max; the scatter adds in float32', () => {
    const x32 = Float32Array.from(x);
    const { y, ys } = refMaxPool(c, x32);
    const g32 = Float32Array.from(normals(prod(ys), 8));
    const xt = tensor(x32, c.x, f32);
    const { outputs, pullback } = vjp(([a]) => [maxPool2d(a, c.k, opts)], [xt]);
    expectClose(outputs[0].toArray(), y, { rtol: 0, atol: 0, label: 'y32' });
    // Each input receives at most ceil(k/s)^2 terms: float64 sums of float32 terms, compared within float32 rounding.
    const want = refMaxPool(c, x32, g32).dx;
    expectClose(pullback([tensor(g32, ys, f32)])[0].toArray(), want, { rtol: 1e-6, atol: 1e-6, label: 'dx32' });
  });

  it('the same under noGrad (evaluation)', () => {
    const { y } = refMaxPool(c, x);
    expectClose(noGrad(() => maxPool2d(tensor(x, c.x, f64), c.k, opts)).toArray(), y, { rtol: 0, atol: 0, label: 'y' });
  });
});

describe('maxPool2d equals the composite reference (reshape + max) where windows tile the image', () => {
  const shapes: Array<[number[], number]> = [
    [[2, 3, 8, 8], 2], [[3, 2, 7, 5], 2], [[1, 1, 1, 1], 1], [[2, 2, 9, 10], 3], [[1, 4, 4, 4], 4], [[16, 32, 28, 28], 2],
  ];
  for (const [s, k] of shapes) {
    for (const opt of [f64, f32]) {
      it(`[${s}] window ${k}, ${opt.dtype}: values and gradient bit for bit (no ties in continuous data)`, () => {
        const x = normals(prod(s), 5 + prod(s));
        const run = (pool: (t: Tensor) => Tensor) => {
          const { outputs, pullback } = vjp(([a]) => [pool(a)], [tensor(x, s, opt)]);
          const g = normals(outputs[0].size, 3);
          return { y: outputs[0].toArray(), dx: pullback([tensor(g, outputs[0].shape, opt)])[0].toArray() };
        };
        const prim = run((t) => maxPool2d(t, k));
        const comp = run((t) => maxPool2dComposite(t, k));
        // Exact, with +0 = -0 (the composite's mask · ȳ gives -0 where the primitive's scatter leaves +0).
        expectClose(prim.y, comp.y, { rtol: 0, atol: 0, label: 'y' });
        expectClose(prim.dx, comp.dx, { rtol: 0, atol: 0, label: 'dx' });
      });
    }
  }
});

describe('ties: the first maximum in row-major window order wins (PyTorch)', () => {
  it('integer data full of ties, 2x2 and overlapping 3x3 windows: argmax and gradient equal the reference', () => {
    for (const c of [
      { x: [3, 2, 8, 7], k: [2, 2], s: [2, 2], p: [0, 0] },
      { x: [2, 2, 7, 9], k: [3, 3], s: [2, 1], p: [1, 1] },
    ] as Config[]) {
      const x = Array.from(normals(prod(c.x), 31), (v) => Math.round(v)); // values in {-3..3}: most windows tie
      const { y, arg, ys } = refMaxPool(c, x);
      const g = normals(prod(ys), 32);
      const xt = tensor(x, c.x, f64);
      const { outputs, pullback } = vjp(([a]) => [maxPool2d(a, c.k, { stride: c.s, padding: c.p })], [xt]);
      expectClose(outputs[0].toArray(), y, { rtol: 0, atol: 0, label: 'y' });
      expect(flatArgmax(c, maxPool2dArgmax(xt, params(c)).toArray(), ys)).toEqual(Array.from(arg));
      expectClose(pullback([tensor(g, ys, f64)])[0].toArray(), refMaxPool(c, x, g).dx, { rtol: 0, atol: 0, label: 'dx' });
    }
  });

  it('hand-written windows: an all-equal window, a tie on the second row, padding next to negative values', () => {
    // 2x2: window [5, 5; 5, 5] -> offset 0; window [1, 2; 2, 0] -> offset 1 (first 2, not the one below).
    const x = tensor([5, 5, 1, 2, 5, 5, 2, 0], [1, 1, 2, 4], f64);
    expect(maxPool2dArgmax(x, pool2dParams('t', x, 2)).toArray()).toEqual([0, 1]);
    // 3x3 stride 1 padding 1 over all -1: padding (-inf in PyTorch) never wins; the first in-image position does.
    const m = tensor([-1, -1, -1, -1], [1, 1, 2, 2], f64);
    const p = pool2dParams('t', m, 3, { stride: 1, padding: 1 });
    // Output (0,0)'s window starts at (-1,-1): its first in-image position is offset 1·3 + 1 = 4, and so on.
    expect(maxPool2dArgmax(m, p).toArray()).toEqual([4, 3, 1, 0]);
    expect(maxPool2d(m, 3, { stride: 1, padding: 1 }).toArray()).toEqual([-1, -1, -1, -1]);
  });

  it('-Infinity windows pick their first in-image position; a NaN wins and propagates (CPU)', () => {
    const x = tensor([-Infinity, -Infinity, -Infinity, -Infinity, 1, NaN, 3, NaN], [1, 2, 2, 2], f64);
    expect(maxPool2dArgmax(x, pool2dParams('t', x, 2)).toArray()).toEqual([0, 1]);
    const y = maxPool2d(x, 2).toArray();
    expect(y[0]).toBe(-Infinity);
    expect(Number.isNaN(y[1])).toBe(true);
  });
});

describe('derivatives by finite differences (float64, order 1 and 2)', () => {
  const cases: Array<[string, Config]> = [
    ['2x2 stride 2', { x: [2, 2, 4, 5], k: [2, 2], s: [2, 2], p: [0, 0] }],
    ['3x3 stride 2 padding 1', { x: [1, 2, 5, 5], k: [3, 3], s: [2, 2], p: [1, 1] }],
    ['2x3 stride 1 padding (1, 1)', { x: [2, 1, 4, 4], k: [2, 3], s: [1, 1], p: [1, 1] }],
  ];
  for (const [name, c] of cases) {
    it(`maxPool2d ${name} of x² (the argmax is locally constant, so differences see the derivative)`, () => {
      const x = tensor(normals(prod(c.x), 41), c.x, f64);
      checkGrads(([a]) => [maxPool2d(mul(a, a), c.k, { stride: c.s, padding: c.p })], [x], { order: 2, eps: 1e-5, rtol: 1e-6, atol: 1e-8 });
    });

    it(`gather and scatter at a fixed argmax (${name}): linear maps, checked to second order through a square`, () => {
      const x0 = tensor(normals(prod(c.x), 42), c.x, f64);
      const p = params(c);
      const arg = maxPool2dArgmax(x0, p);
      const ys = arg.shape as number[];
      checkGrads(([a]) => [maxPool2dGather(mul(a, a), arg, p)], [x0], { order: 2, rtol: 1e-6, atol: 1e-8 });
      checkGrads(([g]) => [maxPool2dScatter(mul(g, g), arg, p, c.x)], [tensor(normals(prod(ys), 43), ys, f64)], { order: 2, rtol: 1e-6, atol: 1e-8 });
    });
  }

  it('gather and scatter are transposes: <G x, g> = <x, Gᵀ g> exactly on integers', () => {
    const c: Config = { x: [2, 3, 7, 6], k: [3, 2], s: [2, 1], p: [1, 1] };
    const p = params(c);
    const x = tensor(Array.from(normals(prod(c.x), 44), (v) => Math.round(8 * v)), c.x, f64);
    const arg = maxPool2dArgmax(x, p);
    const g = tensor(Array.from(normals(arg.size, 45), (v) => Math.round(8 * v)), arg.shape, f64);
    expect(sum(mul(maxPool2dGather(x, arg, p), g)).item()).toBe(sum(mul(x, maxPool2dScatter(g, arg, p, c.x))).item());
  });
});

describe('second order through a tiny CNN with max-pooling', () => {
  // conv3x3(2->3, pad 1) -> tanh -> max-pool 2 -> linear(12 -> 3) -> cross-entropy, parameters [k, w].
  const x = tensor(normals(2 * 2 * 4 * 4, 51), [2, 2, 4, 4], f64);
  const t = oneHot([0, 2], 3, f64);
  const loss = ([k, w]: Tensor[]): Tensor => {
    const h = maxPool2d(tanh(conv2d(x, k, { padding: 1 })), 2);
    return crossEntropy(matmul(reshape(h, [2, -1]), w, { transB: true }), t);
  };
  const k0 = tensor(normals(3 * 2 * 3 * 3, 52, 0.5), [3, 2, 3, 3], f64);
  const w0 = tensor(normals(3 * 12, 53, 0.5), [3, 12], f64);

  it('passes checkGrads to order 2 in both parameters', () => {
    checkGrads((ws) => [loss(ws)], [k0, w0], { order: 2, rtol: 1e-5, atol: 1e-8 });
  });

  it('H v equals the central difference of the gradient along v, and the composite model\'s H v', () => {
    const vk = tensor(normals(k0.size, 54), k0.shape, f64);
    const vw = tensor(normals(w0.size, 55), w0.shape, f64);
    const hv = hvp(loss, [k0, w0], [vk, vw]).flatMap((h) => h.toArray());
    const eps = 1e-5;
    const g = (s: number) => grad(loss)([add2(k0, vk, s), add2(w0, vw, s)]).flatMap((q) => q.toArray());
    const gp = g(eps);
    const gm = g(-eps);
    const fd = gp.map((v, i) => (v - gm[i]) / (2 * eps));
    expectClose(hv, fd, { rtol: 1e-5, atol: 1e-8, label: 'Hv vs FD' });
    const composite = ([k, w]: Tensor[]): Tensor => {
      const h = maxPool2dComposite(tanh(conv2d(x, k, { padding: 1 })), 2);
      return crossEntropy(matmul(reshape(h, [2, -1]), w, { transB: true }), t);
    };
    expectClose(hv, hvp(composite, [k0, w0], [vk, vw]).flatMap((h) => h.toArray()), { rtol: 1e-12, atol: 1e-14, label: 'Hv vs composite' });
  });
});

function add2(a: Tensor, v: Tensor, s: number): Tensor {
  return tensor(a.toArray().map((q, i) => q + s * v.toArray()[i]), a.shape, f64);
}

describe('bad input is named', () => {
  const x = tensor(normals(2 * 3 * 5 * 5, 61), [2, 3, 5, 5], f64);
  it('rank, kernel, stride, padding and a window larger than the input', () => {
    expect(() => maxPool2d(tensor([1, 2, 3, 4], [2, 2], f64))).toThrow(/maxPool2d: expects NCHW input, got #\d+\[2, ?2\]/);
    expect(() => maxPool2d(x, 0)).toThrow(/maxPool2d: kernel must be an integer >= 1/);
    expect(() => maxPool2d(x, 2, { stride: 1.5 })).toThrow(/maxPool2d: stride must be an integer >= 1/);
    expect(() => maxPool2d(x, 2, { padding: -1 })).toThrow(/maxPool2d: padding must be an integer >= 0/);
    expect(() => maxPool2d(x, 3, { padding: 2 })).toThrow(/maxPool2d: padding 2 is more than half the kernel 3 \(axis 2\)/);
    expect(() => maxPool2d(x, [2, 6])).toThrow(/maxPool2d: window \[2, ?6\] with padding \[0, ?0\] is larger than the input/);
    // Height 5, kernel 6, stride 6: ⌊(5 - 6)/6⌋ + 1 = 0 output rows (not negative).
    expect(() => maxPool2d(x, [6, 2])).toThrow(/maxPool2d: window \[6, ?2\] with padding \[0, ?0\] is larger than the input/);
    // One bad entry of a pair is enough; a pair must have two entries.
    expect(() => maxPool2d(x, [2, 0])).toThrow(/maxPool2d: kernel must be an integer >= 1 or a pair of them, got \[2,0\]/);
    expect(() => maxPool2d(x, 2, { stride: [1, 1.5] })).toThrow(/maxPool2d: stride must be an integer >= 1 or a pair of them, got \[1,1.5\]/);
    expect(() => maxPool2d(x, [2, 2, 2] as unknown as [number, number])).toThrow(/maxPool2d: kernel must be an integer >= 1 or a pair of them, got \[2,2,2\]/);
  });

  it('a scatter with an input shape that is not NCHW, or a cotangent or argmax of another shape, names itself', () => {
    const p = pool2dParams('t', x, 2);
    const g = tensor(new Array(24).fill(1), [2, 3, 2, 2], f64);
    const arg = tensor(new Array(24).fill(0), [2, 3, 2, 2], f64);
    expect(maxPool2dScatter(g, arg, p, x.shape).shape).toEqual([2, 3, 5, 5]);
    expect(() => maxPool2dScatter(g, arg, p, [2, 3, 5])).toThrow(/maxPool2dScatter: input shape \[2, ?3, ?5\] is not NCHW/);
    expect(() => maxPool2dScatter(tensor([1], [1, 1, 1, 1], f64), arg, p, x.shape))
      .toThrow(/maxPool2dScatter: cotangent .* does not match the pooled shape \[2, ?3, ?2, ?2\] of \[2, ?3, ?5, ?5\]/);
    expect(() => maxPool2dScatter(g, tensor([0], [1, 1, 1, 1], f64), p, x.shape)).toThrow(/maxPool2dScatter: argmax .* does not match the pooled shape \[2, ?3, ?2, ?2\]/);
  });

  it('an argmax of the wrong shape or with offsets outside the window', () => {
    const p = pool2dParams('t', x, 2);
    expect(() => maxPool2dGather(x, tensor([0], [1, 1, 1, 1], f64), p)).toThrow(/maxPool2dGather: argmax .* does not match the pooled shape \[2, ?3, ?2, ?2\]/);
    const bad = tensor(new Array(24).fill(4), [2, 3, 2, 2], f64);
    expect(() => maxPool2dGather(x, bad, p)).toThrow(/maxPool2dGather: argmax 4 at output 0 is not an offset of a 2x2 window/);
    const p3 = pool2dParams('t', x, 3, { stride: 2, padding: 1 });
    // Offset 0 of output (0, 0) is the padded corner (-1, -1).
    expect(() => maxPool2dScatter(tensor(new Array(2 * 3 * 3 * 3).fill(1), [2, 3, 3, 3], f64), tensor(new Array(54).fill(0), [2, 3, 3, 3], f64), p3, x.shape))
      .toThrow(/maxPool2dScatter: argmax 0 at output 0 is not an in-image position of a 3x3 window/);
  });
});
