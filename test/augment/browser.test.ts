// Weak and strong augmentation give the same images bit for bit in headless Chromium (esbuild bundle via playwright-core) as in Node; the bundle imports no Node built-in.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundleAndServe, CHROMIUM } from '../browser-bundle.js';
import { augmentCases, base64ToF32 } from './cases.js';
import type { AugmentBrowserRun } from './browser/entry.js';

const reason = await browserSkipReason('the browser augmentation run', 'augment');

describe.skipIf(reason !== null)('augmentation in headless Chromium agrees with Node', () => {
  let server: Server;
  let url = '';
  let profile = '';
  let context: import('playwright-core').BrowserContext;

  beforeAll(async () => {
    const served = await bundleAndServe(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml augment checks');
    ({ server, url } = served);
    expect(served.js).not.toMatch(/from\s*["']node:/);
    expect(served.js).not.toMatch(/require\(["'](node:)?(fs|path|os|crypto|zlib|child_process)["']\)/);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'iml-augment-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--no-first-run', '--disable-background-networking'] });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('every case matches bit for bit', async () => {
    const page = await context.newPage();
    try {
      await page.goto(url);
      await page.waitForFunction(() => 'imlRunAugment' in globalThis);
      const run = (await page.evaluate(() => (globalThis as unknown as { imlRunAugment: () => unknown }).imlRunAugment())) as AugmentBrowserRun;
      const cases = augmentCases();
      expect(run.results.map((r) => r.name)).toEqual(cases.map((c) => c.name));
      const failures: string[] = [];
      for (const c of cases) {
        const r = run.results.find((x) => x.name === c.name)!;
        if (r.error) { failures.push(`${c.name}: ${r.error}`); continue; }
        const got = base64ToF32(r.output);
        const want = c.run();
        if (got.length !== want.length) { failures.push(`${c.name}: length ${got.length} vs ${want.length}`); continue; }
        const i = want.findIndex((v, j) => !Object.is(v, got[j]));
        if (i >= 0) failures.push(`${c.name}[${i}]: browser ${got[i]} vs Node ${want[i]}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
