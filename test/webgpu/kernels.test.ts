// Every WebGPU kernel (and HVP/mixed/jvp of an MLP and a CNN) equals the CPU backend on seeded inputs, in Node on Dawn.

import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { allChecks, compareOutputs, TOLERANCE } from './cases.js';
import { createNodeWebGpuBackend } from '../../src/backend/webgpu/node.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('WebGPU kernel equivalence (Node)');
const cpu = new CpuBackend();

describe.skipIf(gpu === null)('WebGPU kernels equal the CPU backend (Node, Dawn)', () => {
  afterAll(() => gpu?.dispose());

  for (const c of allChecks()) {
    it(`${c.name} (${c.kind}, tol ${TOLERANCE[c.kind]})`, async () => {
      const want = await c.run(cpu);
      const got = await c.run(gpu!);
      const r = compareOutputs(c.kind, got, want);
      expect(r.ok, `${c.name}: ${r.message}`).toBe(true);
    });
  }
});

describe.skipIf(gpu === null)('WebGPU kernels on a compatibility-mode device (Node, Dawn)', () => {
  it('every check equals the CPU backend within compat limits (<= 128 invocations, 16 KiB workgroup memory)', async () => {
    const compat = await createNodeWebGpuBackend({ featureLevel: 'compatibility' });
    try {
      expect(compat.device.features.has('core-features-and-limits')).toBe(false);
      const failures: string[] = [];
      for (const c of allChecks()) {
        const r = compareOutputs(c.kind, await c.run(compat), await c.run(cpu));
        if (!r.ok) failures.push(`${c.name}: ${r.message}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    } finally {
      compat.dispose();
    }
  });
});
