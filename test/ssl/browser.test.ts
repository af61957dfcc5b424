// FixMatch in the browser: the trainer, augmentation and memory store bundled (esbuild, no Node built-ins) and run in headless Chromium on the CPU backend follow the Node run (to the JS engines' last-bit Math.exp/log differences), and resume there bit for bit.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, openBrowserSession, type BrowserSession } from '../browser-bundle.js';
import { fixMatchTrace, type FixMatchBrowserRun } from './browser/entry.js';

const reason = await browserSkipReason('the browser FixMatch run', 'ssl');

describe.skipIf(reason !== null)('FixMatch in headless Chromium agrees with Node', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowserSession(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml fixmatch checks', 'fixmatch');
  }, 60_000);

  afterAll(async () => {
    await session?.close();
  });

  it('same trajectory as Node; stopped and resumed in the browser equals the whole browser run', async () => {
    const page = await session.context.newPage();
    try {
      await page.goto(session.url);
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
