// Every WebGPU kernel (and HVP/mixed/jvp of an MLP and a CNN) equals the CPU backend on seeded inputs, in Node on Dawn.

import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { tensor } from '../../src/core/creation.js';
import { add, sum, transpose } from '../../src/core/ops.js';
import { Random } from '../../src/util/random.js';
import { allChecks, compareOutputs, TOLERANCE } from './cases.js';
import { createNodeWebGpuBackend } from '../../src/backend/webgpu/node.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('WebGPU kernel equivalence (Node)');
const cpu = new CpuBackend();

describe.skipIf(gpu === null)('WebGPU kernels equal the CPU backend (Node, Dawn)', () => {
  afterAll(() => gpu?.dispose());

  it('tensors past 2^22 elements (exact integer index division): broadcast add, transpose, sum', async () => {
    const rng = new Random(9);
    const a = Float32Array.from({ length: 2100 * 2001 }, () => rng.uniform() - 0.5);
    const b = Float32Array.from({ length: 2001 }, () => rng.uniform() - 0.5);
    const run = async (be: typeof cpu | NonNullable<typeof gpu>): Promise<Float32Array[]> => {
      const x = tensor(a, [2100, 2001], { backend: be });
      const y = tensor(b, [2001], { backend: be });
      const outs = [add(x, y), transpose(x), sum(x, 0), sum(x, 1)];
      const r: Float32Array[] = [];
      for (const o of outs) r.push(Float32Array.from(await o.data()));
      return r;
    };
    const want = await run(cpu);
    const got = await run(gpu!);
    expect(compareOutputs('exact', got.slice(0, 2), want.slice(0, 2)).ok).toBe(true);
    const red = compareOutputs('reduce', got.slice(2), want.slice(2));
    expect(red.ok, red.message).toBe(true);
  });

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
