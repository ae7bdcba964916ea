"""Everything a shard set holds, by record id, read with h5py alone, as canonical JSON.

    python3 shard_set_records.py DIR

Prints one JSON object (sorted keys, so two sets compare with `cmp`): `records` maps every id
to its split (the shard's attribute), label, patient, source, hashes, frame count and shape, the
SHA-256 of its frames as h5py decodes them, and its /meta values; `splits` is splits.json;
`rejected` and `warnings` are the lines of rejected.jsonl and warnings.jsonl. Shard file names
and the order of records across shards are left out: a merged set of parts and a single run
agree on everything else. Used by the part/merge tests and `make scale-demo` as a reader
independent of the Swift code.
"""
import glob
import hashlib
import json
import os
import sys

import h5py
import numpy as np


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


folder = sys.argv[1]
records = {}
for path in sorted(glob.glob(os.path.join(folder, "*-[0-9][0-9][0-9][0-9][0-9].h5"))):
    with h5py.File(path, "r") as f:
        split = text(f.attrs["split"])
        starts, counts = f["record_frame_start"][:], f["record_frame_count"][:]
        ids = list(f["id"].asstr()[:])
        meta = f["meta"] if "meta" in f else {}
        for r, record_id in enumerate(ids):
            assert record_id not in records, f"{record_id} is in two shards"
            frames = f["frames"][starts[r]:starts[r] + counts[r]]
            entry = {
                "split": split,
                "label": int(f["label"][r]),
                "patient": f["patient"].asstr()[r],
                "source": f["source"].asstr()[r],
                "source_sha256": text(f["source_sha256"][r]),
                "pixels_sha256": text(f["pixels_sha256"][r]),
                "record_sha256": text(f["record_sha256"][r]),
                "frame_count": int(counts[r]),
                "frame_shape": list(frames.shape[1:]),
                "frames_sha256": hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest(),
                "kind": text(f.attrs["kind"]),
                "manifest_sha256": text(f.attrs["manifest_sha256"]),
            }
            if "laterality" in meta:
                entry["laterality"] = meta["laterality"].asstr()[r]
            if "spacing_mm" in meta:
                entry["spacing_mm"] = [None if np.isnan(x) else float(x) for x in meta["spacing_mm"][r]]
            if "original_shape" in meta:
                entry["original_shape"] = [int(x) for x in meta["original_shape"][r]]
            records[record_id] = entry

with open(os.path.join(folder, "splits.json")) as f:
    splits = json.load(f)
print(json.dumps({"records": records, "splits": splits, "rejected": lines(os.path.join(folder, "rejected.jsonl")),
                  "warnings": lines(os.path.join(folder, "warnings.jsonl"))}, sort_keys=True))
