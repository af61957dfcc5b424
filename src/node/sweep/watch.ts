// `iml sweep --watch`: a live table of a sweep's jobs (waiting / active on which worker / done / failed / diverged) with the workers' progress; says so while Redis is unreachable.

import type { Job } from 'bullmq';
import { connectionReporter, isConnectionError, withTimeout, type QueueTarget } from './connection.js';
import { readManifest, type SweepManifest, type SweepQueue } from './enqueue.js';
import type { SweepJobData, SweepJobResult } from './jobs.js';

export type JobStatus = 'waiting' | 'active' | 'done' | 'diverged' | 'failed' | 'missing';

export interface JobRow {
  id: string;
  run: string;
  status: JobStatus;
  worker: string;
  progress: string;
  note: string;
}

interface Progress {
  worker?: string;
  metaEpoch?: number;
  metaEpochs?: number;
  startEpoch?: number;
  validationAccuracy?: number;
}

/** The row of one job from its BullMQ state, progress, result or failure. */
export async function jobRow(entry: SweepManifest['jobs'][number], job: Job<SweepJobData, SweepJobResult> | undefined): Promise<JobRow> {
  const run = `${entry.variant === 'main' ? '' : `${entry.variant} `}${entry.methodSpec} seed ${entry.seed}`;
  if (!job) return { id: entry.id, run, status: 'missing', worker: '', progress: '', note: 'not in the queue (removed?)' };
  const state = await job.getState();
  const p = (typeof job.progress === 'object' ? job.progress : {}) as Progress;
  const progress = p.metaEpoch ? `${p.metaEpoch}/${p.metaEpochs}${p.validationAccuracy !== undefined ? ` val ${(100 * p.validationAccuracy).toFixed(1)}%` : ''}` : '';
  const resumed = p.startEpoch && p.startEpoch > 1 ? `resumed at meta-epoch ${p.startEpoch}` : '';
  if (state === 'completed') {
    const r = job.returnvalue;
    const s = r?.summary;
    if (s?.diverged) return { id: entry.id, run, status: 'diverged', worker: r.worker, progress, note: `at meta-epoch ${s.diverged.metaEpoch}: ${s.diverged.what}` };
    return { id: entry.id, run, status: 'done', worker: r?.worker ?? '', progress, note: s ? `test ${(100 * s.test).toFixed(2)}%${r.startEpoch > 1 ? `, resumed at meta-epoch ${r.startEpoch}` : ''}` : '' };
  }
  if (state === 'failed') return { id: entry.id, run, status: 'failed', worker: p.worker ?? '', progress, note: `${job.attemptsMade} attempt(s): ${job.failedReason}` };
  if (state === 'active') return { id: entry.id, run, status: 'active', worker: p.worker ?? job.processedBy ?? '', progress, note: [resumed, job.attemptsMade ? `attempt ${job.attemptsMade + 1}` : ''].filter(Boolean).join(', ') };
  return { id: entry.id, run, status: 'waiting', worker: '', progress, note: [resumed || (p.metaEpoch ? 'back in the queue (its worker stopped)' : ''), job.attemptsMade ? `retry ${job.attemptsMade}` : ''].filter(Boolean).join(', ') };
}

/** The rows of a sweep, read now. */
export async function sweepRows(queue: SweepQueue, m: SweepManifest): Promise<JobRow[]> {
  return Promise.all(m.jobs.map(async (e) => jobRow(e, await queue.getJob(e.id))));
}

/** A plain-text table with a counts line. */
export function formatRows(name: string, rows: readonly JobRow[]): string {
  const head = ['job', 'run', 'status', 'worker', 'progress', 'note'];
  const cells = rows.map((r) => [r.id, r.run, r.status, r.worker, r.progress, r.note]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((x, i) => x.padEnd(width[i])).join('  ').trimEnd();
  const counts = (['waiting', 'active', 'done', 'diverged', 'failed', 'missing'] as const).map((s) => [s, rows.filter((r) => r.status === s).length] as const).filter(([, n]) => n > 0);
  return `sweep ${name}: ${rows.length} job(s): ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}\n${line(head)}\n${cells.map(line).join('\n')}`;
}

/** Whether every job has ended (done, diverged or failed for good). */
export const finished = (rows: readonly JobRow[]): boolean => rows.every((r) => r.status === 'done' || r.status === 'diverged' || r.status === 'failed' || r.status === 'missing');

/**
 * Redraws the table every `intervalMs` (on a terminal; elsewhere prints it when a job changes status or worker)
 * until every job has ended; returns the last rows. While Redis is unreachable it says so and keeps trying.
 */
export async function watchSweep(queue: SweepQueue, t: QueueTarget, name: string, opts: { intervalMs?: number; tty: boolean; say: (text: string) => void; pollTimeoutMs?: number }): Promise<JobRow[]> {
  const report = connectionReporter(t, opts.say);
  queue.on('error', (e) => (isConnectionError(e) ? report.error(e) : opts.say(`queue error: ${e.message}`)));
  let lastKey = '';
  let manifest: SweepManifest | null = null;
  let toldMissing = false;
  for (;;) {
    try {
      // Read each time until it exists: the sweep may be enqueued after the watch starts.
      manifest ??= await withTimeout(readManifest(queue, t, name), opts.pollTimeoutMs ?? 5000, 'no answer');
      report.ready();
      if (!manifest) {
        if (!toldMissing) opts.say(`no sweep named ${name} on ${t.url} (prefix ${t.prefix}) yet; waiting for it to be enqueued`);
        toldMissing = true;
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
        continue;
      }
      const rows = await withTimeout(sweepRows(queue, manifest), opts.pollTimeoutMs ?? 5000, 'no answer');
      const text = formatRows(name, rows);
      const key = rows.map((r) => `${r.status}|${r.worker}`).join(',');
      if (opts.tty) opts.say(`\x1b[2J\x1b[H${text}`);
      else if (key !== lastKey) opts.say(text);
      lastKey = key;
      if (finished(rows)) return rows;
    } catch (e) {
      if (isConnectionError(e)) report.error(e as Error);
      else opts.say(`reading sweep ${name} failed: ${(e as Error).message}; trying again`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
