"""`python -m mims_torch.predict --shards DIR --checkpoint F --out scores.csv [--split test]`:
the CSV `mims-train predict` writes (id, patient, label, score, and with more than two classes one
`p_<class>` column per class), for the same checkpoint and split, in the same record order and
number format, computed in PyTorch.

`python -m mims_torch.predict --run RUN [--split test]`: a run folder's results as mims-train
leaves them (`mims-train report --run` without the report): its selected weights
(RUN/best.safetensors when a best-val run left one, else RUN/checkpoint.safetensors) score the
split of the shards run.json names, into RUN/scores-<split>.csv and RUN/eval-<split>.json."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Tuple

import torch

from . import data, metrics, model, outputs, pipeline as pipeline_module


def _check_compatible(loaded: model.Loaded, checkpoint: str, dataset: data.ShardDataset, shards: str) -> None:
    """Checkpoint.checkCompatible: the shards must be of the kind, channels and classes the
    checkpoint was trained on."""
    meta = loaded.metadata
    if "dataset_kind" not in meta or "channels" not in meta:
        print(f"note: {checkpoint} records no dataset kind, channels or classes (written by an older mims-train); not checked against {shards}",
              file=sys.stderr)
        return
    names, count = dataset.class_names(), dataset.class_count()
    try:
        trained_names = json.loads(meta.get("class_names", "[]"))
    except ValueError:
        trained_names = []
    trained_count = int(meta.get("class_count", "2"))
    reason = None
    if meta["dataset_kind"] != dataset.kind:
        reason = f"checkpoint was trained on {meta['dataset_kind']} data, these shards are {dataset.kind}"
    elif int(meta["channels"]) != dataset.channels:
        reason = f"checkpoint was trained on {meta['channels']}-channel frames, these shards have {dataset.channels}-channel frames"
    elif trained_count != count:
        reason = f"checkpoint was trained on {trained_count} classes, these shards have {count}"
    elif trained_names and names and trained_names != names:
        reason = f"checkpoint was trained on classes {', '.join(trained_names)}, these shards have {', '.join(names)}"
    if reason:
        raise model.CheckpointError(f"{checkpoint} cannot score {shards}: {reason}")
    trained = meta.get("dataset", "")
    if trained and trained != dataset.dataset:
        print(f"{checkpoint}: trained on {trained}, used on {dataset.dataset} (both {dataset.kind}, same channels and classes)", file=sys.stderr)


def score(shards: str, checkpoint: str, split: str = "test", workers: int = 0, bags_per_batch: int = 4
          ) -> Tuple[List[Tuple[data.Record, List[float]]], List[str]]:
    """Every record of `split` with its class probabilities, in record order, and the class names
    of the shard set (CheckpointOptions.score: [] when its manifest copy names none)."""
    results, class_names, _ = score_checkpoint(shards, model.load_checkpoint(checkpoint), checkpoint, split, workers, bags_per_batch)
    return results, class_names


def score_checkpoint(shards: str, loaded: model.Loaded, checkpoint: str, split: str, workers: int = 0, bags_per_batch: int = 4
                     ) -> Tuple[List[Tuple[data.Record, List[float]]], List[str], Dict[str, str]]:
    """`score` of a loaded checkpoint; also returns its metadata."""
    if loaded.pipeline.precision in ("bf16", "fp16"):
        print(f"note: {checkpoint} was trained with {loaded.pipeline.precision} convolutions; mims_torch scores it in fp32, so scores "
              f"may differ from mims-train predict by {loaded.pipeline.precision} rounding", file=sys.stderr)
    dataset = data.ShardDataset(shards, split, loaded.pipeline)
    _check_compatible(loaded, checkpoint, dataset, shards)
    loader = torch.utils.data.DataLoader(dataset, batch_size=bags_per_batch, shuffle=False, num_workers=workers,
                                         collate_fn=data.collate_bags, persistent_workers=False)
    network = loaded.network.eval()
    results: List[Tuple[data.Record, List[float]]] = []
    with torch.inference_mode():
        for inputs, sizes, _, indices in loader:
            for index, values in zip(indices, network(inputs, sizes).tolist()):
                results.append((dataset.records[index], values))
    dataset.close()
    return results, dataset.class_names(), loaded.metadata


def score_run(run: str, shards: Optional[str] = None, split: str = "test", workers: int = 0) -> metrics.Evaluation:
    """ReportCommand's scoring of a run folder: its selected weights on `split` of its shards
    (run.json's unless given), written as RUN/scores-<split>.csv and RUN/eval-<split>.json with
    the weights' iteration."""
    record = os.path.join(run, "run.json")
    if shards is None:
        try:
            with open(record, encoding="utf-8") as handle:
                shards = json.load(handle).get("shards")
        except (OSError, ValueError, AttributeError):
            shards = None
        if not isinstance(shards, str):
            raise model.CheckpointError(f"{run}: no run.json naming the shards folder; give --shards DIR")
    best = os.path.join(run, "best.safetensors")
    selected = os.path.exists(best)
    checkpoint = best if selected else os.path.join(run, "checkpoint.safetensors")
    loaded = model.load_checkpoint(checkpoint)
    if selected:
        print(f"scoring the selected weights: {best} (iteration {loaded.metadata.get('iteration', '?')}, training.select: best-val)")
    results, class_names, metadata = score_checkpoint(shards, loaded, checkpoint, split, workers)
    return outputs.write(run, split, int(metadata.get("iteration", "0")), results, class_names)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mims_torch.predict",
                                     description="Write one row per record: id, patient, label, score, and p_<class> per class "
                                                 "with more than two classes (as mims-train predict); with --run, a run folder's "
                                                 "scores-<split>.csv and eval-<split>.json (as mims-train report --run writes them).")
    parser.add_argument("--shards", help="Folder of shards (with --run: default, the one run.json names).")
    parser.add_argument("--checkpoint", help="A checkpoint written by mims-train or mims_torch (RUN/checkpoint.safetensors).")
    parser.add_argument("--out", help="CSV file to write.")
    parser.add_argument("--run", help="A run folder: score its selected weights into RUN/scores-<split>.csv and RUN/eval-<split>.json.")
    parser.add_argument("--split", default="test", choices=data.SPLITS, help="Which split to score (default: test).")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes reading the shards (default: 0).")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's).")
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    if args.workers < 0:
        parser.error("--workers must be at least 0")
    if args.run is not None and (args.checkpoint is not None or args.out is not None):
        parser.error("--run scores the run's own weights into the run folder; give it without --checkpoint and --out")
    if args.run is None and (args.shards is None or args.checkpoint is None or args.out is None):
        parser.error("give --shards, --checkpoint and --out (or --run RUN)")
    try:
        if args.run is not None:
            result = score_run(args.run, args.shards, args.split, args.workers)
            for line in outputs.result_lines(args.split, result):
                print(line)
            return 0
        results, class_names = score(args.shards, args.checkpoint, args.split, args.workers)
        outputs.write_scores(results, args.out, class_names)
    except (model.CheckpointError, data.ShardError, pipeline_module.PipelineError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(results)} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
