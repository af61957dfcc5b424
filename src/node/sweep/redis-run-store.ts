// A RunStore in Redis: metrics as a list, checkpoint and best snapshot as checksummed checkpoint texts, every write fenced by the job's current owner.

import type { Redis } from 'ioredis';
import type { Backend } from '../../backend/backend.js';
import type { RunStore } from '../../iml/run-store.js';
import type { MetaEpochMetrics } from '../../iml/trainer.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointInput } from '../../train/checkpoint.js';
import { runKeys } from './connection.js';

/**
 * One script for every write: refuse it unless KEYS[1] (the run's owner) still holds ARGV[1] (this attempt's
 * token; '' = unfenced), then RPUSH / replace-the-list on KEYS[2], or move KEYS[3] (a checkpoint this writer
 * uploaded beside it) over KEYS[2]. A worker whose job was taken over (its lock expired while it was cut off or
 * frozen) can therefore no longer change the run. Checkpoints travel as a plain SET and a rename: passing tens
 * of megabytes through the script itself takes twice as long.
 */
const FENCED_WRITE = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED this worker no longer owns the run (another worker took the job over)')
end
if ARGV[2] == 'move' then
  redis.call('RENAME', KEYS[3], KEYS[2])
  redis.call('PERSIST', KEYS[2])
elseif ARGV[2] == 'append' then
  redis.call('RPUSH', KEYS[2], ARGV[3])
elseif ARGV[2] == 'replace' then
  redis.call('DEL', KEYS[2])
  for i = 3, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
end
return 1`;

type FencedRedis = Redis & { imlFencedWrite(owner: string, key: string, upload: string, token: string, op: string, ...values: string[]): Promise<number> };

function withScript(redis: Redis): FencedRedis {
  const r = redis as FencedRedis;
  if (typeof r.imlFencedWrite !== 'function') redis.defineCommand('imlFencedWrite', { numberOfKeys: 3, lua: FENCED_WRITE });
  return r;
}

/** Parses stored metrics lines; a line that is not JSON is an error naming the key and the line. */
function parseLines(lines: string[], where: string): MetaEpochMetrics[] {
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as MetaEpochMetrics;
    } catch (e) {
      throw new Error(`${where}: metrics line ${i + 1} is not JSON (${(e as Error).message})`, { cause: e });
    }
  });
}

/**
 * The run of job `jobId` under `prefix`, in `redis`. With `token`, writes succeed only while the run's owner key
 * holds that token (set by the worker when it takes the job); without, writes are unconditional (tests, tools).
 */
export function redisRunStore(redis: Redis, opts: { prefix: string; jobId: string; token?: string; url?: string }): RunStore & {
  /** The raw checkpoint text (what a checkpoint.json file holds), or null. */
  checkpointText(): Promise<string | null>;
  bestText(): Promise<string | null>;
  /** The metrics lines as stored (one JSON object each, as a metrics.jsonl file holds them). */
  metricsLines(): Promise<string[]>;
} {
  const keys = runKeys(opts, opts.jobId);
  const r = withScript(redis);
  const token = opts.token ?? '';
  const location = `${opts.url ?? 'redis'} ${keys.metrics.replace(/:metrics$/, '')}`;
  const write = (key: string, op: 'append' | 'replace', ...values: string[]): Promise<number> => r.imlFencedWrite(keys.owner, key, key, token, op, ...values);
  /** Uploads `text` beside `key` (a key of this writer's own, expiring in a day if left behind), then moves it over `key` if still the owner. */
  const put = async (key: string, text: string): Promise<void> => {
    const upload = `${key}:upload:${token || 'unfenced'}`;
    await redis.set(upload, text, 'EX', 86_400);
    try {
      await r.imlFencedWrite(keys.owner, key, upload, token, 'move');
    } catch (e) {
      await redis.del(upload).catch(() => undefined);
      throw e;
    }
  };
  return {
    location,
    readMetrics: async (upTo?: number) => {
      if (upTo !== undefined && upTo <= 0) return [];
      return parseLines(await redis.lrange(keys.metrics, 0, upTo === undefined ? -1 : upTo - 1), `${location}`);
    },
    writeMetrics: async (ms: readonly MetaEpochMetrics[]) => {
      await write(keys.metrics, 'replace', ...ms.map((m) => JSON.stringify(m)));
    },
    appendMetrics: async (m: MetaEpochMetrics) => {
      await write(keys.metrics, 'append', JSON.stringify(m));
    },
    loadCheckpoint: async (backend?: Backend) => {
      // As bytes: ioredis decodes large strings slower than Buffer.toString does.
      const bytes = await redis.getBuffer(keys.checkpoint);
      return bytes === null ? null : decodeCheckpoint(bytes.toString('utf8'), { backend }, `${location}: checkpoint`);
    },
    saveCheckpoint: async (ckpt: CheckpointInput) => {
      await put(keys.checkpoint, await encodeCheckpoint(ckpt, `${location}: checkpoint`));
    },
    saveBest: async (ckpt: CheckpointInput) => {
      await put(keys.best, await encodeCheckpoint(ckpt, `${location}: best`));
    },
    checkpointText: async () => (await redis.getBuffer(keys.checkpoint))?.toString('utf8') ?? null,
    bestText: async () => (await redis.getBuffer(keys.best))?.toString('utf8') ?? null,
    metricsLines: () => redis.lrange(keys.metrics, 0, -1),
  };
}
