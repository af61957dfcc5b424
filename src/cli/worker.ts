// `iml worker`: run sweep jobs from a Redis queue on this machine (any number of machines); plus the hidden command a job thread runs.

import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_PREFIX, parseQueueUrl } from '../node/sweep/connection.js';
import { jobThreadMain } from '../node/sweep/job-thread.js';
import { startWorker } from '../node/sweep/worker.js';
import { positiveInt } from './options.js';
import { BACKEND_KINDS, type BackendKind } from '../node/select-backend.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run sweep jobs from the queue until stopped (Ctrl-C hands active jobs back); a job whose worker dies is resumed by another from its checkpoint')
    .requiredOption('--queue <url>', 'Redis holding the queue: redis://HOST:PORT[/DB]')
    .option('--prefix <p>', 'key prefix of the queue (as given to iml sweep)', DEFAULT_PREFIX)
    .option('--concurrency <n>', 'jobs run at the same time on this machine (each in its own thread)', positiveInt('--concurrency'), 1)
    .addOption(new Option('--backend <name>', 'where tensors live: cpu (tensors in the Wasm heap, docs/memory.md), cpu-js (its plain-array reference), or webgpu (exact solves need a CPU backend)').choices([...BACKEND_KINDS]).default('cpu'))
    .option('--lock-duration <ms>', 'a job not renewed for this long is taken to have lost its worker', positiveInt('--lock-duration'), 30_000)
    .option('--stalled-interval <ms>', 'how often to look for jobs whose worker died', positiveInt('--stalled-interval'), 30_000)
    .option('--max-stalled <n>', 'worker deaths a job survives before it fails', positiveInt('--max-stalled'), 3)
    .action(async (f: { queue: string; prefix: string; concurrency: number; backend: BackendKind; lockDuration: number; stalledInterval: number; maxStalled: number }) => {
      const target = parseQueueUrl(f.queue, f.prefix);
      const w = await startWorker({
        target, concurrency: f.concurrency, backend: f.backend, entry: resolve(process.argv[1]),
        lockDuration: f.lockDuration, stalledInterval: f.stalledInterval, maxStalledCount: f.maxStalled,
        say: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
      });
      await new Promise<void>((done) => {
        const stop = (sig: string): void => {
          console.log(`${sig}: stopping; active jobs go back to the queue`);
          void w.close().finally(done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });

  program.command('__sweep-job', { hidden: true }).description('one sweep job inside a worker thread (started by iml worker)').action(() => jobThreadMain());
}
