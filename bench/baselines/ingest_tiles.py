"""Baseline for `make bench`: the same Kather-layout tiles through Pillow and h5py.

Decodes every PNG under ROOT with Pillow and writes them to one HDF5 file with h5py, chunked one
tile per chunk, shuffle + gzip at LEVEL (or uncompressed with LEVEL 0), labels from the folder
names, as a short Python ingest script would. Prints tiles per second.
usage: ingest_tiles.py ROOT OUT.h5 LEVEL
"""
import glob
import os
import sys
import time

import h5py
import numpy as np
from PIL import Image

root, out, level = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
paths = sorted(glob.glob(os.path.join(root, "CRC_DX_*", "**", "*.png"), recursive=True))
with h5py.File(out, "w") as f:
    options = dict(compression="gzip", compression_opts=level, shuffle=True) if level > 0 else {}
    frames = f.create_dataset("frames", shape=(len(paths), 224, 224, 3), dtype="uint8", chunks=(1, 224, 224, 3), **options)
    labels = np.zeros(len(paths), dtype=np.int32)
    for i, path in enumerate(paths):
        frames[i] = np.asarray(Image.open(path).convert("RGB"))
        labels[i] = 1 if "MSIMUT" in path else 0
    f.create_dataset("label", data=labels)
elapsed = time.perf_counter() - start
print(len(paths) / elapsed)
