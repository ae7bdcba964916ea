"""Heyex XML sources and the shards ingested from them, each read independently of mims: the
XML files with Python's ElementTree, the shards with h5py. Prints JSON {"sources": {path: fields},
"records": {id: fields}} for the MIMSIngest tests to compare.
usage: heyex_shards.py SOURCE_ROOT SHARD_DIR
"""
import glob
import json
import math
import os
import sys
import xml.etree.ElementTree as ElementTree

import h5py
import numpy as np

root, shards = sys.argv[1], sys.argv[2]
sources = {}
for path in sorted(glob.glob(os.path.join(root, "**", "*.xml"), recursive=True)):
    series = ElementTree.parse(path).getroot().find("BODY/Patient/Study/Series")
    date = ElementTree.parse(path).getroot().find("BODY/Patient/Study/StudyDate/Date")
    octs = [image for image in series.findall("Image") if image.find("ImageType/Type").text == "OCT"]
    context = octs[0].find("OphthalmicAcquisitionContext")
    points = [(float(i.find(f"OphthalmicAcquisitionContext/{end}/Coord/X").text), float(i.find(f"OphthalmicAcquisitionContext/{end}/Coord/Y").text))
              for end in ("Start", "End") for i in octs]
    n = len(octs)
    distances = [math.dist(points[k], points[k + 1]) for half in (0, n) for k in range(half, half + n - 1)]
    sources[os.path.relpath(path, root)] = {
        "laterality": {"R": "OD", "L": "OS"}[series.find("Laterality").text],
        "patient_id": ElementTree.parse(path).getroot().find("BODY/Patient/PatientID").text,
        "scan_date": "%04d-%02d-%02d" % tuple(int(date.find(k).text) for k in ("Year", "Month", "Day")),
        "scan_pattern": series.find("Type").text,
        "device": series.find("GeneralEquipment/Manufacturer").text + " " + series.find("GeneralEquipment/ManufacturerModelName").text,
        "spacing": [float(context.find("ScaleY").text), float(context.find("ScaleX").text), float(np.mean(distances)) if n > 1 else 0.0],
        "shape": [n, int(context.find("Height").text), int(context.find("Width").text)],
    }
records = {}
for path in sorted(glob.glob(os.path.join(shards, "*.h5"))):
    with h5py.File(path, "r") as f:
        meta = f["meta"]
        for r, record_id in enumerate(f["id"].asstr()[:]):
            records[record_id] = {
                "source": f["source"].asstr()[r], "patient": f["patient"].asstr()[r],
                "frames": int(f["record_frame_count"][r]), "frame_shape": list(f["frames"].shape[1:]),
                **{key: meta[key].asstr()[r] for key in ("laterality", "patient_id", "scan_date", "scan_pattern", "device")},
                "spacing_mm": meta["spacing_mm"][r].tolist(), "source_spacing_mm": meta["source_spacing_mm"][r].tolist(),
                "original_shape": meta["original_shape"][r].tolist(),
            }
print(json.dumps({"sources": sources, "records": records}))
