// `iml worker`: a BullMQ worker that runs sweep jobs in worker threads (so lock renewal never waits on training), records who started what, and survives Redis outages.

import { Worker as QueueWorker, WaitingError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { Worker as Thread } from 'node:worker_threads';
import { connectionReporter, isConnectionError, QUEUE_NAME, redisOptions, runKeys, withTimeout, type QueueTarget } from './connection.js';
import type { SweepJobData, SweepJobResult } from './jobs.js';
import type { JobThreadInput, JobThreadMessage } from './job-thread.js';
import type { BackendKind } from '../select-backend.js';

export interface WorkerOptions {
  target: QueueTarget;
  concurrency: number;
  backend: BackendKind;
  /** Script a job thread runs (the `iml` entry point; it dispatches to the hidden __sweep-job command). */
  entry: string;
  /** A job whose lock is not renewed for this long is stalled and goes back to the queue (BullMQ lockDuration). */
  lockDuration: number;
  /** How often this worker looks for stalled jobs (BullMQ stalledInterval). */
  stalledInterval: number;
  /** Stalls (dead workers) a job survives before it fails. */
  maxStalledCount: number;
  say: (line: string) => void;
}

/** What each job start records in `<prefix>:run:<id>:starts` (one JSON line per attempt). */
export interface StartRecord {
  worker: string;
  attempt: number;
  startEpoch: number;
  at: string;
}

/** A job thread ended because the worker is stopping. */
class StoppedError extends Error {
  constructor() {
    super('the worker stopped');
  }
}

const label = (d: SweepJobData): string => `${d.variant.label === 'main' ? '' : `${d.variant.label} `}${d.method} seed ${d.seed}`;

/** Starts a worker; resolves with a function that stops it (active jobs go back to the queue when their lock expires). */
export async function startWorker(o: WorkerOptions): Promise<{ name: string; close: () => Promise<void>; worker: QueueWorker }> {
  const name = `${hostname()}:${process.pid}`;
  const report = connectionReporter(o.target, o.say);
  const redis = new Redis(redisOptions(o.target));
  redis.on('error', report.error);
  redis.on('ready', report.ready);
  const threads = new Set<Thread>();
  const idle: Thread[] = [];
  let closing = false;

  /** Jobs in progress, so that stopping can wait until each is handed back. */
  const inflight = new Set<Promise<unknown>>();
  const processor = (job: Job<SweepJobData, SweepJobResult>, token?: string): Promise<SweepJobResult> => {
    const p = runJob(job, token);
    inflight.add(p);
    void p.catch(() => undefined).finally(() => inflight.delete(p));
    return p;
  };
  const runJob = async (job: Job<SweepJobData, SweepJobResult>, token?: string): Promise<SweepJobResult> => {
    const keys = runKeys(o.target, job.id!);
    const attemptToken = token ?? `${name}:${job.id}:${Date.now()}`;
    // From here on only this attempt may write the run (a worker that lost the job is fenced off).
    await redis.set(keys.owner, attemptToken);
    const input: JobThreadInput = { jobId: job.id!, token: attemptToken, data: job.data, target: o.target, backend: o.backend, worker: name };
    // One thread per job slot, kept between jobs (modules and Wasm load once); a thread that died is replaced.
    const thread = idle.pop() ?? new Thread(o.entry, { argv: ['__sweep-job'] });
    threads.add(thread);
    let startEpoch = 1;
    let reusable = false;
    const listeners: [string, (...a: any[]) => void][] = [];
    const on = (ev: 'message' | 'error' | 'exit', f: (...a: any[]) => void): void => {
      listeners.push([ev, f]);
      thread.on(ev, f);
    };
    try {
      return await new Promise<SweepJobResult>((resolve, reject) => {
        let settled = false;
        on('message', (m: JobThreadMessage) => {
          if (m.type === 'start') {
            startEpoch = m.startEpoch;
            const rec: StartRecord = { worker: name, attempt: job.attemptsMade + 1, startEpoch, at: new Date().toISOString() };
            void redis.rpush(keys.starts, JSON.stringify(rec)).catch(() => undefined);
            o.say(`${job.id} ${label(job.data)}: ${startEpoch === 1 ? 'started' : `resumed from its checkpoint at meta-epoch ${startEpoch}`}`);
          } else if (m.type === 'epoch') {
            void job.updateProgress({ worker: name, metaEpoch: m.metaEpoch, metaEpochs: m.metaEpochs, startEpoch, validationAccuracy: m.validationAccuracy }).catch(() => undefined);
          } else if (m.type === 'done') {
            settled = reusable = true;
            resolve(m.result);
          } else {
            settled = reusable = true;
            reject(new Error(m.message));
          }
        });
        on('error', (e: Error) => {
          if (!settled) reject(e);
          settled = true;
        });
        on('exit', (code: number) => {
          if (!settled) reject(closing ? new StoppedError() : new Error(`the job thread exited with code ${code} before finishing`));
          settled = true;
        });
        thread.postMessage(input);
      });
    } catch (e) {
      if (!(e instanceof StoppedError)) throw e;
      // The worker is stopping: hand the job back now (not after its lock expires), without counting an attempt;
      // the next worker resumes it from its checkpoint. If Redis does not answer, the lock expiry does it.
      const back = await withTimeout(job.moveToWait(token), 5000, 'no answer').then(() => true, () => false);
      o.say(`${job.id} ${label(job.data)}: ${back ? 'handed back to the queue' : 'could not be handed back (Redis does not answer); it returns to the queue when its lock expires'}`);
      throw back ? new WaitingError() : e;
    } finally {
      for (const [ev, f] of listeners) thread.off(ev, f);
      threads.delete(thread);
      if (reusable && !closing) idle.push(thread);
      else await thread.terminate();
    }
  };

  const worker = new QueueWorker<SweepJobData, SweepJobResult>(QUEUE_NAME, processor, {
    connection: redisOptions(o.target), prefix: o.target.prefix, concurrency: o.concurrency, name,
    lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, maxStalledCount: o.maxStalledCount,
  });
  worker.on('error', (e) => (isConnectionError(e) ? report.error(e) : o.say(`queue error: ${e.message}`)));
  worker.on('completed', (job, r) => {
    const s = r.summary;
    o.say(`${job.id} ${label(job.data)}: done, test ${(100 * s.test).toFixed(2)}% after ${s.metaEpochsRun} meta-epochs${s.diverged ? ` (diverged at meta-epoch ${s.diverged.metaEpoch}: a result, not retried)` : ''} in ${r.seconds.toFixed(1)} s`);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const left = (job.opts.attempts ?? 1) - job.attemptsMade;
    o.say(`${job.id} ${label(job.data)}: attempt ${job.attemptsMade} failed: ${err.message}${left > 0 ? `; ${left} attempt(s) left` : '; no attempts left, the job failed'}`);
  });
  worker.on('stalled', (id) => o.say(`${id}: stalled (its worker stopped renewing the lock); back to the queue, the next worker resumes it from its checkpoint`));
  o.say(`worker ${name}: ${o.concurrency} job(s) at a time on ${o.backend}, queue ${o.target.url} (prefix ${o.target.prefix})`);
  return {
    name, worker,
    close: async () => {
      closing = true;
      // No new job from here on (a handed-back job would otherwise be taken again at once).
      await worker.pause(true);
      await Promise.all([...threads, ...idle].map((t) => t.terminate()));
      await Promise.allSettled([...inflight]);
      await worker.close(true);
      redis.disconnect();
    },
  };
}
