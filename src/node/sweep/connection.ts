// Where a sweep's queue lives: `--queue redis://HOST:PORT[/DB]` parsed into connection options, key names, and messages while Redis is unreachable.

import type { RedisOptions } from 'ioredis';

/** A parsed `--queue` URL and the key prefix every key of the sweep lives under. */
export interface QueueTarget {
  /** The URL as given (without a password), for messages. */
  url: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** First part of every key: BullMQ's `<prefix>:jobs:*` and the run store's `<prefix>:run:*`, `<prefix>:sweep:*`. */
  prefix: string;
}

/** BullMQ queue name (keys `<prefix>:jobs:*`). */
export const QUEUE_NAME = 'jobs';
export const DEFAULT_PREFIX = 'iml';

/** Parses `redis://[user:password@]host[:port][/db]`; anything else is an error naming the flag and what is wrong. */
export function parseQueueUrl(text: string, prefix = DEFAULT_PREFIX): QueueTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`--queue ${JSON.stringify(text)} is not a URL; expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--queue ${JSON.stringify(text)}: the scheme must be redis:// (TLS and sockets are not supported), got ${u.protocol}//`);
  if (!u.hostname) throw new Error(`--queue ${JSON.stringify(text)}: no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue ${JSON.stringify(text)}: the path must be a database number (redis://HOST:PORT/0), got /${path}`);
  if (u.search || u.hash) throw new Error(`--queue ${JSON.stringify(text)}: query strings and fragments are not understood`);
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`--prefix ${JSON.stringify(prefix)}: use letters, digits, '_', '.' and '-' only`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    url: `redis://${host.includes(':') ? `[${host}]` : host}:${port}${db ? `/${db}` : ''}`,
    host, port, db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    prefix,
  };
}

/**
 * ioredis options for the target: reconnect for ever, at most every 2 s, and (for BullMQ workers and long
 * waits) keep commands queued while disconnected instead of failing them.
 */
export function redisOptions(t: QueueTarget, extra: RedisOptions = {}): RedisOptions {
  return {
    host: t.host, port: t.port, db: t.db, username: t.username, password: t.password,
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
    ...extra,
  };
}

/**
 * Says when Redis cannot be reached (first failure, then at most every `everyMs`) and when it is back, instead of
 * staying silent while ioredis retries. Returns the handlers to attach to 'error' and 'ready' events.
 */
export function connectionReporter(t: QueueTarget, say: (line: string) => void, everyMs = 5000): { error: (e: Error) => void; ready: () => void; down: () => boolean } {
  let since = 0;
  let last = 0;
  return {
    error: (e: Error) => {
      const now = Date.now();
      if (since === 0) since = now;
      if (last === 0 || now - last >= everyMs) {
        last = now;
        const secs = ((now - since) / 1000).toFixed(0);
        say(`cannot reach Redis at ${t.url} (${e.message})${since !== now ? ` for ${secs} s` : ''}; retrying`);
      }
    },
    ready: () => {
      if (since !== 0) say(`Redis at ${t.url} is reachable again`);
      since = 0;
      last = 0;
    },
    down: () => since !== 0,
  };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/** Whether `e` says Redis cannot be reached (as opposed to an error of a command or of a job). */
export function isConnectionError(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err?.code && CONNECTION_CODES.has(err.code)) return true;
  const m = err?.message ?? '';
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection is closed|Stream isn't writeable|Reached the max retries per request|no answer/.test(m);
}

/** Resolves `p`, or rejects after `ms` with `message` (a command that would otherwise wait for ever on a lost connection). */
export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Key names of one job's run (shared by every worker that runs it, and by collect). */
export function runKeys(t: Pick<QueueTarget, 'prefix'>, jobId: string): { metrics: string; checkpoint: string; best: string; owner: string; starts: string } {
  const base = `${t.prefix}:run:${jobId}`;
  return { metrics: `${base}:metrics`, checkpoint: `${base}:checkpoint`, best: `${base}:best`, owner: `${base}:owner`, starts: `${base}:starts` };
}

/** Key of a sweep's manifest (its recipe, plan and job ids). */
export function sweepKey(t: Pick<QueueTarget, 'prefix'>, name: string): string {
  return `${t.prefix}:sweep:${name}`;
}
