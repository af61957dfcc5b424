// PyTorch mirror of bench/meta-epoch.ts (the 4.1 problem: MLP 784-784-10, per-parameter softplus L2, 50 inner Adam steps of batch 32 on 50 images, a meta-step over 50 validation images, RMSprop on λ): milliseconds per meta-epoch by method, in a child process.

import { runTorchScript } from './torch-child.js';

export interface TorchMetaEpochs {
  version: string;
  threads: number;
  /** Median ms per meta-epoch (the first of each run left out), by the method spec as given. */
  ms: Record<string, number>;
}

// The same recipe as the engine's overfit-small-val: inner Adam lr 1e-4 on the data loss plus the penalty's
// gradient c ⊙ w (c = 2 softplus(λ)², recomputed when λ changes), a meta-step with the closed-form curvature
// (H_P = diag(c), mixed term (x ⊙ w) ⊙ 4 softplus(λ) σ(λ)), the hypergradient's norm read (the engine checks it),
// RMSprop lr 0.1 on λ. T1-T2 takes a meta-step after every inner step.
const SCRIPT = String.raw`
import json, sys, time
import torch
import torch.nn.functional as F
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
def linear(o, i):
    bound = i ** -0.5
    return [(torch.rand(o, i) * 2 - 1) * bound, (torch.rand(o) * 2 - 1) * bound]
xtr, ytr = torch.rand(50, 784), torch.randint(0, 10, (50,))
xva, yva = torch.rand(50, 784), torch.randint(0, 10, (50,))
def loss(w, x, y):
    return F.cross_entropy(F.linear(F.relu(F.linear(x, w[0], w[1])), w[2], w[3]), y)

def neumann(hvp, v, steps, alpha=0.1):
    cur, p = v, v
    for _ in range(steps):
        h = hvp(cur)
        cur = [c - alpha * hi for c, hi in zip(cur, h)]
        p = [pi + c for pi, c in zip(p, cur)]
        float(sum((c * c).sum() for c in cur))  # the engine checks every term's norm
    return [alpha * pi for pi in p]

def cg(hvp, b, steps):
    x = [torch.zeros_like(t) for t in b]
    r = [t.clone() for t in b]
    p = [t.clone() for t in r]
    rr = float(sum((t * t).sum() for t in r))
    for _ in range(steps):
        ap = hvp(p)
        pap = float(sum((a * q).sum() for a, q in zip(ap, p)))
        a = rr / pap
        x = [xi + a * pi for xi, pi in zip(x, p)]
        r = [ri - a * api for ri, api in zip(r, ap)]
        rn = float(sum((t * t).sum() for t in r))
        p = [ri + (rn / rr) * pi for ri, pi in zip(r, p)]
        rr = rn
    return x

def run(spec):
    kind, _, steps = spec.partition(":")
    steps = int(steps or 0)
    torch.manual_seed(1)
    ws = [t.requires_grad_() for t in linear(784, 784) + linear(10, 784)]
    lam = [(torch.randn_like(w) * 0.5 - 3).requires_grad_() for w in ws]
    inner = torch.optim.Adam(ws, lr=1e-4)
    meta = torch.optim.RMSprop(lam, lr=0.1)
    def terms():
        with torch.no_grad():
            s = [F.softplus(l) for l in lam]
            return [2 * si * si for si in s], [4 * si * torch.sigmoid(l) for si, l in zip(s, lam)]
    c, dc = terms()
    order, cursor = torch.randperm(50), 0
    def inner_step():
        nonlocal order, cursor
        if cursor + 32 > 50:
            order, cursor = torch.randperm(50), 0
        idx = order[cursor:cursor + 32]
        cursor += 32
        inner.zero_grad()
        l = loss(ws, xtr[idx], ytr[idx])
        l.backward()
        with torch.no_grad():
            for w, ci in zip(ws, c):
                w.grad.add_(ci * w)
        inner.step()
        float(l)  # the engine reads every training loss
    def meta_step():
        nonlocal c, dc
        gv = torch.autograd.grad(loss(ws, xva, yva), ws)
        if kind in ("identity", "t1t2"):
            x = gv
        else:
            g = torch.autograd.grad(loss(ws, xtr, ytr), ws, create_graph=True)
            def hvp(v):
                h = torch.autograd.grad(g, ws, v, retain_graph=True)
                with torch.no_grad():
                    return [hi + ci * vi for hi, ci, vi in zip(h, c, v)]
            x = neumann(hvp, list(gv), steps) if kind == "neumann" else cg(hvp, list(gv), steps)
        with torch.no_grad():
            hyper = [-(xi * w) * d for xi, w, d in zip(x, ws, dc)]
            norm = float(sum((h * h).sum() for h in hyper)) ** 0.5
            if norm != norm or norm == float("inf"):
                raise RuntimeError("hypergradient norm %s" % norm)
        for l, h in zip(lam, hyper):
            l.grad = h
        meta.step()
        c, dc = terms()
    times = []
    for _ in range(cfg["metaEpochs"]):
        t0 = time.perf_counter()
        for _ in range(50):
            inner_step()
            if kind == "t1t2":
                meta_step()
        if kind != "t1t2":
            meta_step()
        times.append((time.perf_counter() - t0) * 1e3)
    rest = sorted(times[1:])
    return rest[len(rest) // 2] if len(rest) % 2 else (rest[len(rest) // 2 - 1] + rest[len(rest) // 2]) / 2

ms = {}
for r in range(cfg["rounds"]):
    for spec in cfg["methods"]:
        ms.setdefault(spec, []).append(run(spec))
print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "ms": {k: sorted(v)[len(v) // 2] for k, v in ms.items()}}))
`;

/** Whether PyTorch's mirror runs this method spec (neumann:K, cg:K, identity, t1t2; no options). */
export function torchMirrors(spec: string): boolean {
  return /^(neumann|cg):\d+$/.test(spec) || spec === 'identity' || spec === 't1t2';
}

/**
 * Runs the mirror with /usr/bin/python3 (Debian python3-torch) on `threads` threads, the methods one after another
 * for `rounds` rounds (the median round per method); a string says why it could not.
 */
export function runTorchMetaEpochs(methods: string[], metaEpochs: number, rounds: number, threads: number): TorchMetaEpochs | string {
  return runTorchScript<TorchMetaEpochs>(SCRIPT, { methods: methods.filter(torchMirrors), metaEpochs, rounds, threads }, threads, 1_800_000);
}
