// Runs a PyTorch peer script in a child process (Debian's /usr/bin/python3 with python3-torch) on a given number of threads and parses the JSON line it prints last.

import { spawnSync } from 'node:child_process';

/**
 * Runs `script` (python source) with its configuration as argv[1] (JSON), OpenMP/OpenBLAS/MKL limited to `threads`
 * (Debian's torch calls OpenBLAS, whose thread pool torch.set_num_threads does not size), and returns the JSON object
 * of its last stdout line; a string says why there is none.
 */
export function runTorchScript<T>(script: string, cfg: unknown, threads: number, timeoutMs: number): T | string {
  const n = String(threads);
  const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  const run = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(cfg)], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 22, env });
  if (run.error) return `PyTorch not runnable: ${run.error.message}`;
  if (run.status !== 0) return `PyTorch exited with ${run.status} (on Debian: apt-get install python3-torch): ${run.stderr.trim().split('\n').slice(-2).join(' | ')}`;
  try {
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as T;
  } catch {
    return `PyTorch printed no JSON: ${run.stdout.slice(0, 200)}`;
  }
}
