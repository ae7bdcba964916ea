"""`python -m mims_torch.train --shards DIR --pipeline FILE --out RUN`: trains the model of
docs/MODEL.md in PyTorch on the bags mims-train would draw for the same seed (mims_torch.schedule),
with the same update (torch.optim.SGD / Adam, which `Sources/MIMSTensor/Optimizer.swift` mirrors:
L2 weight decay added to the gradient, momentum without dampening or Nesterov, the trunk at
`backbone_learning_rate`, the head at `learning_rate`) and the same loss (`BagScoring.swift`), and
writes RUN/checkpoint.safetensors, RUN/metrics.jsonl and RUN/run.json as mims-train does, so that
`mims-train eval`, `predict`, `--init-from` and `--resume` read the result."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shlex
import sys
import time
from typing import List, Optional

import torch
import torch.nn.functional as F

from . import __version__, checkpoint, data, model, pipeline as pipeline_module, predict
from .schedule import TrainingSchedule


class TrainingError(ValueError):
    """A run that cannot start; the message names the file or folder and the reason."""


def check_run_folder(run: str) -> None:
    """Trainer.checkRunFolder without --resume (which mims_torch does not offer): a new or empty folder."""
    if not os.path.exists(run):
        return
    if not os.path.isdir(run):
        raise TrainingError(f"{run}: is a file; --out wants a run folder (created when missing)")
    entries = sorted(os.listdir(run))
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise TrainingError(f"{run}: already holds files ({shown}); give an empty folder for a new run")


def loss(network: model.Network, logits: torch.Tensor, sizes: List[int], labels: List[int]) -> torch.Tensor:
    """BagScoring.loss: mean softmax cross-entropy over the bags (over the slices, each with its
    volume's label, for the patch classifiers); max-inst: mean binary cross-entropy of each bag's
    largest class-1 probability (MaxInstanceLoss.swift, p clamped to [1e-7, 1 - 1e-7])."""
    device = logits.device
    if network.scoring == "pooled":
        return F.cross_entropy(logits, torch.tensor(labels, device=device))
    if network.scoring == "slice-mean":
        repeated = [label for size, label in zip(sizes, labels) for _ in range(size)]
        return F.cross_entropy(logits, torch.tensor(repeated, device=device))
    probabilities = torch.softmax(logits, 1)[:, 1]
    # Which slice is the bag's maximum is decided on the scores Swift compares (float64 softmax
    # rounded to float32); torch.argmax returns the first of equal values, as Swift's loop does.
    decided = model.Network.class_one_probabilities(logits.detach())
    terms, start = [], 0
    for size, label in zip(sizes, labels):
        best = start + int(torch.argmax(decided[start:start + size]))
        p = probabilities[best].clamp(1e-7, 1 - 1e-7).double()
        terms.append(-torch.log(p) if label == 1 else -torch.log(1 - p))
        start += size
    return (torch.stack(terms).sum() / len(sizes)).float()


def auroc(scores: List[float], labels: List[int]) -> Optional[float]:
    """Metrics.auroc: Mann-Whitney with ties as one half, NaN scores ranked lowest; None for one class."""
    values = [float("-inf") if s != s else s for s in scores]
    positives = sum(1 for l in labels if l == 1)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(values)), key=lambda i: values[i])
    rank_sum, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        rank_sum += sum(mid for k in range(i, j + 1) if labels[order[k]] == 1)
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def accuracy(scores: List[float], labels: List[int]) -> float:
    return sum(1 for s, l in zip(scores, labels) if (1 if s >= 0.5 else 0) == l) / len(scores) if scores else 0.0


class MetricsLog:
    """MetricsLog.swift's lines: one JSON object per line, keys sorted, numbers as %.6g."""

    def __init__(self, path: str):
        self.handle = open(path, "w", encoding="utf-8")

    def write(self, fields: dict) -> None:
        parts = []
        for key in sorted(fields):
            value = fields[key]
            if isinstance(value, bool) or value is None:
                text = "null"
            elif isinstance(value, int):
                text = str(value)
            elif isinstance(value, float):
                text = "%.6g" % value if value == value and abs(value) != float("inf") else "null"
            else:
                text = json.dumps(str(value), ensure_ascii=False)
            parts.append(json.dumps(key) + ": " + text)
        self.handle.write("{" + ", ".join(parts) + "}\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def score(network: model.Network, dataset: data.ShardDataset, bags_per_batch: int, device: torch.device):
    """Every record of `dataset` with its evaluation score (running BatchNorm statistics)."""
    network.eval()
    results = []
    with torch.no_grad():
        for start in range(0, len(dataset), bags_per_batch):
            items = [dataset[i] for i in range(start, min(start + bags_per_batch, len(dataset)))]
            inputs, sizes, _, indices = data.collate_bags(items)
            for index, value in zip(indices, network(inputs.to(device, next(network.parameters()).dtype), sizes).tolist()):
                results.append((dataset.records[index], value))
    network.train()
    return results


def initial_weights(network: model.Network, path: str, dataset: data.ShardDataset, shards: str) -> None:
    """Trainer.prepareParameters with --init-from: every tensor of the checkpoint, head included,
    replaces the network's (names and shapes checked against *this* pipeline, as
    Checkpoint.restore does); the optimizer starts fresh and the run counts from iteration 0."""
    loaded = model.load_checkpoint(path)
    predict._check_compatible(loaded, path, dataset, shards)
    tensors = loaded.network.state_dict()
    expected = network.state_dict()
    for name in sorted(expected):
        if name not in tensors:
            raise model.CheckpointError(f"{path}: missing tensor '{name}' (was it written for another pipeline?)")
        if tensors[name].shape != expected[name].shape:
            raise model.CheckpointError(f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}, the pipeline needs {list(expected[name].shape)}")
    extra = sorted(set(tensors) - set(expected))
    if extra:
        raise model.CheckpointError(f"{path}: unexpected tensor '{extra[0]}' for this pipeline")
    network.load_state_dict(tensors, strict=True)


def optimizer_for(network: model.Network, pipeline: pipeline_module.Pipeline) -> torch.optim.Optimizer:
    """The two parameter groups of Trainer.swift; foreach=False keeps the per-tensor arithmetic
    of Optimizer.swift's loop."""
    groups = [{"params": [p for n, p in network.named_parameters() if n.startswith("backbone.")], "lr": pipeline.backbone_learning_rate},
              {"params": [p for n, p in network.named_parameters() if n.startswith("head.")], "lr": pipeline.learning_rate}]
    if pipeline.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=pipeline.learning_rate, momentum=pipeline.momentum, dampening=0, nesterov=False,
                               weight_decay=pipeline.weight_decay, foreach=False)
    return torch.optim.Adam(groups, lr=pipeline.learning_rate, betas=(0.9, 0.999), eps=1e-8, weight_decay=pipeline.weight_decay,
                            foreach=False)


def run(args) -> int:
    pipeline = pipeline_module.load(args.pipeline)
    if pipeline.precision != "fp32":
        raise TrainingError(f"{args.pipeline}: precision {pipeline.precision}: mims_torch.train trains in fp32 only (bf16 is not implemented yet)")
    check_run_folder(args.out)
    if pipeline.weights == "imagenet" and args.init_from is None and not args.random_init:
        raise TrainingError(f"{args.pipeline}: weights: imagenet, but mims_torch.train loads no ImageNet weights yet; "
                            "give --init-from CHECKPOINT or --random-init")
    train = data.ShardDataset(args.shards, "train", pipeline)
    if pipeline.is_patch_classifier and train.kind != "volume3d":
        raise TrainingError(f"{args.pipeline}: model {pipeline.model} needs volume3d shards; {args.shards} holds {train.kind}")
    labels = [r.label for r in train.records]
    if len(set(labels)) < 2:
        raise TrainingError(f"{args.shards}: the train split holds only label {labels[0] if labels else 0}; training needs both classes")
    bad = next((l for l in labels if l not in (0, 1)), None)
    if bad is not None:
        raise TrainingError(f"{args.shards}: label {bad} found; the classifier has two classes (0 and 1)")
    evaluation = None
    for split in (pipeline.eval_split, "test"):
        if data.shard_names(args.shards, split):
            evaluation = data.ShardDataset(args.shards, split, pipeline)
            break
    if evaluation is None or evaluation.split != pipeline.eval_split:
        print(f"note: the shards have no {pipeline.eval_split} split (training.eval_split); evaluating on "
              + ("nothing during training" if evaluation is None else "test during training"), file=sys.stderr)

    device = torch.device(args.device)
    dtype = torch.float64 if args.float64 else torch.float32
    torch.manual_seed(args.seed)
    network = model.Network(pipeline)
    identity = checkpoint.signature(train, pipeline)
    identity.update({"pipeline_sha256": hashlib.sha256(pipeline.text.encode("utf-8")).hexdigest(),
                     "shard_set": checkpoint.shard_set_identity(args.shards), "iterations": str(args.iterations or pipeline.iterations),
                     "tool_version": f"mims_torch {__version__}", "precision": pipeline.precision,
                     "engine": f"engine: PyTorch {torch.__version__} ({device.type}), {torch.get_num_threads()} threads",
                     # Trainer.swift records this even with --init-from: it initializes, then restores.
                     "backbone_weights": "random initialization"})
    if args.init_from is not None:
        initial_weights(network, args.init_from, train, args.shards)
        identity["init_from"] = args.init_from
        identity["init_from_sha256"] = checkpoint.sha256_file(args.init_from)
    network.to(device, dtype).train()
    optimizer = optimizer_for(network, pipeline)

    os.makedirs(args.out, exist_ok=True)
    record = dict(identity, pipeline=pipeline.text, shards=args.shards, seed=str(args.seed),
                  command=" ".join(shlex.quote(a) for a in [sys.executable, "-m", "mims_torch.train"] + list(args.argv)),
                  started=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    with open(os.path.join(args.out, "run.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")

    iterations = args.iterations or pipeline.iterations
    schedule = TrainingSchedule(labels, [r.frame_count for r in train.records], pipeline.batch, pipeline.slices,
                                pipeline.central_slices, pipeline.class_balanced, args.seed)
    metrics = MetricsLog(os.path.join(args.out, "metrics.jsonl"))
    path = os.path.join(args.out, "checkpoint.safetensors")
    last = None
    for iteration in range(iterations):
        started = time.monotonic()
        choices = schedule.choices(iteration)
        inputs = torch.cat([train.training_bag(r, s) for r, s in choices], 0).to(device, dtype)
        sizes = [len(s) for _, s in choices]
        bag_labels = [labels[r] for r, _ in choices]
        value = loss(network, network.logits(inputs, sizes), sizes, bag_labels)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        done = iteration + 1
        metrics.write({"type": "train", "iteration": done, "loss": float(value.item()), "seconds": time.monotonic() - started,
                       "slices": int(inputs.shape[0])})
        print(f"iteration {done}/{iterations} loss {value.item():.4f}", file=sys.stderr)
        if evaluation is not None and (done % pipeline.eval_every == 0 or done == iterations):
            results = score(network, evaluation, max(1, pipeline.batch), device)
            s, l = [v for _, v in results], [r.label for r, _ in results]
            last = (evaluation.split, auroc(s, l), results)
            metrics.write({"type": "eval", "iteration": done, "split": evaluation.split,
                           "auroc": float("nan") if last[1] is None else last[1], "accuracy": accuracy(s, l), "records": len(results)})
        if done % pipeline.checkpoint_every == 0 or done == iterations:
            checkpoint.write(path, network, optimizer, done, pipeline, done, args.seed, identity)
    metrics.close()
    if last is not None:
        split, value, results = last
        predict.write_scores(results, os.path.join(args.out, f"scores-{split}.csv"))
        print(f"{split} AUROC: " + ("n/a (one class only)" if value is None else f"{value:.3f}"))
    print(f"{path}: iteration {iterations}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m mims_torch.train",
                                     description="Train a pipeline on shards in PyTorch, on the bags mims-train draws for the seed.")
    parser.add_argument("--shards", required=True, help="Folder of shards made by mims-ingest run.")
    parser.add_argument("--pipeline", required=True, help="Pipeline YAML (see pipelines/ and docs/PIPELINES.md).")
    parser.add_argument("--out", required=True, help="Run folder: new or empty (created).")
    parser.add_argument("--iterations", type=int, help="Iterations (default: the pipeline's).")
    parser.add_argument("--seed", type=int, default=1, help="Seed of sampling and order (and of torch's initialization).")
    parser.add_argument("--init-from", help="Start from this checkpoint's weights, head included (as mims-train --init-from).")
    parser.add_argument("--random-init", action="store_true", help="Train from torch's initialization although the pipeline says weights: imagenet.")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu).")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's).")
    # The same run in float64 measures how far float32 rounding alone moves the weights, which is
    # the yardstick TorchTrainingTests holds the two engines' difference to (checkpoints stay float32).
    parser.add_argument("--float64", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be at least 1")
    if not 0 <= args.seed < 1 << 64:
        parser.error("--seed must be in [0, 2^64)")
    if args.init_from is not None and args.random_init:
        parser.error("--init-from and --random-init contradict each other; give one")
    if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
        parser.error("--device must be cpu or cuda")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device")
    try:
        return run(args)
    except (TrainingError, model.CheckpointError, data.ShardError, pipeline_module.PipelineError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
