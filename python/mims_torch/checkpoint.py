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
from .model import CheckpointError
from .pipeline import Pipeline


# Provenance keys that describe how the run started, kept from the checkpoint on resume
# (Trainer+Provenance.swift's startKeys).
START_KEYS = ("backbone_weights", "backbone_weights_sha256", "init_from", "init_from_sha256")


def sha256_text(text: str) -> str:
    """Pipeline.sha256: of the YAML text as read (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
            "class_count": str(dataset.class_count()),
            "class_names": json.dumps(names, separators=(",", ":"), ensure_ascii=False),
            "input_size": "[" + ", ".join(str(v) for v in pipeline.input_size) + "]"}


def _publish_part(part: str, path: str) -> None:
    with open(part, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(part, path)
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _publish(tensors: Dict[str, torch.Tensor], metadata: Dict[str, str], path: str) -> None:
    part = path + ".part"
    save_file(tensors, part, metadata=metadata)
    _publish_part(part, path)


def write_text(path: str, text: str) -> None:
    """AtomicFile.write: to `.part`, fsynced, renamed."""
    part = path + ".part"
    with open(part, "w", encoding="utf-8") as handle:
        handle.write(text)
    _publish_part(part, path)


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


def read_state(path: str, metadata: Dict[str, str]):
    """The optimizer state file a checkpoint names (Checkpoint.statePath), checked to be of the
    checkpoint's iteration: (tensors, metadata)."""
    from safetensors import safe_open
    name = metadata.get("state_file")
    if name is None:
        raise CheckpointError(f"{path}: names no optimizer state file (written without one); cannot resume exactly")
    state_path = os.path.join(os.path.dirname(path), name)
    try:
        with safe_open(state_path, framework="pt") as f:
            state_metadata = dict(f.metadata() or {})
            tensors = {n: f.get_tensor(n) for n in f.keys()}
    except FileNotFoundError:
        raise CheckpointError(f"{state_path}: no such file (the checkpoint names it as its optimizer state)") from None
    except Exception as error:  # safetensors raises its own error types for malformed files
        raise CheckpointError(f"{state_path}: not a safetensors file ({error})") from None
    if state_metadata.get("iteration") != metadata.get("iteration"):
        raise CheckpointError(f"{state_path}: holds iteration {state_metadata.get('iteration', '?')}, the checkpoint {metadata.get('iteration', '?')}")
    return tensors, state_metadata


def restore_optimizer(optimizer: torch.optim.Optimizer, network: torch.nn.Module, state, scaler=None) -> None:
    """Optimizer.restore: the momentum buffers (SGD) or both moments and the step (Adam) of every
    parameter the state file holds, so the next update is the one an uninterrupted run makes."""
    tensors, metadata = state
    step = int(metadata.get("step", "0"))
    adam = isinstance(optimizer, torch.optim.Adam)
    for name, parameter in network.named_parameters():
        first = tensors.get("optimizer.first." + name)
        if first is None:
            continue
        if first.numel() != parameter.numel():
            raise CheckpointError(f"optimizer state of '{name}' holds {first.numel()} values, the parameter {parameter.numel()}")
        first = first.reshape(parameter.shape).to(parameter.device, parameter.dtype)
        if adam:
            second = tensors.get("optimizer.second." + name)
            if second is None:
                raise CheckpointError(f"optimizer state of '{name}' has no second moment (written by SGD?); the pipeline trains with Adam")
            optimizer.state[parameter] = {"step": torch.tensor(float(step)), "exp_avg": first,
                                          "exp_avg_sq": second.reshape(parameter.shape).to(parameter.device, parameter.dtype)}
        else:
            optimizer.state[parameter] = {"momentum_buffer": first}
    if scaler is not None and "grad_scale" in metadata:
        scaler.update(float(metadata["grad_scale"]))


def write(path: str, network: torch.nn.Module, optimizer, step: int, pipeline: Pipeline,
          iteration: int, seed: int, extra: Dict[str, str], scaler=None) -> None:
    """Checkpoint.write: `<run>/checkpoint.safetensors` and `checkpoint.NNNNNN.state.safetensors`;
    older state files are removed only once the new model is published. An fp16 run's loss scale
    goes into the state file's metadata (`grad_scale`; mims-train ignores it). Without an optimizer
    (RUN/best.safetensors) only the model is written, naming no state file."""
    folder, base = os.path.split(path)
    prefix = (base[:-len(".safetensors")] if base.endswith(".safetensors") else base) + "."
    state_name = None
    if optimizer is not None:
        state_name = f"{prefix}{iteration:06d}.state.safetensors"
        state_metadata = {"step": str(step), "iteration": str(iteration)}
        if scaler is not None:
            state_metadata["grad_scale"] = repr(float(scaler.get_scale()))
        _publish(optimizer_state(network, optimizer), state_metadata, os.path.join(folder, state_name))
    tensors = {}
    for name, tensor in network.state_dict().items():
        kind = torch.int64 if name.endswith("num_batches_tracked") else torch.float32
        tensors[name] = tensor.detach().to("cpu", kind).contiguous()
    metadata = {"format": "mims-checkpoint", "pipeline": pipeline.text, "pipeline_name": pipeline.name, "model": pipeline.model,
                "iteration": str(iteration), "seed": str(seed), "precision": pipeline.precision}
    for key, value in extra.items():
        metadata.setdefault(key, value)
    if state_name is None:
        metadata.pop("state_file", None)
    else:
        metadata["state_file"] = state_name
    _publish(tensors, metadata, path)
    if state_name is not None:
        for name in os.listdir(folder or "."):
            if name.startswith(prefix) and name.endswith(".state.safetensors") and name != state_name:
                os.unlink(os.path.join(folder, name))
