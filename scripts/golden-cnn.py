#!/usr/bin/python3
"""PyTorch float64 golden values for a small CNN with per-parameter L2 (test/fixtures/golden/cnn-*.json).

Model: conv3x3(padding p, bias) -> ReLU -> max-pool 2 (stride 2, floor) -> BatchNorm2d (training
mode, batch statistics, eps 1e-5, momentum 0.1) -> flatten -> linear -> mean cross-entropy
(hard labels or soft targets), plus sum over parameters of (softplus(lam) * w)^2.
Parameters in this order, each flattened row-major: conv.weight [O, C, 3, 3], conv.bias [O],
bn.weight [O], bn.bias [O], fc.weight [K, F], fc.bias [K] (F = O * Hp * Wp).

Recorded: inputs x [N, C, H, W], targets [N, K] (and labels when hard), weights, lambdas, v,
the training loss and its cross-entropy part, the training-mode logits, grad = dL/dw,
hvp = H v, mixed = v^T d2L/dw dlam (shaped like lam), the BN running statistics after one
training forward from (0, 1), and the evaluation-mode logits that use them.

cnn-wrn-block.json: one pre-activation Wide-ResNet basic block (src/nn/wide-resnet.ts) with a
projection shortcut, then global average pooling, a linear head and the same loss:
a = leaky_relu(bn1(x), 0.1); h = conv3x3(leaky_relu(bn2(conv3x3(a, stride 2, pad 1)), 0.1), pad 1);
out = h + conv1x1(a, stride 2); logits = fc(mean_hw(out)). BN momentum 0.001 (FixMatch), eps 1e-5,
no conv biases. Parameters: block.bn1.weight, block.bn1.bias, block.conv1.weight, block.bn2.weight,
block.bn2.bias, block.conv2.weight, block.shortcut.weight, head.weight, head.bias.

Run: /usr/bin/python3 scripts/golden-cnn.py   (Debian's python3-torch, CPU)
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

CONFIGS = [
    # name, seed, N, C, H, W, O, padding, K, soft targets
    dict(name="cnn-seed1", seed=1, n=4, c=2, h=6, w=6, o=3, padding=1, k=4, soft=False),
    dict(name="cnn-seed2", seed=2, n=5, c=3, h=7, w=9, o=4, padding=0, k=3, soft=True),
]
EPS = 1e-5
MOMENTUM = 0.1


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def build(cfg):
    g = torch.Generator().manual_seed(cfg["seed"])
    n, c, h, w, o, p, k = (cfg[key] for key in ("n", "c", "h", "w", "o", "padding", "k"))
    ho, wo = h + 2 * p - 2, w + 2 * p - 2
    hp, wp = ho // 2, wo // 2
    feat = o * hp * wp

    def uniform(shape, bound):
        return (torch.rand(shape, generator=g) * 2 - 1) * bound

    x = torch.randn((n, c, h, w), generator=g)
    if cfg["soft"]:
        targets = torch.softmax(torch.randn((n, k), generator=g) * 1.5, dim=1)
        labels = None
    else:
        labels = torch.randint(0, k, (n,), generator=g)
        targets = F.one_hot(labels, k).to(torch.float64)
    fan_conv = c * 9
    weights = [
        uniform((o, c, 3, 3), 1 / fan_conv ** 0.5),
        uniform((o,), 1 / fan_conv ** 0.5),
        1 + 0.3 * torch.randn((o,), generator=g),  # BN gamma, away from the trivial 1
        0.2 * torch.randn((o,), generator=g),  # BN beta
        uniform((k, feat), 1 / feat ** 0.5),
        uniform((k,), 1 / feat ** 0.5),
    ]
    lambdas = [0.5 * torch.randn(t.shape, generator=g) - 1.0 for t in weights]
    v = [torch.randn(t.shape, generator=g) for t in weights]
    return x, targets, labels, weights, lambdas, v


def logits_of(ws, x, p, running, training):
    cw, cb, gamma, beta, fw, fb = ws
    h = F.conv2d(x, cw, cb, stride=1, padding=p)
    h = F.max_pool2d(F.relu(h), 2)
    rm, rv = running
    h = F.batch_norm(h, rm, rv, gamma, beta, training=training, momentum=MOMENTUM, eps=EPS)
    return F.linear(h.reshape(h.shape[0], -1), fw, fb)


WRN = dict(name="cnn-wrn-block", seed=3, n=4, c=3, h=7, w=6, o=4, stride=2, k=3, slope=0.1, momentum=0.001)


def second_order(loss, ws, ls, v):
    grad = torch.autograd.grad(loss, ws, create_graph=True)
    s = sum((gi * vi).sum() for gi, vi in zip(grad, v))
    hv = torch.autograd.grad(s, ws, retain_graph=True)
    mixed = torch.autograd.grad(s, ls)
    return grad, hv, mixed


def wrn_block(out_dir):
    cfg = WRN
    g = torch.Generator().manual_seed(cfg["seed"])
    n, c, h, w, o, k, st, slope, mom = (cfg[key] for key in ("n", "c", "h", "w", "o", "k", "stride", "slope", "momentum"))
    x = torch.randn((n, c, h, w), generator=g) * 1.5 + 0.3
    labels = torch.randint(0, k, (n,), generator=g)
    targets = F.one_hot(labels, k).to(torch.float64)
    names = ["block.bn1.weight", "block.bn1.bias", "block.conv1.weight", "block.bn2.weight", "block.bn2.bias",
             "block.conv2.weight", "block.shortcut.weight", "head.weight", "head.bias"]
    weights = [
        1 + 0.3 * torch.randn((c,), generator=g), 0.2 * torch.randn((c,), generator=g),
        torch.randn((o, c, 3, 3), generator=g) * (2 / (c * 9)) ** 0.5,
        1 + 0.3 * torch.randn((o,), generator=g), 0.2 * torch.randn((o,), generator=g),
        torch.randn((o, o, 3, 3), generator=g) * (2 / (o * 9)) ** 0.5,
        torch.randn((o, c, 1, 1), generator=g) * (2 / c) ** 0.5,
        (torch.rand((k, o), generator=g) * 2 - 1) / o ** 0.5,
        (torch.rand((k,), generator=g) * 2 - 1) / o ** 0.5,
    ]
    lambdas = [0.5 * torch.randn(t.shape, generator=g) - 1.0 for t in weights]
    v = [torch.randn(t.shape, generator=g) for t in weights]

    def forward(ws, stats, training):
        g1, b1, w1, g2, b2, w2, wsc, fw, fb = ws
        a = F.leaky_relu(F.batch_norm(x, stats[0], stats[1], g1, b1, training=training, momentum=mom, eps=EPS), slope)
        hh = F.conv2d(a, w1, None, stride=st, padding=1)
        hh = F.leaky_relu(F.batch_norm(hh, stats[2], stats[3], g2, b2, training=training, momentum=mom, eps=EPS), slope)
        hh = F.conv2d(hh, w2, None, stride=1, padding=1)
        out = hh + F.conv2d(a, wsc, None, stride=st)
        return F.linear(out.mean(dim=(2, 3)), fw, fb)

    fresh = lambda: [torch.zeros(c), torch.ones(c), torch.zeros(o), torch.ones(o)]
    ws = [t.clone().requires_grad_(True) for t in weights]
    ls = [t.clone().requires_grad_(True) for t in lambdas]
    z = forward(ws, fresh(), True)
    ce = F.cross_entropy(z, labels)
    loss = ce + sum(((F.softplus(l) * wi) ** 2).sum() for wi, l in zip(ws, ls))
    grad, hv, mixed = second_order(loss, ws, ls, v)
    stats = fresh()
    with torch.no_grad():
        forward(weights, stats, True)
        eval_logits = forward(weights, stats, False)
    record = {
        "description": "PyTorch float64 golden values, scripts/golden-cnn.py: WRN pre-activation basic block (projection shortcut) -> GAP -> linear -> CE + sum (softplus(lam) w)^2",
        "torch_version": torch.__version__,
        "config": dict(cfg, eps=EPS),
        "param_names": names,
        "param_shapes": [list(t.shape) for t in weights],
        "x": flat(x),
        "targets": flat(targets),
        "labels": [int(q) for q in labels.tolist()],
        "weights": [flat(t) for t in weights],
        "lambdas": [flat(t) for t in lambdas],
        "v": [flat(t) for t in v],
        "loss": float(loss),
        "cross_entropy": float(ce),
        "train_logits": flat(z),
        "grad": [flat(t) for t in grad],
        "hvp": [flat(t) for t in hv],
        "mixed": [flat(t) for t in mixed],
        "running": {"bn1.mean": flat(stats[0]), "bn1.var": flat(stats[1]), "bn2.mean": flat(stats[2]), "bn2.var": flat(stats[3])},
        "eval_logits": flat(eval_logits),
    }
    path = os.path.join(out_dir, f"{cfg['name']}.json")
    with open(path, "w") as f:
        json.dump(record, f)
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes, loss {float(loss):.6f}")


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "golden")
    wrn_block(out_dir)
    for cfg in CONFIGS:
        x, targets, labels, weights, lambdas, v = build(cfg)
        o = cfg["o"]
        ws = [t.clone().requires_grad_(True) for t in weights]
        ls = [t.clone().requires_grad_(True) for t in lambdas]

        def loss_fn():
            running = (torch.zeros(o), torch.ones(o))  # updated in place, irrelevant to the derivatives
            z = logits_of(ws, x, cfg["padding"], running, True)
            ce = F.cross_entropy(z, targets)  # probability targets: -sum t log softmax, batch mean
            reg = sum(((F.softplus(l) * w) ** 2).sum() for w, l in zip(ws, ls))
            return ce + reg, ce, z

        loss, ce, z = loss_fn()
        grad = torch.autograd.grad(loss, ws, create_graph=True)
        s = sum((gi * vi).sum() for gi, vi in zip(grad, v))
        hv = torch.autograd.grad(s, ws, retain_graph=True)
        mixed = torch.autograd.grad(s, ls)

        running = (torch.zeros(o), torch.ones(o))
        with torch.no_grad():
            logits_of(weights, x, cfg["padding"], running, True)
            eval_logits = logits_of(weights, x, cfg["padding"], running, False)

        record = {
            "description": "PyTorch float64 golden values, scripts/golden-cnn.py: conv3x3 -> relu -> maxpool2 -> batchnorm(train) -> linear -> CE + sum (softplus(lam) w)^2",
            "torch_version": torch.__version__,
            "config": {key: cfg[key] for key in ("seed", "n", "c", "h", "w", "o", "padding", "k", "soft")} | {"eps": EPS, "momentum": MOMENTUM},
            "param_names": ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias"],
            "param_shapes": [list(t.shape) for t in weights],
            "x": flat(x),
            "targets": flat(targets),
            "labels": None if labels is None else [int(v) for v in labels.tolist()],
            "weights": [flat(t) for t in weights],
            "lambdas": [flat(t) for t in lambdas],
            "v": [flat(t) for t in v],
            "loss": float(loss),
            "cross_entropy": float(ce),
            "train_logits": flat(z),
            "grad": [flat(t) for t in grad],
            "hvp": [flat(t) for t in hv],
            "mixed": [flat(t) for t in mixed],
            "running_mean": flat(running[0]),
            "running_var": flat(running[1]),
            "eval_logits": flat(eval_logits),
        }
        path = os.path.join(out_dir, f"{cfg['name']}.json")
        with open(path, "w") as f:
            json.dump(record, f)
            f.write("\n")
        print(f"{path}: {os.path.getsize(path)} bytes, loss {float(loss):.6f}")


if __name__ == "__main__":
    main()
