// Sweeps on a real Redis (no mocks): 2 worker processes reproduce a local `iml experiment` bit for bit, kill -9 of a worker resumes from the checkpoint, re-enqueueing adds nothing, bad settings fail before anything is enqueued.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/node/sweep/connection.js';
import type { StartRecord } from '../../src/node/sweep/worker.js';
import { runCli, startCli } from '../cli/cli-harness.js';
import { dropPrefix, freshPrefix, keysUnder, REDIS_URL, redisUnavailable, waitFor } from './redis-test.js';

const skip = await redisUnavailable('sweep suite (real Redis)');

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'iml-sweep-'));
  dirs.push(d);
  return d;
};
const prefixes: string[] = [];
const prefix = (tag: string): string => {
  const p = freshPrefix(tag);
  prefixes.push(p);
  return p;
};
const children: { kill: (s?: NodeJS.Signals) => boolean; exitCode: number | null }[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  if (!skip) for (const p of prefixes) await dropPrefix(p);
});

/** The tiniest 4.1 protocol: 14x14 MNIST, 16 hidden units, 6 meta-epochs of 5 inner steps, a checkpoint every 2. */
const GRID = { hidden: 16, imageSize: 14, config: { metaEpochs: 6, innerSteps: 5, checkpointEvery: 2 } };
/** A longer single run (checkpoint after every meta-epoch) that a worker is killed in the middle of. */
const LONG = { hidden: 32, imageSize: 14, config: { metaEpochs: 80, innerSteps: 10, checkpointEvery: 1 } };
const RUNS = ['neumann_3/seed-0', 'neumann_3/seed-1', 'identity/seed-0', 'identity/seed-1'];

/** Everything a run folder's run holds except wall-clock times: metrics lines, summary, and the exact bytes of its checkpoints. */
function runContent(dir: string, run: string) {
  const base = join(dir, 'main', run);
  const metrics = readFileSync(join(base, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { epochSeconds: _e, approximationSeconds: _a, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
  const { meanEpochSeconds: _m, meanApproximationSeconds: _n, ...summary } = JSON.parse(readFileSync(join(base, 'summary.json'), 'utf8')) as Record<string, unknown>;
  return { metrics, summary, checkpoint: readFileSync(join(base, 'checkpoint.json'), 'utf8'), best: readFileSync(join(base, 'best.json'), 'utf8') };
}

async function startWorker(p: string, extra: string[] = []) {
  const w = await startCli(['worker', '--queue', REDIS_URL, '--prefix', p, '--lock-duration', '2000', '--stalled-interval', '1000', ...extra]);
  children.push(w.child);
  await waitFor('the worker to start', () => w.output().includes('job(s) at a time'), 60_000, w.output);
  return w;
}

async function starts(p: string, jobId: string): Promise<StartRecord[]> {
  const r = new Redis(REDIS_URL);
  try {
    return (await r.lrange(`${p}:run:${jobId}:starts`, 0, -1)).map((l) => JSON.parse(l) as StartRecord);
  } finally {
    r.disconnect();
  }
}

async function jobCounts(p: string): Promise<Record<string, number>> {
  const q = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix: p });
  try {
    return await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
  } finally {
    await q.close();
  }
}

/** The job ids of sweep `name`, from its manifest. */
async function jobIdsOf(p: string, name: string): Promise<string[]> {
  const r = new Redis(REDIS_URL);
  try {
    return (JSON.parse((await r.get(`${p}:sweep:${name}`)) ?? 'null') as { jobs: { id: string }[] }).jobs.map((j) => j.id);
  } finally {
    r.disconnect();
  }
}

describe.skipIf(skip)('iml sweep / iml worker on a real Redis', () => {
  let work = '';
  let gridFile = '';
  let longFile = '';
  let local = '';
  let localLong = '';
  beforeAll(async () => {
    work = tmp();
    gridFile = join(work, 'grid.json');
    longFile = join(work, 'long.json');
    writeFileSync(gridFile, JSON.stringify(GRID));
    writeFileSync(longFile, JSON.stringify(LONG));
    local = join(work, 'local');
    localLong = join(work, 'local-long');
    const [a, b] = await Promise.all([
      runCli(['experiment', 'overfit-small-val', '--quick', '--methods', 'neumann:3,identity', '--seeds', '0,1', '--config', gridFile, '--out', local, '--no-progress']),
      runCli(['experiment', 'overfit-small-val', '--quick', '--methods', 'neumann:3', '--seeds', '0', '--config', longFile, '--out', localLong, '--no-progress']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
  });

  it('2 methods x 2 seeds on 2 worker processes: the collected folder equals a local iml experiment bit for bit; re-enqueueing adds no job', async () => {
    const p = prefix('grid');
    const enqueue = ['sweep', 'overfit-small-val', '--quick', '--methods', 'neumann:3,identity', '--seeds', '0,1', '--config', gridFile, '--queue', REDIS_URL, '--prefix', p, '--name', 'grid'];
    const first = await runCli(enqueue);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('sweep grid: 4 job(s); enqueued 4 new');
    const [w1, w2] = await Promise.all([startWorker(p), startWorker(p)]);
    const watch = await runCli(['sweep', '--watch', '--name', 'grid', '--queue', REDIS_URL, '--prefix', p]);
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toContain('sweep grid: 4 job(s): 4 done');
    const ids = await jobIdsOf(p, 'grid');
    for (const id of ids) expect(watch.stdout).toContain(id);
    expect(ids).toHaveLength(4);
    // Both workers ran jobs, each job was started exactly once, from meta-epoch 1.
    const who = new Set<string>();
    for (const id of ids) {
      const s = await starts(p, id);
      expect(s.map((x) => x.startEpoch), id).toEqual([1]);
      who.add(s[0].worker);
    }
    expect(who.size).toBe(2);
    expect([...who].sort()).toEqual([w1.child.pid, w2.child.pid].map((pid) => `${hostname()}:${pid}`).sort());

    // The same sweep again (without --name: the name comes from the jobs' hash): no job added.
    const before = await jobCounts(p);
    const again = await runCli(enqueue);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('enqueued 0 new; already on the queue: 4 completed');
    expect(await jobCounts(p)).toEqual(before);
    expect(before.completed).toBe(4);

    const out = join(tmp(), 'collected');
    const c = await runCli(['sweep', '--collect', 'grid', '--out', out, '--queue', REDIS_URL, '--prefix', p]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain(`collected 4 run(s) into ${out}`);
    for (const run of RUNS) {
      const mine = runContent(out, run);
      const theirs = runContent(local, run);
      expect(mine.metrics, run).toEqual(theirs.metrics);
      expect(mine.metrics).toHaveLength(6);
      expect(mine.summary, run).toEqual(theirs.summary);
      expect(mine.checkpoint === theirs.checkpoint, `${run}: checkpoint.json bytes`).toBe(true);
      expect(mine.best === theirs.best, `${run}: best.json bytes`).toBe(true);
    }
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ recipe: 'overfit-small-val', quick: true, methods: ['neumann:3', 'identity'], seeds: [0, 1], hidden: 16, imageSize: 14, sweep: { name: 'grid', jobs: 4, collected: 4 } });
    expect(cfg.config).toEqual(JSON.parse(readFileSync(join(local, 'config.json'), 'utf8')).config);
    // iml report treats it as a local run folder.
    rmSync(join(out, 'report.html'));
    const rep = await runCli(['report', out]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(rep.stdout).toContain('| Neumann(3, α=0.1) | 2 |');
    // --clean removes the sweep: its jobs, their runs in the store and the manifest.
    const clean = await runCli(['sweep', '--clean', 'grid', '--queue', REDIS_URL, '--prefix', p]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('sweep grid: removed 4 job(s) and their runs');
    expect((await keysUnder(p)).filter((k) => k.startsWith(`${p}:run:`) || k.startsWith(`${p}:sweep:`))).toEqual([]);
    expect(Object.values(await jobCounts(p)).every((n) => n === 0)).toBe(true);
    w1.child.kill('SIGTERM');
    w2.child.kill('SIGTERM');
    await Promise.all([w1.done, w2.done]);
  });

  it('kill -9 of the worker running a job: the other worker resumes it from the checkpoint, nothing restarts from scratch, the result equals the uninterrupted run', async () => {
    const p = prefix('kill');
    const workers = await Promise.all([startWorker(p), startWorker(p)]);
    const e = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'neumann:3', '--seeds', '0', '--config', longFile, '--queue', REDIS_URL, '--prefix', p, '--name', 'long']);
    expect(e.code, e.stderr).toBe(0);
    const [id] = await jobIdsOf(p, 'long');
    const r = new Redis(REDIS_URL);
    let victim: (typeof workers)[number];
    let killedAfter = 0;
    try {
      const first = await waitFor('the job to start', async () => (await starts(p, id))[0], 60_000, () => workers.map((w) => w.output()).join('\n'));
      victim = workers.find((w) => first.worker.endsWith(`:${w.child.pid}`))!;
      expect(victim).toBeDefined();
      // Past a few checkpoints, well before the end: kill -9, no chance to clean up.
      killedAfter = await waitFor('a few meta-epochs', async () => {
        const n = await r.llen(`${p}:run:${id}:metrics`);
        return n >= 5 ? n : 0;
      }, 60_000, victim.output, 10);
      victim.child.kill('SIGKILL');
    } finally {
      r.disconnect();
    }
    expect(killedAfter).toBeLessThan(LONG.config.metaEpochs);
    const survivor = workers.find((w) => w !== victim)!;
    await waitFor('the survivor to finish the job', () => / done, test /.test(survivor.output()), 90_000, survivor.output);
    expect(survivor.output()).toContain('stalled');
    const s = await starts(p, id);
    // One start from scratch (the victim), one resume from a checkpoint at or after the kill's epochs - 1 (the survivor).
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({ worker: expect.stringMatching(new RegExp(`:${victim!.child.pid}$`)), startEpoch: 1 });
    expect(s[1].worker).toMatch(new RegExp(`:${survivor.child.pid}$`));
    expect(s[1].startEpoch).toBeGreaterThan(1);
    expect(s[1].startEpoch).toBeGreaterThanOrEqual(killedAfter);
    expect(survivor.output()).toContain(`resumed from its checkpoint at meta-epoch ${s[1].startEpoch}`);

    const out = join(tmp(), 'collected');
    const c = await runCli(['sweep', '--collect', 'long', '--out', out, '--queue', REDIS_URL, '--prefix', p]);
    expect(c.code, c.stderr).toBe(0);
    const mine = runContent(out, 'neumann_3/seed-0');
    const theirs = runContent(localLong, 'neumann_3/seed-0');
    expect(mine.metrics).toHaveLength(LONG.config.metaEpochs);
    expect(mine.metrics).toEqual(theirs.metrics);
    expect(mine.summary).toEqual(theirs.summary);
    expect(mine.checkpoint === theirs.checkpoint, 'checkpoint.json bytes').toBe(true);
    expect(mine.best === theirs.best, 'best.json bytes').toBe(true);
    survivor.child.kill('SIGTERM');
    await survivor.done;
  });

  it('an invalid configuration fails at enqueue time, naming the problem, and enqueues nothing', async () => {
    const p = prefix('bad');
    const bad = join(tmp(), 'bad.json');
    writeFileSync(bad, JSON.stringify({ config: { innerBatch: 0 } }));
    const a = await runCli(['sweep', 'overfit-small-val', '--quick', '--config', bad, '--queue', REDIS_URL, '--prefix', p]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`iml: ${bad}: config.innerBatch must be an integer >= 1, got 0`);
    const b = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'neumann:3,cg:zero', '--queue', REDIS_URL, '--prefix', p]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^iml: .*cg:zero/m);
    const c = await runCli(['sweep', 'no-such-recipe', '--queue', REDIS_URL, '--prefix', p]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("iml: unknown recipe 'no-such-recipe'");
    expect(await keysUnder(p)).toEqual([]);
    // A sweep name reused with another protocol is refused with the differences.
    const ok = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'identity', '--seeds', '0', '--queue', REDIS_URL, '--prefix', p, '--name', 'n']);
    expect(ok.code, ok.stderr).toBe(0);
    const other = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'identity', '--seeds', '0', '--meta-epochs', '7', '--queue', REDIS_URL, '--prefix', p, '--name', 'n']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('sweep n is already on the queue with another configuration');
    expect(other.stderr).toContain('protocol.config.metaEpochs: 40 in the queued sweep, 7 now');
    expect(await jobCounts(p)).toMatchObject({ waiting: 1 });
  });
});
