"""Reads a mims shard with h5py alone (as docs/SHARDS.md shows) and prints what it found as JSON.

Used by the Swift tests as an independent reader: h5py decodes the chunks, the filters and the
strings itself, and hashlib hashes what it decoded.
"""
import hashlib
import json
import sys

import h5py
import numpy as np

path = sys.argv[1]
with h5py.File(path, "r") as f:
    starts = f["record_frame_start"][:]
    counts = f["record_frame_count"][:]
    out = {
        "attrs": {k: (v.decode() if isinstance(v, bytes) else (int(v) if isinstance(v, (np.integer, int)) else str(v)))
                  for k, v in f.attrs.items()},
        "frames_shape": list(f["frames"].shape),
        "frames_dtype": str(f["frames"].dtype),
        "frames_chunks": list(f["frames"].chunks),
        "frames_compression": f["frames"].compression,
        "ids": [s.decode() if isinstance(s, bytes) else s for s in f["id"].asstr()[:]],
        "patients": list(f["patient"].asstr()[:]),
        "sources": list(f["source"].asstr()[:]),
        "labels": [int(x) for x in f["label"][:]],
        "source_sha256": [s.decode() for s in f["source_sha256"][:]],
        "records": [],
    }
    for r in range(len(starts)):
        frames = f["frames"][starts[r]:starts[r] + counts[r]]  # uint8 [count, H, W, C]
        out["records"].append({
            "frame_count": int(counts[r]),
            "sha256": hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest(),
            "first_pixels": [int(x) for x in frames.reshape(-1)[:8]],
        })
    for key in ("spacing_mm", "source_spacing_mm"):
        if "meta" in f and key in f["meta"]:
            out[key] = f["meta"][key][:].tolist()
print(json.dumps(out))
