// Node WebGPU test environment: a backend on Dawn's adapter, or a plain skip notice (a hard failure under CI or IML_REQUIRE_WEBGPU=1).

import { createNodeWebGpuBackend, nodeWebGpuUnavailable } from '../../src/node/webgpu.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.js';
import { requiredBy, skipOrFail } from '../require-or-skip.js';

/** Set by .ci/run (CI=true, IML_REQUIRE_WEBGPU=1): a missing adapter (or browser) fails the suites instead of skipping them. */
export const REQUIRE_WEBGPU = requiredBy({ webgpu: true }) !== null;

/** The reason WebGPU suites cannot run here, or null. Under CI or IML_REQUIRE_WEBGPU=1 a reason is an error. */
export async function webGpuSkipReason(suite: string): Promise<string | null> {
  const reason = await nodeWebGpuUnavailable();
  if (reason === null) return null;
  return skipOrFail(suite, `${reason}; install Mesa >= 25 (mesa-vulkan-drivers from bookworm-backports, see .ci/run)`, { tag: 'webgpu', webgpu: true });
}

/** A fresh backend (one per test file), or null when the suite is skipped. */
export async function nodeBackendOrSkip(suite: string): Promise<WebGpuBackend | null> {
  if ((await webGpuSkipReason(suite)) !== null) return null;
  // IML_WEBGPU_POWER=high-performance picks the discrete GPU where Dawn also sees a software adapter.
  const power = process.env.IML_WEBGPU_POWER as GPUPowerPreference | undefined;
  // Top-level awaits have no test timeout: a device that never arrives must fail, not hang the run.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${suite}: WebGPU device creation did not finish within 90 s`)), 90_000);
  });
  try {
    return await Promise.race([createNodeWebGpuBackend(power ? { powerPreference: power } : {}), limit]);
  } finally {
    clearTimeout(timer);
  }
}
