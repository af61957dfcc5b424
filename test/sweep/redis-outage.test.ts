// Redis away: a worker and --watch pointed at a port where nothing listens say so and keep retrying (bounded in time), pick up work once a redis-server starts there, and say so again when it stops; enqueue fails fast with a clear error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../cli/cli-harness.js';
import { freePort, redisServerMissing, startRedisServer, waitFor } from './redis-test.js';

const skip = redisServerMissing('Redis outage suite');
const dirs: string[] = [];
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const count = (text: string, s: string): number => text.split(s).length - 1;

describe.skipIf(skip)('Redis unreachable', () => {
  it('enqueue fails within seconds naming the URL; a worker and --watch report the outage, retry, then work once Redis is up, and report it again when it goes', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const t0 = Date.now();
    const enq = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'identity', '--seeds', '0', '--queue', url, '--name', 'outage']);
    expect(enq.code).toBe(1);
    expect(enq.stderr).toContain(`iml: cannot reach Redis at ${url}`);
    expect(Date.now() - t0).toBeLessThan(30_000);

    const worker = await startCli(['worker', '--queue', url, '--lock-duration', '2000', '--stalled-interval', '1000']);
    const watch = await startCli(['sweep', '--watch', '--name', 'outage', '--queue', url]);
    cleanups.push(() => worker.child.exitCode === null && worker.child.kill('SIGKILL'), () => watch.child.exitCode === null && watch.child.kill('SIGKILL'));
    const down = `cannot reach Redis at ${url} (`;
    // Both say so, and say it again while they keep trying (at most every 5 s), without exiting.
    await waitFor('the worker and the watch to report the outage twice', () => count(worker.output(), down) >= 2 && count(watch.output(), down) >= 2, 30_000, () => `${worker.output()}\n---\n${watch.output()}`);
    expect(worker.output()).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED 127\.0\.0\.1:\d+\) for \d+ s; retrying/);
    expect(worker.child.exitCode).toBeNull();
    expect(watch.child.exitCode).toBeNull();

    const redis = await startRedisServer(port);
    cleanups.push(() => redis.stop());
    const dir = mkdtempSync(join(tmpdir(), 'iml-outage-'));
    dirs.push(dir);
    const cfg = join(dir, 'tiny.json');
    writeFileSync(cfg, JSON.stringify({ hidden: 8, imageSize: 14, config: { metaEpochs: 2, innerSteps: 2, checkpointEvery: 1 } }));
    const ok = await runCli(['sweep', 'overfit-small-val', '--quick', '--methods', 'identity', '--seeds', '0', '--config', cfg, '--queue', url, '--name', 'outage']);
    expect(ok.code, ok.stderr).toBe(0);
    // The watch sees the sweep through to the end and exits; the worker ran the job.
    const w = await watch.done;
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toContain(`Redis at ${url} is reachable again`);
    expect(w.stdout).toContain('sweep outage: 1 job(s): 1 done');
    await waitFor('the worker to finish the job', () => / done, test /.test(worker.output()), 60_000, worker.output);
    expect(worker.output()).toContain(`Redis at ${url} is reachable again`);

    // Redis goes away under a running worker: it says so again and keeps running.
    const before = count(worker.output(), down);
    await redis.stop();
    await waitFor('the worker to report the second outage', () => count(worker.output(), down) > before, 30_000, worker.output);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    const end = await worker.done;
    expect(end.code).toBe(0);
  });
});
