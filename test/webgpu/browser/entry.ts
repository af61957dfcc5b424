// Browser entry of the WebGPU checks: bundled by esbuild and run in headless Chromium, it runs every check of cases.ts on navigator.gpu.

import { createWebGpuBackend } from '../../../src/backend/webgpu/webgpu-backend.js';
import { allChecks, f32ToBase64 } from '../cases.js';

export interface BrowserRun {
  adapter: string;
  limits: { maxStorageBuffersPerShaderStage: number; maxComputeInvocationsPerWorkgroup: number; maxComputeWorkgroupStorageSize: number };
  results: { name: string; outputs: string[]; error?: string }[];
  error?: string;
}

async function runChecks(featureLevel: 'core' | 'compatibility', only?: string[]): Promise<BrowserRun> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { adapter: '', limits: { maxStorageBuffersPerShaderStage: 0, maxComputeInvocationsPerWorkgroup: 0, maxComputeWorkgroupStorageSize: 0 }, results: [], error: 'navigator.gpu is missing' };
  const be = await createWebGpuBackend(gpu, { featureLevel });
  const l = be.limits;
  const run: BrowserRun = {
    adapter: be.adapterName,
    limits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
    results: [],
  };
  try {
    for (const c of allChecks()) {
      if (only && !only.includes(c.name)) continue;
      try {
        const outs = await c.run(be);
        run.results.push({ name: c.name, outputs: outs.map(f32ToBase64) });
      } catch (e) {
        run.results.push({ name: c.name, outputs: [], error: String((e as Error).message ?? e) });
      }
    }
  } finally {
    be.dispose();
  }
  return run;
}

(globalThis as { imlRunChecks?: typeof runChecks }).imlRunChecks = runChecks;
