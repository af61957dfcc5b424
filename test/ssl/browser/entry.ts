// Browser entry of the FixMatch checks: bundled by esbuild and run in headless Chromium on the CPU backend; the tiny run whole, and stopped after a checkpoint and resumed.
import { memoryFixMatchStore } from '../../../src/ssl/fixmatch-store.js';
import { trainFixMatch } from '../../../src/ssl/fixmatch-trainer.js';
import { SmallCnn } from '../../../src/ssl/small-cnn.js';
import { Random } from '../../../src/util/random.js';
import { tinyConfig, tinyData } from '../cases.js';

export interface FixMatchBrowserRun {
  whole: number[];
  resumed: number[];
  error?: string;
}

const model = () => new SmallCnn(new Random(3), { side: 8, numClasses: 3, widths: [4, 4, 4] });

/** Per evaluation: loss, supervised, unsupervised, mask rate, pseudo-label accuracy, EMA test loss. */
export async function fixMatchTrace(stopAndResume: boolean): Promise<number[]> {
  const data = tinyData();
  const cfg = tinyConfig();
  const store = memoryFixMatchStore();
  if (stopAndResume) await trainFixMatch(model(), data, cfg, store, { stopAfter: 3 });
  const r = await trainFixMatch(model(), data, cfg, store, { resume: stopAndResume });
  return r.metrics.flatMap((m) => [m.loss, m.supervisedLoss, m.unsupervisedLoss, m.maskRate, m.pseudoAccuracy, m.testLoss]);
}

async function run(): Promise<FixMatchBrowserRun> {
  try {
    return { whole: await fixMatchTrace(false), resumed: await fixMatchTrace(true) };
  } catch (e) {
    return { whole: [], resumed: [], error: String((e as Error).message ?? e) };
  }
}

(globalThis as unknown as { imlRunFixMatch: () => Promise<FixMatchBrowserRun> }).imlRunFixMatch = run;
