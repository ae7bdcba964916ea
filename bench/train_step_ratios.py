"""`make bench`'s engine comparison: mims-train bench and the PyTorch baseline back to back, on
the same machine and the same step, then each target ratio of issue 14 (mims time / PyTorch time).

usage: train_step_ratios.py [MIMS_TRAIN]   (default .build/release/mims-train)
"""
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", ".build", "release", "mims-train")


def run(command):
    print("$ " + " ".join(command), flush=True)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    print(out, end="", flush=True)
    return out


mims = run([binary, "bench"])
torch = run([sys.executable, os.path.join(here, "baselines", "train_step.py")])


def seconds(text, pattern):
    match = re.search(pattern + r": ([0-9.]+) s", text)
    return float(match.group(1)) if match else None


def gib(text, pattern):
    match = re.search(pattern + r" peak memory: ([0-9.]+) GiB", text)
    return float(match.group(1)) if match else None


rows = [
    ("train step fp32 / PyTorch fp32 channels_last", seconds(mims, r"train-step \S+ fp32"), seconds(torch, r"train-step \S+ fp32-channels-last"), 0.8),
    ("train step bf16 / PyTorch bf16 autocast", seconds(mims, r"train-step \S+ bf16"), seconds(torch, r"train-step \S+ bf16-autocast"), 0.75),
    ("forward fp32 / PyTorch fp32 channels_last no_grad", seconds(mims, r"forward \S+ fp32"), seconds(torch, r"forward \S+ fp32-channels-last"), 0.8),
    ("forward bf16 / PyTorch bf16 autocast no_grad", seconds(mims, r"forward \S+ bf16"), seconds(torch, r"forward \S+ bf16-autocast"), 0.75),
]
memory = re.search(r"^peak memory: ([0-9.]+) GiB", mims, re.M)
print("\nratios (mims / PyTorch, lower is faster; target in brackets):")
for name, ours, theirs, target in rows:
    if ours is None or theirs is None:
        print(f"  {name}: not measured")
        continue
    print(f"  {name}: {ours:.2f} / {theirs:.2f} s = {ours / theirs:.2f}x [<= {target}x] {'met' if ours / theirs <= target else 'NOT met'}")
if memory:
    ours = float(memory.group(1))
    for mode in ["fp32-channels-last", "bf16-autocast"]:
        theirs = gib(torch, "pytorch " + mode)
        if theirs:
            print(f"  peak memory (mims, both precisions in one process) / PyTorch {mode}: {ours:.2f} / {theirs:.2f} GiB = {ours / theirs:.2f}x [<= 1x]")
