// One sweep job inside a worker thread: builds the run exactly as `iml experiment` does and trains it against the shared Redis run store, resuming from its checkpoint.

import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { initGemm } from '../../backend/cpu/wasm-gemm.js';
import { selectBackend, type BackendKind } from '../select-backend.js';
import { prepareRecipeRun } from '../run-recipe.js';
import type { RunStore } from '../../iml/run-store.js';
import { runIml } from '../../iml/trainer.js';
import { redisOptions, type QueueTarget } from './connection.js';
import type { SweepJobData, SweepJobResult } from './jobs.js';
import { redisRunStore } from './redis-run-store.js';

/** What the worker's main thread hands to a job thread. */
export interface JobThreadInput {
  jobId: string;
  /** This attempt's lock token: the run store refuses writes once another attempt owns the run. */
  token: string;
  data: SweepJobData;
  target: QueueTarget;
  backend: BackendKind;
  worker: string;
}

/** Messages from a job thread to the worker's main thread. */
export type JobThreadMessage =
  | { type: 'start'; startEpoch: number }
  | { type: 'epoch'; metaEpoch: number; metaEpochs: number; validationAccuracy: number; seconds: number }
  | { type: 'done'; result: SweepJobResult }
  | { type: 'error'; message: string };

/** Reports the first writeMetrics of the trainer (its resumed prefix, or none): the meta-epoch this attempt starts at. */
function reportingStart(store: RunStore, onStart: (startEpoch: number) => void): RunStore {
  let reported = false;
  return {
    ...store,
    writeMetrics: async (ms) => {
      await store.writeMetrics(ms);
      if (!reported) {
        reported = true;
        onStart(ms.length + 1);
      }
    },
  };
}

/** The backend of this thread, chosen by its first job (a worker's jobs all use its --backend). */
let backendLabel: string | undefined;

/** Runs the job described by `input`, posting progress with `post`; resolves with the job's result. */
export async function runSweepJob(input: JobThreadInput, post: (m: JobThreadMessage) => void): Promise<SweepJobResult> {
  const t0 = performance.now();
  await initGemm();
  backendLabel ??= await selectBackend(input.backend);
  const redis = new Redis(redisOptions(input.target, { lazyConnect: false }));
  // Reconnection is reported by the worker's main thread; here errors only surface through failing commands.
  redis.on('error', () => undefined);
  try {
    const d = input.data;
    const { model, mk, data, config, identity } = prepareRecipeRun(d.recipe, d.quick, d.plan, d.variant, d.methodSpec, d.seed, d.dataDir);
    let startEpoch = 1;
    const store = reportingStart(redisRunStore(redis, { prefix: input.target.prefix, jobId: input.jobId, token: input.token, url: input.target.url }), (e) => {
      startEpoch = e;
      post({ type: 'start', startEpoch: e });
    });
    const { summary } = await runIml(model, mk, data, config, {
      store, resume: true, identity,
      onMetaEpoch: (m) => post({ type: 'epoch', metaEpoch: m.metaEpoch, metaEpochs: config.metaEpochs, validationAccuracy: m.validation.accuracy, seconds: m.epochSeconds }),
    });
    return { summary, backend: backendLabel, worker: input.worker, startEpoch, seconds: (performance.now() - t0) / 1000 };
  } finally {
    redis.disconnect();
  }
}

/** Entry of a job thread (the hidden `iml __sweep-job` command run by `iml worker` in a worker thread): runs the jobs it is sent, one at a time. */
export async function jobThreadMain(): Promise<void> {
  if (!parentPort) throw new Error('__sweep-job is run by iml worker inside a worker thread, not from a shell');
  const port = parentPort;
  const post = (m: JobThreadMessage): void => port.postMessage(m);
  // The listener keeps the thread alive between jobs; the worker terminates it when it stops.
  port.on('message', (input: JobThreadInput) => {
    runSweepJob(input, post).then(
      (result) => post({ type: 'done', result }),
      (e: unknown) => post({ type: 'error', message: `${(e as Error)?.message ?? String(e)} (on ${hostname()})` }),
    );
  });
}
