// The sweep suites' Redis: the suite's server (IML_TEST_REDIS_URL, started by .ci/run), a fresh key prefix per test removed afterwards, and private redis-server instances for outage tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { skipOrFail } from '../require-or-skip.js';

export const REDIS_URL = process.env.IML_TEST_REDIS_URL ?? '';

/** Why the sweep suites cannot run here (null: they can): no IML_TEST_REDIS_URL, or nothing answers there. Fails under CI. */
export async function redisUnavailable(suite: string): Promise<string | null> {
  if (!REDIS_URL) return skipOrFail(suite, 'IML_TEST_REDIS_URL is not set (.ci/run starts redis-server on 127.0.0.1:6390 and sets it)', { tag: 'redis' });
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return null;
  } catch (e) {
    return skipOrFail(suite, `no Redis answers at ${REDIS_URL} (${(e as Error).message})`, { tag: 'redis' });
  } finally {
    r.disconnect();
  }
}

/** A key prefix of its own for one test (BullMQ's and the run store's keys live under it). */
export function freshPrefix(tag: string): string {
  return `imltest-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Every key under `prefix` in the suite's Redis. */
export async function keysUnder(prefix: string, url = REDIS_URL): Promise<string[]> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    r.disconnect();
  }
}

/** Deletes every key under `prefix` (a test's cleanup). */
export async function dropPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const keys = await keysUnder(prefix, url);
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
  } finally {
    r.disconnect();
  }
}

/** A TCP port on 127.0.0.1 where nothing listens right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether Debian's redis-server is on the PATH (the outage tests start their own instances). */
export function redisServerMissing(suite: string): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : skipOrFail(suite, 'redis-server is not installed (apt-get install redis-server)', { tag: 'redis' });
}

/** Starts a private redis-server on 127.0.0.1:`port` (no persistence) and waits until it answers; stop() shuts it down. */
export async function startRedisServer(port: number): Promise<{ child: ChildProcess; url: string; stop: () => Promise<void> }> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      break;
    } catch {
      r.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return {
    child, url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits until `check` returns a value (polling every `everyMs`), or fails after `timeoutMs` with `what` and the last `detail()`. */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, detail: () => string = () => '', everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
