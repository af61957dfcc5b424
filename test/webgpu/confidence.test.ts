// The Confidence Network trainer on WebGPU (Node, Dawn): a short CN run (warm-up, inner steps, IFT-Identity meta-steps) follows the CPU run within float32 tolerance.
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { runBilevel } from '../../src/bilevel/loop.js';
import { cnFixMatchConfig, cnProblem, loopConfig } from '../ssl/confidence-cases.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('Confidence Network on WebGPU (Node)');

describe.skipIf(gpu === null)('Confidence Network trainer on WebGPU', () => {
  const be = gpu!;
  afterAll(() => be.dispose());

  it('the same losses, hypergradient norms and pool weights as on the CPU, meta-epoch by meta-epoch (tau 0: every unlabelled image contributes)', async () => {
    const loop = loopConfig({ metaEpochs: 3 });
    const cfg = cnFixMatchConfig(loop, { tau: 0 });
    const run = async (backend?: Backend) => {
      const { problem, model } = cnProblem('cn', cfg, backend);
      const r = await runBilevel(problem, loop);
      return { r, backendName: model.parameters()[0].value.backend.name };
    };
    const cpu = await run();
    const onGpu = await run(be);
    expect(onGpu.backendName).toBe('webgpu');
    expect(onGpu.r.diverged).toBeNull();
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-3, Math.abs(b));
    cpu.r.metrics.forEach((m, i) => {
      const g = onGpu.r.metrics[i];
      for (const k of ['trainLoss', 'supervisedLoss', 'unsupervisedLoss', 'validationLoss', 'testLoss', 'meanWeight'] as const) {
        expect(rel(g[k]!, m[k]!), `${k} at meta-epoch ${m.metaEpoch}: gpu ${g[k]} cpu ${m[k]}`).toBeLessThan(2e-3);
      }
      expect(rel(g.hypergradNorm, m.hypergradNorm), `hypergradient norm at meta-epoch ${m.metaEpoch}`).toBeLessThan(1e-2);
      g.poolWeights!.original.forEach((v, j) => expect(rel(v, m.poolWeights!.original[j]), `pool weight ${j}`).toBeLessThan(2e-3));
      expect(g.maskRate).toBe(1);
    });
    expect(cpu.r.metrics.at(-1)!.unsupervisedLoss).toBeGreaterThan(0);
  }, 300_000);
});
