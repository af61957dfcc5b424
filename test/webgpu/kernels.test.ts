// Every WebGPU kernel (and HVP/mixed/jvp of an MLP and a CNN) equals the CPU backend on seeded inputs, in Node on Dawn.

import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { allChecks, compareOutputs, TOLERANCE } from './cases.js';
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
