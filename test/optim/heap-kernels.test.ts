// The fused Adam and RMSprop steps (in Wasm on the CPU heap, in JS on plain arrays) against their op-by-op rules and the gradient finiteness scan in Wasm against its JS loop: bit for bit on every flag combination, float32 and float64, every tail length; and a hand-checked first Adam step.
import { describe, expect, it } from 'vitest';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import { tensor, zerosLike } from '../../src/core/creation.js';
import { add, div, mul, sqrt } from '../../src/core/ops.js';
import { withBackend } from '../../src/backend/registry.js';
import { lerp } from '../../src/optim/optimizer.js';
import type { DType } from '../../src/core/dtype.js';
import type { Tensor } from '../../src/core/tensor.js';
import { fusedAdamStep, type AdamScalars } from '../../src/optim/adam-cpu.js';
import { Adam } from '../../src/optim/adam.js';
import { fusedRmspropStep } from '../../src/optim/rmsprop-cpu.js';
import { Random } from '../../src/util/random.js';

const heapBe = new CpuBackend({ heap: true });
const jsBe = new CpuBackend({ heap: false });
const heap = heapBe.heap()!;

// Under 32 elements the JS loop runs on both; 32-35, 1023 and 4099 reach Wasm with every tail length.
const SIZES = [1, 5, 32, 33, 34, 35, 1023, 4099];

function data(n: number, seed: number, scale = 1): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => (i % 13 === 7 ? 0 : i % 17 === 3 ? -0 : scale * (rng.uniform() * 6 - 3)));
}

const on = (be: CpuBackend, v: number[], dtype: DType): Tensor => tensor(v, [v.length], { dtype, backend: be });

function sameBits(a: Tensor, b: Tensor, what: string): void {
  const x = a.dataSync(), y = b.dataSync();
  expect(a.dtype, what).toBe(b.dtype);
  expect(x.length, what).toBe(y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) throw new Error(`${what}: element ${i}: heap ${x[i]}, JS ${y[i]}`);
}

describe('fused optimizer steps in Wasm equal their JS loops bit for bit', () => {
  it('Adam: the fused step in Wasm and in JS is the op-by-op rule bit for bit (weight decay on/off, per-element / one / no decay, lerp weight below and above 1/2, fresh and carried moments)', () => {
    let cases = 0;
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of SIZES) {
        for (const weightDecay of [0, 0.01]) {
          for (const decayKind of ['none', 'array', 'scalar'] as const) {
            for (const lerpWeight of [0.1, 0.7]) {
              for (const carried of [false, true]) {
                const s: AdamScalars = { weightDecay, lerpWeight, beta2: 0.999, oneMinusBeta2: 1 - 0.999, sqrtBc2: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8, negStepSize: -1e-3 / (1 - 0.9 ** 3) };
                const inputs = (be: CpuBackend) => ({
                  p: on(be, data(n, 1), dtype), g: on(be, data(n, 2), dtype),
                  decay: decayKind === 'none' ? undefined : on(be, decayKind === 'array' ? data(n, 4, 0.1).map(Math.abs) : [0.05], dtype),
                  m0: carried ? on(be, data(n, 5, 0.1), dtype) : undefined,
                  v0: carried ? on(be, data(n, 6, 0.1).map(Math.abs), dtype) : undefined,
                });
                const fused = (be: CpuBackend) => {
                  const x = inputs(be);
                  return fusedAdamStep(x.p, x.g, x.m0, x.v0, s, x.decay);
                };
                const h = fused(heapBe), j = fused(jsBe);
                // Adam.update's generic path, one primitive per operation (what WebGPU runs), on plain arrays.
                const o = withBackend(jsBe, () => {
                  const x = inputs(jsBe);
                  const g0 = weightDecay !== 0 ? add(x.g, mul(x.p, weightDecay)) : x.g;
                  const g = x.decay ? add(g0, mul(x.decay, x.p)) : g0;
                  const m = lerp(x.m0 ?? zerosLike(x.p), g, lerpWeight);
                  const v = add(mul(x.v0 ?? zerosLike(x.p), s.beta2), mul(mul(g, s.oneMinusBeta2), g));
                  return { value: add(x.p, div(mul(m, s.negStepSize), add(div(sqrt(v), s.sqrtBc2), s.eps))), m, v };
                });
                expect(heap.owns((h.value.buffer as CpuBuffer).data)).toBe(true);
                const what = `adam ${dtype} n=${n} wd=${weightDecay} decay=${decayKind} w=${lerpWeight} carried=${carried}`;
                for (const [name, r] of [['Wasm', h], ['JS', j]] as const) {
                  sameBits(r.value, o.value, `${what} ${name} value`);
                  sameBits(r.m, o.m, `${what} ${name} m`);
                  sameBits(r.v, o.v, `${what} ${name} v`);
                }
                cases++;
              }
            }
          }
        }
      }
    }
    expect(cases).toBe(2 * SIZES.length * 2 * 3 * 2 * 2);
  });

  it('RMSprop: the fused step in Wasm and in JS is the op-by-op rule bit for bit (weight decay on/off, fresh and carried averages)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of SIZES) {
        for (const weightDecay of [0, 0.01]) {
          for (const carried of [false, true]) {
            const s = { alpha: 0.99, eps: 1e-8, weightDecay, lr: 0.1 };
            const inputs = (be: CpuBackend) => ({ p: on(be, data(n, 1), dtype), g: on(be, data(n, 2), dtype), v0: carried ? on(be, data(n, 6, 0.1).map(Math.abs), dtype) : undefined });
            const run = (be: CpuBackend) => {
              const x = inputs(be);
              return fusedRmspropStep(x.p, x.g, x.v0, s);
            };
            const h = run(heapBe), j = run(jsBe);
            // RMSprop.update's generic path (momentum 0, not centred), one primitive per operation, on plain arrays.
            const o = withBackend(jsBe, () => {
              const x = inputs(jsBe);
              const g = weightDecay !== 0 ? add(x.g, mul(x.p, weightDecay)) : x.g;
              const v = add(mul(x.v0 ?? zerosLike(x.p), s.alpha), mul(mul(g, 1 - s.alpha), g));
              return { value: add(x.p, div(mul(g, -s.lr), add(sqrt(v), s.eps))), v };
            });
            const what = `rmsprop ${dtype} n=${n} wd=${weightDecay} carried=${carried}`;
            for (const [name, r] of [['Wasm', h], ['JS', j]] as const) {
              sameBits(r.value, o.value, `${what} ${name} value`);
              sameBits(r.squareAvg, o.v, `${what} ${name} square_avg`);
            }
          }
        }
      }
    }
  });

  it('the first Adam step moves every weight by lr·g/(|g| + ε) against its gradient (hand-checked)', () => {
    const g = [0.5, -2, 1e-3, 4, -0.25, 3, -1, 0.125].flatMap((x) => [x, x * 2, x / 2, -x]); // 32 values: the Wasm path
    const p = g.map((_, i) => i / 10);
    const s: AdamScalars = { weightDecay: 0, lerpWeight: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, sqrtBc2: Math.sqrt(0.001), eps: 1e-8, negStepSize: -0.01 / 0.1 };
    const r = fusedAdamStep(on(heapBe, p, 'float64'), on(heapBe, g, 'float64'), undefined, undefined, s);
    const got = r.value.dataSync();
    g.forEach((gi, i) => expect(got[i]).toBeCloseTo(p[i] - (0.01 * gi) / (Math.abs(gi) + 1e-8), 12));
    expect(Array.from(r.m.dataSync())).toEqual(g.map((x) => 0.1 * x));
  });

  it('the gradient scan names the first non-finite element, in Wasm as in JS', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [33, 100, 4099]) {
        for (const at of [0, 15, 16, n - 1]) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const messages = [heapBe, jsBe].map((be) => {
              const grad = data(n, 3);
              grad[at] = bad;
              if (at + 1 < n) grad[at + 1] = NaN; // a later one too: the first is reported
              const opt = new Adam([{ name: 'w', value: on(be, data(n, 1), dtype) }]);
              try {
                opt.step([on(be, grad, dtype)]);
                return 'no error';
              } catch (e) {
                return (e as Error).message;
              }
            });
            expect(messages[0]).toContain(`(${bad}) for parameter 'w' at element ${at}`);
            expect(messages[0]).toBe(messages[1]);
          }
        }
      }
    }
  });
});
