// The IML loop on WebGPU: the same meta-training trajectory as on the CPU, resume from a GPU checkpoint, clear errors for exact solves.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMethod } from '../../src/hypergrad/methods.js';
import '../../src/linalg/index.js';
import { fileRunStore } from '../../src/node/file-run-store.js';
import { runIml } from '../../src/iml/trainer.js';
import { build, CASE_METHODS, config, data, expectCloseMessage, runCase } from '../iml/cases.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('IML on WebGPU (Node)');

describe.skipIf(gpu === null)('IML meta-training on WebGPU', () => {
  const be = gpu!;
  const dirs: string[] = [];
  afterAll(() => {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    be.dispose();
  });

  for (const { spec, epochs } of CASE_METHODS) {
    it(`${spec}: the same trajectory as on the CPU (losses, hypergradient norms, mean decay)`, async () => {
      const onCpu = await runCase(spec, epochs);
      const onGpu = await runCase(spec, epochs, be);
      // float32 kernels that differ only in summation order
      expect(expectCloseMessage(onGpu, onCpu, 2e-3)).toBeNull();
    });
  }

  it('the model, λ and batches live on the GPU; checkpoints read from it and resume there to the same result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iml-gpu-'));
    dirs.push(dir);
    const a = build(be);
    expect(a.model.parameters()[0].value.backend.name).toBe('webgpu');
    const whole = await runCase('neumann:3', 4, be);
    await runCase('neumann:3', 2, be, { store: fileRunStore(dir) }, { checkpointEvery: 2 });
    const resumed = await runCase('neumann:3', 4, be, { store: fileRunStore(dir), resume: true }, { checkpointEvery: 2 });
    expect(expectCloseMessage(resumed, whole, 1e-5)).toBeNull();
  });

  it('the exact solve says it needs the CPU backend', async () => {
    const g = build(be);
    await expect(runIml(g.model, g.mk, data, config({ method: parseMethod('exact'), metaEpochs: 1 }))).rejects.toThrow(/exact inverse-HVP.*'webgpu' backend.*CPU backend/);
  });
});
