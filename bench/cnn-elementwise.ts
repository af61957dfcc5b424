// CPU benchmark of a small-CNN SGD step, conv2d (b64 3->32 32x32 3x3), elementwise throughput (exp, log, mul over 623k floats; exp/log also as bare Wasm kernels and as the Math.* JS loops they replaced) and data movement (transposes, pad, max reductions, gather): this engine, optionally an older build of it, and PyTorch (1 thread) in the same run.
// Also measured in the same run: this build with the Wasm tensor heap (the default) and with plain typed arrays and JS kernels (`heap: false`, the reference).
// Usage: npm run build && node dist/bench/cnn-elementwise.js [--baseline DIR] [--samples N] [--elements N] [--batch N] [--threads N] [--no-torch] [--out FILE.md]
//   --threads N: our GEMM and conv on N threads (setGemmThreads) and PyTorch's torch.set_num_threads(N); default 1.
//   --baseline DIR: a checkout of this repository with its own `npm run build` (e.g. a git worktree at an
//   older commit); its dist/src/index.js is loaded into this process and measured alongside.

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import * as current from '../src/index.js';
import { unaryKernel, unaryKernelJs } from '../src/backend/cpu/elementwise.js';
import { setGemmThreads } from '../src/backend/cpu/wasm-gemm.js';
import { runTorchScript } from './torch-child.js';

type Api = typeof current;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const samples = Number(arg('samples') ?? 15);
const baselineDir = arg('baseline');
const outFile = arg('out');

// The CNN step's batch (the issue's cases: 64 and 512); --batch N.
const BATCH = Number(arg('batch') ?? 64);
if (!Number.isInteger(BATCH) || BATCH < 1) throw new Error(`--batch must be a positive integer, got ${arg('batch')}`);
// Default: the parameter count of MLP 784-784-10 (the IML benchmarks' per-parameter penalty); --elements for a quick correctness run.
const ELEMENTS = Number(arg('elements') ?? 623_290);
if (!Number.isInteger(ELEMENTS) || ELEMENTS < 1) throw new Error(`--elements must be a positive integer, got ${arg('elements')}`);
const THREADS = Number(arg('threads') ?? 1);
if (!Number.isInteger(THREADS) || THREADS < 1) throw new Error(`--threads must be a positive integer, got ${arg('threads')}`);
const LR = 0.01;

/** The case functions one engine build runs. */
interface Cases {
  cnnStep(): void;
  convFwd(): void;
  convFwdBwd(): void;
  exp(): void;
  log(): void;
  mul(): void;
  relu(): void;
  sigmoid(): void;
  softplus(): void;
  /** Movement and max reductions on a [64, 32, 32, 32] feature map (2.1M floats) and a 784 x 784 matrix. */
  nhwc(): void;
  transpose(): void;
  pad(): void;
  maxAll(): void;
  maxColumns(): void;
  gatherRows(): void;
  /** The Math.exp / Math.log loops (unaryKernelJs) and the Wasm kernels alone (unaryKernel, copy in/out included, no tensor overhead) on the same inputs: this build only (no-ops for a baseline). */
  expJs(): void;
  logJs(): void;
  expKernel(): void;
  logKernel(): void;
}

/**
 * conv 1->32 3x3 p1, ReLU, max-pool 2, conv 32->64 3x3 p1, ReLU, max-pool 2, fc 3136->128, ReLU,
 * fc 128->10, cross-entropy; one SGD step = gradient of the batch loss and w <- w - lr·g.
 */
function makeCases(api: Api, withJs: boolean): Cases {
  // Every case frees what it makes (tidy; a baseline without tidy leaves it to the GC): the heap's memory is not the GC's.
  const tidy = (api as Partial<Api>).tidy ?? (<T>(f: () => T): T => f());
  const rng = new api.Random(1);
  const r = (shape: number[], scale: number) => api.randn(shape, rng, scale);
  let ws = [
    r([32, 1, 3, 3], 1 / 3), r([32], 0), r([64, 32, 3, 3], 1 / Math.sqrt(288)), r([64], 0),
    r([3136, 128], 1 / Math.sqrt(3136)), r([128], 0), r([128, 10], 1 / Math.sqrt(128)), r([10], 0),
  ];
  const x = r([BATCH, 1, 28, 28], 1);
  const labels = Array.from({ length: BATCH }, (_, i) => i % 10);
  const t = api.oneHot(labels, 10);
  const convBlock = (h: current.Tensor, w: current.Tensor, b: current.Tensor): current.Tensor =>
    api.maxPool2d(api.relu(api.add(api.conv2d(h, w, { padding: 1 }), api.reshape(b, [1, -1, 1, 1]))), 2);
  const loss = (p: current.Tensor[]): current.Tensor => {
    let h = convBlock(x, p[0]!, p[1]!);
    h = convBlock(h, p[2]!, p[3]!);
    h = api.reshape(h, [BATCH, -1]);
    h = api.relu(api.add(api.matmul(h, p[4]!), p[5]!));
    return api.crossEntropy(api.add(api.matmul(h, p[6]!), p[7]!), t);
  };
  const vg = api.valueAndGrad(loss);
  const cx = r([64, 3, 32, 32], 1), cw = r([32, 3, 3, 3], 0.2);
  const convVg = api.valueAndGrad((p) => api.sum(api.conv2d(p[0]!, p[1]!, { padding: 1 })));
  const u = api.randn([ELEMENTS], rng, 1);
  const pos = api.add(api.exp(u), 0.1);
  const uData = u.dataSync(), posData = pos.dataSync();
  const fmap = r([64, 32, 32, 32], 1), square = r([784, 784], 1);
  const rows = Array.from({ length: 512 }, (_, i) => (i * 613) % 784);
  const jsOut = new Float32Array(ELEMENTS);
  return {
    cnnStep: () => {
      const old = ws;
      ws = tidy(() => {
        const { grads } = vg(ws);
        return ws.map((w, i) => api.sub(w, api.mul(grads[i]!, LR)));
      });
      if ((api as Partial<Api>).tidy) for (const w of old) w.dispose();
    },
    convFwd: () => tidy(() => void api.conv2d(cx, cw, { padding: 1 })),
    convFwdBwd: () => tidy(() => void convVg([cx, cw])),
    exp: () => tidy(() => void api.exp(u)),
    log: () => tidy(() => void api.log(pos)),
    mul: () => tidy(() => void api.mul(u, pos)),
    relu: () => tidy(() => void api.relu(u)),
    sigmoid: () => tidy(() => void api.sigmoid(u)),
    softplus: () => tidy(() => void api.softplus(u)),
    nhwc: () => tidy(() => void api.transpose(fmap, [0, 2, 3, 1])),
    transpose: () => tidy(() => void api.transpose(square, [1, 0])),
    pad: () => tidy(() => void api.pad(fmap, [0, 0, 1, 1], [0, 0, 1, 1])),
    maxAll: () => tidy(() => void api.max(u)),
    maxColumns: () => tidy(() => void api.max(square, 0)),
    gatherRows: () => tidy(() => void api.gather(square, rows, 0)),
    expJs: () => (withJs ? unaryKernelJs('exp', uData, jsOut) : undefined),
    logJs: () => (withJs ? unaryKernelJs('log', posData, jsOut) : undefined),
    expKernel: () => (withJs ? unaryKernel('exp', uData, jsOut) : undefined),
    logKernel: () => (withJs ? unaryKernel('log', posData, jsOut) : undefined),
  };
}

const TORCH_SCRIPT = String.raw`
import json, sys, time
import torch
import torch.nn.functional as F
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
B, E, LR, S = cfg["batch"], cfg["elements"], cfg["lr"], cfg["samples"]
def p(*shape, scale):
    return (torch.randn(*shape) * scale).requires_grad_()
ws = [p(32, 1, 3, 3, scale=1/3), p(32, scale=0), p(64, 32, 3, 3, scale=288**-0.5), p(64, scale=0),
      p(3136, 128, scale=3136**-0.5), p(128, scale=0), p(128, 10, scale=128**-0.5), p(10, scale=0)]
x = torch.randn(B, 1, 28, 28)
y = torch.arange(B) % 10
def step():
    h = F.max_pool2d(F.relu(F.conv2d(x, ws[0], ws[1], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, ws[2], ws[3], padding=1)), 2)
    h = F.relu(h.reshape(B, -1) @ ws[4] + ws[5])
    loss = F.cross_entropy(h @ ws[6] + ws[7], y)
    gs = torch.autograd.grad(loss, ws)
    with torch.no_grad():
        for w, g in zip(ws, gs):
            w -= LR * g
u = torch.randn(E)
pos = u.exp() + 0.1
cx = torch.randn(64, 3, 32, 32).requires_grad_()
cw = (torch.randn(32, 3, 3, 3) * 0.2).requires_grad_()
def median_ms(fn):
    for _ in range(3):
        fn()
    xs = []
    for _ in range(S):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1e3)
    xs.sort()
    return xs[len(xs) // 2]
out = {"version": torch.__version__, "threads": torch.get_num_threads(), "ms": {}, "mkldnn": {}}
# Convolutions with oneDNN (mkldnn) on and off: on this build's 1-thread CPU path oneDNN's conv forward can be ~18x
# slower than PyTorch's own (49 vs 2.8 ms for the b64 3->32 case), so each conv case reports the faster of the two.
def best(name, fn):
    t = {}
    for on in (True, False):
        torch.backends.mkldnn.enabled = on
        t[on] = median_ms(fn)
    torch.backends.mkldnn.enabled = True
    out["ms"][name] = min(t.values())
    out["mkldnn"][name] = t[True] <= t[False]
best("cnnStep", step)
best("convFwdBwd", lambda: torch.autograd.grad(F.conv2d(cx, cw, padding=1).sum(), [cx, cw]))
with torch.no_grad():
    best("convFwd", lambda: F.conv2d(cx, cw, padding=1))
    out["ms"]["exp"] = median_ms(lambda: torch.exp(u))
    out["ms"]["log"] = median_ms(lambda: torch.log(pos))
    out["ms"]["mul"] = median_ms(lambda: u * pos)
    out["ms"]["relu"] = median_ms(lambda: torch.relu(u))
    out["ms"]["sigmoid"] = median_ms(lambda: torch.sigmoid(u))
    out["ms"]["softplus"] = median_ms(lambda: F.softplus(u))
    fmap = torch.randn(64, 32, 32, 32)
    square = torch.randn(784, 784)
    rows = torch.tensor([(i * 613) % 784 for i in range(512)])
    out["ms"]["nhwc"] = median_ms(lambda: fmap.permute(0, 2, 3, 1).contiguous())
    out["ms"]["transpose"] = median_ms(lambda: square.t().contiguous())
    out["ms"]["pad"] = median_ms(lambda: F.pad(fmap, (1, 1, 1, 1)))
    out["ms"]["maxAll"] = median_ms(lambda: u.max())
    out["ms"]["maxColumns"] = median_ms(lambda: square.amax(0))
    out["ms"]["gatherRows"] = median_ms(lambda: square.index_select(0, rows))
print(json.dumps(out))
`;

interface TorchOut {
  version: string;
  threads: number;
  ms: Record<'cnnStep' | 'convFwd' | 'convFwdBwd' | 'exp' | 'log' | 'mul' | 'relu' | 'sigmoid' | 'softplus' | 'nhwc' | 'transpose' | 'pad' | 'maxAll' | 'maxColumns' | 'gatherRows', number>;
  /** Per conv case: whether the faster PyTorch time was with oneDNN (mkldnn) on. */
  mkldnn: Partial<Record<'cnnStep' | 'convFwd' | 'convFwdBwd', boolean>>;
}

function runTorch(): TorchOut | string {
  const cfg = { batch: BATCH, elements: ELEMENTS, lr: LR, samples: samples * 2, threads: THREADS };
  return runTorchScript<TorchOut>(TORCH_SCRIPT, cfg, THREADS, 300_000);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Median ms per case and engine. Engines alternate in blocks of BLOCK samples, so load changes hit both alike while
 * each engine runs with its own operands in cache, as PyTorch does in its own process (alternating sample by sample,
 * the plain backend's fresh arrays evicted the heap backend's operands: mul measured 0.57 instead of 0.29 ns/el).
 */
const BLOCK = 5;
function measure(engines: Map<string, Cases>): Map<string, Record<keyof Cases, number>> {
  const keys: (keyof Cases)[] = [
    'cnnStep', 'convFwd', 'convFwdBwd', 'exp', 'log', 'mul', 'relu', 'sigmoid', 'softplus',
    'nhwc', 'transpose', 'pad', 'maxAll', 'maxColumns', 'gatherRows', 'expJs', 'logJs', 'expKernel', 'logKernel',
  ];
  const res = new Map<string, Record<keyof Cases, number>>();
  for (const name of engines.keys()) res.set(name, Object.fromEntries(keys.map((k) => [k, 0])) as Record<keyof Cases, number>);
  for (const k of keys) {
    const n = k === 'cnnStep' || k === 'convFwdBwd' ? samples : samples * 2;
    const xs = new Map<string, number[]>([...engines.keys()].map((e) => [e, []]));
    for (const c of engines.values()) for (let i = 0; i < 2; i++) c[k]();
    for (let i = 0; i < n; i += BLOCK) {
      for (const [name, c] of engines) {
        for (let j = i; j < Math.min(n, i + BLOCK); j++) {
          const t0 = performance.now();
          c[k]();
          xs.get(name)!.push(performance.now() - t0);
        }
      }
    }
    for (const [name, v] of xs) res.get(name)![k] = median(v);
  }
  return res;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const threads = await setGemmThreads(THREADS);
  if (threads !== THREADS) throw new Error(`--threads ${THREADS}: setGemmThreads gave ${threads}`);
  const engines = new Map<string, Cases>();
  // This build with the Wasm tensor heap (the default), and the plain-array backend (the reference) in the same run.
  const heap = new current.CpuBackend({ heap: true });
  engines.set('engine (this build, heap: true)', current.withBackend(heap, () => makeCases(current, true)));
  const plain = new current.CpuBackend({ heap: false });
  engines.set('this build, plain arrays (heap: false, JS kernels)', current.withBackend(plain, () => makeCases(current, false)));
  if (baselineDir) {
    const old = (await import(pathToFileURL(join(resolve(baselineDir), 'dist/src/index.js')).href)) as Api;
    engines.set(`engine (baseline ${baselineDir})`, makeCases(old, false));
  }
  console.log(`measuring ${[...engines.keys()].join(', ')}: ${samples} CNN steps / conv gradients and ${samples * 2} conv forwards / elementwise calls each...`);
  const ours = measure(engines);
  const torch = flag('no-torch') ? 'skipped (--no-torch)' : runTorch();
  const load1 = loadavg();
  const lines: string[] = [];
  const torchMs = typeof torch === 'string' ? null : torch.ms;
  lines.push(`| case | ${[...engines.keys()].join(' | ')} | PyTorch ${typeof torch === 'string' ? '' : `${torch.version} ${torch.threads}T`} |`);
  lines.push(`|---|${[...engines.keys()].map(() => '---|').join('')}---|`);
  const row = (label: string, k: keyof Cases, perElement: boolean, onlyThisBuild = false): void => {
    const unit = (ms: number) => (perElement ? `${((ms * 1e6) / ELEMENTS).toFixed(2)} ns/el` : `${ms.toFixed(1)} ms`);
    // expJs / logJs compare with PyTorch's exp / log.
    const tk = k === 'expJs' || k === 'expKernel' ? 'exp' : k === 'logJs' || k === 'logKernel' ? 'log' : k;
    const cells = [...ours.values()].map((r, i) => (onlyThisBuild && i > 0 ? '-' : `${unit(r[k])}${torchMs ? ` (${(r[k] / torchMs[tk]).toFixed(1)}x PyTorch)` : ''}`));
    const dnn = typeof torch === 'string' ? undefined : torch.mkldnn[tk as keyof TorchOut['mkldnn']];
    const how = dnn === undefined ? '' : dnn ? ' (oneDNN)' : ' (oneDNN off: faster)';
    lines.push(`| ${label} | ${cells.join(' | ')} | ${torchMs ? `${unit(torchMs[tk])}${how}` : String(torch)} |`);
  };
  row(`small-CNN SGD step b${BATCH} 28x28 (${THREADS} thread${THREADS > 1 ? 's' : ''})`, 'cnnStep', false);
  row('conv2d b64 3->32 32x32 3x3 p1 forward', 'convFwd', false);
  row('conv2d same, forward + backward (dx, dW)', 'convFwdBwd', false);
  row(`exp over ${ELEMENTS} floats`, 'exp', true);
  row(`log over ${ELEMENTS} floats`, 'log', true);
  row('exp, Wasm kernel alone (no tensor overhead)', 'expKernel', true, true);
  row('exp, Math.exp JS loop (reference)', 'expJs', true, true);
  row('log, Wasm kernel alone (no tensor overhead)', 'logKernel', true, true);
  row('log, Math.log JS loop (reference)', 'logJs', true, true);
  row(`mul over ${ELEMENTS} floats`, 'mul', true);
  row(`relu over ${ELEMENTS} floats`, 'relu', true);
  row(`sigmoid over ${ELEMENTS} floats`, 'sigmoid', true);
  row(`softplus over ${ELEMENTS} floats`, 'softplus', true);
  row('transpose [64, 32, 32, 32] NCHW -> NHWC', 'nhwc', false);
  row('transpose 784 x 784', 'transpose', false);
  row('pad [64, 32, 32, 32] by 1 on H and W', 'pad', false);
  row(`max over ${ELEMENTS} floats`, 'maxAll', false);
  row('max over the rows of 784 x 784 (784 column maxima)', 'maxColumns', false);
  row('gather 512 rows of 784 x 784', 'gatherRows', false);
  const self = [...ours.values()][0]!;
  lines.push('', `Wasm exp/log kernels vs the Math.* loops (this build, float32, copy in/out included): exp ${(self.expJs / self.expKernel).toFixed(2)}x faster, log ${(self.logJs / self.logKernel).toFixed(2)}x`);
  // How many times faster engine `a` ran than `b` (b's time / a's) on the cases both lines name.
  const SPEEDUPS: [string, keyof Cases][] = [
    ['CNN step', 'cnnStep'], ['conv fwd', 'convFwd'], ['conv fwd+bwd', 'convFwdBwd'], ['exp', 'exp'], ['log', 'log'], ['mul', 'mul'],
    ['NHWC transpose', 'nhwc'], ['pad', 'pad'], ['max', 'maxAll'], ['column max', 'maxColumns'], ['gather', 'gatherRows'],
  ];
  const speedups = (a: Record<keyof Cases, number>, b: Record<keyof Cases, number>): string =>
    SPEEDUPS.map(([label, k], i) => `${label} ${(b[k] / a[k]).toFixed(2)}x${i === 0 ? ' faster' : ''}`).join(', ');
  {
    const [a, b] = [...ours.values()];
    lines.push('', `heap vs plain arrays (same process): ${speedups(a!, b!)}`);
  }
  if (baselineDir) {
    const [a, , b] = [...ours.values()];
    lines.push('', `this build vs baseline (same process): ${speedups(a!, b!)}`);
  }
  lines.push('', `load average (1/5/15 min) ${load0.map((v) => v.toFixed(2)).join(' ')} at start, ${load1.map((v) => v.toFixed(2)).join(' ')} at end; medians of interleaved samples.`);
  const text = lines.join('\n');
  console.log(text);
  if (outFile) {
    const tmp = `${outFile}.tmp`;
    writeFileSync(tmp, `${text}\n`);
    (await import('node:fs')).renameSync(tmp, outFile);
  }
}

await main();
