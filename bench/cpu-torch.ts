// Optional PyTorch CPU reference for bench/engine.ts: runs a small python script (torch, 1 thread) in a child process and returns median times.

import { spawnSync } from 'node:child_process';

export interface TorchResult {
  version: string;
  threads: number;
  /** Median milliseconds per call, by case name (mlpGrad, mlpHvp, matmul512, matmul1024, convFwd, convFwdBwd). */
  ms: Record<string, number>;
  samples: Record<string, number>;
  /** For the conv cases: whether the faster time was with oneDNN (mkldnn) on (each is measured with it on and off). */
  mkldnn?: Record<string, boolean>;
}

const SCRIPT = String.raw`
import json, sys, time
cfg = json.loads(sys.argv[1])
import torch
import torch.nn.functional as F
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
budget, min_samples = cfg["budget"], cfg["minSamples"]

def median_ms(fn):
    for _ in range(3):
        fn()
    xs, start = [], time.perf_counter()
    while len(xs) < min_samples or (time.perf_counter() - start < budget and len(xs) < 1000):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1e3)
    xs.sort()
    return xs[len(xs) // 2], len(xs)

B, D, H, C = 128, 784, 784, 10
W1 = (torch.randn(H, D) * 0.035).requires_grad_()
b1 = torch.zeros(H).requires_grad_()
W2 = (torch.randn(C, H) * 0.035).requires_grad_()
b2 = torch.zeros(C).requires_grad_()
ps = [W1, b1, W2, b2]
x = torch.randn(B, D)
t = F.one_hot(torch.arange(B) % C, C).float()
vs = [torch.randn_like(p) for p in ps]

def loss():
    z = F.linear(F.relu(F.linear(x, W1, b1)), W2, b2)
    return -(t * F.log_softmax(z, dim=1)).sum(dim=1).mean()

def grad():
    return torch.autograd.grad(loss(), ps)

def hvp():
    g = torch.autograd.grad(loss(), ps, create_graph=True)
    dot = sum((gi * vi).sum() for gi, vi in zip(g, vs))
    return torch.autograd.grad(dot, ps)

out = {"version": torch.__version__, "threads": torch.get_num_threads(), "ms": {}, "samples": {}}
def record(name, fn):
    ms, n = median_ms(fn)
    out["ms"][name] = ms
    out["samples"][name] = n

record("mlpGrad", grad)
record("mlpHvp", hvp)
with torch.no_grad():
    for n in (512, 1024):
        a, b = torch.randn(n, n), torch.randn(n, n)
        record("matmul%d" % n, lambda: torch.mm(a, b))
cx = torch.randn(64, 3, 32, 32).requires_grad_()
cw = (torch.randn(32, 3, 3, 3) * 0.2).requires_grad_()
# Convolutions with oneDNN (mkldnn) on and off, the faster kept: this build's 1-thread oneDNN conv forward can be ~18x
# slower than PyTorch's own path on these cores (49 vs 2.8 ms).
def record_best(name, fn):
    best = None
    for on in (True, False):
        torch.backends.mkldnn.enabled = on
        ms, n = median_ms(fn)
        if best is None or ms < best[0]:
            best = (ms, n, on)
    torch.backends.mkldnn.enabled = True
    out["ms"][name] = best[0]
    out["samples"][name] = best[1]
    out.setdefault("mkldnn", {})[name] = best[2]
with torch.no_grad():
    record_best("convFwd", lambda: F.conv2d(cx, cw, padding=1))
record_best("convFwdBwd", lambda: torch.autograd.grad(F.conv2d(cx, cw, padding=1).sum(), [cx, cw]))
print(json.dumps(out))
`;

/**
 * Runs the PyTorch reference with `python` (default /usr/bin/python3). Returns a string saying why
 * when torch is not importable or the script fails; benchmarks may depend on torch, tests must not.
 */
export function runTorch(opts: { python?: string; threads?: number; budgetS?: number; minSamples?: number } = {}): TorchResult | string {
  const python = opts.python ?? '/usr/bin/python3';
  const cfg = { threads: opts.threads ?? 1, budget: opts.budgetS ?? 1.5, minSamples: opts.minSamples ?? 10 };
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return `${python} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `torch is not importable by ${python} (on Debian: apt-get install python3-torch)`;
  // Debian's torch calls OpenBLAS (pthread build), whose thread pool torch.set_num_threads does not size.
  const one = String(cfg.threads);
  const env = { ...process.env, OMP_NUM_THREADS: one, OPENBLAS_NUM_THREADS: one, MKL_NUM_THREADS: one };
  const run = spawnSync(python, ['-c', SCRIPT, JSON.stringify(cfg)], { encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 20, env });
  if (run.error) return `PyTorch script failed: ${run.error.message}`;
  if (run.status !== 0) return `PyTorch script exited with ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  const last = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as TorchResult;
  } catch {
    return `PyTorch script printed no JSON result: ${last.slice(0, 200)}`;
  }
}
