// Every WebGPU kernel (and HVP/mixed/jvp of an MLP and a CNN) equals the CPU backend on seeded inputs, in Node on Dawn, element by element within float32 rounding bounds.

import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { tensor } from '../../src/core/creation.js';
import { add, sum, transpose } from '../../src/core/ops.js';
import { Random } from '../../src/util/random.js';
import { allChecks, compareOutputs, TOLERANCES } from './cases.js';
import { createNodeWebGpuBackend } from '../../src/node/webgpu.js';
import { nodeBackendOrSkip } from './gpu-env.js';

const gpu = await nodeBackendOrSkip('WebGPU kernel equivalence (Node)');
const cpu = new CpuBackend();

const fmt = (name: keyof typeof TOLERANCES): string => {
  const t = TOLERANCES[name];
  return t.rtol === 0 && t.atol === 0 ? 'bit-exact' : `rtol ${t.rtol.toExponential(1)}${t.scale === 'terms' ? ' of Σ|terms|' : ''}, atol ${t.atol.toExponential(0)}`;
};

describe.skipIf(gpu === null)('WebGPU kernels equal the CPU backend (Node, Dawn)', () => {
  afterAll(() => gpu?.dispose());

  it('tensors past 2^22 elements (exact integer index division): broadcast add, transpose, sum', async () => {
    const rng = new Random(9);
    const a = Float32Array.from({ length: 2100 * 2001 }, () => rng.uniform() - 0.5);
    const b = Float32Array.from({ length: 2001 }, () => rng.uniform() - 0.5);
    const run = async (be: typeof cpu | NonNullable<typeof gpu>, absolute = false): Promise<Float32Array[]> => {
      const x = tensor(absolute ? a.map(Math.abs) : a, [2100, 2001], { backend: be });
      const y = tensor(absolute ? b.map(Math.abs) : b, [2001], { backend: be });
      const outs = [add(x, y), transpose(x), sum(x, 0), sum(x, 1)];
      const r: Float32Array[] = [];
      for (const o of outs) r.push(Float32Array.from(await o.data()));
      return r;
    };
    const want = await run(cpu);
    const got = await run(gpu!);
    const scale = await run(cpu, true);
    const ew = compareOutputs({ tolerance: 'arith' }, got.slice(0, 1), want.slice(0, 1), scale.slice(0, 1));
    expect(ew.ok, ew.message).toBe(true);
    expect(Array.from(got[1])).toEqual(Array.from(want[1]));
    const red = compareOutputs({ tolerance: 'reduce' }, got.slice(2), want.slice(2), scale.slice(2));
    expect(red.ok, red.message).toBe(true);
  });

  for (const c of allChecks()) {
    it(`${c.name} (${c.tolerance}: ${fmt(c.tolerance)})`, async () => {
      const want = await c.run(cpu);
      const got = await c.run(gpu!);
      const r = compareOutputs(c, got, want, await c.scale(cpu));
      if (process.env.IML_PRINT_ERRORS) console.log(`[errors] ${c.name}: ${r.worst.toFixed(3)} of the bound; ${r.message}`);
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
        const r = compareOutputs(c, await c.run(compat), await c.run(cpu), await c.scale(cpu));
        if (process.env.IML_PRINT_ERRORS) console.log(`[errors compat] ${c.name}: ${r.worst.toFixed(3)} of the bound`);
        if (!r.ok) failures.push(`${c.name}: ${r.message}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    } finally {
      compat.dispose();
    }
  });
});
