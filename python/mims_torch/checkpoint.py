"""Writing checkpoints that mims-train reads (`Sources/MIMSTrain/Training/Checkpoint.swift`): the
model under its state_dict names (float32, `num_batches_tracked` as int64) with the pipeline, the
iteration, the seed and the run's identity in the metadata, plus the optimizer state file that
`mims-train --resume` needs. Each file goes to `.part`, is fsynced and renamed, the state file first,
so a kill at any moment leaves a model whose state file exists (as the Swift writer promises)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Dict

import torch
from safetensors.torch import save_file

from . import data
from .pipeline import Pipeline


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_set_identity(folder: str) -> str:
    """ShardSetIdentity.swift: `set_digest:` from splits.json, else the SHA-256 of splits.json,
    else of the sorted shard names and sizes; `--resume` compares it, so it must be the same string."""
    splits = os.path.join(folder, "splits.json")
    if os.path.exists(splits):
        with open(splits, "rb") as handle:
            raw = handle.read()
        try:
            digest = json.loads(raw).get("set_digest")
        except (ValueError, AttributeError):
            digest = None
        if isinstance(digest, str) and digest:
            return "set_digest:" + digest
        return "splits.json:" + hashlib.sha256(raw).hexdigest()
    hasher = hashlib.sha256()
    names = sorted(n for split in data.SPLITS for n in data.shard_names(folder, split))
    for name in names:
        hasher.update(f"{name} {os.path.getsize(os.path.join(folder, name))}\n".encode())
    return "shard-files:" + hasher.hexdigest()


def signature(dataset: data.ShardDataset, pipeline: Pipeline) -> Dict[str, str]:
    """DatasetSignature.metadata: what `--init-from`, eval and predict check a checkpoint against.
    class_names is JSONText.array's form (no spaces), input_size "[h, w]"."""
    names = dataset.class_names()
    return {"dataset": dataset.dataset, "dataset_kind": dataset.kind, "channels": str(dataset.channels),
            "class_count": str(len(names) if names else 2),
            "class_names": json.dumps(names, separators=(",", ":"), ensure_ascii=False),
            "input_size": "[" + ", ".join(str(v) for v in pipeline.input_size) + "]"}


def _publish(tensors: Dict[str, torch.Tensor], metadata: Dict[str, str], path: str) -> None:
    part = path + ".part"
    save_file(tensors, part, metadata=metadata)
    with open(part, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(part, path)
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def optimizer_state(network: torch.nn.Module, optimizer: torch.optim.Optimizer) -> Dict[str, torch.Tensor]:
    """Optimizer.stateTensors: `optimizer.first.<name>` (SGD momentum buffer or Adam's first
    moment) and `optimizer.second.<name>` (Adam's second moment), flattened as Swift keeps them."""
    tensors = {}
    for name, parameter in network.named_parameters():
        state = optimizer.state.get(parameter, {})
        first = state.get("momentum_buffer", state.get("exp_avg"))
        if first is not None:
            tensors["optimizer.first." + name] = first.detach().reshape(-1).to("cpu", torch.float32).contiguous()
        if "exp_avg_sq" in state:
            tensors["optimizer.second." + name] = state["exp_avg_sq"].detach().reshape(-1).to("cpu", torch.float32).contiguous()
    return tensors


def write(path: str, network: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int, pipeline: Pipeline,
          iteration: int, seed: int, extra: Dict[str, str]) -> None:
    """Checkpoint.write: `<run>/checkpoint.safetensors` and `checkpoint.NNNNNN.state.safetensors`;
    older state files are removed only once the new model is published."""
    folder, base = os.path.split(path)
    prefix = (base[:-len(".safetensors")] if base.endswith(".safetensors") else base) + "."
    state_name = f"{prefix}{iteration:06d}.state.safetensors"
    _publish(optimizer_state(network, optimizer), {"step": str(step), "iteration": str(iteration)}, os.path.join(folder, state_name))
    tensors = {}
    for name, tensor in network.state_dict().items():
        kind = torch.int64 if name.endswith("num_batches_tracked") else torch.float32
        tensors[name] = tensor.detach().to("cpu", kind).contiguous()
    metadata = {"format": "mims-checkpoint", "pipeline": pipeline.text, "pipeline_name": pipeline.name, "model": pipeline.model,
                "iteration": str(iteration), "seed": str(seed), "precision": pipeline.precision}
    for key, value in extra.items():
        metadata.setdefault(key, value)
    metadata["state_file"] = state_name
    _publish(tensors, metadata, path)
    for name in os.listdir(folder or "."):
        if name.startswith(prefix) and name.endswith(".state.safetensors") and name != state_name:
            os.unlink(os.path.join(folder, name))
