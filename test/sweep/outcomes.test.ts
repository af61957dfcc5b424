// How sweep jobs end on a real Redis: a diverged run is a result (done once, not retried), an error is retried up to --attempts and then fails with its reason; --concurrency runs jobs side by side; a stopped worker hands its job back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/node/sweep/connection.js';
import { runCli, startCli } from '../cli/cli-harness.js';
import { dropPrefix, freshPrefix, REDIS_URL, redisUnavailable, waitFor } from './redis-test.js';

const skip = await redisUnavailable('sweep outcomes suite (real Redis)');
const dir = mkdtempSync(join(tmpdir(), 'iml-outcomes-'));
const p = freshPrefix('outcomes');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!skip) await dropPrefix(p);
});

async function manifestIds(name: string): Promise<string[]> {
  const r = new Redis(REDIS_URL);
  try {
    return (JSON.parse((await r.get(`${p}:sweep:${name}`)) ?? 'null') as { jobs: { id: string }[] }).jobs.map((j) => j.id);
  } finally {
    r.disconnect();
  }
}

describe.skipIf(skip)('sweep job outcomes', () => {
  it('diverged = a result (not retried); an error is retried --attempts times, then the job fails with its reason; --concurrency 2 runs two jobs at once', async () => {
    const tiny = { hidden: 8, imageSize: 14, config: { metaEpochs: 3, innerSteps: 2, checkpointEvery: 1 } };
    const divFile = join(dir, 'div.json');
    const okFile = join(dir, 'ok.json');
    writeFileSync(divFile, JSON.stringify({ ...tiny, config: { ...tiny.config, innerLr: 1e30 } }));
    writeFileSync(okFile, JSON.stringify(tiny));
    const common = ['--queue', REDIS_URL, '--prefix', p];
    const enqueue = async (args: string[]): Promise<void> => {
      const r = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'identity', ...args, ...common]);
      expect(r.code, r.stderr).toBe(0);
    };
    // Two jobs for a fresh worker with two slots: both are taken at once (each then loads its thread).
    await enqueue(['--seeds', '1,2', '--config', okFile, '--name', 'pair']);
    const worker = await startCli(['worker', ...common, '--concurrency', '2']);
    try {
      const pair = await runCli(['sweep', '--watch', '--name', 'pair', ...common]);
      expect(pair.code, pair.stderr).toBe(0);
      expect(pair.stdout).toContain('sweep pair: 2 job(s): 2 done');
      await enqueue(['--seeds', '0', '--config', divFile, '--name', 'div']);
      await enqueue(['--seeds', '0', '--config', okFile, '--dataset', 'cifar10', '--data-dir', join(dir, 'no-cifar'), '--attempts', '2', '--name', 'fail']);
      const div = await runCli(['sweep', '--watch', '--name', 'div', ...common]);
      expect(div.code, div.stderr).toBe(0);
      expect(div.stdout).toContain('sweep div: 1 job(s): 1 diverged');
      expect(div.stdout).toMatch(/diverged .* at meta-epoch 1: training loss is (NaN|Infinity)/);
      const fail = await runCli(['sweep', '--watch', '--name', 'fail', ...common]);
      expect(fail.code).toBe(1);
      expect(fail.stdout).toContain('sweep fail: 1 job(s): 1 failed');
      expect(fail.stdout).toContain('2 attempt(s): ');
      expect(fail.stdout).toContain(join(dir, 'no-cifar'));
      await waitFor('the worker to log the failures', () => worker.output().includes('no attempts left, the job failed'), 30_000, worker.output);
      expect(worker.output()).toMatch(/attempt 1 failed: .*; 1 attempt\(s\) left/);

      const q = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: p });
      try {
        const [d] = await Promise.all((await manifestIds('div')).map((id) => q.getJob(id)));
        // One attempt (BullMQ counts the successful one too), no retry.
        expect(d!.attemptsMade).toBe(1);
        expect(await d!.getState()).toBe('completed');
        expect(d!.returnvalue.summary.diverged).toMatchObject({ metaEpoch: 1 });
        const [f] = await Promise.all((await manifestIds('fail')).map((id) => q.getJob(id)));
        expect(await f!.getState()).toBe('failed');
        expect(f!.attemptsMade).toBe(2);
        const pairJobs = await Promise.all((await manifestIds('pair')).map((id) => q.getJob(id)));
        // Two at a time: each started before the other finished.
        const [a, b] = pairJobs.map((j) => ({ start: j!.processedOn!, end: j!.finishedOn! }));
        expect(a.start).toBeLessThan(b.end);
        expect(b.start).toBeLessThan(a.end);
      } finally {
        await q.close();
      }
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
  });

  it('stopping a worker (SIGTERM) hands its job back at once, without counting an attempt; the next worker resumes it from the checkpoint', async () => {
    const cfg = join(dir, 'long.json');
    writeFileSync(cfg, JSON.stringify({ hidden: 32, imageSize: 14, config: { metaEpochs: 80, innerSteps: 10, checkpointEvery: 1 } }));
    // Locks of a minute: a hand-back that waited for the lock to expire would not finish in time.
    const slow = ['--lock-duration', '60000', '--stalled-interval', '60000'];
    const a = await startCli(['worker', '--queue', REDIS_URL, '--prefix', p, ...slow]);
    const r = new Redis(REDIS_URL);
    try {
      const e = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'neumann:3', '--seeds', '0', '--config', cfg, '--queue', REDIS_URL, '--prefix', p, '--name', 'handback']);
      expect(e.code, e.stderr).toBe(0);
      const [id] = await manifestIds('handback');
      await waitFor('a few meta-epochs', async () => (await r.llen(`${p}:run:${id}:metrics`)) >= 5, 60_000, a.output, 10);
      const t0 = Date.now();
      a.child.kill('SIGTERM');
      const end = await a.done;
      expect(end.code, end.stderr).toBe(0);
      expect(end.stdout).toContain(`${id} Neumann(3, α=0.1) seed 0: handed back to the queue`);
      const b = await startCli(['worker', '--queue', REDIS_URL, '--prefix', p, ...slow]);
      try {
        await waitFor('the next worker to finish it', () => / done, test /.test(b.output()), 50_000, b.output);
        expect(Date.now() - t0).toBeLessThan(60_000);
      } finally {
        b.child.kill('SIGTERM');
        await b.done;
      }
      const starts = (await r.lrange(`${p}:run:${id}:starts`, 0, -1)).map((l) => JSON.parse(l) as { worker: string; startEpoch: number });
      expect(starts.map((x) => x.worker)).toEqual([`${hostname()}:${a.child.pid}`, `${hostname()}:${b.child.pid}`]);
      expect(starts[0].startEpoch).toBe(1);
      // Five metrics lines were written, so the checkpoint after meta-epoch 4 (or later) was there.
      expect(starts[1].startEpoch).toBeGreaterThanOrEqual(5);
      expect(b.output()).toContain(`resumed from its checkpoint at meta-epoch ${starts[1].startEpoch}`);
      expect(await r.llen(`${p}:run:${id}:metrics`)).toBe(80);
      const q = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: p });
      try {
        const job = (await q.getJob(id))!;
        expect(await job.getState()).toBe('completed');
        // Only the finishing attempt counts (BullMQ counts the successful one): the hand-back cost none.
        expect(job.attemptsMade).toBe(1);
      } finally {
        await q.close();
      }
    } finally {
      r.disconnect();
      if (a.child.exitCode === null) a.child.kill('SIGKILL');
    }
  });
});
