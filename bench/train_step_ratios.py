"""`make bench`'s engine comparison: mims-train bench and the PyTorch baseline on the same machine
and the same step, alternating (mims fp32, mims bf16, PyTorch's three modes) for ROUNDS rounds so
that both sides see the same minutes of this machine's drifting speed; the best of each figure is
kept. Then each target ratio of the engine issue (mims time / PyTorch time) and peak memory, with
every process measuring its own peak.

usage: train_step_ratios.py [MIMS_TRAIN [ROUNDS]]   (default .build/release/mims-train, 2)
"""
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", ".build", "release", "mims-train")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2


def run(command):
    print("$ " + " ".join(command), flush=True)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    print(out, end="", flush=True)
    return out


best = {}


def keep(key, value):
    if value is not None:
        best[key] = min(best.get(key, value), value)


def number(text, pattern):
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else None


for _ in range(rounds):
    for precision in ["fp32", "bf16"]:
        out = run([binary, "bench", "--precision", precision])
        keep(("mims", "train", precision), number(out, rf"train-step \S+ {precision}: ([0-9.]+) s"))
        keep(("mims", "forward", precision), number(out, rf"forward \S+ {precision}: ([0-9.]+) s"))
        keep(("mims", "memory", precision), number(out, r"^peak memory: ([0-9.]+) GiB"))
    out = run([sys.executable, os.path.join(here, "baselines", "train_step.py")])
    for mode in ["fp32-nchw", "fp32-channels-last", "bf16-autocast"]:
        keep(("torch", "train", mode), number(out, rf"train-step \S+ {mode}: ([0-9.]+) s"))
        keep(("torch", "forward", mode), number(out, rf"forward \S+ {mode}: ([0-9.]+) s"))
        keep(("torch", "memory", mode), number(out, rf"pytorch {mode} peak memory: ([0-9.]+) GiB"))

rows = [
    ("train step fp32 / PyTorch fp32 channels_last", ("mims", "train", "fp32"), ("torch", "train", "fp32-channels-last"), 0.8, "s"),
    ("train step bf16 / PyTorch bf16 autocast", ("mims", "train", "bf16"), ("torch", "train", "bf16-autocast"), 0.75, "s"),
    ("forward fp32 / PyTorch fp32 channels_last no_grad", ("mims", "forward", "fp32"), ("torch", "forward", "fp32-channels-last"), 0.8, "s"),
    ("forward bf16 / PyTorch bf16 autocast no_grad", ("mims", "forward", "bf16"), ("torch", "forward", "bf16-autocast"), 0.75, "s"),
    ("peak memory fp32 step / PyTorch fp32 channels_last", ("mims", "memory", "fp32"), ("torch", "memory", "fp32-channels-last"), 1.0, "GiB"),
    ("peak memory bf16 step / PyTorch bf16 autocast", ("mims", "memory", "bf16"), ("torch", "memory", "bf16-autocast"), 1.0, "GiB"),
]
print(f"\nbest of {rounds} alternating rounds; ratios mims / PyTorch (lower is better; target in brackets):")
for name, ours, theirs, target, unit in rows:
    if ours not in best or theirs not in best:
        print(f"  {name}: not measured")
        continue
    ratio = best[ours] / best[theirs]
    print(f"  {name}: {best[ours]:.2f} / {best[theirs]:.2f} {unit} = {ratio:.2f}x [<= {target}x] {'met' if ratio <= target else 'NOT met'}")
