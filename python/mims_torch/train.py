"""`python -m mims_torch.train --shards DIR --pipeline FILE --out RUN`: trains the model of
docs/MODEL.md in PyTorch on the bags mims-train would draw for the same seed (mims_torch.schedule),
with the same update (torch.optim.SGD / Adam, which `Sources/MIMSTensor/Optimizer.swift` mirrors:
L2 weight decay added to the gradient, momentum without dampening or Nesterov, the trunk at
`backbone_learning_rate`, the head at `learning_rate`) and the same loss (`BagScoring.swift`, softmax
cross-entropy over the shard set's C classes), and writes RUN/checkpoint.safetensors,
RUN/metrics.jsonl and RUN/run.json as mims-train does, so that `mims-train eval`, `predict`,
`heatmap`, `report`, `--init-from` and `--resume` read the result. `training.select: best-val`
keeps the best val evaluation's weights in RUN/best.safetensors and scores the test split with them.

Under `torchrun --nproc_per_node N` the processes share each iteration's bags (mims_torch.distributed,
docs/GPU.md): the global batch, the loss and the BatchNorm statistics are one process's."""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import datetime
import json
import os
import shlex
import signal
import sys
import time
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from . import (__version__, checkpoint, data, distributed, metrics, model, outputs, pipeline as pipeline_module, predict, split_check,
               weights)
from .schedule import TrainingSchedule


class TrainingError(ValueError):
    """A run that cannot start; the message names the file or folder and the reason."""


@dataclasses.dataclass
class SplitScores:
    """One split scored with the weights of `iteration`: its evaluation and every record's class
    probabilities, in record order."""

    split: str
    iteration: int
    result: metrics.Evaluation
    results: List[tuple]


def check_run_folder(run: str, resume: bool) -> None:
    """Trainer.checkRunFolder: --out is a folder (made if missing), and empty unless the run is resumed."""
    if not os.path.exists(run):
        return
    if not os.path.isdir(run):
        raise TrainingError(f"{run}: is a file; --out wants a run folder (created when missing)")
    if resume:
        return
    entries = sorted(os.listdir(run))
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise TrainingError(f"{run}: already holds files ({shown}); use --resume to continue the run in it, or give an empty folder for a new run")


def check_resume(fields: Dict[str, str], pipeline: pipeline_module.Pipeline, shard_set: str, shards: str, run: str, seed: int) -> None:
    """RunRecord.checkResume: refuses to continue a run recorded with `fields` (run.json or a
    checkpoint's metadata) with another pipeline, precision or shards, naming what differs; and,
    unlike mims-train, with another --seed (the bags of the remaining iterations would be another
    run's)."""
    def refuse(reason: str) -> TrainingError:
        return TrainingError(f"{run}: cannot resume: {reason}; resume with the pipeline and shards the run started with, "
                             "or start a new run in an empty --out folder")
    recorded_hash = fields.get("pipeline_sha256") or (checkpoint.sha256_text(fields["pipeline"]) if "pipeline" in fields else None)
    if recorded_hash and recorded_hash != checkpoint.sha256_text(pipeline.text):
        reason = "pipeline file content differs from the one the run started with"
        if "pipeline" in fields:
            try:
                earlier = pipeline_module.parse(fields["pipeline"], run + " (recorded pipeline)")
            except pipeline_module.PipelineError:
                earlier = None
            if earlier is not None:
                changes = pipeline_module.differences(pipeline, earlier)
                reason = "the pipeline changed since the run started: " + ", ".join(changes) if changes else reason + " (only comments or layout)"
        raise refuse(reason)
    recorded = fields.get("precision")
    if recorded and recorded != pipeline.precision:
        raise refuse(f"the run was trained in {recorded}, this continuation would run in {pipeline.precision} (set --precision {recorded})")
    recorded_set = fields.get("shard_set")
    if recorded_set and recorded_set != shard_set:
        started = f" ({fields['shards']})" if "shards" in fields else ""
        raise refuse(f"the shards differ: the run started on {recorded_set}{started}, {shards} is {shard_set}")
    if fields.get("seed") not in (None, str(seed)):
        raise refuse(f"the run was started with seed {fields['seed']}, this continuation has --seed {seed} (pass --seed {fields['seed']})")


def check_precision(precision: str, device: torch.device, source: str) -> None:
    """fp16 needs CUDA (autocast with a GradScaler); bf16 needs a GPU or a CPU that computes it."""
    if precision == "fp16" and device.type != "cuda":
        raise TrainingError(f"{source}: fp16 trains with autocast and a GradScaler on CUDA only; on CPU use --precision bf16 or fp32")
    if precision == "bf16":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise TrainingError(f"{source}: this GPU has no bf16 arithmetic (torch.cuda.is_bf16_supported() is False); use --precision fp16 or fp32")
        if device.type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            raise TrainingError(f"{source}: bf16 on CPU needs AVX512_BF16 or AMX, which oneDNN does not find on this CPU; use --precision fp32")


def autocast(device: torch.device, precision: str):
    """torch.autocast for bf16 and fp16 (convolutions and linear layers in the low precision,
    float32 weights, BatchNorm statistics, loss and optimizer); nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def loss(network: model.Network, logits: torch.Tensor, sizes: List[int], labels: List[int], total: Optional[int] = None) -> torch.Tensor:
    """BagScoring.loss: mean softmax cross-entropy over the C classes and the bags (over the
    slices, each with its volume's label, for the patch classifiers); max-inst (two classes only):
    mean binary cross-entropy of each bag's largest class-1 probability (MaxInstanceLoss.swift,
    p clamped to [1e-7, 1 - 1e-7]).

    `total` is the number of terms the mean is over (the global batch's bags, or slices for the
    patch classifiers): a rank holding part of the batch divides its sum by the whole count."""
    device = logits.device
    if network.scoring == "pooled":
        count = len(labels) if total is None else total
        return F.cross_entropy(logits, torch.tensor(labels, device=device), reduction="sum") / count
    if network.scoring == "slice-mean":
        repeated = [label for size, label in zip(sizes, labels) for _ in range(size)]
        count = len(repeated) if total is None else total
        return F.cross_entropy(logits, torch.tensor(repeated, device=device), reduction="sum") / count
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
    return (torch.stack(terms).sum() / (len(sizes) if total is None else total)).float()


class MetricsLog:
    """MetricsLog.swift's lines: one JSON object per line, keys sorted, numbers as %.6g. On resume
    the lines after the checkpoint's iteration are dropped, so the log reads as one run."""

    def __init__(self, path: str, keeping_through: int = 0):
        kept = []
        if keeping_through > 0 and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle.read().split("\n"):
                    try:
                        fields = json.loads(line)
                    except ValueError:
                        continue
                    at = fields.get("iteration") if isinstance(fields, dict) else None
                    if isinstance(at, int) and not isinstance(at, bool) and at <= keeping_through:
                        kept.append(line + "\n")
        self.handle = open(path, "w", encoding="utf-8")
        self.handle.write("".join(kept))
        self.handle.flush()

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


def best_evaluation(path: str, split: str, through: int):
    """Trainer.bestEvaluation: among the lines a resume at iteration `through` keeps, (iteration,
    AUROC) of the first eval line of `split` with the highest AUROC (None when none has one), and
    how many eval lines of `split` came after it without beating it (what `training.patience`
    counts; a line without an AUROC counts as one that does not beat it)."""
    best, since = None, 0
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except OSError:
        return None, 0
    for line in lines:
        try:
            fields = json.loads(line)
        except ValueError:
            continue
        if not isinstance(fields, dict) or fields.get("type") != "eval" or fields.get("split") != split:
            continue
        iteration, value = fields.get("iteration"), fields.get("auroc")
        if not isinstance(iteration, int) or isinstance(iteration, bool) or iteration > through:
            continue
        if (isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
                and value > (best[1] if best is not None else -1)):
            best, since = (iteration, float(value)), 0
        else:
            since += 1
    return best, since


def _as_is(item):
    return item


def _worker_ignores_stops(_worker: int) -> None:
    """DataLoader workers leave SIGINT and SIGTERM to the training process, which stops between
    iterations (a Ctrl-C in a terminal or Slurm's SIGTERM reaches every process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def remove_part_files(folder: str) -> None:
    """StopRequest.removePartFiles: the unfinished `*.part` files directly in `folder`."""
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if name.endswith(".part"):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


class StopRequest:
    """StopRequest.swift: SIGINT (Ctrl-C) or SIGTERM (Slurm's preemption, torchrun passing a stop
    on) stops the run after the current iteration with a checkpoint; a second signal stops at
    once, after removing the run folder's `.part` files."""

    def __init__(self, folder: str, leader: bool):
        self.folder, self.leader, self.signal = folder, leader, 0

    def install(self) -> None:
        self.previous = {number: signal.signal(number, self._received) for number in (signal.SIGINT, signal.SIGTERM)}

    def uninstall(self) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def _received(self, number: int, _frame) -> None:
        if not self.signal:
            self.signal = number
            if self.leader:
                print(f"\n{'Ctrl-C' if number == signal.SIGINT else 'SIGTERM'}: stopping after this iteration with a checkpoint "
                      "(send it again to stop at once)", file=sys.stderr, flush=True)
            return
        if self.leader:
            remove_part_files(self.folder)
            print("stopped at once; the last checkpoint on disk is whole (resume with --resume)", file=sys.stderr, flush=True)
        os._exit(128 + number)


class Scorer:
    """Scores every record of an evaluation split in evaluation mode (running BatchNorm
    statistics): (record, class probabilities) in record order. Under DDP each rank scores the
    records DistributedSampler gives it and the probabilities are gathered, so every rank returns
    all records."""

    def __init__(self, dataset: data.ShardDataset, bags_per_batch: int, workers: int, context: distributed.Context):
        self.dataset, self.context = dataset, context
        sampler = (torch.utils.data.DistributedSampler(dataset, num_replicas=context.world, rank=context.rank, shuffle=False)
                   if context.distributed else None)
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=bags_per_batch, sampler=sampler, shuffle=False, num_workers=workers,
                                                  collate_fn=data.collate_bags, persistent_workers=workers > 0,
                                                  worker_init_fn=_worker_ignores_stops if workers > 0 else None)

    def __call__(self, network: model.Network, precision: str):
        network.eval()
        dtype = next(network.parameters()).dtype
        mine = []
        with torch.no_grad(), autocast(self.context.device, precision):
            for inputs, sizes, _, indices in self.loader:
                mine += zip(indices, network(inputs.to(self.context.device, dtype), sizes).tolist())
        network.train()
        # DistributedSampler repeats a few records to give every rank as many; each counts once.
        scores = dict(distributed.gather(mine, self.context))
        return [(self.dataset.records[i], scores[i]) for i in sorted(scores)]


def freeze_unused(network: model.Network) -> None:
    """The trunk's layers after the last one the head reads get no gradient in either engine
    (mims-train updates only what the tape used); DDP needs them marked so."""
    for layer in range(max(network.feature_layers) + 1, 5):
        getattr(network.backbone, f"layer{layer}").requires_grad_(False)


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


class _Logits(torch.nn.Module):
    """What DDP wraps: the network's training forward pass (logits of the head bags)."""

    def __init__(self, network: model.Network):
        super().__init__()
        self.network = network

    def forward(self, inputs: torch.Tensor, sizes: List[int]) -> torch.Tensor:
        return self.network.logits(inputs, sizes)


class Run:
    """One training run, checked completely before any process group is joined or file written."""

    def __init__(self, args, context: distributed.Context):
        self.args, self.context = args, context
        pipeline = pipeline_module.load(args.pipeline)
        source = args.pipeline + " (precision)"
        if args.precision is not None:
            pipeline.precision, source = args.precision, "--precision " + args.precision
        check_precision(pipeline.precision, context.device, source)
        self.pipeline = pipeline
        check_run_folder(args.out, args.resume)
        self.path = os.path.join(args.out, "checkpoint.safetensors")
        resuming = args.resume and os.path.exists(self.path)
        if not pipeline.trains_backbone:
            raise TrainingError(f"{pipeline.name}: backbone.trainable: false (frozen-feature training) is mims-train's; mims_torch trains "
                                "the whole network. Train this pipeline with mims-train, or remove the key to fine-tune the trunk")
        if (pipeline.weights == "imagenet" and args.backbone_weights is None and args.init_from is None and not args.random_init
                and not resuming):
            raise TrainingError(f"{pipeline.name}: the pipeline says backbone.weights: imagenet, but no --backbone-weights file was given; "
                                f"get ImageNet ResNet-{pipeline.trunk_depth} weights as docs/WEIGHTS.md describes and pass "
                                "--backbone-weights FILE.safetensors, or pass --random-init to train from random weights on purpose")
        if data.is_unlabelled_set(args.shards):
            raise TrainingError(f"{args.shards}: the records are unlabelled (the manifest said labels: none), so there is nothing to train on; "
                                "score them with mims-train predict --split all, or ingest them with labels")
        self.train = data.ShardDataset(args.shards, "train", pipeline)
        train = self.train
        if pipeline.is_patch_classifier and train.kind != "volume3d":
            raise TrainingError(f"{pipeline.name}: model {pipeline.model} needs volume3d shards; {args.shards} holds {train.kind}")
        self.labels = [r.label for r in train.records]
        # Trainer.swift's checks and words: two classes present, every label one of the shard
        # set's C classes (the classifier's outputs), max-inst only with two.
        if len(set(self.labels)) < 2:
            raise TrainingError(f"{args.shards}: every train record has label {self.labels[0] if self.labels else 0}; AUROC needs at least two classes")
        self.classes = classes = train.class_count()
        bad = next((l for l in self.labels if not 0 <= l < classes), None)
        if bad is not None:
            raise TrainingError(f"{args.shards}: label {bad} found in the train split: unlabelled records cannot be trained on" if bad < 0
                                else f"{args.shards}: label {bad} found; the shard set names {classes} classes (0 to {classes - 1})")
        if classes > 2 and pipeline.aggregation == "max-inst":
            raise TrainingError(f"{pipeline.name}: aggregation max-inst scores the class-1 probability and needs two classes; {args.shards} has {classes}")
        if not args.allow_leakage:
            # The same decision as `mims-split check`, from the same rules.
            problems = split_check.problems(args.shards)
            if problems:
                raise TrainingError(f"{args.shards}: the shards fail mims-split check, so test results would not be trustworthy:\n"
                                    + "\n".join(f"  problem: {p}" for p in problems)
                                    + "\nfix the split (mims-split make) or pass --allow-leakage to train on them anyway")
        if pipeline.selects_best_validation and not data.shard_names(args.shards, "val"):
            raise TrainingError(f"{pipeline.name}: training.select: best-val needs a val split; {args.shards} has none "
                                "(re-split with mims-split make --val F)")
        if pipeline.batch < context.world:
            raise TrainingError(f"{args.pipeline}: training.batch is {pipeline.batch} bag(s) per iteration, fewer than the {context.world} "
                                "processes: ranks share an iteration's bags (docs/GPU.md), so each needs at least one; "
                                f"start at most {pipeline.batch} processes or raise training.batch")
        self.evaluation = None
        for split in (pipeline.eval_split, "test"):
            if data.shard_names(args.shards, split):
                self.evaluation = data.ShardDataset(args.shards, split, pipeline)
                break
        if (self.evaluation is None or self.evaluation.split != pipeline.eval_split) and context.leader:
            print(f"note: the shards have no {pipeline.eval_split} split (training.eval_split); evaluating on "
                  + ("nothing during training" if self.evaluation is None else "test during training"), file=sys.stderr)
        self.iterations = args.iterations or pipeline.iterations
        self.dtype = torch.float64 if args.float64 else torch.float32
        shard_set = checkpoint.shard_set_identity(args.shards)
        identity = checkpoint.signature(train, pipeline)
        identity.update({"pipeline_sha256": checkpoint.sha256_text(pipeline.text), "shard_set": shard_set,
                         "iterations": str(self.iterations), "tool_version": f"mims_torch {__version__}", "precision": pipeline.precision,
                         "engine": f"engine: PyTorch {torch.__version__} ({context.device.type}), "
                                   + (f"{context.world} processes, " if context.distributed else "") + f"{torch.get_num_threads()} threads"})
        self.recorded = self._read_record() if args.resume else None
        if self.recorded is not None:
            check_resume(self.recorded, pipeline, shard_set, args.shards, args.out, args.seed)
        torch.manual_seed(args.seed)
        network = model.Network(pipeline, classes)
        self.start, self.state = 0, None
        if resuming:
            loaded = model.read_checkpoint(self.path)
            check_resume(loaded.metadata, pipeline, shard_set, args.shards, args.out, args.seed)
            network.load_state_dict(model.checked_tensors(loaded.tensors, network, self.path), strict=True)
            self.state = checkpoint.read_state(self.path, loaded.metadata)
            self.start = int(loaded.metadata.get("iteration", "0"))
            # What the run started from stays as recorded; this invocation may not repeat it.
            for key in checkpoint.START_KEYS:
                identity.pop(key, None)
                if key in loaded.metadata:
                    identity[key] = loaded.metadata[key]
        else:
            # Trainer.swift records this even with --init-from: it initializes, then restores.
            identity["backbone_weights"] = "random initialization"
            if args.backbone_weights is not None:
                network.load_backbone(args.backbone_weights)
                identity["backbone_weights"] = os.path.basename(args.backbone_weights)
                identity["backbone_weights_sha256"] = checkpoint.sha256_file(args.backbone_weights)
            if args.init_from is not None:
                loaded = model.load_checkpoint(args.init_from)
                predict._check_compatible(loaded, args.init_from, train, args.shards)
                network.load_state_dict(model.checked_tensors(loaded.network.state_dict(), network, args.init_from), strict=True)
                identity["init_from"] = args.init_from
                identity["init_from_sha256"] = checkpoint.sha256_file(args.init_from)
        self.identity, self.network = identity, network
        # select: best-val; after a resume, the best val evaluation so far is recovered from the
        # run's metrics.jsonl (read here, before any rank rewrites the file).
        self.best_path = os.path.join(args.out, "best.safetensors")
        self.best_state = None
        self.best, self.since_best = (best_evaluation(os.path.join(args.out, "metrics.jsonl"), "val", self.start)
                                      if pipeline.selects_best_validation and self.start > 0 else (None, 0))
        self.stopped_early: Optional[int] = None

    @property
    def patience_run_out(self) -> bool:
        """Trainer.patienceRunOut: `training.patience` val evaluations in a row without a new best."""
        return self.pipeline.patience is not None and self.since_best >= self.pipeline.patience

    def _read_record(self) -> Optional[Dict[str, str]]:
        path = os.path.join(self.args.out, "run.json")
        if not os.path.exists(path):
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                fields = json.load(handle)
        except (OSError, ValueError):
            fields = None
        if not isinstance(fields, dict):
            raise TrainingError(f"{path}: not a JSON object (damaged run record)")
        return {k: v for k, v in fields.items() if isinstance(v, str)}

    def _write_record(self) -> None:
        args = self.args
        record = dict(self.identity, pipeline=self.pipeline.text, shards=args.shards, seed=str(args.seed),
                      command=" ".join(shlex.quote(a) for a in self._command()),
                      started=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        checkpoint.write_text(os.path.join(args.out, "run.json"), json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    def _command(self) -> List[str]:
        words = [sys.executable, "-m", "mims_torch.train"] + list(self.args.argv)
        if self.context.distributed:
            words = ["torchrun", f"--nproc_per_node={os.environ.get('LOCAL_WORLD_SIZE', self.context.world)}", "-m", "mims_torch.train"] + list(self.args.argv)
        return words

    def train_loop(self, stop: StopRequest) -> int:
        args, context, pipeline = self.args, self.context, self.pipeline
        leader = context.leader
        network = distributed.synchronize_batch_norm(self.network, context)
        network.to(context.device, self.dtype).train()
        freeze_unused(network)
        optimizer = optimizer_for(network, pipeline)
        scaler = torch.amp.GradScaler("cuda") if pipeline.precision == "fp16" else None
        if self.state is not None:
            checkpoint.restore_optimizer(optimizer, network, self.state, scaler)
        forward = network.logits
        if context.distributed:
            forward = torch.nn.parallel.DistributedDataParallel(
                _Logits(network), device_ids=[context.device.index] if context.device.type == "cuda" else None)
        if leader:
            os.makedirs(args.out, exist_ok=True)
            if not args.resume or self.recorded is None:
                self._write_record()
        iterations, start = self.iterations, self.start
        schedule = TrainingSchedule(self.labels, [r.frame_count for r in self.train.records], pipeline.batch, pipeline.slices,
                                    pipeline.central_slices, pipeline.class_balanced, args.seed)
        bags = data.TrainingBags(self.train, schedule, iterations, context.rank, context.world)
        loader = torch.utils.data.DataLoader(bags, batch_size=None, sampler=range(start, iterations), num_workers=args.workers,
                                             collate_fn=_as_is, prefetch_factor=3 if args.workers > 0 else None,
                                             pin_memory=context.device.type == "cuda",
                                             worker_init_fn=_worker_ignores_stops if args.workers > 0 else None)
        scorer = Scorer(self.evaluation, max(1, pipeline.batch), args.workers, context) if self.evaluation is not None else None
        log = MetricsLog(os.path.join(args.out, "metrics.jsonl"), start) if leader else None
        if start > 0 and leader:
            print(f"resuming {args.out} at iteration {start}", file=sys.stderr)
        last, written = None, start if start > 0 else None
        # A resumed run that had stopped early stays stopped: the same metrics give the same decision.
        if self.patience_run_out:
            self.stopped_early = start
        batches = iter(loader) if start < iterations and self.stopped_early is None else None
        for iteration in range(start, iterations if batches is not None else start):
            # Every rank stops at the same iteration: the largest signal number of all ranks.
            stopping = int(distributed.combine(torch.tensor([stop.signal], device=context.device), context, largest=True).item())
            if stopping:
                return self._stopped(stopping, iteration, written, network, optimizer, scaler)
            started = time.monotonic()
            batch = next(batches)
            inputs = batch["input"].to(context.device, self.dtype, non_blocking=True)
            sizes, labels = batch["sizes"], batch["labels"]
            total = batch["slices"] if network.scoring == "slice-mean" else batch["bags"]
            with autocast(context.device, pipeline.precision):
                logits = forward(inputs, sizes)
            # Each rank's share of the global batch's mean, times the world size: DDP averages
            # the ranks' gradients, which makes this the gradient of the global mean.
            value = loss(network, logits.to(self.dtype), sizes, labels, total) * context.world
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(value).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                value.backward()
                optimizer.step()
            global_loss = float(distributed.combine(value, context).item()) / context.world
            done = iteration + 1
            if leader:
                log.write({"type": "train", "iteration": done, "loss": global_loss, "seconds": time.monotonic() - started,
                           "slices": int(batch["slices"])})
                print(f"iteration {done}/{iterations} loss {global_loss:.4f}", file=sys.stderr)
            if scorer is not None and (done % pipeline.eval_every == 0 or done == iterations):
                last = self._periodic_evaluation(scorer, network, done, log)
            if self.patience_run_out and done < iterations:
                if leader:
                    checkpoint.write(self.path, network, optimizer, done, pipeline, done, args.seed, self.identity, scaler)
                    log.write({"type": "stop", "iteration": done, "reason": "patience"})
                    best_iteration, best_auroc = self.best if self.best is not None else (0, float("nan"))
                    print(f"stopping early at iteration {done} of {iterations}: val AUROC has not improved on {best_auroc:.3f} "
                          f"(iteration {best_iteration}) for {self.since_best} evaluations (training.patience)", file=sys.stderr)
                written = self.stopped_early = done
                break
            if leader and (done % pipeline.checkpoint_every == 0 or done == iterations):
                checkpoint.write(self.path, network, optimizer, done, pipeline, done, args.seed, self.identity, scaler)
                written = done
        if batches is None and scorer is not None:
            # Trainer.run evaluates (and logs) a run that has nothing left to train once more.
            last = self._periodic_evaluation(scorer, network, start, log)
        test = self._test_evaluation(network, last, scorer)
        self.outcome = test if test is not None else last
        if not leader:
            return 0
        log.close()
        print(f"{self.path}: iteration {written if written is not None else start}")
        if last is not None:
            print(f"{last.split} {last.result.auroc_name} after {last.iteration} iterations: {metrics.format_auroc(last.result.auroc)} "
                  f"(accuracy {last.result.accuracy:.3f})")
        if test is not None:
            if self.selected is not None:
                print(f"selected iteration {self.selected[0]} (best val {test.result.auroc_name} {self.selected[1]:.3f}) -> {self.best_path}")
            outputs.write(args.out, "test", test.iteration, test.results, self.train.class_names())
            for line in outputs.result_lines("test", test.result):
                print(line)
        return 0

    def _periodic_evaluation(self, scorer: "Scorer", network: model.Network, iteration: int, log: Optional[MetricsLog]) -> "SplitScores":
        """Trainer.evaluate: scores the evaluation split, writes its eval line and keeps the best
        val evaluation (select: best-val)."""
        scored = self._evaluate(scorer, network, iteration)
        if log is not None:
            log.write({"type": "eval", "iteration": iteration, "split": scored.split,
                       "auroc": float("nan") if scored.result.auroc is None else scored.result.auroc, "accuracy": scored.result.accuracy,
                       "records": len(scored.results)})
        self._keep_if_best(network, iteration, scored.result)
        return scored

    def _test_evaluation(self, network: model.Network, last: Optional["SplitScores"], scorer: Optional["Scorer"]) -> Optional["SplitScores"]:
        """Experiment.run's test scores: with select: best-val those of the best val evaluation's
        weights (recorded at its iteration); else the last periodic evaluation when it scored the
        test split at the final iteration; else the test split scored now. None without a test split."""
        self.selected = self._select_best(network) if self.pipeline.selects_best_validation else None
        if self.selected is None and last is not None and last.split == "test" and last.iteration == self.iterations:
            return last
        if not data.shard_names(self.args.shards, "test"):
            return None
        iteration = self.selected[0] if self.selected is not None else self.iterations
        if scorer is not None and scorer.dataset.split == "test":
            return self._evaluate(scorer, network, iteration)
        dataset = data.ShardDataset(self.args.shards, "test", self.pipeline)
        try:
            return self._evaluate(Scorer(dataset, max(1, self.pipeline.batch), self.args.workers, self.context), network, iteration)
        finally:
            dataset.close()

    def _evaluate(self, scorer: "Scorer", network: model.Network, iteration: int) -> "SplitScores":
        """The scorer's split scored with the network's weights (those of `iteration`)."""
        results = scorer(network, self.pipeline.precision)
        return SplitScores(scorer.dataset.split, iteration, outputs.evaluate(results), results)

    def _keep_if_best(self, network: model.Network, iteration: int, result: metrics.Evaluation) -> None:
        """Trainer.evaluate's best-val rule: a strictly better val AUROC than the best so far (the
        first of equal ones stays, so a replay after resume keeps it; no AUROC is never better)
        writes RUN/best.safetensors (no optimizer state; `selected` and `val_auroc` in its
        metadata) and restarts the count `training.patience` compares; any other val evaluation
        adds one to it. Every rank keeps the weights too, for scoring the test split at the end."""
        if not (self.pipeline.selects_best_validation and self.evaluation.split == "val"):
            return
        if result.auroc is None or result.auroc <= (self.best[1] if self.best is not None else -1):
            self.since_best += 1
            return
        self.since_best = 0
        self.best = (iteration, result.auroc)
        self.best_state = {name: tensor.detach().to("cpu", copy=True) for name, tensor in network.state_dict().items()}
        if self.context.leader:
            extra = dict(self.identity, selected="best-val", val_auroc=f"{result.auroc:.6f}")
            checkpoint.write(self.best_path, network, None, iteration, self.pipeline, iteration, self.args.seed, extra)

    def _select_best(self, network: model.Network):
        """Trainer.selectBestWeights: the best val evaluation's weights into `network` (kept since
        it was made, or after a resume read from RUN/best.safetensors); (iteration, AUROC), or None
        when no val evaluation had an AUROC or its file is gone (the last weights stay)."""
        if self.best is None:
            return None
        state = self.best_state
        if state is None:
            if not os.path.exists(self.best_path):
                return None
            stored = model.read_checkpoint(self.best_path)
            state = model.checked_tensors(stored.tensors, network, self.best_path)
        network.load_state_dict(state, strict=True)
        return self.best

    def _stopped(self, number: int, iteration: int, written: Optional[int], network, optimizer, scaler) -> int:
        """Trainer.stop: saves the iterations done since the last checkpoint (resume is exact from
        any iteration), removes unfinished files, says how to resume; exits 128 + the signal."""
        if self.context.leader:
            if iteration > 0 and written != iteration:
                checkpoint.write(self.path, network, optimizer, iteration, self.pipeline, iteration, self.args.seed, self.identity, scaler)
                written = iteration
            remove_part_files(self.args.out)
            saved = f"last checkpoint: {self.path} (iteration {written})" if written is not None else "no checkpoint yet (a resume starts over)"
            print(f"stopped at iteration {iteration} of {self.iterations}; {saved}")
            words = self._command() + ([] if "--resume" in self.args.argv else ["--resume"])
            print("resume with: " + " ".join(shlex.quote(w) for w in words), flush=True)
        return 128 + number


def run(args) -> int:
    """Experiment.run: one run per seed (RUN itself, or RUN/seed-S for each of --seeds), each
    trained, tested and its results written before the next starts; with several seeds, one line
    per seed and the mean AUROC at the end."""
    context = distributed.describe(args.device)
    if args.seeds is not None:
        # Each seed's folder is checked by its run; the parent holds them.
        check_run_folder(args.out, args.resume)
    stop, outcomes = None, []
    try:
        for seed in args.seeds if args.seeds is not None else [args.seed]:
            one = copy.copy(args)
            one.seed = seed
            if args.seeds is not None:
                one.out = os.path.join(args.out, f"seed-{seed}")
            # Every check is made by every rank before any joins the process group, so a refused run
            # stops all of them at once instead of leaving some waiting for the others.
            prepared = Run(one, context)
            if stop is None:
                context = distributed.start(context)
                stop = StopRequest(args.out, context.leader)
                stop.install()
            stop.folder = one.out
            if context.leader:
                print(f"training {prepared.pipeline.name} ({prepared.pipeline.model}, ResNet-{prepared.pipeline.trunk_depth}) on {args.shards}, "
                      f"seed {seed}, {prepared.iterations} iterations -> {one.out}", flush=True)
            code = prepared.train_loop(stop)
            if code != 0:
                return code
            outcomes.append((seed, prepared.outcome.result.auroc if prepared.outcome is not None else None))
    finally:
        if stop is not None:
            stop.uninstall()
    if len(outcomes) > 1 and context.leader:
        for seed, value in outcomes:
            print(f"seed {seed}: AUROC {metrics.format_auroc(value)}")
        values = [v for _, v in outcomes if v is not None]
        if values:
            print(f"mean AUROC over {len(values)} seeds: {metrics.format_auroc(sum(values) / len(values))}")
    distributed.stop(context)
    return 0


def seed_list(text: str) -> List[int]:
    """RunOptions.seedList: `--seeds 1,2,3` as a list."""
    seeds = []
    for part in text.split(","):
        if not part:
            continue  # as Swift's split, which drops empty pieces
        digits = part.strip()
        if not digits.isdigit() or int(digits) >= 1 << 64:
            raise ValueError(f"--seeds: '{part}' is not a seed")
        seeds.append(int(digits))
    if not seeds:
        raise ValueError("--seeds: no seed given (e.g. --seeds 1,2,3)")
    return seeds


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m mims_torch.train",
                                     description="Train a pipeline on shards in PyTorch, on the bags mims-train draws for the seed; "
                                                 "under torchrun, data-parallel over the processes (docs/GPU.md).")
    parser.add_argument("--shards", required=True, help="Folder of shards made by mims-ingest run.")
    parser.add_argument("--pipeline", required=True, help="Pipeline YAML (see pipelines/ and docs/PIPELINES.md).")
    parser.add_argument("--out", required=True, help="Run folder: new or empty (created), or the run to continue with --resume.")
    parser.add_argument("--iterations", type=int, help="Iterations (default: the pipeline's).")
    parser.add_argument("--seed", type=int, default=1, help="Seed of sampling and order (and of torch's initialization).")
    parser.add_argument("--seeds", help="Comma-separated seeds: one run per seed in RUN/seed-S, then each AUROC and the mean (as mims-train).")
    parser.add_argument("--backbone-weights", help="ImageNet weights for the trunk: the torchvision-named safetensors file mims-train reads (docs/WEIGHTS.md).")
    parser.add_argument("--random-init", action="store_true", help="Train from random weights although the pipeline says weights: imagenet.")
    parser.add_argument("--init-from", help="Start from this checkpoint's weights, head included (as mims-train --init-from).")
    parser.add_argument("--resume", action="store_true", help="Continue the run in --out from its checkpoint (same pipeline, shards, precision and seed).")
    parser.add_argument("--allow-leakage", action="store_true",
                        help="Train although the shards fail mims-split check (patient overlap, duplicate images across splits, ...).")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu); under torchrun each process takes cuda:LOCAL_RANK.")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"],
                        help="fp32, bf16 (autocast; CUDA, or a CPU with AVX512_BF16/AMX) or fp16 (autocast and GradScaler, CUDA only); "
                             "default: the pipeline's precision key, else fp32.")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes reading the shards, per process (default: 2).")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's; 1 per process under torchrun).")
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
    if args.workers < 0:
        parser.error("--workers must be at least 0")
    if not 0 <= args.seed < 1 << 64:
        parser.error("--seed must be in [0, 2^64)")
    if args.seeds is not None:
        try:
            args.seeds = seed_list(args.seeds)
        except ValueError as error:
            parser.error(str(error))
    if args.init_from is not None and args.random_init:
        parser.error("--init-from and --random-init contradict each other; give one")
    if args.backbone_weights is not None and args.random_init:
        parser.error("--random-init and --backbone-weights contradict each other; give one")
    if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
        parser.error("--device must be cpu or cuda")
    if args.float64 and args.precision not in (None, "fp32"):
        parser.error("--float64 and --precision contradict each other")
    try:
        return run(args)
    except (TrainingError, model.CheckpointError, data.ShardError, pipeline_module.PipelineError, weights.WeightsError,
            distributed.DistributedError, split_check.SplitCheckError, OSError) as error:
        rank = distributed.launched_rank()
        print(f"error: {error}" if rank == 0 else f"error (rank {rank}): {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
