"""Two `--part` processes with one worker each against one process with two workers.

    python3 bench/part_ingest.py [--bin .build/release/mims-ingest] [--dataset cirrus] [--count 320] [--rounds 3]

Synthesizes the dataset once (into --work, default /tmp/mims-part-bench), then alternates, for
--rounds rounds, `mims-ingest run --jobs 2` with `run --part 0/2 --jobs 1` and `--part 1/2
--jobs 1` started at once (the order flips every round, so drift in the machine's speed hits both),
each into fresh folders. Prints each round, the best records/s of each, the ratio (parts / single)
and the merge time of the parts. docs/BENCHMARKS.md records the results.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--bin", default=".build/release/mims-ingest")
parser.add_argument("--dataset", default="cirrus")
parser.add_argument("--count", type=int, default=320)
parser.add_argument("--small", action="store_true", default=True)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--work", default="/tmp/mims-part-bench")
args = parser.parse_args()

binary = os.path.abspath(args.bin)
source = os.path.join(args.work, f"{args.dataset}-{args.count}")
manifest = os.path.join(source, "manifest.yaml")
if not os.path.exists(manifest):
    shutil.rmtree(source, ignore_errors=True)
    synth = [binary, "synth", "--dataset", args.dataset, "--count", str(args.count), "--seed", "3", "--out", source]
    subprocess.run(synth + (["--small"] if args.small else []), check=True, stdout=subprocess.DEVNULL)


def fresh(name):
    path = os.path.join(args.work, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def timed(commands):
    """Starts the commands at once: seconds until the last one ends, and the cores they kept busy
    on average (their CPU seconds over that time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    processes = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands]
    for process, command in zip(processes, commands):
        _, err = process.communicate()
        if process.returncode != 0:
            sys.exit(f"{' '.join(command)} failed: {err.decode()}")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu / seconds


def written(folder):
    with open(os.path.join(folder, "splits.json")) as f:
        return len(json.load(f)["splits"])


single_rates, part_rates, merges = [], [], []
for round_index in range(args.rounds):
    runs = ["single", "parts"] if round_index % 2 == 0 else ["parts", "single"]
    for run in runs:
        if run == "single":
            out = fresh("single")
            seconds, cores = timed([[binary, "run", manifest, "--out", out, "--jobs", "2", "--log-format", "json"]])
            rate = written(out) / seconds
            single_rates.append(rate)
        else:
            outs = [fresh(f"part-{i}") for i in range(2)]
            seconds, cores = timed([[binary, "run", manifest, "--out", outs[i], "--part", f"{i}/2", "--jobs", "1", "--log-format", "json"]
                                    for i in range(2)])
            merged = fresh("merged")
            merge_seconds, _ = timed([[binary, "merge", *outs, "--out", merged, "--log-format", "json"]])
            merges.append(merge_seconds)
            rate = written(merged) / seconds
            part_rates.append(rate)
        print(f"round {round_index + 1}: {run:6s} {seconds:7.2f} s  {rate:8.1f} records/s  {cores:.2f} cores busy"
              + (f"  (merge {merge_seconds:.2f} s)" if run == "parts" else ""), flush=True)

best_single, best_parts = max(single_rates), max(part_rates)
print(f"best: one --jobs 2 run {best_single:.1f} records/s; two --jobs 1 parts at once {best_parts:.1f} records/s; "
      f"ratio {best_parts / best_single:.2f}x; merge {min(merges):.2f} s")
