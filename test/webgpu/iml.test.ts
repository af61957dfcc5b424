// The IML loop on WebGPU: the same meta-training trajectory as on the CPU, resume from a GPU checkpoint, clear errors for exact solves.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withBackend } from '../../src/backend/registry.js';
import { createImageDataset, type ImageDataset } from '../../src/data/dataset.js';
import { perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import '../../src/linalg/index.js';
import { runIml, THESIS_DEFAULTS, type ImlConfig, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { MLP } from '../../src/nn/index.js';
import { Random } from '../../src/util/random.js';
import type { Backend } from '../../src/backend/backend.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('IML on WebGPU (Node)');

function synthetic(n: number, seed: number, name: string): ImageDataset {
  const rng = new Random(seed);
  const labels = new Uint8Array(n).map(() => rng.int(3));
  const images = new Float32Array(n * 16).map((_, i) => Math.min(1, Math.max(0, 0.5 + 0.3 * rng.normal() + (labels[Math.floor(i / 16)] === i % 3 ? 0.3 : 0))));
  return createImageDataset({ images, labels, count: n, channels: 1, height: 4, width: 4, numClasses: 3, name });
}

const data = { train: synthetic(40, 1, 'train'), validation: synthetic(20, 2, 'val'), test: synthetic(20, 3, 'test') };
const config = (o: Partial<ImlConfig>): ImlConfig => ({
  ...THESIS_DEFAULTS, method: parseMethod('neumann:3'), seed: 5, innerSteps: 4, innerBatch: 8, metaEpochs: 3,
  innerLr: 1e-2, patience: 0, ...o,
});

/** A model (and its λ) created on `backend`: the trainer follows the model's backend. */
const build = (backend: Backend | null) => {
  const make = () => new MLP([16, 8, 3], new Random(9));
  const model = backend ? withBackend(backend, make) : make();
  return { model, mk: perParameterL2(model.parameters()) };
};

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'iml-gpu-'));
  dirs.push(d);
  return d;
};

/** Per-epoch numbers that must agree between backends (float32 kernels differ in summation order only). */
const trace = (ms: MetaEpochMetrics[]): number[] => ms.flatMap((m) => [m.validation.loss, m.train.loss, m.hypergradNorm, m.meanDecay]);

const expectClose = (a: number[], b: number[], rel: number): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(rel * Math.max(1e-3, Math.abs(b[i]))));
};

describe.skipIf(gpu === null)('IML meta-training on WebGPU', () => {
  const be = gpu!;
  afterAll(() => {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    be.dispose();
  });

  for (const spec of ['neumann:3', 'cg:3', 'damped-neumann:3', 't1t2']) {
    it(`${spec}: the same trajectory as on the CPU (losses, hypergradient norms, mean decay)`, async () => {
      const method = parseMethod(spec);
      const epochs = spec === 't1t2' ? 2 : 3;
      const cpu = build(null);
      const onCpu = await runIml(cpu.model, cpu.mk, data, config({ method, metaEpochs: epochs }));
      const g = build(be);
      expect(g.model.parameters()[0].value.backend.name).toBe('webgpu');
      const onGpu = await runIml(g.model, g.mk, data, config({ method, metaEpochs: epochs }));
      expect(onGpu.summary.diverged).toBeNull();
      expect(onGpu.metrics.length).toBe(epochs);
      expect(onGpu.metrics.every((m) => m.hypergradNorm > 0)).toBe(true);
      expectClose(trace(onGpu.metrics), trace(onCpu.metrics), 2e-3);
      expect(onGpu.metrics.map((m) => m.validation.accuracy)).toEqual(onCpu.metrics.map((m) => m.validation.accuracy));
    });
  }

  it('checkpoints read from the GPU and resume there to the same result', async () => {
    const dir = tmp();
    const a = build(be);
    const whole = await runIml(a.model, a.mk, data, config({ metaEpochs: 4 }));
    const b = build(be);
    await runIml(b.model, b.mk, data, config({ metaEpochs: 2, checkpointEvery: 2 }), { runDir: dir });
    const c = build(be);
    const resumed = await runIml(c.model, c.mk, data, config({ metaEpochs: 4, checkpointEvery: 2 }), { runDir: dir, resume: true });
    expect(c.model.parameters()[0].value.backend.name).toBe('webgpu');
    expect(resumed.metrics.length).toBe(4);
    expectClose(trace(resumed.metrics), trace(whole.metrics), 1e-5);
  });

  it('the exact solve says it needs the CPU backend', async () => {
    const g = build(be);
    await expect(runIml(g.model, g.mk, data, config({ method: parseMethod('exact'), metaEpochs: 1 }))).rejects.toThrow(/exact inverse-HVP.*'webgpu' backend.*CPU backend/);
  });
});
