#!/usr/bin/env python3
"""Writes engine/testdata/basic_block.json: one ResNet basic block (the
reference Block, 8 -> 16 channels, stride 2, so with the 1x1 conv + batch
norm shortcut) run by PyTorch in training mode on a 2x8x8x8 input, with the
backward pass of sum(out * r) for a fixed random r.

Every tensor is stored as base64 of little-endian float32 with its shape:
the inputs (x, r), the parameters (random, batch-norm affine ones included,
so the affine path is exercised), the output, the input gradient, every
parameter gradient and the running statistics after the step.

Usage (needs torch, e.g. Debian's python3-torch):
    python3 scripts/make_block_fixture.py [output path]
"""
import base64
import json
import sys

import numpy as np
import torch
from torch import nn


class Block(nn.Module):
    """The basic block of the reference ResNet-18 (bench/torch_reference.py)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.b2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        return torch.relu(self.b2(self.c2(y)) + self.short(x))


def enc(t):
    a = t.detach().cpu().contiguous().numpy().astype("<f4")
    return {"shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode("ascii")}


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "engine/testdata/basic_block.json"
    torch.manual_seed(1234)
    block = Block(8, 16, 2).train()
    with torch.no_grad():
        for name, p in block.named_parameters():
            if name.endswith("weight") and p.dim() == 1:  # batch-norm scale
                p.uniform_(0.5, 1.5)
            elif p.dim() == 1:  # batch-norm shift
                p.uniform_(-0.5, 0.5)
        for name, b in block.named_buffers():  # start away from 0 / 1
            if name.endswith("running_mean"):
                b.uniform_(-0.2, 0.2)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
    params = {n: enc(p) for n, p in block.named_parameters()}
    before = {n: enc(b) for n, b in block.named_buffers() if not n.endswith("num_batches_tracked")}
    x = torch.randn(2, 8, 8, 8, requires_grad=True)
    y = block(x)
    r = torch.empty_like(y).uniform_(-1, 1)
    (y * r).sum().backward()
    fixture = {
        "block": {"in": 8, "out": 16, "stride": 2, "momentum": 0.1, "eps": 1e-5},
        "torch": torch.__version__,
        "x": enc(x), "r": enc(r), "y": enc(y), "dx": enc(x.grad),
        "params": params,
        "grads": {n: enc(p.grad) for n, p in block.named_parameters()},
        "buffers_before": before,
        "buffers_after": {n: enc(b) for n, b in block.named_buffers() if not n.endswith("num_batches_tracked")},
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
