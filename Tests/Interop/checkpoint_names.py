"""Reads a mims-train checkpoint with a plain safetensors parser (json + numpy, as PyTorch's
safetensors loader does) and checks it against torchvision's state-dict shapes.

usage: checkpoint_names.py CHECKPOINT SHAPES_JSON
Prints "ok <tensors> <sum of backbone.conv1.weight>" or exits non-zero naming the problem.
"""
import json
import struct
import sys

import numpy as np

path, shapes_path = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
length = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + length])
body = raw[8 + length:]
metadata = header.pop("__metadata__")
assert metadata["format"] == "mims-checkpoint", metadata
expected = json.load(open(shapes_path))
backbone = {k[len("backbone."):]: v for k, v in header.items() if k.startswith("backbone.")}
missing = set(expected) - set(backbone) - {k for k in expected if k.startswith("fc.")}
extra = set(backbone) - set(expected)
assert not missing and not extra, (sorted(missing)[:5], sorted(extra)[:5])
end = 0
for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
    start, stop = entry["data_offsets"]
    assert start == end, f"{name}: gap or overlap at {start}"
    dtype = {"F32": "<f4", "I64": "<i8"}[entry["dtype"]]
    assert name.endswith("num_batches_tracked") == (entry["dtype"] == "I64"), name
    count = int(np.prod(entry["shape"])) if entry["shape"] else 1
    assert stop - start == count * np.dtype(dtype).itemsize, name
    if name.startswith("backbone."):
        assert list(entry["shape"]) == expected[name[len("backbone."):]], name
    end = stop
assert end == len(body), "trailing bytes"
conv1 = header["backbone.conv1.weight"]
values = np.frombuffer(body[conv1["data_offsets"][0]:conv1["data_offsets"][1]], dtype="<f4")
print("ok", len(header), repr(float(values.astype(np.float64).sum())))
