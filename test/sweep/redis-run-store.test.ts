// The Redis run store on a real Redis: a killed run resumes from it exactly as from a run folder, writes of a worker that lost the job are refused, a corrupt checkpoint is refused; queue URLs are checked.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { runIml, type MetaEpochMetrics } from '../../src/iml/trainer.js';
import { isConnectionError, parseQueueUrl, runKeys } from '../../src/node/sweep/connection.js';
import { redisRunStore } from '../../src/node/sweep/redis-run-store.js';
import { build, config as baseConfig, data } from '../iml/cases.js';
import { dropPrefix, freshPrefix, keysUnder, REDIS_URL, redisUnavailable } from './redis-test.js';

const skip = await redisUnavailable('Redis run store suite (real Redis)');
const p = freshPrefix('store');
const redis = skip ? null : new Redis(REDIS_URL);
afterAll(async () => {
  redis?.disconnect();
  if (!skip) await dropPrefix(p);
});

const config = (spec: string) => baseConfig({ method: parseMethod(spec), metaEpochs: 6, checkpointEvery: 2, patience: 2, continueAfterEarlyStop: true, metaSubset: 10 });
const strip = (ms: readonly MetaEpochMetrics[]) => ms.map(({ epochSeconds: _e, approximationSeconds: _a, ...rest }) => rest);

describe.skipIf(skip)('redisRunStore', () => {
  for (const spec of ['cg:3:warm', 't1t2']) {
    it(`${spec}: killed after meta-epoch 3 (checkpoint at 2), resumed from Redis in a fresh model: the uninterrupted run, metrics and summary`, async () => {
      const a = build();
      const full = await runIml(a.model, a.mk, data, config(spec));
      const jobId = `resume-${spec.replace(/:/g, '-')}`;
      const b = build();
      await expect(runIml(b.model, b.mk, data, config(spec), {
        store: redisRunStore(redis!, { prefix: p, jobId }), resume: true,
        onMetaEpoch: (m) => {
          if (m.metaEpoch === 3) throw new Error('killed');
        },
      })).rejects.toThrow('killed');
      expect(await redis!.llen(runKeys({ prefix: p }, jobId).metrics)).toBe(3);
      const c = build();
      const store = redisRunStore(redis!, { prefix: p, jobId });
      const resumed = await runIml(c.model, c.mk, data, config(spec), { store, resume: true });
      expect(strip(resumed.metrics)).toEqual(strip(full.metrics));
      expect({ ...resumed.summary, meanEpochSeconds: 0, meanApproximationSeconds: 0 }).toEqual({ ...full.summary, meanEpochSeconds: 0, meanApproximationSeconds: 0 });
      expect((await store.readMetrics()).map((m) => m.metaEpoch)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await store.readMetrics(2)).map((m) => m.metaEpoch)).toEqual([1, 2]);
      expect(await store.readMetrics(0)).toEqual([]);
    });
  }

  it('a writer whose token no longer owns the run is refused, and changes nothing', async () => {
    const jobId = 'fenced';
    const k = runKeys({ prefix: p }, jobId);
    await redis!.set(k.owner, 'attempt-1');
    const old = redisRunStore(redis!, { prefix: p, jobId, token: 'attempt-1' });
    const a = build();
    await runIml(a.model, a.mk, data, config('neumann:3'), { store: old });
    const before = await Promise.all([redis!.lrange(k.metrics, 0, -1), redis!.get(k.checkpoint), redis!.get(k.best)]);
    // Another worker took the job over.
    await redis!.set(k.owner, 'attempt-2');
    const b = build();
    await expect(runIml(b.model, b.mk, data, config('neumann:3'), { store: old })).rejects.toThrow('FENCED this worker no longer owns the run (another worker took the job over)');
    await expect(old.appendMetrics({ metaEpoch: 99 } as MetaEpochMetrics)).rejects.toThrow('FENCED');
    expect(await Promise.all([redis!.lrange(k.metrics, 0, -1), redis!.get(k.checkpoint), redis!.get(k.best)])).toEqual(before);
    // The refused checkpoint upload is not left behind, and the kept checkpoint has no expiry.
    expect((await keysUnder(p)).filter((key) => key.includes(':upload:'))).toEqual([]);
    expect(await redis!.ttl(k.checkpoint)).toBe(-1);
    // The owner's writes go through.
    const now = redisRunStore(redis!, { prefix: p, jobId, token: 'attempt-2' });
    await now.writeMetrics([]);
    expect(await redis!.llen(k.metrics)).toBe(0);
  });

  it('a modified checkpoint in Redis is refused with the key named', async () => {
    const jobId = 'tampered';
    const k = runKeys({ prefix: p }, jobId);
    const a = build();
    await runIml(a.model, a.mk, data, config('neumann:3'), { store: redisRunStore(redis!, { prefix: p, jobId, url: 'redis://x:1' }) });
    const text = (await redis!.get(k.checkpoint))!;
    const tampered = text.replace(/"step":(\d+)/, (_, n: string) => `"step":${Number(n) + 1}`);
    expect(tampered).not.toBe(text);
    await redis!.set(k.checkpoint, tampered);
    const b = build();
    await expect(runIml(b.model, b.mk, data, config('neumann:3'), { store: redisRunStore(redis!, { prefix: p, jobId, url: 'redis://x:1' }), resume: true }))
      .rejects.toThrow(`redis://x:1 ${p}:run:tampered: checkpoint: fails its checksum: the file was modified or is corrupt (refusing to resume from it)`);
  });
});

describe('parseQueueUrl', () => {
  it('reads host, port, database and prefix; refuses other schemes, paths and prefixes with the problem named', () => {
    expect(parseQueueUrl('redis://10.0.0.5:6390/2', 'grid')).toMatchObject({ url: 'redis://10.0.0.5:6390/2', host: '10.0.0.5', port: 6390, db: 2, prefix: 'grid' });
    expect(parseQueueUrl('redis://u:p%40ss@h')).toMatchObject({ url: 'redis://h:6379', port: 6379, db: 0, username: 'u', password: 'p@ss', prefix: 'iml' });
    expect(() => parseQueueUrl('localhost:6379')).toThrow('--queue "localhost:6379": the scheme must be redis://');
    expect(() => parseQueueUrl('not a url')).toThrow('--queue "not a url" is not a URL; expected redis://HOST:PORT');
    expect(() => parseQueueUrl('rediss://h:1')).toThrow('the scheme must be redis:// (TLS and sockets are not supported), got rediss://');
    expect(() => parseQueueUrl('redis://h:1/x')).toThrow('the path must be a database number (redis://HOST:PORT/0), got /x');
    expect(() => parseQueueUrl('redis://h:1', 'a:b')).toThrow(`--prefix "a:b": use letters, digits, '_', '.' and '-' only`);
  });
});

describe('isConnectionError', () => {
  it('tells an unreachable Redis from errors of commands and jobs', () => {
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new Error('no answer'))).toBe(true);
    expect(isConnectionError(new Error('Missing lock for job run-1. moveToFinished'))).toBe(false);
    expect(isConnectionError(new Error('FENCED this worker no longer owns the run'))).toBe(false);
  });
});
