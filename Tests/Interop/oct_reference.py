"""Independent numpy decoding of the real Heidelberg samples, for the MIMSOCT tests.

Reads the pixel data at the offsets the format documents (not through mims), converts it with the
documented rules and prints JSON: per file the SHA-256 of the uint8 frames under both intensity
transforms, and a few raw facts.
usage: oct_reference.py vol FILE | e2e FILE OFFSET WIDTH HEIGHT
"""
import hashlib
import json
import struct
import sys

import numpy as np


def fourth_root(v):
    v = v.astype(np.float64)
    out = np.floor(np.sqrt(np.sqrt(np.clip(v, 0, None))) * 255 + 0.5)
    return np.clip(out, 0, 255)


def log_transform(v):
    v = v.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.clip((np.log(np.clip(v, 0, None) + 2.44e-4) + 8.3) / 8.285, 0, 1) * 255
    return np.floor(out + 0.5)


def to_uint8(values, invalid, rule):
    out = rule(values)
    out[invalid | ~np.isfinite(values) | (values <= 0)] = 0
    return out.astype(np.uint8)


def digests(values, invalid):
    return {name: hashlib.sha256(to_uint8(values, invalid, rule).tobytes()).hexdigest()
            for name, rule in (("fourth-root", fourth_root), ("log", log_transform))}


mode, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
if mode == "vol":
    size_x, n, size_z = struct.unpack_from("<III", data, 12)
    slo_x, slo_y = struct.unpack_from("<II", data, 48)
    hdr = struct.unpack_from("<I", data, 100)[0]
    start = 2048 + slo_x * slo_y
    frames = []
    for i in range(n):
        at = start + i * (hdr + size_x * size_z * 4) + hdr
        frames.append(np.frombuffer(data, dtype="<f4", count=size_x * size_z, offset=at))
    values = np.concatenate(frames)
    invalid = values.view("<u4") == 0x7F7FFFFF
    print(json.dumps({"digests": digests(values, invalid), "min": float(values[~invalid].min()),
                      "max": float(values[~invalid].max()),
                      "slo_sha256": hashlib.sha256(data[2048:start]).hexdigest()}))
else:
    offset, width, height = (int(x) for x in sys.argv[3:6])
    raw = np.frombuffer(data, dtype="<u2", count=width * height, offset=offset).astype(np.int64)
    values = (1 + (raw & 0x3FF) / 1024) * np.power(2.0, (raw >> 10) - 63)
    print(json.dumps({"digests": digests(values, np.zeros(values.shape, bool)), "min": float(values.min()),
                      "max": float(values.max())}))
