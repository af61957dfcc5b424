// `iml worker --backend webgpu` (Dawn, in the job's worker thread) on a real Redis: the collected run equals a local `iml experiment --backend webgpu` on the same adapter, and records the WebGPU backend.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../cli/cli-harness.js';
import { webGpuSkipReason } from '../webgpu/gpu-env.js';
import { dropPrefix, freshPrefix, REDIS_URL, redisUnavailable, waitFor } from './redis-test.js';

const noRedis = await redisUnavailable('WebGPU sweep worker suite');
const skip = noRedis ?? (await webGpuSkipReason('WebGPU sweep worker suite'));
const dir = mkdtempSync(join(tmpdir(), 'iml-sweep-gpu-'));
const p = freshPrefix('gpu');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!noRedis) await dropPrefix(p);
});

const withoutTimes = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const { epochSeconds: _e, approximationSeconds: _a, ...rest } = JSON.parse(l) as Record<string, unknown>;
  return rest;
});

describe.skipIf(skip)('iml worker --backend webgpu', () => {
  it('runs a job on the GPU in its thread; the collected metrics and checkpoint equal a local WebGPU run on the same adapter', async () => {
    const cfg = join(dir, 'tiny.json');
    writeFileSync(cfg, JSON.stringify({ hidden: 8, imageSize: 14, config: { metaEpochs: 3, innerSteps: 3, checkpointEvery: 1 } }));
    const grid = ['overfit-small-val', '--quick', '--methods', 'neumann:3', '--seeds', '0', '--config', cfg];
    const local = join(dir, 'local');
    const l = await runCli(['experiment', ...grid, '--backend', 'webgpu', '--out', local, '--no-progress']);
    expect(l.code, l.stderr).toBe(0);
    const e = await runCli(['sweep', ...grid, '--queue', REDIS_URL, '--prefix', p, '--name', 'gpu']);
    expect(e.code, e.stderr).toBe(0);
    const worker = await startCli(['worker', '--queue', REDIS_URL, '--prefix', p, '--backend', 'webgpu']);
    try {
      await waitFor('the job to finish', () => / done, test /.test(worker.output()), 90_000, worker.output);
      expect(worker.output()).toContain('1 job(s) at a time on webgpu');
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
    const out = join(dir, 'collected');
    const c = await runCli(['sweep', '--collect', 'gpu', '--out', out, '--queue', REDIS_URL, '--prefix', p]);
    expect(c.code, c.stderr).toBe(0);
    const run = (d: string) => join(d, 'main', 'neumann_3', 'seed-0');
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).backend).toMatch(/^webgpu \(/);
    expect(withoutTimes(join(run(out), 'metrics.jsonl'))).toEqual(withoutTimes(join(run(local), 'metrics.jsonl')));
    const ck = readFileSync(join(run(out), 'checkpoint.json'), 'utf8');
    expect(ck).toContain('"backend":"webgpu"');
    expect(ck === readFileSync(join(run(local), 'checkpoint.json'), 'utf8'), 'checkpoint.json bytes').toBe(true);
  });
});
