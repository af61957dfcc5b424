// The CPU backend's fused relu, leaky relu and batch-norm kernels against WebGPU, which has none and runs their composites: values, gradients, HVPs and running statistics agree within float32 rounding (Node, Dawn).
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { withBackend } from '../../src/backend/registry.js';
import { hvpAndMixed, valueAndGrad, vjp } from '../../src/autodiff/transforms.js';
import { oneHot, tensor } from '../../src/core/creation.js';
import { add, mul, sum } from '../../src/core/ops.js';
import type { Tensor } from '../../src/core/tensor.js';
import { functionalCall } from '../../src/nn/module.js';
import { leakyRelu, relu, sigmoid } from '../../src/ops/activations.js';
import { batchNorm } from '../../src/ops/batch-norm.js';
import { crossEntropyPerSample } from '../../src/ops/losses.js';
import { Random } from '../../src/util/random.js';
import { TinyCnn } from '../nn/tiny-cnn.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('fused kernels vs WebGPU composites (Node)');
const cpu = new CpuBackend();

function normals(n: number, seed: number, scale = 1, shift = 0): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => shift + scale * rng.normal());
}

async function read(ts: readonly Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of ts) out.push(Float32Array.from(await t.data()));
  return out;
}

/**
 * |got - want| <= rtol |want| + floor per element, floor = atol · max|want| of that output: relative, with an
 * absolute floor for entries small by cancellation (x̄ sums to zero per channel; HVP entries of mixed sign).
 */
function expectClose(got: Float32Array[], want: Float32Array[], rtol: number, atol: number, what: string): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, k) => {
    const g = got[k];
    expect(g.length, `${what} output ${k}`).toBe(w.length);
    const floor = atol * w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let worst = 0;
    let at = -1;
    w.forEach((v, i) => {
      const r = Math.abs(g[i] - v) / (rtol * Math.abs(v) + floor);
      if (!(r <= worst)) {
        worst = r;
        at = i;
      }
    });
    expect(worst, `${what} output ${k} element ${at}: gpu ${g[at]} vs cpu ${w[at]} (${worst.toFixed(2)}x the bound)`).toBeLessThanOrEqual(1);
  });
}

describe.skipIf(gpu === null)('fused CPU kernels (relu, leaky relu, batch norm) equal the WebGPU composites', () => {
  afterAll(() => gpu?.dispose());

  it('WebGPU has no fused kernels (its ops run the composites); the CPU has them all', () => {
    expect((gpu as Backend).hasKernel).toBeUndefined();
    expect(cpu.hasKernel('batchNormTrain') && cpu.hasKernel('relu')).toBe(true);
  });

  it.each([[[8, 4, 6, 6]], [[16, 3]], [[5, 1, 4, 4]]])('batch norm %j: y, mean, variance and x̄, γ̄, β̄', async (s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const run = async (be: Backend): Promise<Float32Array[]> => read(withBackend(be, () => {
      const x = tensor(normals(n, 1, 2, 3), s);
      const gamma = tensor(normals(s[1], 2, 0.5, 1), [s[1]]);
      const beta = tensor(normals(s[1], 3), [s[1]]);
      const u = tensor(normals(n, 4), s);
      const { outputs, pullback } = vjp(([a, g, b]) => [relu(batchNorm(a, g, b, 1e-5).y)], [x, gamma, beta]);
      const o = batchNorm(x, gamma, beta, 1e-5);
      return [...outputs, o.mean, o.variance, ...pullback([u])];
    }));
    const want = await run(cpu);
    const got = await run(gpu!);
    expectClose(got.slice(0, 3), want.slice(0, 3), 1e-5, 1e-6, 'forward');
    expectClose(got.slice(3), want.slice(3), 1e-4, 1e-5, 'backward');
  });

  it('leaky relu (slope 0.1): values, gradient and the second-order term through its backward', async () => {
    const n = 4 * 3 * 5 * 5;
    const run = async (be: Backend): Promise<Float32Array[]> => read(withBackend(be, () => {
      const x = tensor(normals(n, 12), [4, 3, 5, 5]);
      const u = tensor(normals(n, 13), [4, 3, 5, 5]);
      const { outputs, pullback } = vjp(([a]) => [leakyRelu(a, 0.1)], [x]);
      // d/dx <leakyRelu'(x) ⊙ x², u>: the backward primitive's own rule.
      const second = valueAndGrad(([a]) => sum(mul(vjp(([q]) => [leakyRelu(q, 0.1)], [a]).pullback([mul(a, a)])[0], u)))([x]).grads;
      return [...outputs, ...pullback([u]), ...second];
    }));
    const want = await run(cpu);
    const got = await run(gpu!);
    expectClose(got, want, 1e-6, 1e-7, 'leaky relu');
  });

  it('a CNN with batch norm and ReLU: loss, gradient, H v and mixed term, then running statistics and evaluation', async () => {
    const run = async (be: Backend): Promise<Float32Array[]> => {
      const [main, tail] = withBackend(be, () => {
        const model = new TinyCnn(new Random(7), { backend: be }, [4, 6]);
        const x = tensor(normals(6 * 64, 8, 1, 0.5), [6, 1, 8, 8]);
        const t = oneHot([0, 1, 2, 0, 1, 2], 3);
        const w = model.parameters().map((p) => p.value);
        const lam = [tensor(normals(6, 9), [6]), tensor([0.1], [1])];
        const pattern = tensor(normals(64, 11), [1, 1, 8, 8]);
        const v = w.map((wi, i) => tensor(normals(wi.size, 10 + i), wi.shape));
        const loss = (ws: Tensor[], ls: Tensor[]): Tensor => functionalCall(model, ws, () => {
          const logits = model.forward(mul(x, add(mul(pattern, ls[1]), 1)), { training: true, updateStats: false });
          return sum(mul(crossEntropyPerSample(logits, t), sigmoid(ls[0])));
        });
        const r = hvpAndMixed(loss, w, lam, v);
        // Two training steps' statistics, then the evaluation forward on the running ones.
        for (let k = 0; k < 2; k++) valueAndGrad(([a]) => sum(model.forward(a, { training: true })))([tensor(normals(6 * 64, 20 + k), [6, 1, 8, 8])]);
        const y = model.forward(tensor(normals(3 * 64, 30), [3, 1, 8, 8]), { training: false });
        return [[r.value, ...r.grad, ...r.hvp, ...r.mixed], [model.bn1.runningMean, model.bn1.runningVar, model.bn2.runningMean, model.bn2.runningVar, y]];
      });
      return [...(await read(main)), ...(await read(tail))];
    };
    const want = await run(cpu);
    const got = await run(gpu!);
    expectClose(got, want, 1e-4, 2e-5, 'CNN');
  }, 60_000);
});
