// Weak and strong augmentation give the same images bit for bit in headless Chromium (esbuild bundle via playwright-core) as in Node; the bundle imports no Node built-in.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, openBrowserSession, type BrowserSession } from '../browser-bundle.js';
import { augmentCases, base64ToF32 } from './cases.js';
import type { AugmentBrowserRun } from './browser/entry.js';

const reason = await browserSkipReason('the browser augmentation run', 'augment');

describe.skipIf(reason !== null)('augmentation in headless Chromium agrees with Node', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowserSession(join(import.meta.dirname, 'browser', 'entry.ts'), 'iml augment checks', 'augment');
  }, 60_000);

  afterAll(async () => {
    await session?.close();
  });

  it('every case matches bit for bit', async () => {
    const page = await session.context.newPage();
    try {
      await page.goto(session.url);
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
