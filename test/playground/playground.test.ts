// The playground page in headless Chromium: each panel run to completion on small settings, its numbers checked against the Node run of the same seeds, and screenshots saved.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlayground } from '../../scripts/playground.mjs';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import type { InverseCheckResult } from '../../src/linalg/inverse-check.js';
import { loadMnist } from '../../src/node/mnist.js';
import type { KernelBenchResult } from '../../src/perf/kernel-bench.js';
import { benchmarks, inverseCheck, metaTrace, metaTrain, type BenchSettings, type InverseSettings, type MetaTrainSettings } from '../../playground/panels.js';
import type { PlaygroundResults } from '../../playground/main.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS } from '../browser-bundle.js';
import { expectCloseMessage } from '../iml/cases.js';
import { ROOT } from '../cli/cli-harness.js';
import { skipOrFail } from '../require-or-skip.js';

/** Screenshots for a person to look at (reports/ is not committed). */
export const SCREENSHOTS = join(ROOT, 'reports', 'playground');

const META: MetaTrainSettings = { imageSize: 7, hidden: 0, train: 50, validation: 50, test: 50, innerSteps: 10, metaEpochs: 4, method: 'neumann:3', seed: 0 };
const INVERSE: InverseSettings = { hidden: 4, trainSize: 20, valSize: 20, trainSteps: 20, neumann: [3, 10], cg: [3, 10], seed: 0 };
const BENCH: BenchSettings = { kernels: ['matmul', 'conv2d', 'elementwise', 'hvp'], sizes: [8], repeats: 2 };

const reason = await browserSkipReason('the playground page', 'playground');

describe.skipIf(reason !== null)('playground page in headless Chromium', () => {
  let close: () => Promise<void>;
  let url = '';
  let profile = '';
  let context: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const node: { meta?: number[]; metaShort?: number[]; inverse?: InverseCheckResult; bench?: KernelBenchResult[] } = {};

  beforeAll(async () => {
    ({ url, close } = await startPlayground({ port: 0 }));
    const mnist = loadMnist();
    node.meta = metaTrace((await metaTrain(mnist, META)).metrics);
    node.metaShort = metaTrace((await metaTrain(mnist, { ...META, metaEpochs: 1 })).metrics);
    node.inverse = await inverseCheck(mnist, INVERSE);
    node.bench = await benchmarks(BENCH, [new CpuBackend()]);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'iml-playground-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1300, height: 1000 } });
    page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await close?.();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const fill = async (values: Record<string, string | number>): Promise<void> => {
    for (const [id, v] of Object.entries(values)) await page.fill(`#${id}`, String(v));
  };
  /** Clicks a panel's button and waits for it to finish; returns the page's results. */
  const runPanel = async (id: string): Promise<PlaygroundResults> => {
    await page.click(`#${id}-run`);
    await page.waitForSelector(`#${id}[data-state=done], #${id}[data-state=error]`, { timeout: 180_000 });
    const state = await page.getAttribute(`#${id}`, 'data-state');
    expect(state, (await page.textContent(`#${id}-status`)) ?? '').toBe('done');
    return page.evaluate(() => (globalThis as unknown as { playground: { results: PlaygroundResults } }).playground.results);
  };
  const list = (xs: number[]): string => xs.join(',');

  it('CPU: (a) meta-training follows the Node trajectory of the same seed to 1e-6', async () => {
    await page.check('input[name=backend][value=cpu]');
    await fill({
      'meta-imageSize': META.imageSize, 'meta-hidden': META.hidden, 'meta-train': META.train, 'meta-validation': META.validation, 'meta-test': META.test,
      'meta-innerSteps': META.innerSteps, 'meta-metaEpochs': META.metaEpochs, 'meta-method': META.method, 'meta-seed': META.seed,
    });
    const r = await runPanel('meta');
    expect(r.meta!.backend).toBe('cpu');
    expect(r.meta!.parameters).toBe(49 * 49 + 49 + 49 * 10 + 10);
    expect(r.meta!.trace).toHaveLength(4 * META.metaEpochs);
    expect(expectCloseMessage(r.meta!.trace, node.meta!, 1e-6)).toBeNull();
    for (const a of r.meta!.accuracy.flat()) expect(a >= 0 && a <= 1).toBe(true);
    expect(await page.locator('#meta-loss svg').count()).toBe(1);
  }, 240_000);

  it('CPU: (b) the exact-vs-approximate table matches the Node run to 1e-6', async () => {
    await fill({
      'inverse-hidden': INVERSE.hidden, 'inverse-trainSize': INVERSE.trainSize, 'inverse-valSize': INVERSE.valSize, 'inverse-trainSteps': INVERSE.trainSteps,
      'inverse-neumann': list(INVERSE.neumann), 'inverse-cg': list(INVERSE.cg), 'inverse-seed': INVERSE.seed,
    });
    const r = (await runPanel('inverse')).inverse!;
    const want = node.inverse!;
    expect(r.problem.parameters).toBe(196 * 4 + 4 + 4 * 10 + 10);
    expect(r.rows.map((m) => m.method)).toEqual(want.rows.map((m) => m.method));
    expect(r.rows.map((m) => m.hvps)).toEqual(want.rows.map((m) => m.hvps));
    const values = (x: InverseCheckResult): number[] => [x.problem.trainLoss, x.problem.valLoss, x.exact.lambdaMax, ...x.rows.flatMap((m) => [m.cosine, m.relativeError, m.norm, m.hypergradCosine ?? 0])];
    expect(expectCloseMessage(values(r), values(want), 1e-6)).toBeNull();
    expect(r.exact.residual).toBeLessThan(1e-8);
    expect(await page.locator('#inverse-table tr').count()).toBe(want.rows.length + 1);
  }, 240_000);

  it('CPU vs WebGPU: (c) kernel benchmarks; CPU checksums equal Node\'s, WebGPU\'s agree within float32 rounding', async () => {
    await fill({ 'bench-kernels': BENCH.kernels.join(','), 'bench-sizes': list(BENCH.sizes), 'bench-repeats': BENCH.repeats });
    await page.check('#bench-both');
    const r = (await runPanel('bench')).bench!;
    const cpu = r.filter((b) => b.backend === 'cpu');
    expect(cpu.map((b) => `${b.kernel}:${b.size}`)).toEqual(node.bench!.map((b) => `${b.kernel}:${b.size}`));
    expect(expectCloseMessage(cpu.map((b) => b.checksum), node.bench!.map((b) => b.checksum), 1e-6)).toBeNull();
    for (const b of r) {
      expect(b.ms).toBeGreaterThan(0);
      expect(b.gflops).toBeCloseTo(b.flops / (b.ms * 1e6), 8);
      expect(Number.isInteger(b.iterations) && b.iterations >= 1).toBe(true);
    }
    // Kernels shorter than the timer's resolution are repeated within each sample.
    expect(cpu.find((b) => b.kernel === 'elementwise' && b.size === 8)!.iterations).toBeGreaterThan(1);
    const gpu = r.filter((b) => b.backend === 'webgpu');
    if (gpu.length === 0) skipOrFail('the WebGPU half of the playground benchmarks', 'no WebGPU adapter in Chromium', { tag: 'playground', webgpu: true });
    else expect(expectCloseMessage(gpu.map((b) => b.checksum), cpu.map((b) => b.checksum), 2e-3)).toBeNull();
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-cpu.png'), fullPage: true });
  }, 240_000);

  it('WebGPU: (a) meta-training on the GPU follows the Node CPU trajectory within float32 tolerance', async (ctx) => {
    const hasGpu = await page.evaluate(() => 'gpu' in navigator);
    if (!hasGpu) {
      skipOrFail('the WebGPU playground run', 'navigator.gpu is missing in Chromium', { tag: 'playground', webgpu: true });
      ctx.skip();
    }
    await page.check('input[name=backend][value=webgpu]');
    await fill({ 'meta-metaEpochs': 1 });
    const r = await runPanel('meta');
    expect(r.meta!.backend).toBe('webgpu');
    expect(r.meta!.trace).toHaveLength(4);
    expect(expectCloseMessage(r.meta!.trace, node.metaShort!, 2e-3)).toBeNull();
    await page.screenshot({ path: join(SCREENSHOTS, 'playground-webgpu.png'), fullPage: true });
  }, 240_000);
});
