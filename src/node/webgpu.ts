// WebGPU in Node through the `webgpu` package (Dawn): the GPU object, adapter discovery and a backend constructor.

import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from '../backend/webgpu/webgpu-backend.js';

export interface NodeWebGpuOptions extends WebGpuBackendOptions {
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: GPUPowerPreference;
  /** Dawn toggles passed to the package's create(), e.g. 'enable-dawn-features=...'. */
  dawnFlags?: string[];
}

let cachedGpu: GPU | null = null;

/** Dynamic import through a variable, so browser bundles of the library neither resolve nor include Node modules. */
const importModule = <T>(specifier: string): Promise<T> => import(/* @vite-ignore */ specifier) as Promise<T>;

/** navigator.gpu's equivalent in Node (loaded on first use; the GPU object is kept alive for the process). */
export async function nodeGpu(dawnFlags: string[] = []): Promise<GPU> {
  if (cachedGpu !== null && dawnFlags.length === 0) return cachedGpu;
  // Mesa's Vulkan drivers (lavapipe) want a runtime directory; any writable folder will do.
  if (typeof process !== 'undefined' && !process.env.XDG_RUNTIME_DIR) {
    const { mkdtempSync } = await importModule<typeof import('node:fs')>('node:fs');
    const { tmpdir } = await importModule<typeof import('node:os')>('node:os');
    const { join } = await importModule<typeof import('node:path')>('node:path');
    process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'iml-xdg-'));
  }
  let mod: typeof import('webgpu');
  try {
    mod = await importModule<typeof import('webgpu')>('webgpu');
  } catch (e) {
    throw new Error(`WebGPU in Node needs the 'webgpu' package (npm install webgpu): ${(e as Error).message}`);
  }
  const gpu = mod.create(dawnFlags);
  if (dawnFlags.length === 0) cachedGpu = gpu;
  return gpu;
}

/** Why no adapter is available (null when one is), without creating a device. */
export async function nodeWebGpuUnavailable(featureLevel: 'core' | 'compatibility' = 'core'): Promise<string | null> {
  try {
    const gpu = await nodeGpu();
    const adapter = await gpu.requestAdapter({ featureLevel });
    return adapter === null ? `the webgpu package (Dawn) found no ${featureLevel} adapter (no GPU driver, and no Mesa >= 25 lavapipe)` : null;
  } catch (e) {
    return (e as Error).message;
  }
}

let gcFunction: (() => void) | null | undefined;

/**
 * V8's collector as a function (global.gc when Node runs with --expose-gc, otherwise exposed at run time
 * through node:v8 and node:vm), or null where that is impossible.
 */
export async function nodeGarbageCollector(): Promise<(() => void) | null> {
  if (gcFunction !== undefined) return gcFunction;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return (gcFunction = g);
  try {
    const v8 = await importModule<typeof import('node:v8')>('node:v8');
    const vm = await importModule<typeof import('node:vm')>('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    gcFunction = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    gcFunction = null;
  }
  return gcFunction;
}

/** A WebGPU backend on the first adapter Dawn offers in Node (collecting garbage under GPU memory growth). */
export async function createNodeWebGpuBackend(opts: NodeWebGpuOptions = {}): Promise<WebGpuBackend> {
  const collectGarbage = opts.collectGarbage ?? (await nodeGarbageCollector()) ?? undefined;
  return createWebGpuBackend(await nodeGpu(opts.dawnFlags ?? []), { ...opts, collectGarbage });
}
