// Memory stays flat over thousands of training steps run in tidy scopes: the CPU pool neither grows nor drops arrays, and after the first steps nothing is newly allocated, since the state a step replaces (weights, momentum, EMA, batch-norm statistics) goes back to the pool at once; the same in Node and in headless Chromium, where no GC can be forced.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, openBrowserSession, type BrowserSession } from '../browser-bundle.js';
import { pooledSteps, type PooledStepsRun } from './pooled-steps.js';

const STEPS = 2000;
const AT = [100, 101, 1000, STEPS];
// SmallCnn: 3 conv weights, 3 x (gamma, beta), head weight and bias = 11 parameters; each step keeps a new value,
// momentum buffer and EMA value per parameter and 2 running statistics per batch norm (3 of them), and disposes the
// ones they replace: the kept state takes pooled arrays too.
const KEPT_PER_STEP = 3 * 11 + 2 * 3;

function checkFlat(run: PooledStepsRun): void {
  const [s100, s101, s1000, sEnd] = run.samples.map((s) => s.stats);
  expect(run.samples.map((s) => s.step)).toEqual(AT);
  // The pool holds the same arrays after 100 and after 2000 steps, and never had to drop one.
  expect(s1000.pooledBytes).toBe(s100.pooledBytes);
  expect(sEnd.pooledBytes).toBe(s100.pooledBytes);
  expect(sEnd.pooledArrays).toBe(s100.pooledArrays);
  expect(sEnd.droppedArrays).toBe(0);
  // Every array, temporaries and kept state alike, comes from the pool: none is created after step 100. Before the
  // optimizer, EMA and batch norm disposed what they replace, each step created exactly KEPT_PER_STEP.
  expect(s101.createdArrays - s100.createdArrays).toBe(0);
  expect(sEnd.createdArrays - s1000.createdArrays).toBe(0);
  const reusedPerStep = s101.reusedArrays - s100.reusedArrays;
  expect(reusedPerStep).toBeGreaterThanOrEqual(KEPT_PER_STEP);
  expect(sEnd.reusedArrays - s1000.reusedArrays).toBe((STEPS - 1000) * reusedPerStep);
  expect(Number.isFinite(run.loss) && Number.isFinite(run.weightSum)).toBe(true);
}

let nodeRun: PooledStepsRun;

describe('training steps in tidy scopes keep memory flat', () => {
  it(`Node: ${STEPS} FixMatch steps of a small CNN`, async () => {
    nodeRun = await pooledSteps(STEPS, AT);
    checkFlat(nodeRun);
  });
});

const reason = await browserSkipReason('the browser flat-memory run', 'pooled');

describe.skipIf(reason !== null)('training steps in tidy scopes keep memory flat in headless Chromium', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowserSession(join(import.meta.dirname, 'browser', 'pooled-entry.ts'), 'iml pooled memory', 'pooled');
  }, 60_000);

  afterAll(async () => {
    await session?.close();
  });

  it(`Chromium: the same ${STEPS} steps and the same pool statistics as Node`, async () => {
    const page = await session.context.newPage();
    try {
      await page.goto(session.url);
      await page.waitForFunction(() => 'imlPooledSteps' in globalThis);
      const run = (await page.evaluate(
        ([n, at]) => (globalThis as unknown as { imlPooledSteps: (n: number, at: number[]) => Promise<unknown> }).imlPooledSteps(n, at),
        [STEPS, AT] as const,
      )) as PooledStepsRun;
      checkFlat(run);
      nodeRun ??= await pooledSteps(STEPS, AT);
      // The same allocations step for step (the numbers drift apart in the last bits over 2000 steps: Node's GEMM
      // may use two threads, so only the pool's bookkeeping is compared exactly).
      expect(run.samples).toEqual(nodeRun.samples);
    } finally {
      await page.close();
    }
  }, 300_000);
});
