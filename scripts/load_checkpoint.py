#!/usr/bin/env python3
"""Load a repro checkpoint in PyTorch and check its tensor names and shapes.

    python3 scripts/load_checkpoint.py out/fashion-ablation/runs/full-seed41/checkpoint.safetensors

A checkpoint (runs/<run>/checkpoint.safetensors) is a plain safetensors file:
the model's parameters and buffers under their PyTorch names ("1.weight", ...),
the optimizer state under "optim.param.<i>.<buffer>", and string metadata
(format, run, spec, epoch, random-stream states, the run record).

The file is read with safetensors.torch.load_file when the safetensors package
is installed, otherwise (or with --manual) with a few lines of Python that
follow the format's definition, which shows the file is valid safetensors
either way. For an MLP run the tensors are loaded into the reference
nn.Sequential with load_state_dict(strict=True) and one forward pass is made.
Exits 0 when everything matches, 1 with a message otherwise.
"""

import argparse
import json
import struct
import sys

import torch


def load_manual(path):
    """Parse a safetensors file by hand: 8-byte little-endian header length,
    JSON header, then the raw little-endian data (offsets relative to it)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    meta = header.pop("__metadata__", {})
    tensors = {}
    end_max = 0
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {e['dtype']}, expected F32")
        begin, end = e["data_offsets"]
        end_max = max(end_max, end)
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32) if end > begin else torch.zeros(0)
        tensors[name] = t.reshape(e["shape"])
    if end_max != len(data):
        raise ValueError(f"tensors cover {end_max} data bytes, the file has {len(data)}")
    return tensors, meta


def load_library(path):
    from safetensors import safe_open
    from safetensors.torch import load_file

    tensors = load_file(path)
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
    return tensors, meta


def reference_mlp(sizes, dropout=0.1):
    """The reference MLP: Flatten, then Linear/ReLU/Dropout, names 1., 4., 7."""
    layers = [torch.nn.Flatten()]
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers += [torch.nn.ReLU(), torch.nn.Dropout(dropout)]
    return torch.nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--manual", action="store_true", help="use the built-in parser even if safetensors is installed")
    args = ap.parse_args()

    how = "manual parser"
    if not args.manual:
        try:
            tensors, meta = load_library(args.checkpoint)
            how = "safetensors.torch.load_file"
        except ImportError:
            tensors, meta = load_manual(args.checkpoint)
    else:
        tensors, meta = load_manual(args.checkpoint)
    print(f"loaded {args.checkpoint} with {how}: {len(tensors)} tensors")
    for k in ("format", "run", "epoch", "spec_hash", "optimizer"):
        print(f"  {k}: {meta.get(k)}")
    for name, t in tensors.items():
        print(f"  {name:40s} {tuple(t.shape)} {t.dtype}")

    problems = []
    if meta.get("format") != "repro-checkpoint/1":
        problems.append(f"metadata format is {meta.get('format')!r}, expected 'repro-checkpoint/1'")
    spec = json.loads(meta.get("spec", "{}"))
    model = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    params = [k for k in model if not k.endswith(("running_mean", "running_var"))]

    # Optimizer buffers have the shape of the parameter they belong to
    # (params are numbered in model order).
    for name, t in tensors.items():
        if name.startswith("optim.param."):
            i = int(name.split(".")[2])
            if i >= len(params):
                problems.append(f"{name}: no parameter {i}")

    if spec.get("model") == "mlp":
        expected = {"1.weight": (256, 784), "1.bias": (256,), "4.weight": (256, 256), "4.bias": (256,),
                    "7.weight": (10, 256), "7.bias": (10,)}
        got = {k: tuple(v.shape) for k, v in model.items()}
        if got != expected:
            problems.append(f"MLP tensors {got}, expected {expected}")
        else:
            net = reference_mlp([784, 256, 256, 10])
            net.load_state_dict(model, strict=True)
            order = [k for k, _ in net.named_parameters()]
            for name, t in tensors.items():
                if name.startswith("optim.param."):
                    i = int(name.split(".")[2])
                    if tuple(t.shape) != expected[order[i]]:
                        problems.append(f"{name}: shape {tuple(t.shape)}, parameter {order[i]} is {expected[order[i]]}")
            net.eval()
            with torch.no_grad():
                out = net(torch.zeros(2, 1, 28, 28))
            if tuple(out.shape) != (2, 10) or not torch.isfinite(out).all():
                problems.append(f"forward pass gave {tuple(out.shape)} with non-finite values")
            print("loaded into the reference nn.Sequential MLP with load_state_dict(strict=True); forward pass ok")

    if problems:
        for p in problems:
            print("problem:", p, file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
