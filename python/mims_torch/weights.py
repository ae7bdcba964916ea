"""`--backbone-weights FILE`: ImageNet weights for the trunk from the safetensors file mims-train
reads (docs/WEIGHTS.md), with the checks and messages of `Sources/MIMSTrain/Model/BackboneWeights.swift`
and `ResNetTrunk.load`: a PyTorch pickle is refused with the conversion command, a wrapper prefix
(`module.`) and another ResNet depth are named, then every trunk tensor must be there with its
shape (`fc.*` ignored, a missing `num_batches_tracked` read as 0)."""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

import torch

CONVERSION_HINT = ("convert it where PyTorch is installed with python3 scripts/convert_resnet_weights.py FILE.pth "
                   "resnet.safetensors (docs/WEIGHTS.md)")


class WeightsError(ValueError):
    """A weights file that cannot be the trunk; the message names the file and the reason."""


def _looks_like_safetensors(head: bytes) -> bool:
    """A safetensors file starts with its JSON header's length (8 bytes, little-endian, far
    below 2^32) and then '{'."""
    return len(head) == 9 and head[4:8] == b"\0\0\0\0" and head[8:9] == b"{"


def inferred_depth(names: List[str]) -> Optional[int]:
    """The ResNet depth of torchvision-named tensors: bottleneck blocks (a conv3 per block) mean
    50 or deeper, and layer3's block count tells the rest; None when the names say neither."""
    bottleneck = "layer1.0.conv3.weight" in names
    blocks = {m.group(1) for m in (re.match(r"layer3\.([^.]*)", n) for n in names) if m}
    return {(False, 2): 18, (False, 6): 34, (True, 6): 50, (True, 23): 101, (True, 36): 152}.get((bottleneck, len(blocks)))


def load(path: str, trunk: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """The trunk's tensors (names as `trunk.state_dict()`, without `backbone.`) read from `path`,
    every name and shape checked; `trunk` is the ResNetTrunk they are for."""
    if not os.path.exists(path):
        raise WeightsError(f"{path}: no such file (docs/WEIGHTS.md says how to get ImageNet weights)")
    if os.path.isdir(path):
        raise WeightsError(f"{path}: is a folder; --backbone-weights wants a .safetensors file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(9)
    except OSError as error:
        raise WeightsError(f"{path}: cannot read this file ({error.strerror or error})") from None
    # torch.save writes a zip archive (PK\3\4) or, before PyTorch 1.6, a bare pickle (0x80 = PROTO).
    pickled = head.startswith(b"PK\x03\x04") or head[:1] == b"\x80" or path.lower().endswith((".pth", ".pt", ".ckpt", ".pkl"))
    if pickled and not _looks_like_safetensors(head):
        raise WeightsError(f"{path}: a PyTorch pickle (torch.save), not safetensors; {CONVERSION_HINT}")
    from safetensors import safe_open
    try:
        with safe_open(path, framework="pt") as f:
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except Exception as error:  # safetensors raises its own error types for malformed files
        raise WeightsError(f"{path}: not a safetensors file ({error}); {CONVERSION_HINT}") from None
    names = list(tensors)
    if "conv1.weight" not in names:
        wrapped = next((n for n in names if n.endswith(".conv1.weight") and "layer" not in n), None)
        if wrapped is not None:
            prefix = wrapped[:-len("conv1.weight")]
            raise WeightsError(f"{path}: tensor names start with '{prefix}' (e.g. '{wrapped}'); torchvision names such as "
                               "'conv1.weight' are expected; scripts/convert_resnet_weights.py strips such prefixes")
    found = inferred_depth(names)
    if found is not None and found != trunk.depth:
        raise WeightsError(f"{path}: ResNet-{found} weights, the pipeline wants ResNet-{trunk.depth} (backbone.depth)")
    expected = trunk.state_dict()
    for name in sorted(names):
        if not name.startswith("fc.") and name not in expected:
            raise WeightsError(f"{path}: unexpected tensor '{name}' (not part of the trunk)")
    loaded = {}
    for name in sorted(expected):
        if name not in tensors:
            if name.endswith("num_batches_tracked"):
                loaded[name] = torch.zeros((), dtype=torch.int64)
                continue
            raise WeightsError(f"{path}: missing tensor '{name}'")
        if list(tensors[name].shape) != list(expected[name].shape):
            raise WeightsError(f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}, expected {list(expected[name].shape)}")
        # F32, F16, BF16 and F64 are read as float32, integer buffers as integers.
        loaded[name] = tensors[name].to(expected[name].dtype)
    return loaded
