# PyTorch side of bench/fixmatch.ts: median seconds of one FixMatch step of the engine's small CNN or WRN-28-2 (same layers, BN settings, loss and SGD), printed as one JSON line.
# /usr/bin/python3 bench/fixmatch_torch.py '{"model": "wrn-28-2", "threads": 1, "b": 64, "u": 448, "side": 32, "ch": 3, "steps": 2}'
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def small_cnn(c, classes=10):
    """src/ssl/small-cnn.ts: conv3x3-BN-ReLU-maxpool2 (16, 32), conv3x3-BN-ReLU (64), global average pool, linear."""
    return nn.Sequential(
        nn.Conv2d(c, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16, eps=1e-5, momentum=0.1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32, eps=1e-5, momentum=0.1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64, eps=1e-5, momentum=0.1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))


class Block(nn.Module):
    """src/nn/wide-resnet.ts WideBasicBlock: a = lrelu(bn1(x)); conv2(lrelu(bn2(conv1(a)))) + (shortcut(a) or x)."""

    def __init__(self, cin, cout, stride, slope, mom):
        super().__init__()
        self.slope = slope
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5, momentum=mom)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5, momentum=mom)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.shortcut = None if cin == cout and stride == 1 else nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        a = F.leaky_relu(self.bn1(x), self.slope)
        h = self.conv2(F.leaky_relu(self.bn2(self.conv1(a)), self.slope))
        return h + (self.shortcut(a) if self.shortcut is not None else x)


class WideResNet(nn.Module):
    """src/nn/wide-resnet.ts WideResNet: stem conv3x3 (16), 3 groups of (depth-4)/6 blocks (16k, 32k, 64k; stride 2 at
    the first block of groups 2 and 3), BN, leaky ReLU 0.1, global average pool, linear; BN momentum 0.001, no dropout."""

    def __init__(self, c, depth=28, widen=2, classes=10, slope=0.1, mom=0.001):
        super().__init__()
        n = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.slope = slope
        self.stem = nn.Conv2d(c, widths[0], 3, padding=1, bias=False)
        blocks, cin = [], widths[0]
        for g in range(3):
            for b in range(n):
                blocks.append(Block(cin, widths[g + 1], 2 if g > 0 and b == 0 else 1, slope, mom))
                cin = widths[g + 1]
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin, eps=1e-5, momentum=mom)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        h = F.leaky_relu(self.bn(self.blocks(self.stem(x))), self.slope)
        return self.head(h.mean((2, 3)))


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    B, U, S, C, steps = cfg["b"], cfg["u"], cfg["side"], cfg["ch"], cfg["steps"]
    if cfg["model"] == "small-cnn":
        m = small_cnn(C)
    elif cfg["model"] == "wrn-28-2":
        m = WideResNet(C)
    else:
        raise SystemExit(f"unknown model {cfg['model']!r}; choose small-cnn or wrn-28-2")
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_in", nonlinearity="relu")
    # As src/ssl/weight-decay.ts: weight decay 5e-4 on weight matrices and kernels only.
    decay = [p for p in m.parameters() if p.dim() >= 2]
    rest = [p for p in m.parameters() if p.dim() < 2]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0}], lr=0.03, momentum=0.9, nesterov=True)
    m.train()
    x = torch.rand(B + 2 * U, C, S, S)
    y = torch.randint(0, 10, (B,))

    def step():
        # As src/ssl/fixmatch-loss.ts: one forward pass over [labelled | weak unlabelled | strong unlabelled].
        logits = m(x)
        ls = F.cross_entropy(logits[:B], y)
        loss = ls
        if U > 0:
            q = torch.softmax(logits[B:B + U].detach(), 1)
            mp, pl = q.max(1)
            loss = ls + (F.cross_entropy(logits[B + U:], pl, reduction="none") * (mp >= 0.95).float()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    xs = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        xs.append(time.perf_counter() - t)
    xs.sort()
    k = len(xs) // 2
    median = xs[k] if len(xs) % 2 else (xs[k - 1] + xs[k]) / 2
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "s": median, "maxRssMiB": rss}))


main()
