// Sweep benchmark: wall time of a small 4.1 sweep run locally, by 1 and by 2 worker processes on a private redis-server, and each job's queue overhead (enqueue -> pick -> training start) and checkpoint save/load through the Redis store vs a run folder.
// Run: npm run build && node dist/bench/sweep.js   (needs Debian's redis-server on the PATH)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME, runKeys } from '../src/node/sweep/connection.js';
import type { SweepJobData, SweepJobResult } from '../src/node/sweep/jobs.js';
import { redisRunStore } from '../src/node/sweep/redis-run-store.js';
import type { StartRecord } from '../src/node/sweep/worker.js';
import { decodeCheckpoint } from '../src/train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/checkpoint-file.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'iml-bench-sweep-'));
// The thesis' 4.1 model (784-784-10, per-parameter L2, 50/50/50 samples) with a short protocol: the sizes that matter for checkpoints.
const settings = { config: { metaEpochs: 3, innerSteps: 20, checkpointEvery: 1 } };
const cfg = join(work, 'sweep.json');
writeFileSync(cfg, JSON.stringify(settings));
const GRID = ['overfit-small-val', '--quick', '--methods', 'neumann:3,identity', '--seeds', '0,1', '--config', cfg];

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const url = `redis://127.0.0.1:${port}`;
if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed (apt-get install redis-server)');
const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
// Quiet while redis-server starts (ioredis retries until it answers).
const redis = new Redis(url, { lazyConnect: true });
redis.on('error', () => undefined);
for (let i = 0; ; i++) {
  try {
    await redis.connect();
    await redis.ping();
    break;
  } catch (e) {
    redis.disconnect();
    if (i > 50) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const run = (args: string[]): Promise<string> => new Promise((resolve, reject) => {
  const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`iml ${args.join(' ')} exited with ${code}:\n${out}`))));
});

interface JobTimes { run: string; worker: string; pickS: number; waitS: number; setupS: number; trainS: number; jobS: number; processedOn: number; finishedOn: number }

async function sweepWith(workers: number): Promise<{ wallS: number; jobs: JobTimes[] }> {
  const prefix = `bench${workers}`;
  const procs: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) procs.push(spawn(process.execPath, [CLI, 'worker', '--queue', url, '--prefix', prefix], { stdio: 'ignore' }));
  // Workers up and idle before the clock starts (their start-up is paid once per machine, not per job).
  await new Promise((r) => setTimeout(r, 4000));
  const t0 = performance.now();
  await run(['sweep', ...GRID, '--queue', url, '--prefix', prefix, '--name', 's', '--watch']);
  const wallS = (performance.now() - t0) / 1000;
  procs.forEach((p) => p.kill('SIGTERM'));
  const q = new Queue<SweepJobData, SweepJobResult>(QUEUE_NAME, { connection: { url }, prefix });
  const manifest = JSON.parse((await redis.get(`${prefix}:sweep:s`))!) as { jobs: { id: string }[] };
  const jobs: JobTimes[] = [];
  for (const { id } of manifest.jobs) {
    const j = (await q.getJob(id))!;
    const start = JSON.parse((await redis.lrange(runKeys({ prefix }, id).starts, 0, 0))[0]) as StartRecord;
    const startMs = Date.parse(start.at);
    jobs.push({
      run: `${j.data.method} seed ${j.data.seed}`, worker: j.returnvalue.worker, pickS: 0, waitS: (j.processedOn! - j.timestamp) / 1000, setupS: (startMs - j.processedOn!) / 1000,
      trainS: (j.finishedOn! - startMs) / 1000, jobS: j.returnvalue.seconds, processedOn: j.processedOn!, finishedOn: j.finishedOn!,
    });
  }
  // Queue latency: from the moment the job could be taken (enqueued, or its worker's previous job finished) to when it was.
  for (const j of jobs) {
    const free = Math.max(0, ...jobs.filter((o) => o.worker === j.worker && o.finishedOn <= j.processedOn).map((o) => o.finishedOn));
    const enq = j.processedOn - j.waitS * 1000;
    j.pickS = (j.processedOn - Math.max(enq, free)) / 1000;
  }
  await q.close();
  return { wallS, jobs };
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
// `--checkpoints FILE`: only the checkpoint save/load part, on a checkpoint.json of the 4.1 model.
const only = process.argv[2] === '--checkpoints' ? process.argv[3] : undefined;
const localOut = join(work, 'local');
let two: Awaited<ReturnType<typeof sweepWith>> | null = null;
if (only === undefined) {
  console.log(`sweep benchmark: 4.1 --quick, neumann:3 + identity x seeds 0,1, ${JSON.stringify(settings.config)}; load average ${load()}`);
  const t0 = performance.now();
  await run(['experiment', ...GRID, '--out', localOut, '--no-progress']);
  const localS = (performance.now() - t0) / 1000;
  const one = await sweepWith(1);
  two = await sweepWith(2);
  console.log(`\n| run | wall time (s) | vs local |\n|---|---:|---:|`);
  console.log(`| local iml experiment (1 process) | ${localS.toFixed(1)} | 1.00 |`);
  console.log(`| sweep, 1 worker | ${one.wallS.toFixed(1)} | ${(one.wallS / localS).toFixed(2)} |`);
  console.log(`| sweep, 2 workers | ${two.wallS.toFixed(1)} | ${(two.wallS / localS).toFixed(2)} |`);
  for (const [label, r] of [['1 worker', one], ['2 workers', two]] as const) {
    console.log(`\nper job, ${label}: queue latency (enqueued or worker free -> picked), enqueue -> picked (incl. waiting for a worker), picked -> training starts (thread, data, model, checkpoint lookup), training (incl. checkpoint saves), the job's own time`);
    console.log(`| run | queue latency (s) | wait (s) | setup (s) | training (s) | job (s) |\n|---|---:|---:|---:|---:|---:|`);
    for (const j of r.jobs) console.log(`| ${j.run} | ${j.pickS.toFixed(3)} | ${j.waitS.toFixed(2)} | ${j.setupS.toFixed(2)} | ${j.trainS.toFixed(2)} | ${j.jobS.toFixed(2)} |`);
  }

}

// Checkpoint save/load of a real 4.1 checkpoint: Redis store (encode + SET + fenced move / GET + decode) vs a run folder file (atomic write + fsync, read + decode).
const ckFile = only ?? join(localOut, 'main', 'neumann_3', 'seed-0', 'checkpoint.json');
const text = readFileSync(ckFile, 'utf8');
const ck = await decodeCheckpoint(text, {}, ckFile);
const store = redisRunStore(redis, { prefix: 'benchck', jobId: 'x' });
const time = async (f: () => Promise<unknown>, n = 5): Promise<number> => {
  await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t) / n / 1000;
};
const ckInput = { params: ck.params, optimizer: ck.optimizer, optimizers: ck.optimizers, step: ck.step, meta: ck.meta };
const redisSave = await time(() => store.saveCheckpoint(ckInput));
const redisLoad = await time(() => store.loadCheckpoint());
const fileSave = await time(() => saveCheckpoint(join(work, 'ck.json'), ckInput));
const fileLoad = await time(() => loadCheckpoint(join(work, 'ck.json')));
const meanEpoch = two ? two.jobs.reduce((a, j) => a + j.trainS, 0) / two.jobs.length / settings.config.metaEpochs : NaN;
console.log(`\ncheckpoint of the 4.1 model (${(text.length / 1e6).toFixed(1)} MB of text), mean of 5, same process:`);
console.log(`| store | save (s) | load (s) |\n|---|---:|---:|`);
console.log(`| Redis (encode + SET + fenced move / GET + decode) | ${redisSave.toFixed(3)} | ${redisLoad.toFixed(3)} |`);
console.log(`| run folder (write + fsync + rename / read + decode) | ${fileSave.toFixed(3)} | ${fileLoad.toFixed(3)} |`);
console.log(`Redis save / run folder save: ${(redisSave / fileSave).toFixed(2)}; Redis load / run folder load: ${(redisLoad / fileLoad).toFixed(2)}${two ? `; one Redis save is ${((100 * redisSave) / meanEpoch).toFixed(1)}% of a meta-epoch of this protocol (${meanEpoch.toFixed(2)} s incl. its save)` : ''}`);
console.log(`load average at the end ${load()}`);

redis.disconnect();
server.kill('SIGTERM');
rmSync(work, { recursive: true, force: true });
