// `iml sweep`: enqueue a recipe's grid on a Redis queue (idempotent), watch it live, collect it into a run folder, or remove it.

import type { Command } from 'commander';
import { METHOD_HELP } from '../hypergrad/methods.js';
import { parseRecipeOverrides } from '../iml/recipe-overrides.js';
import { RECIPES } from '../iml/recipes.js';
import { collectSweep } from '../node/sweep/collect.js';
import { DEFAULT_PREFIX, parseQueueUrl } from '../node/sweep/connection.js';
import { cleanSweep, enqueueSweep, openQueue, queueOf } from '../node/sweep/enqueue.js';
import { defineSweep } from '../node/sweep/jobs.js';
import { watchSweep } from '../node/sweep/watch.js';
import { readJsonFile } from '../node/read-json.js';
import { positiveInt, uniqueIntList, uniqueList } from './options.js';
import { provenance } from './provenance.js';

interface SweepFlags {
  queue: string;
  prefix: string;
  name?: string;
  quick?: boolean;
  dataset?: 'mnist' | 'fashion-mnist' | 'cifar10';
  dataDir?: string;
  methods?: string[];
  seeds?: number[];
  config?: string;
  metaEpochs?: number;
  attempts: number;
  retryFailed?: boolean;
  watch?: boolean;
  collect?: string;
  out?: string;
  clean?: string;
}

async function sweep(recipeName: string | undefined, f: SweepFlags): Promise<void> {
  const t = parseQueueUrl(f.queue, f.prefix);
  const modes = [recipeName !== undefined, f.collect !== undefined, f.clean !== undefined].filter(Boolean).length;
  if (modes !== 1 && !(modes === 0 && f.watch && f.name)) {
    throw new Error('give a recipe to enqueue (with --watch to follow it), --watch --name NAME, --collect NAME --out DIR, or --clean NAME');
  }
  if (f.collect !== undefined) {
    if (!f.out) throw new Error('--collect needs --out <run folder>');
    const queue = await openQueue(t);
    try {
      const r = await collectSweep(queue, t, f.collect, f.out, { provenance: provenance('(collected)'), onMessage: (l) => console.log(l) });
      console.log(`${r.markdown}\ncollected ${r.collected} run(s)${r.missing.length ? `, ${r.missing.length} not finished` : ''} into ${r.outDir}\nreport: ${r.htmlPath}`);
    } finally {
      await queue.close();
    }
    return;
  }
  if (f.clean !== undefined) {
    const queue = await openQueue(t);
    try {
      const r = await cleanSweep(queue, t, f.clean);
      console.log(`sweep ${f.clean}: removed ${r.removed} job(s) and their runs${r.active.length ? `; ${r.active.length} active job(s) kept (stop their workers, then clean again): ${r.active.join(', ')}` : ''}`);
    } finally {
      await queue.close();
    }
    return;
  }
  let name = f.name!;
  if (recipeName !== undefined) {
    // Everything is resolved and validated before the queue is touched: an invalid sweep enqueues nothing.
    const overrides = f.config ? parseRecipeOverrides(readJsonFile(f.config), f.config) : undefined;
    const def = defineSweep({ recipe: recipeName, quick: f.quick ?? false, name: f.name, methods: f.methods, seeds: f.seeds, dataset: f.dataset, dataDir: f.dataDir, metaEpochs: f.metaEpochs, overrides });
    const queue = await openQueue(t);
    try {
      const r = await enqueueSweep(queue, t, def, { attempts: f.attempts, retryFailed: f.retryFailed, provenance: provenance('(set by each worker)') });
      const existing = Object.entries(r.existing).map(([s, n]) => `${n} ${s}`).join(', ');
      console.log(`sweep ${r.name}: ${def.jobs.length} job(s); enqueued ${r.added.length} new${existing ? `; already on the queue: ${existing}` : ''}${r.retried.length ? `; ${r.retried.length} failed job(s) sent back` : ''}`);
      if ((r.existing.failed ?? 0) > 0) console.log(`(failed jobs stay failed; --retry-failed sends them back to the queue)`);
      console.log(`watch: iml sweep --watch --name ${r.name} --queue ${t.url}${t.prefix !== DEFAULT_PREFIX ? ` --prefix ${t.prefix}` : ''}`);
      name = r.name;
    } finally {
      await queue.close();
    }
  }
  if (f.watch) {
    const queue = queueOf(t);
    try {
      const rows = await watchSweep(queue, t, name, { tty: process.stdout.isTTY === true, say: (l) => console.log(l) });
      const failed = rows.filter((r) => r.status === 'failed').length;
      console.log(`sweep ${name}: every job has ended${failed ? ` (${failed} failed)` : ''}; collect with iml sweep --collect ${name} --out runs/${name} --queue ${t.url}`);
      if (failed) process.exitCode = 1;
    } finally {
      await queue.close();
    }
  }
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('spread a recipe\'s grid (variants x methods x seeds) over any number of machines through a Redis queue (run `iml worker` on each)')
    .argument('[recipe]', `recipe to enqueue: ${Object.keys(RECIPES).join(', ')}`)
    .requiredOption('--queue <url>', 'Redis holding the queue: redis://HOST:PORT[/DB]')
    .option('--prefix <p>', 'first part of every key of the queue and its runs (several independent queues on one Redis)', DEFAULT_PREFIX)
    .option('--name <name>', 'sweep name (default <recipe>[-quick]-<hash of its jobs>; the same sweep gets the same name)')
    .option('--quick', 'the recipe\'s reduced protocol')
    .option('--dataset <name>', 'mnist (default) | fashion-mnist | cifar10')
    .option('--data-dir <dir>', 'folder the workers read fashion-mnist or cifar10 from (on their machines)')
    .option('--methods <list>', `comma-separated method specs: ${METHOD_HELP}`, uniqueList('--methods'))
    .option('--seeds <list>', 'comma-separated seeds', uniqueIntList('--seeds'))
    .option('--config <file>', 'JSON file of protocol settings (as iml experiment --config)')
    .option('--meta-epochs <n>', 'cap on meta-epochs', positiveInt('--meta-epochs'))
    .option('--attempts <n>', 'tries per job before it fails (errors only: a diverged run is a result, a dead worker a stall)', positiveInt('--attempts'), 3)
    .option('--retry-failed', 'send this sweep\'s failed jobs back to the queue')
    .option('--watch', 'then show a live table of the jobs until all have ended')
    .option('--collect <name>', 'write the finished runs of sweep NAME into --out as a run folder (iml report works on it)')
    .option('--out <dir>', 'run folder for --collect')
    .option('--clean <name>', 'remove sweep NAME: its jobs, checkpoints and metrics')
    .action((recipe: string | undefined, f: SweepFlags) => sweep(recipe, f));
}
