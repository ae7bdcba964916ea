"""Independent split counts for the mims-split tests: h5py over every shard in DIR.

Prints JSON: per split records, frames, patients, bytes on disk and label counts (label index as
a string key).
"""
import collections
import glob
import json
import os
import sys

import h5py

out = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*-[0-9][0-9][0-9][0-9][0-9].h5"))):
    with h5py.File(path, "r") as f:
        split = f.attrs["split"]
        split = split.decode() if isinstance(split, bytes) else split
        entry = out.setdefault(split, {"records": 0, "frames": 0, "patients": set(), "bytes": 0, "labels": collections.Counter()})
        entry["records"] += len(f["id"])
        entry["frames"] += int(f["record_frame_count"][:].sum())
        entry["patients"].update(f["patient"].asstr()[:])
        entry["labels"].update(str(int(x)) for x in f["label"][:])
    entry["bytes"] += os.path.getsize(path)
for entry in out.values():
    entry["patients"] = len(entry["patients"])
    entry["labels"] = dict(entry["labels"])
print(json.dumps(out))
