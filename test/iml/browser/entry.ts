// Browser entry of the IML checks: bundled by esbuild and run in headless Chromium; meta-trains the shared problem on the CPU backend and on navigator.gpu.

import { createWebGpuBackend } from '../../../src/backend/webgpu/webgpu-backend.js';
import { memoryRunStore } from '../../../src/iml/run-store.js';
import { CASE_METHODS, runCase } from '../cases.js';

export interface ImlBrowserRun {
  /** Traces on the CPU backend, by method spec (plus 'resumed': neumann:3 stopped at 2 meta-epochs and resumed to 4; 'whole': not stopped). */
  cpu: Record<string, number[]>;
  /** Traces on WebGPU (empty when navigator.gpu is missing). */
  gpu: Record<string, number[]>;
  adapter: string;
  errors: string[];
}

async function run(): Promise<ImlBrowserRun> {
  const out: ImlBrowserRun = { cpu: {}, gpu: {}, adapter: '', errors: [] };
  const attempt = async (label: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      out.errors.push(`${label}: ${String((e as Error).message ?? e)}`);
    }
  };
  for (const { spec, epochs } of CASE_METHODS) await attempt(`cpu ${spec}`, async () => void (out.cpu[spec] = await runCase(spec, epochs)));
  await attempt('cpu resume', async () => {
    const store = memoryRunStore();
    await runCase('neumann:3', 2, null, { store }, { checkpointEvery: 2 });
    out.cpu.resumed = await runCase('neumann:3', 4, null, { store, resume: true }, { checkpointEvery: 2 });
    out.cpu.whole = await runCase('neumann:3', 4);
  });
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    out.errors.push('navigator.gpu is missing');
    return out;
  }
  await attempt('webgpu', async () => {
    const be = await createWebGpuBackend(gpu, { featureLevel: 'core' });
    out.adapter = be.adapterName;
    try {
      for (const { spec, epochs } of CASE_METHODS) out.gpu[spec] = await runCase(spec, epochs, be);
    } finally {
      be.dispose();
    }
  });
  return out;
}

(globalThis as unknown as { imlRunIml: () => Promise<ImlBrowserRun> }).imlRunIml = run;
