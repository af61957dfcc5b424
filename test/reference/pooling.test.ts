// Max, average and global average pooling: forward values and gradient routing against float64 nested loops.
import { describe, expect, it } from 'vitest';
import { avgPool2d, globalAvgPool2d, hvp, maxPool2d, maxPool2dComposite, mul, relu, sum, tensor, vjp } from '../../src/index.js';
import { at, expectClose, f32, f64, normals, prod } from './helpers.js';

const SHAPES: Array<[number, number, number, number, number]> = [
  // n, c, h, w, k
  [2, 3, 4, 6, 2],
  [2, 2, 7, 5, 2], // ragged border on both axes is dropped
  [1, 3, 9, 6, 3],
  [3, 1, 5, 8, 3], // ragged rows and columns with k = 3
  [2, 2, 4, 4, 4], // one window covering the image
  [1, 2, 3, 5, 1], // k = 1 is the identity
];

/** For each output: its value and the flat input index of the window's maximum (first one on ties). */
function refMaxPool(s: number[], x: ArrayLike<number>, k: number) {
  const [n, c, h, w] = s;
  const ho = Math.floor(h / k);
  const wo = Math.floor(w / k);
  const ys = [n, c, ho, wo];
  const y = new Float64Array(prod(ys));
  const arg = new Int32Array(prod(ys));
  for (let a = 0; a < n; a++)
    for (let b = 0; b < c; b++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let best = -Infinity;
          let bi = -1;
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++) {
              const idx = at(s, a, b, i * k + di, j * k + dj);
              if (x[idx] > best) {
                best = x[idx];
                bi = idx;
              }
            }
          y[at(ys, a, b, i, j)] = best;
          arg[at(ys, a, b, i, j)] = bi;
        }
  return { y, arg, ys };
}

function refAvgPool(s: number[], x: ArrayLike<number>, k: number) {
  const [n, c, h, w] = s;
  const ho = Math.floor(h / k);
  const wo = Math.floor(w / k);
  const ys = [n, c, ho, wo];
  const y = new Float64Array(prod(ys));
  for (let a = 0; a < n; a++)
    for (let b = 0; b < c; b++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let acc = 0;
          for (let di = 0; di < k; di++) for (let dj = 0; dj < k; dj++) acc += x[at(s, a, b, i * k + di, j * k + dj)];
          y[at(ys, a, b, i, j)] = acc / (k * k);
        }
  return { y, ys };
}

describe.each(SHAPES)('pooling on [%i, %i, %i, %i], window %i', (n, c, h, w, k) => {
  const s = [n, c, h, w];
  const x = normals(prod(s), 11 + h * w + k);

  it('maxPool2d forward values (float64 and float32)', () => {
    const { y, ys } = refMaxPool(s, x, k);
    const got = maxPool2d(tensor(x, s, f64), k);
    expect(got.shape).toEqual(ys);
    expectClose(got.toArray(), y, { rtol: 0, atol: 0, label: 'max64' });
    // float32: the max of rounded values is the rounded max, exactly.
    expectClose(maxPool2d(tensor(x, s, f32), k).toArray(), Array.from(y, Math.fround), { rtol: 0, atol: 0, label: 'max32' });
  });

  it('maxPool2d gradient goes to exactly the argmax of each window, nothing elsewhere (incl. the dropped border)', () => {
    const { arg, ys } = refMaxPool(s, x, k);
    const g = normals(prod(ys), 99);
    const { pullback } = vjp(([a]) => [maxPool2d(a, k)], [tensor(x, s, f64)]);
    const dx = pullback([tensor(g, ys, f64)])[0].toArray();
    const want = new Float64Array(prod(s));
    arg.forEach((src, o) => (want[src] += g[o]));
    expectClose(dx, want, { rtol: 0, atol: 0, label: 'dmax' });
    // The positions that receive gradient are exactly the argmaxes.
    const receivers = dx.flatMap((v, i) => (v !== 0 ? [i] : []));
    expect(receivers).toEqual(Array.from(arg).sort((p, q) => p - q));
  });

  it('avgPool2d forward values and gradient g/k² on each covered pixel, 0 on the dropped border', () => {
    const { y, ys } = refAvgPool(s, x, k);
    const { outputs, pullback } = vjp(([a]) => [avgPool2d(a, k)], [tensor(x, s, f64)]);
    expect(outputs[0].shape).toEqual(ys);
    expectClose(outputs[0].toArray(), y, { label: 'avg' });
    expectClose(avgPool2d(tensor(x, s, f32), k).toArray(), y, { rtol: 1e-6, atol: 1e-6, label: 'avg32' });
    const g = normals(prod(ys), 98);
    const dx = pullback([tensor(g, ys, f64)])[0].toArray();
    const want = new Float64Array(prod(s));
    const ho = Math.floor(h / k);
    const wo = Math.floor(w / k);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < c; b++)
        for (let iy = 0; iy < h; iy++)
          for (let ix = 0; ix < w; ix++) {
            const i = Math.floor(iy / k);
            const j = Math.floor(ix / k);
            want[at(s, a, b, iy, ix)] = i < ho && j < wo ? g[at(ys, a, b, i, j)] / (k * k) : 0;
          }
    expectClose(dx, want, { label: 'davg' });
  });
});

describe('max pooling, specific cases', () => {
  it('a hand-written 4x4 example: values and where the gradient lands', () => {
    const x = [
      1, 5, 2, 0,
      3, 4, 8, 7,
      -1, -2, 0, 6,
      -3, -0.5, 9, 1,
    ];
    const xt = tensor(x, [1, 1, 4, 4], f64);
    expect(maxPool2d(xt, 2).toArray()).toEqual([5, 8, -0.5, 9]);
    const { pullback } = vjp(([a]) => [maxPool2d(a, 2)], [xt]);
    const dx = pullback([tensor([10, 20, 30, 40], [1, 1, 2, 2], f64)])[0].toArray();
    expect(dx).toEqual([
      0, 10, 0, 0,
      0, 0, 20, 0,
      0, 0, 0, 0,
      0, 30, 40, 0,
    ]);
  });

  it('ties send the whole cotangent to the first maximum in row-major window order (PyTorch\'s rule)', () => {
    const xt = tensor([2, 2, 1, 2, 7, 7, 7, 7], [1, 2, 2, 2], f64);
    const { pullback } = vjp(([a]) => [maxPool2d(a, 2)], [xt]);
    const dx = pullback([tensor([3, 8], [1, 2, 1, 1], f64)])[0].toArray();
    expect(dx).toEqual([3, 0, 0, 0, 8, 0, 0, 0]);
  });

  it('the composite reference (reshape + max) shares a tie\'s cotangent equally instead', () => {
    const xt = tensor([2, 2, 1, 2, 7, 7, 7, 7], [1, 2, 2, 2], f64);
    const { pullback } = vjp(([a]) => [maxPool2dComposite(a, 2)], [xt]);
    const dx = pullback([tensor([3, 8], [1, 2, 1, 1], f64)])[0].toArray();
    expect(dx).toEqual([1, 1, 0, 1, 2, 2, 2, 2]);
  });

  it('relu → max-pool: second derivative of Σ pool(relu(x))² is 2 at each argmax with positive value, 0 elsewhere', () => {
    const s = [2, 2, 6, 6];
    const x = normals(prod(s), 7);
    const v = normals(prod(s), 8);
    const { arg } = refMaxPool(s, x, 2);
    const hv = hvp(([a]) => sum(mul(maxPool2d(relu(a), 2), maxPool2d(relu(a), 2))), [tensor(x, s, f64)], [tensor(v, s, f64)])[0].toArray();
    const want = new Float64Array(prod(s));
    arg.forEach((src) => {
      if (x[src] > 0) want[src] = 2 * v[src];
    });
    expectClose(hv, want, { label: 'Hv' });
  });
});

describe('globalAvgPool2d', () => {
  it('[N, C, H, W] -> [N, C] means and the gradient g/(HW) everywhere', () => {
    const s = [3, 4, 5, 7];
    const x = normals(prod(s), 21);
    const want = new Float64Array(12);
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 4; b++) {
        let acc = 0;
        for (let i = 0; i < 5; i++) for (let j = 0; j < 7; j++) acc += x[at(s, a, b, i, j)];
        want[a * 4 + b] = acc / 35;
      }
    const { outputs, pullback } = vjp(([q]) => [globalAvgPool2d(q)], [tensor(x, s, f64)]);
    expect(outputs[0].shape).toEqual([3, 4]);
    expectClose(outputs[0].toArray(), want, { label: 'gap' });
    const g = normals(12, 22);
    const dx = pullback([tensor(g, [3, 4], f64)])[0].toArray();
    const wantDx = new Float64Array(prod(s));
    for (let i = 0; i < wantDx.length; i++) wantDx[i] = g[Math.floor(i / 35)] / 35;
    expectClose(dx, wantDx, { label: 'dgap' });
  });
});
