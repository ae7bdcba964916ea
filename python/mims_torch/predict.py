"""`python -m mims_torch.predict --shards DIR --checkpoint F --out scores.csv [--split test]`:
the CSV `mims-train predict` writes (id, patient, label, score, and with more than two classes one
`p_<class>` column per class), for the same checkpoint and split, in the same record order and
number format, computed in PyTorch."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import List, Sequence, Tuple

import torch

from . import data, metrics, model, pipeline as pipeline_module


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
    loaded = model.load_checkpoint(checkpoint)
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
    return results, dataset.class_names()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mims_torch.predict",
                                     description="Write one row per record: id, patient, label, score, and p_<class> per class "
                                                 "with more than two classes (as mims-train predict).")
    parser.add_argument("--shards", required=True, help="Folder of shards.")
    parser.add_argument("--checkpoint", required=True, help="A checkpoint written by mims-train (RUN/checkpoint.safetensors).")
    parser.add_argument("--out", required=True, help="CSV file to write.")
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
    try:
        results, class_names = score(args.shards, args.checkpoint, args.split, args.workers)
        write_scores(results, args.out, class_names)
    except (model.CheckpointError, data.ShardError, pipeline_module.PipelineError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(results)} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
