// FixMatch in the browser: the trainer, augmentation and memory store bundled (esbuild, no Node built-ins) and run in headless Chromium on the CPU backend follow the Node run (to the JS engines' last-bit Math.exp/log differences), and resume there bit for bit.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundleAndServe, CHROMIUM } from '../browser-bundle.js';
import { fixMatchTrace, type FixMatchBrowserRun } from './browser/entry.js';

const reason = await browserSkipReason('the browser FixMatch run', 'ssl');

describe.skipIf(reason !== null)('FixMatch in headless Chromium agrees with Node', () => {
  let server: Server;
  let url = '';
  let profile = '';
  let context: import('playwright-core').BrowserContext;

  beforeAll(async () => {
    const served = await bundleAndServe(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml fixmatch checks');
    ({ server, url } = served);
    expect(served.js).not.toMatch(/from\s*["']node:/);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'iml-fixmatch-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--no-first-run', '--disable-background-networking'] });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('same trajectory as Node; stopped and resumed in the browser equals the whole browser run', async () => {
    const page = await context.newPage();
    try {
      await page.goto(url);
      await page.waitForFunction(() => 'imlRunFixMatch' in globalThis);
      const run = (await page.evaluate(() => (globalThis as unknown as { imlRunFixMatch: () => Promise<unknown> }).imlRunFixMatch())) as FixMatchBrowserRun;
      expect(run.error, run.error).toBeUndefined();
      const node = await fixMatchTrace(false);
      expect(run.whole.length).toBe(node.length);
      node.forEach((v, i) => expect(Math.abs(run.whole[i] - v), `value ${i}: browser ${run.whole[i]} vs Node ${v}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
      expect(run.resumed).toEqual(run.whole);
    } finally {
      await page.close();
    }
  }, 120_000);
});
