// Puts a sweep on the queue: a manifest (recipe, plan, job ids) in Redis and one BullMQ job per run, added only if its id is new; also removes a sweep.

import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { configDifferences } from '../../iml/trainer.js';
import { QUEUE_NAME, redisOptions, runKeys, sweepKey, withTimeout, type QueueTarget } from './connection.js';
import { protocolOfPlan, type SweepDefinition, type SweepJobData, type SweepJobResult } from './jobs.js';

/** What Redis keeps about a sweep (`<prefix>:sweep:<name>`): enough to watch it and collect it into a run folder. */
export interface SweepManifest {
  name: string;
  recipe: string;
  quick: boolean;
  plan: SweepDefinition['plan'];
  dataDir?: string;
  jobs: { id: string; variant: string; methodSpec: string; method: string; seed: number }[];
  provenance?: Record<string, unknown>;
}

export type SweepQueue = Queue<SweepJobData, SweepJobResult>;

/** The queue's own Redis client (an ioredis client: the queue was opened with ioredis options). */
export async function clientOf(queue: SweepQueue): Promise<Redis> {
  return (await queue.client) as unknown as Redis;
}

/**
 * The queue, with commands that fail while Redis is unreachable instead of waiting; ioredis keeps reconnecting
 * (for --watch, which says so and retries).
 */
export function queueOf(t: QueueTarget): SweepQueue {
  return new Queue<SweepJobData, SweepJobResult>(QUEUE_NAME, { connection: redisOptions(t, { maxRetriesPerRequest: 1 }), prefix: t.prefix });
}

/** Opens the queue and checks within `timeoutMs` that Redis answers: enqueue, collect and clean fail with a clear error when it does not. */
export async function openQueue(t: QueueTarget, timeoutMs = 10_000): Promise<SweepQueue> {
  const queue = new Queue<SweepJobData, SweepJobResult>(QUEUE_NAME, { connection: redisOptions(t, { maxRetriesPerRequest: 1, retryStrategy: (n) => (n > 3 ? null : 300 * n) }), prefix: t.prefix });
  let lastError = '';
  queue.on('error', (e) => (lastError = e.message));
  try {
    const client = await withTimeout(clientOf(queue), timeoutMs, `no answer in ${timeoutMs / 1000} s`);
    await withTimeout(client.ping(), timeoutMs, `no answer in ${timeoutMs / 1000} s`);
  } catch (e) {
    await queue.close().catch(() => undefined);
    throw new Error(`cannot reach Redis at ${t.url} (${lastError || (e as Error).message}); is redis-server running there?`, { cause: e });
  }
  return queue;
}

export async function readManifest(queue: SweepQueue, t: QueueTarget, name: string): Promise<SweepManifest | null> {
  const text = await (await clientOf(queue)).get(sweepKey(t, name));
  return text === null ? null : (JSON.parse(text) as SweepManifest);
}

export interface EnqueueReport {
  name: string;
  added: string[];
  /** Jobs of the sweep already in the queue, by state. */
  existing: Record<string, number>;
  retried: string[];
}

/**
 * Enqueues the sweep's jobs whose ids are not in the queue yet (any state: waiting, active, done, failed);
 * `retryFailed` sends failed ones back. A sweep of the same name must have the same protocol; its methods and
 * seeds may grow.
 */
export async function enqueueSweep(queue: SweepQueue, t: QueueTarget, def: SweepDefinition, opts: { attempts: number; retryFailed?: boolean; provenance?: Record<string, unknown> }): Promise<EnqueueReport> {
  const client = await clientOf(queue);
  const old = await readManifest(queue, t, def.name);
  if (old) {
    const diffs = configDifferences(
      { recipe: old.recipe, quick: old.quick, dataDir: old.dataDir ?? null, protocol: protocolOfPlan(old.plan), variants: old.plan.variants },
      { recipe: def.recipe, quick: def.quick, dataDir: def.dataDir ?? null, protocol: protocolOfPlan(def.plan), variants: def.plan.variants },
    );
    if (diffs.length > 0) {
      throw new Error(`sweep ${def.name} is already on the queue with another configuration:\n  ${diffs.join('\n  ').replaceAll('in the checkpoint', 'in the queued sweep')}\n(choose another --name, or remove it with iml sweep --clean ${def.name})`);
    }
  }
  const existing: Record<string, number> = {};
  const fresh: typeof def.jobs = [];
  const retried: string[] = [];
  for (const j of def.jobs) {
    const job = await queue.getJob(j.id);
    if (!job) {
      fresh.push(j);
      continue;
    }
    let state: string = await job.getState();
    if (state === 'failed' && opts.retryFailed) {
      await job.retry('failed');
      retried.push(j.id);
      state = 'waiting (retried)';
    }
    existing[state] = (existing[state] ?? 0) + 1;
  }
  const jobOpts = (id: string): JobsOptions => ({ jobId: id, attempts: opts.attempts, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false });
  const union = <T>(a: readonly T[], b: readonly T[]): T[] => [...a, ...b.filter((x) => !a.includes(x))];
  const jobs = [...(old?.jobs ?? [])];
  for (const j of def.jobs) {
    if (!jobs.some((x) => x.id === j.id)) jobs.push({ id: j.id, variant: j.data.variant.label, methodSpec: j.data.methodSpec, method: j.data.method, seed: j.data.seed });
  }
  const manifest: SweepManifest = {
    name: def.name, recipe: def.recipe, quick: def.quick, dataDir: def.dataDir,
    plan: { ...def.plan, methods: union(old?.plan.methods ?? [], def.plan.methods), seeds: union(old?.plan.seeds ?? [], def.plan.seeds) },
    jobs, provenance: old?.provenance ?? opts.provenance,
  };
  // The manifest first: a worker may finish a job before this call returns, and watch/collect find it by name.
  await client.set(sweepKey(t, def.name), JSON.stringify(manifest));
  if (fresh.length > 0) await queue.addBulk(fresh.map((j) => ({ name: `${def.name}`, data: j.data, opts: jobOpts(j.id) })));
  return { name: def.name, added: fresh.map((j) => j.id), existing, retried };
}

/** Removes a sweep: its jobs (any state but active), their run data and the manifest. Returns what it removed and what it could not. */
export async function cleanSweep(queue: SweepQueue, t: QueueTarget, name: string): Promise<{ removed: number; active: string[] }> {
  const m = await readManifest(queue, t, name);
  if (!m) throw new Error(`no sweep named ${name} on ${t.url} (prefix ${t.prefix})`);
  const client = await clientOf(queue);
  const active: string[] = [];
  let removed = 0;
  for (const j of m.jobs) {
    const job = await queue.getJob(j.id);
    if (job && (await job.getState()) === 'active') {
      active.push(j.id);
      continue;
    }
    if (job) await job.remove();
    const k = runKeys(t, j.id);
    await client.del(k.metrics, k.checkpoint, k.best, k.owner, k.starts);
    removed++;
  }
  if (active.length === 0) await client.del(sweepKey(t, name));
  else await client.set(sweepKey(t, name), JSON.stringify({ ...m, jobs: m.jobs.filter((j) => active.includes(j.id)) }));
  return { removed, active };
}
