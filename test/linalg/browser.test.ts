// Node and browser give the same results: the linalg cases bundled (esbuild) and run in Debian's headless Chromium via playwright-core match the Node run (bit for bit for the Wasm routines).
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { browserSkipReason, bundleAndServe, CHROMIUM } from '../browser-bundle.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLinalg } from '../../src/linalg/wasm.js';
import { base64ToF64, linalgCases } from './browser-cases.js';
import type { LinalgBrowserRun } from './browser/entry.js';

const reason = await browserSkipReason('the browser linalg run', 'linalg');

describe.skipIf(reason !== null)('linalg in headless Chromium agrees with Node', () => {
  let server: Server;
  let url = '';
  let profile = '';
  let context: import('playwright-core').BrowserContext;

  beforeAll(async () => {
    const served = await bundleAndServe(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml linalg checks');
    ({ server, url } = served);
    // The bundle must not pull in Node built-ins (src/linalg is browser-safe).
    expect(served.js).not.toMatch(/from\s*["']node:(fs|path|os|crypto|child_process)["']/);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'iml-linalg-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--no-first-run', '--disable-background-networking'] });
    await initLinalg();
  });

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('every case matches', async () => {
    const page = await context.newPage();
    try {
      await page.goto(url);
      await page.waitForFunction(() => 'imlRunLinalg' in globalThis);
      const run = (await page.evaluate(() => (globalThis as unknown as { imlRunLinalg: () => Promise<unknown> }).imlRunLinalg())) as LinalgBrowserRun;
      expect(run.error, run.error).toBeUndefined();
      const failures: string[] = [];
      const cases = linalgCases();
      for (const c of cases) {
        const r = run.results.find((x) => x.name === c.name);
        if (!r) { failures.push(`${c.name}: missing`); continue; }
        if (r.error) { failures.push(`${c.name}: ${r.error}`); continue; }
        const node = c.run();
        const got = r.outputs.map(base64ToF64);
        if (got.length !== node.length) { failures.push(`${c.name}: ${got.length} outputs, Node has ${node.length}`); continue; }
        node.forEach((want, k) => {
          const g = got[k]!;
          if (g.length !== want.length) failures.push(`${c.name} output ${k}: length ${g.length} vs ${want.length}`);
          else if (c.tolerance === 0) {
            const i = want.findIndex((v, j) => !Object.is(v, g[j]));
            if (i >= 0) failures.push(`${c.name} output ${k}[${i}]: browser ${g[i]} vs Node ${want[i]}`);
          } else {
            const scale = Math.max(...want.map(Math.abs));
            const i = want.findIndex((v, j) => !(Math.abs(v - g[j]!) <= c.tolerance * scale));
            if (i >= 0) failures.push(`${c.name} output ${k}[${i}]: browser ${g[i]} vs Node ${want[i]} (tolerance ${c.tolerance})`);
          }
        });
      }
      expect(failures, failures.join('\n')).toEqual([]);
      expect(run.results.length).toBe(cases.length);
    } finally {
      await page.close();
    }
  });
});
