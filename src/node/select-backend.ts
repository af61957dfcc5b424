// Chooses where tensors live for a Node command or worker: the CPU backend, or WebGPU through Dawn (IML_WEBGPU_POWER picks the adapter).

import { setBackend } from '../backend/registry.js';
import { createNodeWebGpuBackend, nodeWebGpuUnavailable } from './webgpu.js';

/** Makes the chosen backend the default for models, λ and batches; returns its label for logs and provenance. */
export async function selectBackend(kind: 'cpu' | 'webgpu'): Promise<string> {
  if (kind === 'cpu') return 'cpu (JS + Wasm SIMD)';
  const reason = await nodeWebGpuUnavailable();
  if (reason !== null) throw new Error(`--backend webgpu: ${reason}`);
  const power = process.env.IML_WEBGPU_POWER as GPUPowerPreference | undefined;
  const be = await createNodeWebGpuBackend(power ? { powerPreference: power } : {});
  setBackend(be);
  return `webgpu (${be.adapterName})`;
}
