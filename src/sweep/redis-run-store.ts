// A RunStore in Redis: metrics as a list, checkpoint and best snapshot as checksummed checkpoint texts, every write fenced by the job's current owner.

import type { Redis } from 'ioredis';
import type { Backend } from '../backend/backend.js';
import type { RunStore } from '../iml/run-store.js';
import type { MetaEpochMetrics } from '../iml/trainer.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointInput } from '../train/checkpoint.js';
import { runKeys } from './connection.js';

/**
 * One script for every write: refuse it unless KEYS[1] (the run's owner) still holds ARGV[1] (this attempt's
 * token; '' = unfenced), then SET / RPUSH / replace-the-list on KEYS[2]. A worker whose job was taken over
 * (its lock expired while it was cut off or frozen) can therefore no longer change the run.
 */
const FENCED_WRITE = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED this worker no longer owns the run (another worker took the job over)')
end
if ARGV[2] == 'set' then
  redis.call('SET', KEYS[2], ARGV[3])
elseif ARGV[2] == 'append' then
  redis.call('RPUSH', KEYS[2], ARGV[3])
elseif ARGV[2] == 'replace' then
  redis.call('DEL', KEYS[2])
  for i = 3, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
end
return 1`;

type FencedRedis = Redis & { imlFencedWrite(owner: string, key: string, token: string, op: string, ...values: string[]): Promise<number> };

function withScript(redis: Redis): FencedRedis {
  const r = redis as FencedRedis;
  if (typeof r.imlFencedWrite !== 'function') redis.defineCommand('imlFencedWrite', { numberOfKeys: 2, lua: FENCED_WRITE });
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
  const write = (key: string, op: 'set' | 'append' | 'replace', ...values: string[]): Promise<number> => r.imlFencedWrite(keys.owner, key, token, op, ...values);
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
      const text = await redis.get(keys.checkpoint);
      return text === null ? null : decodeCheckpoint(text, `${location}: checkpoint`, { backend });
    },
    saveCheckpoint: async (ckpt: CheckpointInput) => {
      await write(keys.checkpoint, 'set', await encodeCheckpoint(ckpt, `${location}: checkpoint`));
    },
    saveBest: async (ckpt: CheckpointInput) => {
      await write(keys.best, 'set', await encodeCheckpoint(ckpt, `${location}: best`));
    },
    checkpointText: () => redis.get(keys.checkpoint),
    bestText: () => redis.get(keys.best),
    metricsLines: () => redis.lrange(keys.metrics, 0, -1),
  };
}
