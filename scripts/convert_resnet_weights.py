"""Convert ImageNet ResNet weights to a safetensors file mims-train loads with --backbone-weights.

Run where PyTorch is installed (any machine; copy the output file over):

    python3 scripts/convert_resnet_weights.py resnet101 resnet101.safetensors           # torchvision
    python3 scripts/convert_resnet_weights.py timm:resnet101.tv_in1k resnet101.safetensors   # timm
    python3 scripts/convert_resnet_weights.py state_dict.pth resnet101.safetensors       # a saved state_dict

A saved file may hold the state_dict itself, a training checkpoint that wraps it as
{'state_dict': ...} or {'model': ...}, or a whole model; the `module.` prefix that
DataParallel / DistributedDataParallel add to every name is removed. The file keeps torchvision's
names (conv1.weight, layer3.22.conv2.weight, ...); fc.* may stay, the trunk ignores it. Written
with plain json + numpy, so the `safetensors` package is not needed.
"""
import json
import struct
import sys

import numpy as np

WRAPPER_KEYS = ("state_dict", "model", "model_state_dict", "net")


def unwrap(loaded):
    """The name -> tensor mapping inside what torch.load returned, with `module.` prefixes removed."""
    if hasattr(loaded, "state_dict") and not isinstance(loaded, dict):
        loaded = loaded.state_dict()
    # Training checkpoints nest the weights (possibly twice, e.g. {'model': {'state_dict': ...}}).
    while isinstance(loaded, dict):
        inner = next((loaded[key] for key in WRAPPER_KEYS if key in loaded), None)
        if inner is None:
            break
        loaded = inner.state_dict() if hasattr(inner, "state_dict") and not isinstance(inner, dict) else inner
    if not isinstance(loaded, dict):
        raise SystemExit(f"no state_dict found (got {type(loaded).__name__})")
    tensors = {}
    for name, value in loaded.items():
        while name.startswith("module."):
            name = name[len("module."):]
        tensors[name] = value
    return tensors


def state_dict(source):
    import torch

    if source.startswith("timm:"):
        import timm

        return timm.create_model(source[5:], pretrained=True).state_dict()
    if source.endswith((".pth", ".pt", ".bin", ".ckpt", ".tar")):
        return unwrap(torch.load(source, map_location="cpu"))
    import torchvision

    return getattr(torchvision.models, source)(weights="IMAGENET1K_V1").state_dict()


def as_array(value):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().contiguous().numpy()
    return np.ascontiguousarray(value)


def write_safetensors(tensors, path):
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        array = as_array(tensors[name])
        dtype = {np.float32: "F32", np.int64: "I64"}.get(array.dtype.type)
        if dtype is None:
            array, dtype = array.astype(np.float32), "F32"
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for data in chunks:
            out.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tensors = state_dict(sys.argv[1])
    write_safetensors(tensors, sys.argv[2])
    print(f"{sys.argv[2]}: {len(tensors)} tensors")
