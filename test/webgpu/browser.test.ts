// The WebGPU checks bundled (esbuild) and run in Debian's headless Chromium via playwright-core, on SwiftShader (core) and lavapipe (compatibility); results must match the Node run.

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { browserSkipReason, bundleAndServe, CHROMIUM, CHROMIUM_ARGS } from '../browser-bundle.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { allChecks, base64ToF32, compareOutputs, type Check } from './cases.js';
import { nodeBackendOrSkip } from './gpu-env.js';
import type { BrowserRun } from './browser/entry.js';

const nodeGpu = await nodeBackendOrSkip('WebGPU browser-vs-Node checks');
const skip = nodeGpu === null || (await browserSkipReason('the browser WebGPU checks', 'webgpu', { webgpu: true })) !== null;

describe.skipIf(skip)('the same WebGPU checks in headless Chromium agree with Node', () => {
  const checks: Check[] = allChecks();
  const want = new Map<string, Float32Array[]>(); // CPU reference
  const node = new Map<string, Float32Array[]>(); // WebGPU in Node
  const scale = new Map<string, Float32Array[]>(); // per-element scale of the bound (CPU)
  let server: Server;
  let url = '';
  let profile = '';
  let context: import('playwright-core').BrowserContext;

  beforeAll(async () => {
    ({ server, url } = await bundleAndServe(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml webgpu checks'));
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'iml-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const cpu = new CpuBackend();
    for (const c of checks) {
      want.set(c.name, await c.run(cpu));
      node.set(c.name, await c.run(nodeGpu!));
      scale.set(c.name, await c.scale(cpu));
    }
  });

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    nodeGpu?.dispose();
  });

  for (const featureLevel of ['core', 'compatibility'] as const) {
    it(`${featureLevel} adapter: every check matches the Node run and the CPU reference`, async () => {
      const page = await context.newPage();
      try {
        await page.goto(url);
        await page.waitForFunction(() => 'imlRunChecks' in globalThis);
        const run = (await page.evaluate(
          (fl) => (globalThis as unknown as { imlRunChecks: (f: string) => Promise<unknown> }).imlRunChecks(fl),
          featureLevel,
        )) as BrowserRun;
        expect(run.error, run.error).toBeUndefined();
        console.log(`[webgpu] Chromium ${featureLevel} adapter: ${run.adapter}; limits ${JSON.stringify(run.limits)}; ${run.results.length} checks`);
        const failures: string[] = [];
        for (const c of checks) {
          const r = run.results.find((x) => x.name === c.name);
          if (!r) { failures.push(`${c.name}: missing`); continue; }
          if (r.error) { failures.push(`${c.name}: ${r.error}`); continue; }
          const got = r.outputs.map(base64ToF32);
          // Against the CPU reference: the check's bound. Against Node's WebGPU: twice it (two float32 results, each
          // within the bound of the reference).
          const vsNode = compareOutputs(c, got, node.get(c.name)!, scale.get(c.name)!, 2);
          const vsCpu = compareOutputs(c, got, want.get(c.name)!, scale.get(c.name)!);
          if (!vsNode.ok) failures.push(`${c.name} vs Node WebGPU: ${vsNode.message}`);
          if (!vsCpu.ok) failures.push(`${c.name} vs CPU: ${vsCpu.message}`);
        }
        expect(failures, failures.join('\n')).toEqual([]);
        expect(run.results.length).toBe(checks.length);
      } finally {
        await page.close();
      }
      // SwiftShader runs every check on the CPU: ~70 s on two idle cores, over 120 s when they are shared.
    }, 360_000);
  }
});
