// FixMatch on WebGPU (Node, Dawn): a short run follows the CPU run's trajectory on the continuous quantities (losses) within float32 tolerance.
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { memoryFixMatchStore } from '../../src/ssl/fixmatch-store.js';
import { trainFixMatch } from '../../src/ssl/fixmatch-trainer.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';
import { tinyConfig, tinyData } from '../ssl/cases.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('FixMatch on WebGPU (Node)');

describe.skipIf(gpu === null)('FixMatch on WebGPU', () => {
  const be = gpu!;
  afterAll(() => be.dispose());

  it('the same losses as on the CPU, step by step (tau 0: every unlabelled image contributes)', async () => {
    const data = tinyData();
    const cfg = tinyConfig({ steps: 4, evalEvery: 1, checkpointEvery: 4, tau: 0 });
    const run = async (backend?: Backend) => {
      const model = new SmallCnn(new Random(cfg.seed), { side: 8, numClasses: 3, widths: [4, 4, 4], backend });
      const losses: number[] = [];
      const r = await trainFixMatch(model, data, cfg, memoryFixMatchStore(), { onStep: (_s, l) => losses.push(l) });
      return { losses, metrics: r.metrics, backendName: model.parameters()[0].value.backend.name };
    };
    const cpu = await run();
    const onGpu = await run(be);
    expect(onGpu.backendName).toBe('webgpu');
    expect(cpu.losses.length).toBe(4);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-3, Math.abs(b));
    cpu.metrics.forEach((m, i) => {
      const g = onGpu.metrics[i];
      for (const k of ['loss', 'supervisedLoss', 'unsupervisedLoss', 'testLoss'] as const) expect(rel(g[k], m[k]), `${k} at step ${m.step}: gpu ${g[k]} cpu ${m[k]}`).toBeLessThan(2e-3);
      expect(g.maskRate).toBe(1);
      expect(g.lr).toBe(m.lr);
    });
    expect(cpu.metrics.at(-1)!.unsupervisedLoss).toBeGreaterThan(0);
  }, 120_000);
});
