#!/usr/bin/env node
// The `iml` command line: `iml train` trains the thesis' MLP on built-in MNIST (more commands follow).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadDataset, DATASET_NAMES } from '../node/datasets.js';
import { MLP } from '../nn/layers.js';
import { Adam } from '../optim/adam.js';
import { Random } from '../util/random.js';
import { trainClassifier } from '../train/train-classifier.js';
import { initGemm } from '../backend/cpu/wasm-gemm.js';
import { registerExperiments } from './experiment.js';
import { nonNegativeInt, positiveInt, positiveNumber } from './options.js';
import { checkWritable, writeFileAtomic } from '../node/write-atomic.js';
import { packageVersion } from './provenance.js';

const program = new Command();
program.name('iml').description('Implicit meta-learning engine: autodiff with exact second order on CPU/Wasm and WebGPU')
  .version(packageVersion(), '-V, --version', 'print the package version');

program
  .command('train')
  .description("train the thesis' MLP (input -> hidden -> 10, Adam) and report train/validation/test accuracy")
  .option('--dataset <name>', `one of ${DATASET_NAMES.join(', ')}`, 'mnist')
  .option('--data-dir <dir>', 'folder for fashion-mnist (IDX) or cifar10 (binary batches)')
  .option('--image-size <n>', 'resize images to n x n (the thesis also uses 14)', positiveInt('--image-size'))
  .option('--hidden <n>', 'hidden units (default: as many as inputs, as in the thesis)', positiveInt('--hidden'))
  .option('--steps <n>', 'training steps', positiveInt('--steps'), 600)
  .option('--batch-size <n>', 'minibatch size', positiveInt('--batch-size'), 128)
  .option('--lr <x>', 'Adam learning rate', positiveNumber('--lr'), 1e-4)
  .option('--seed <n>', 'random seed (initialisation, split, batches)', nonNegativeInt('--seed'), 0)
  .option('--out <dir>', 'write the result to DIR/result.json (atomically)')
  .option('--json <file>', 'write the result as JSON to FILE (atomically)')
  .option('--no-progress', 'no progress bar')
  .action(async (o) => {
    const outFile = o.out === undefined ? undefined : join(o.out, 'result.json');
    if (o.out !== undefined && statSync(o.out, { throwIfNoEntry: false })?.isDirectory() === false) throw new Error(`--out ${o.out}: exists and is not a folder`);
    // Before training, not after it: a destination that cannot be written fails now.
    for (const [flag, path] of [['--out', outFile], ['--json', o.json as string | undefined]] as const) {
      if (path !== undefined) await checkWritable(path, `${flag} ${path}`);
    }
    await initGemm();
    const data = loadDataset(o.dataset, { dataDir: o.dataDir, imageSize: o.imageSize, seed: o.seed });
    const inputs = data.train.channels * data.train.height * data.train.width;
    const hidden = o.hidden ?? inputs;
    const model = new MLP([inputs, hidden, data.train.numClasses], new Random(o.seed));
    const optimizer = new Adam(model.parameters(), { lr: o.lr });
    console.log(`${data.name}: ${data.train.count} train / ${data.validation.count} validation / ${data.test.count} test, ` +
      `MLP ${inputs}-${hidden}-${data.train.numClasses} (${model.parameterCount()} parameters), Adam lr ${o.lr}, ${o.steps} steps of ${o.batchSize}`);
    const bar = o.progress ? new cliProgress.SingleBar({ format: 'train [{bar}] {value}/{total} steps | loss {loss} | {duration_formatted}' }, cliProgress.Presets.shades_classic) : null;
    bar?.start(o.steps, 0, { loss: '-' });
    const started = performance.now();
    const result = await trainClassifier(model, optimizer, data, {
      steps: o.steps, batchSize: o.batchSize, seed: o.seed, flatten: true,
      onStep: (step, loss) => bar?.update(step, { loss: loss.toFixed(4) }),
    });
    bar?.stop();
    const seconds = (performance.now() - started) / 1000;
    const pct = (a: number): string => `${(100 * a).toFixed(2)}%`;
    console.log(`\n| split | accuracy | loss |\n|---|---|---|`);
    for (const [name, ev] of [['train', result.train], ['validation', result.validation], ['test', result.test]] as const) {
      console.log(`| ${name} | ${pct(ev.accuracy)} | ${ev.loss.toFixed(4)} |`);
    }
    console.log(`\n${o.steps} steps in ${seconds.toFixed(1)} s (${((1000 * seconds) / o.steps).toFixed(1)} ms/step, including evaluation)`);
    const json = JSON.stringify({
      dataset: o.dataset, description: data.name, sizes: [inputs, hidden, data.train.numClasses], parameters: model.parameterCount(),
      options: { imageSize: o.imageSize ?? null, hidden, steps: o.steps, batchSize: o.batchSize, lr: o.lr, seed: o.seed, dataDir: o.dataDir ?? null },
      split: { train: data.train.count, validation: data.validation.count, test: data.test.count },
      train: result.train, validation: result.validation, test: result.test, finalLoss: result.finalLoss, seconds,
    }, null, 2) + '\n';
    for (const path of [outFile, o.json as string | undefined]) {
      if (path === undefined) continue;
      await writeFileAtomic(path, json);
      console.log(`result written to ${path}`);
    }
  });

registerExperiments(program);

(await import('./inverse-check.js')).registerInverseCheck(program);
// Sweeps need BullMQ and ioredis (optional peers): without them the other commands still work and these say what to install.
try {
  (await import('./sweep.js')).registerSweep(program);
  (await import('./worker.js')).registerWorker(program);
} catch (e) {
  const missing = ['bullmq', 'ioredis'].filter((n) => String((e as Error).message).includes(`'${n}'`));
  if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || missing.length === 0) throw e;
  for (const name of ['sweep', 'worker']) {
    program.command(name, { hidden: false }).description(`(needs ${missing.join(' and ')}: npm install bullmq ioredis)`).allowUnknownOption().argument('[args...]')
      .action(() => { throw new Error(`iml ${name} needs the optional peer dependencies bullmq and ioredis: npm install bullmq ioredis`); });
  }
}
(await import('./augment-preview.js')).registerAugmentPreview(program);
(await import('./fixmatch.js')).registerFixMatch(program);
(await import('./confidence.js')).registerConfidence(program);
(await import('./confidence-report.js')).registerConfidenceReport(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`iml: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
