// conv2d forward, input and weight gradients and second-order products against float64 nested-loop formulas.
import { describe, expect, it } from 'vitest';
import { conv2d, hvp, mul, sum, tensor, vjp, type Tensor } from '../../src/index.js';
import { at, expectClose, f32, f64, normals, prod } from './helpers.js';

interface Case {
  n: number; c: number; h: number; w: number; o: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number;
}

const outSize = (i: number, k: number, s: number, p: number): number => Math.floor((i + 2 * p - k) / s) + 1;

function dims(q: Case) {
  const ho = outSize(q.h, q.kh, q.sh, q.ph);
  const wo = outSize(q.w, q.kw, q.sw, q.pw);
  return { xs: [q.n, q.c, q.h, q.w], ws: [q.o, q.c, q.kh, q.kw], ys: [q.n, q.o, ho, wo], ho, wo };
}

/** y[n,o,i,j] = Σ_{c,a,b} x[n,c,i·sh-ph+a, j·sw-pw+b] · w[o,c,a,b], zero outside the image. */
function refConv(q: Case, x: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const { xs, ws, ys, ho, wo } = dims(q);
  const y = new Float64Array(prod(ys));
  for (let n = 0; n < q.n; n++)
    for (let o = 0; o < q.o; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let s = 0;
          for (let c = 0; c < q.c; c++)
            for (let a = 0; a < q.kh; a++)
              for (let b = 0; b < q.kw; b++) {
                const iy = i * q.sh - q.ph + a;
                const ix = j * q.sw - q.pw + b;
                if (iy < 0 || iy >= q.h || ix < 0 || ix >= q.w) continue;
                s += x[at(xs, n, c, iy, ix)] * w[at(ws, o, c, a, b)];
              }
          y[at(ys, n, o, i, j)] = s;
        }
  return y;
}

/**
 * ∂<g, y>/∂x written as a gather over input pixels (not the scatter of the forward loop):
 * x[n,c,iy,ix] meets w[o,c,a,b] at the output (i, j) with i·sh - ph + a = iy, j·sw - pw + b = ix.
 */
function refGradInput(q: Case, g: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const { xs, ws, ys, ho, wo } = dims(q);
  const dx = new Float64Array(prod(xs));
  for (let n = 0; n < q.n; n++)
    for (let c = 0; c < q.c; c++)
      for (let iy = 0; iy < q.h; iy++)
        for (let ix = 0; ix < q.w; ix++) {
          let s = 0;
          for (let a = 0; a < q.kh; a++) {
            const ty = iy + q.ph - a;
            if (ty < 0 || ty % q.sh !== 0 || ty / q.sh >= ho) continue;
            for (let b = 0; b < q.kw; b++) {
              const tx = ix + q.pw - b;
              if (tx < 0 || tx % q.sw !== 0 || tx / q.sw >= wo) continue;
              for (let o = 0; o < q.o; o++) s += g[at(ys, n, o, ty / q.sh, tx / q.sw)] * w[at(ws, o, c, a, b)];
            }
          }
          dx[at(xs, n, c, iy, ix)] = s;
        }
  return dx;
}

/** ∂<g, y>/∂w[o,c,a,b] = Σ_{n,i,j} g[n,o,i,j] · x[n,c,i·sh-ph+a, j·sw-pw+b]. */
function refGradWeight(q: Case, x: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
  const { xs, ws, ys, ho, wo } = dims(q);
  const dw = new Float64Array(prod(ws));
  for (let o = 0; o < q.o; o++)
    for (let c = 0; c < q.c; c++)
      for (let a = 0; a < q.kh; a++)
        for (let b = 0; b < q.kw; b++) {
          let s = 0;
          for (let n = 0; n < q.n; n++)
            for (let i = 0; i < ho; i++)
              for (let j = 0; j < wo; j++) {
                const iy = i * q.sh - q.ph + a;
                const ix = j * q.sw - q.pw + b;
                if (iy < 0 || iy >= q.h || ix < 0 || ix >= q.w) continue;
                s += g[at(ys, n, o, i, j)] * x[at(xs, n, c, iy, ix)];
              }
          dw[at(ws, o, c, a, b)] = s;
        }
  return dw;
}

const base = { n: 2, c: 3, o: 4 };
const CASES: Array<[string, Case]> = [
  ['3x3 stride 1 pad 0, 7x5 input', { ...base, h: 7, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0 }],
  ['3x3 stride 1 pad 1, 6x8 input', { ...base, h: 6, w: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }],
  ['3x3 stride 2 pad 1, 7x6 input (odd/even)', { ...base, h: 7, w: 6, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 }],
  ['3x3 stride 2 pad 2, 5x9 input', { ...base, h: 5, w: 9, kh: 3, kw: 3, sh: 2, sw: 2, ph: 2, pw: 2 }],
  ['5x5 stride 1 pad 2, batch 3, 1 input channel', { n: 3, c: 1, o: 2, h: 6, w: 7, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2 }],
  ['1x1 stride 2 (WRN shortcut), 8x7 input', { ...base, h: 8, w: 7, kh: 1, kw: 1, sh: 2, sw: 2, ph: 0, pw: 0 }],
  ['2x3 kernel, stride [1,2], padding [2,0]', { ...base, h: 5, w: 8, kh: 2, kw: 3, sh: 1, sw: 2, ph: 2, pw: 0 }],
  ['3x2 kernel, stride [2,1], padding [0,1], 3x3 input', { ...base, h: 3, w: 3, kh: 3, kw: 2, sh: 2, sw: 1, ph: 0, pw: 1 }],
  ['1x1 kernel, padding 2 (border outputs see only padding)', { ...base, h: 3, w: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 2, pw: 2 }],
  ['3x3 stride 3 pad 1, 8x10 input (windows do not overlap, last row/col unused)', { ...base, h: 8, w: 10, kh: 3, kw: 3, sh: 3, sw: 3, ph: 1, pw: 1 }],
  ['larger: batch 3, 6 -> 8 channels, 12x13, stride 2 pad 1 (Wasm gemm paths)', { n: 3, c: 6, o: 8, h: 12, w: 13, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 }],
  ['1x1 stride 1 pad 0 (pointwise: float32 reads the image as its columns)', { n: 3, c: 5, o: 3, h: 4, w: 7, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 }],
  ['1x1 image, 3x3 kernel, pad 1 (only the centre tap sees data)', { n: 2, c: 2, o: 3, h: 1, w: 1, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }],
  ['larger stride 1: batch 4, 5 -> 7 channels, 15x17, 3x3 pad 1 (row copies and SIMD adds with tails)', { n: 4, c: 5, o: 7, h: 15, w: 17, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }],
  ['wide kernel: 2x7 kernel, pad [0,3], 3x9 input (runs shorter than the kernel)', { ...base, h: 3, w: 9, kh: 2, kw: 7, sh: 1, sw: 1, ph: 0, pw: 3 }],
];

const opts = (q: Case) => ({ stride: [q.sh, q.sw] as [number, number], padding: [q.ph, q.pw] as [number, number] });

describe.each(CASES)('conv2d %s', (_name, q) => {
  const { xs, ws, ys } = dims(q);
  const x = normals(prod(xs), 1);
  const w = normals(prod(ws), 2);
  const g = normals(prod(ys), 3);

  it('output shape and float64 forward values', () => {
    const y = conv2d(tensor(x, xs, f64), tensor(w, ws, f64), opts(q));
    expect(y.shape).toEqual(ys);
    expect(y.dtype).toBe('float64');
    expectClose(y.toArray(), refConv(q, x, w), { label: 'y' });
  });

  it('float32 forward values (relative tolerance)', () => {
    const y = conv2d(tensor(x, xs, f32), tensor(w, ws, f32), opts(q));
    expect(y.dtype).toBe('float32');
    expectClose(y.toArray(), refConv(q, x, w), { rtol: 1e-5, atol: 1e-5, label: 'y32' });
  });

  it('input and weight gradients through vjp (float64)', () => {
    const { outputs, pullback } = vjp(([a, b]) => [conv2d(a, b, opts(q))], [tensor(x, xs, f64), tensor(w, ws, f64)]);
    expectClose(outputs[0].toArray(), refConv(q, x, w), { label: 'y' });
    const [dx, dw] = pullback([tensor(g, ys, f64)]);
    expect(dx.shape).toEqual(xs);
    expect(dw.shape).toEqual(ws);
    expectClose(dx.toArray(), refGradInput(q, g, w), { label: 'dx' });
    expectClose(dw.toArray(), refGradWeight(q, x, g), { label: 'dw' });
  });

  it('input and weight gradients in float32 (relative tolerance)', () => {
    const { pullback } = vjp(([a, b]) => [conv2d(a, b, opts(q))], [tensor(x, xs, f32), tensor(w, ws, f32)]);
    const [dx, dw] = pullback([tensor(g, ys, f32)]);
    expectClose(dx.toArray(), refGradInput(q, g, w), { rtol: 1e-5, atol: 1e-5, label: 'dx32' });
    expectClose(dw.toArray(), refGradWeight(q, x, g), { rtol: 1e-5, atol: 1e-4, label: 'dw32' });
  });

  it('joint Hessian-vector product of ½‖conv(x, w)‖² in (x, w) (double backward through both gradient kernels)', () => {
    // L = ½ Σ y², y = conv(x, w).  ∇_x L = Jxᵀ y, ∇_w L = Jwᵀ y.  Along (vx, vw): dy = conv(vx, w) + conv(x, vw),
    // H v = (Jxᵀ dy + Jxᵀ(w→vw) y,  Jwᵀ dy + Jwᵀ(x→vx) y).
    const vx = normals(prod(xs), 4);
    const vw = normals(prod(ws), 5);
    const L = ([a, b]: Tensor[]): Tensor => {
      const y = conv2d(a, b, opts(q));
      return mul(sum(mul(y, y)), 0.5);
    };
    const [hx, hw] = hvp(L, [tensor(x, xs, f64), tensor(w, ws, f64)], [tensor(vx, xs, f64), tensor(vw, ws, f64)]);
    const y = refConv(q, x, w);
    const y1 = refConv(q, vx, w);
    const y2 = refConv(q, x, vw);
    const dy = y1.map((a, i) => a + y2[i]);
    const gx1 = refGradInput(q, dy, w);
    const gx2 = refGradInput(q, y, vw);
    const gw1 = refGradWeight(q, x, dy);
    const gw2 = refGradWeight(q, vx, y);
    expectClose(hx.toArray(), gx1.map((a, i) => a + gx2[i]), { rtol: 1e-11, atol: 1e-11, label: 'Hv_x' });
    expectClose(hw.toArray(), gw1.map((a, i) => a + gw2[i]), { rtol: 1e-11, atol: 1e-11, label: 'Hv_w' });
  });
});

describe('conv2d reference sanity', () => {
  it('a hand-computed 1-channel 3x3 example with padding 1 and stride 2', () => {
    // x = 1..9 in a 3x3 image, w = all ones 3x3: outputs at (0,0), (0,2), (2,0), (2,2) of the padded sums.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], f64);
    const w = tensor(new Array(9).fill(1), [1, 1, 3, 3], f64);
    const y = conv2d(x, w, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(y.toArray()).toEqual([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  });

  it('cross-correlation, not convolution: an asymmetric kernel is not flipped', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], f64);
    const w = tensor([1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 3, 3], f64); // picks the top-left of each window
    expect(conv2d(x, w, { padding: 1 }).toArray()).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
  });
});
