// IML in the browser: the trainer bundled (esbuild, no Node built-ins) and run in Debian's headless Chromium follows the Node CPU trajectories on the CPU backend (to the engines' last-bit Math.exp/log differences) and on WebGPU (float32 tolerance).

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundleAndServe, CHROMIUM, CHROMIUM_ARGS } from '../browser-bundle.js';
import { memoryRunStore } from '../../src/iml/run-store.js';
import { CASE_METHODS, expectCloseMessage, runCase } from './cases.js';
import type { ImlBrowserRun } from './browser/entry.js';

const reason = await browserSkipReason('the browser IML run', 'iml', { webgpu: true });

describe.skipIf(reason !== null)('IML meta-training in headless Chromium agrees with Node', () => {
  let server: Server;
  let url = '';
  let profile = '';
  let context: import('playwright-core').BrowserContext;
  let run: ImlBrowserRun;
  const node: Record<string, number[]> = {};

  beforeAll(async () => {
    const served = await bundleAndServe(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml meta-training checks');
    ({ server, url } = served);
    // The trainer, hypergradients and run store bundle without Node built-ins.
    expect(served.js).not.toMatch(/from\s*["']node:(fs|path|os|crypto|child_process)["']/);
    for (const { spec, epochs } of CASE_METHODS) node[spec] = await runCase(spec, epochs);
    node.resumedWhole = await runCase('neumann:3', 4);
    const store = memoryRunStore();
    await runCase('neumann:3', 2, null, { store }, { checkpointEvery: 2 });
    node.resumed = await runCase('neumann:3', 4, null, { store, resume: true }, { checkpointEvery: 2 });
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'iml-train-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = await context.newPage();
    try {
      await page.goto(url);
      await page.waitForFunction(() => 'imlRunIml' in globalThis);
      run = (await page.evaluate(() => (globalThis as unknown as { imlRunIml: () => Promise<unknown> }).imlRunIml())) as ImlBrowserRun;
    } finally {
      await page.close();
    }
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  // Same JS and Wasm on both hosts, but Chromium's V8 and Node 20's V8 round Math.exp and Math.log differently in
  // the last bit for some arguments (softplus), so the CPU trajectories agree to ~1e-8, not bit for bit.
  it('CPU backend: every method follows the Node trajectory to 1e-6; an in-memory resume reproduces the uninterrupted run exactly', () => {
    expect(run.errors.filter((e) => e.startsWith('cpu')), run.errors.join('\n')).toEqual([]);
    for (const { spec } of CASE_METHODS) expect(expectCloseMessage(run.cpu[spec] ?? [], node[spec], 1e-6), spec).toBeNull();
    expect(run.cpu.resumed).toEqual(run.cpu.whole);
    expect(node.resumed).toEqual(node.resumedWhole);
    expect(expectCloseMessage(run.cpu.resumed ?? [], node.resumed, 1e-6)).toBeNull();
  });

  it('WebGPU in the browser: every method follows the Node CPU trajectory within float32 tolerance', () => {
    expect(run.errors, run.errors.join('\n')).toEqual([]);
    expect(run.adapter).not.toBe('');
    for (const { spec } of CASE_METHODS) expect(expectCloseMessage(run.gpu[spec] ?? [], node[spec], 2e-3), `${spec} on ${run.adapter}`).toBeNull();
  });
});
