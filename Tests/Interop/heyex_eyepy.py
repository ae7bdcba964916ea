"""eyepy's reading of a Heyex XML export folder, for the MIMSOCT tests (an independent reader:
Python's ElementTree for the XML, imageio for the images).

Prints JSON: the B-scan array's shape and SHA-256 (uint8, frames x rows x columns), scale_x,
scale_y, scale_z, laterality, patient_id, the localizer's shape and SHA-256, and per layer name
the SHA-256 of its float32 height map (frames x A-scans, NaN where missing) and its NaN count.
usage: heyex_eyepy.py FOLDER
"""
import hashlib
import json
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import eyepy  # noqa: E402

volume = eyepy.import_heyex_xml(sys.argv[1])
data = np.ascontiguousarray(volume.data.astype(np.uint8))
layers = {}
for name, layer in volume.layers.items():
    heights = np.ascontiguousarray(layer.data.astype(np.float32))
    layers[name] = {"sha256": hashlib.sha256(np.nan_to_num(heights, nan=-1.0).tobytes()).hexdigest(),
                    "nans": int(np.isnan(heights).sum())}
localizer = np.ascontiguousarray(volume.localizer.data.astype(np.uint8))
print(json.dumps({
    "shape": list(data.shape), "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
    "scale_x": float(volume.scale_x), "scale_y": float(volume.scale_y), "scale_z": float(volume.scale_z),
    "laterality": volume.laterality, "patient_id": volume.meta["patient"]["patient_id"],
    "localizer_shape": list(localizer.shape), "localizer_sha256": hashlib.sha256(localizer.tobytes()).hexdigest(),
    "layers": layers,
}))
