"""Where a training step's time goes inside oneDNN: runs `mims-train bench` once with oneDNN's
verbose mode (ONEDNN_VERBOSE=1, which prints every primitive execution with its time) and sums
those times per step by primitive kind, propagation and implementation, separately for the
training steps and the forward passes. What is left of the step's wall time is the Swift side
(the tape, elementwise passes, BatchNorm statistics, the optimizer).

usage: onednn_time_by_primitive.py [MIMS_TRAIN] [PRECISION]   (default .build/release/mims-train, bf16)
"""
import collections
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", ".build", "release", "mims-train")
precision = sys.argv[2] if len(sys.argv) > 2 else "bf16"
repeats = 1
# bench runs one warm-up step plus `repeats` timed steps, then `repeats` + 1 forward passes.
steps, passes = repeats + 1, repeats + 1

out = subprocess.run([binary, "bench", "--precision", precision, "--repeats", str(repeats)], check=True, capture_output=True, text=True,
                     env=dict(os.environ, ONEDNN_VERBOSE="1")).stdout
rows = [line.strip().split(",") for line in out.splitlines() if line.startswith("onednn_verbose,exec")]
timed = [line for line in out.splitlines() if not line.startswith("onednn_verbose")]
# Training executes backward primitives; everything after the last of them is the forward passes.
last_backward = max(i for i, row in enumerate(rows) if "backward" in row[5])


def key(row):
    kind, implementation, prop = row[3], row[4], row[5]
    if kind == "reorder":
        # e.g. "src_f32::blocked:abcd:f0 dst_bf16:p:blocked:AcdB16a2b:f0": type and format of each side
        # (OIHW weights are abcd and their oneDNN formats capitalized; activations aBcd16b).
        source, target = (f"{md.split(':')[0].split('_')[1]} {md.split(':')[3]}" for md in row[6].split(" ")[:2])
        return f"reorder {source} -> {target}"
    return f"{kind} {prop} {implementation}"


print("\n".join(timed))
for name, part, count in (("training step", rows[:last_backward + 1], steps), ("forward pass", rows[last_backward + 1:], passes)):
    totals = collections.defaultdict(lambda: [0, 0.0])
    for row in part:
        totals[key(row)][0] += 1
        totals[key(row)][1] += float(row[-1])
    total = sum(t for _, t in totals.values()) / count
    print(f"\n{name} ({precision}): {total:.0f} ms in oneDNN primitives per {name.split()[-1]} (mean of {count})")
    for k, (calls, ms) in sorted(totals.items(), key=lambda item: -item[1][1]):
        print(f"  {ms / count:7.1f} ms  {calls // count:4d} calls  {k}")
