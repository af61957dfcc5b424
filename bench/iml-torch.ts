// PyTorch mirror of bench/iml.ts (MLP 784-784-10, batch 50, per-parameter softplus L2): gradient and identity/Neumann hypergradient times on 1 thread, closed-form and through the penalty graph, in a child process.

import { runTorchScript } from './torch-child.js';

export interface TorchIml {
  version: string;
  /** Median ms by case: 'gradient', then `${method}` (closed-form penalty) and `${method} (penalty graph)`. */
  ms: Record<string, number>;
}

const SCRIPT = String.raw`
import json, sys, time
import torch
import torch.nn.functional as F
cfg = json.loads(sys.argv[1])
torch.set_num_threads(1)
torch.manual_seed(0)
B = 50
def linear(o, i):
    bound = i ** -0.5
    return [(torch.rand(o, i) * 2 - 1) * bound, (torch.rand(o) * 2 - 1) * bound]
ws = [t.requires_grad_() for t in linear(784, 784) + linear(10, 784)]
lam = [(torch.randn_like(w) * 0.5 - 3).requires_grad_() for w in ws]
def batch():
    return torch.rand(B, 784), F.one_hot(torch.randint(0, 10, (B,)), 10).float()
xtr, ttr = batch()
xva, tva = batch()
def data_loss(w, x, t):
    z = F.linear(F.relu(F.linear(x, w[0], w[1])), w[2], w[3])
    return -(t * F.log_softmax(z, dim=1)).sum(dim=1).mean()
def penalty(w, l):
    return sum(((F.softplus(li) * wi) ** 2).sum() for wi, li in zip(w, l))

def neumann(hvp, v, steps, alpha):
    cur, p = v, v
    for _ in range(steps):
        h = hvp(cur)
        cur = [c - alpha * hi for c, hi in zip(cur, h)]
        p = [pi + c for pi, c in zip(p, cur)]
        float(sum((c * c).sum() for c in cur))  # the engine checks the norm of every term
    return [alpha * pi for pi in p]

def solve(hvp, v, m):
    return v if m["kind"] == "identity" else neumann(hvp, v, m["steps"], m["alpha"])

def hyper_closed(m):
    # P = sum (s(l) w)^2: H_P = diag(2 s^2), d/dl (dP/dw) = 4 s s' w with s' = sigmoid(l).
    gv = torch.autograd.grad(data_loss(ws, xva, tva), ws)
    g = torch.autograd.grad(data_loss(ws, xtr, ttr), ws, create_graph=True)
    with torch.no_grad():
        s = [F.softplus(l) for l in lam]
        hp = [2 * si * si for si in s]
    def hvp(v):
        h = torch.autograd.grad(g, ws, v, retain_graph=True)
        with torch.no_grad():
            return [hi + d * vi for hi, d, vi in zip(h, hp, v)]
    x = solve(hvp, list(gv), m)
    with torch.no_grad():
        return [-(4 * si * torch.sigmoid(l) * w * xi) for si, l, w, xi in zip(s, lam, ws, x)]

def hyper_graph(m):
    gv = torch.autograd.grad(data_loss(ws, xva, tva), ws)
    g = torch.autograd.grad(data_loss(ws, xtr, ttr) + penalty(ws, lam), ws, create_graph=True)
    hvp = lambda v: list(torch.autograd.grad(g, ws, v, retain_graph=True))
    x = solve(hvp, list(gv), m)
    mixed = torch.autograd.grad(g, lam, x, retain_graph=True)
    return [-mi for mi in mixed]

def gradient():
    return torch.autograd.grad(data_loss(ws, xtr, ttr) + penalty(ws, lam), ws)

def median_ms(fn):
    for _ in range(2):
        fn()
    xs = []
    for _ in range(cfg["samples"]):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1e3)
    xs.sort()
    return xs[len(xs) // 2]

out = {"version": torch.__version__, "ms": {"gradient": median_ms(gradient)}}
for m in cfg["methods"]:
    out["ms"][m["name"]] = median_ms(lambda: hyper_closed(m))
    out["ms"][m["name"] + " (penalty graph)"] = median_ms(lambda: hyper_graph(m))
print(json.dumps(out))
`;

/** A method PyTorch mirrors: identity, or Neumann(steps, alpha). */
export interface MirroredMethod {
  name: string;
  kind: 'identity' | 'neumann';
  steps: number;
  alpha: number;
}

/** Runs the mirror with /usr/bin/python3 (Debian python3-torch), 1 thread; a string says why it could not. */
export function runTorchIml(methods: MirroredMethod[], samples = 10): TorchIml | string {
  return runTorchScript<TorchIml>(SCRIPT, { methods, samples }, 1, 600_000);
}
