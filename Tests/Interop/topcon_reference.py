"""Independent Topcon .fds/.fda code for the MIMSOCT tests (no mims involved).

usage:
  topcon_reference.py read FILE
      reads FILE with OCT-Converter (PyPI oct-converter) and prints JSON: shape, the SHA-256 of the
      B-scans mapped to uint8 by the documented rule, patient id, laterality, acquisition date,
      OCT-Converter's pixel spacing [width, between frames, depth] and the fundus SHA-256 (RGB).
  topcon_reference.py write OUT fds|fda BITS WIDTH HEIGHT FRAMES SEED
      writes OUT from the layout OCT-Converter and LibOctData document (struct + Pillow for JPEG 2000)
      and prints the same JSON for what it wrote.
"""
import contextlib
import hashlib
import io
import json
import struct
import sys

import numpy as np

# OCT-Converter 0.7.0 reads with np.fromstring, whose binary mode NumPy 2 removed; frombuffer is
# what it meant.
if not hasattr(np, "_mims_fromstring"):
    np._mims_fromstring = np.fromstring
    np.fromstring = lambda data, dtype=float, *a, **k: np.frombuffer(data, dtype=dtype).copy()


def to_uint8(volume, bits):
    volume = np.asarray(volume)
    if volume.dtype == np.uint8 or bits <= 8:
        return volume.astype(np.uint8)
    maximum = (1 << bits) - 1
    v = np.minimum(volume.astype(np.int64), maximum)
    return ((v * 255 + maximum // 2) // maximum).astype(np.uint8)


def sha(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def read(path):
    # OCT-Converter prints progress to stdout; keep stdout for the JSON.
    with contextlib.redirect_stdout(sys.stderr):
        result = read_with_oct_converter(path)
    print(json.dumps(result))


def read_with_oct_converter(path):
    from oct_converter.readers import FDA, FDS
    kind = open(path, "rb").read(7)[4:7]
    if path.lower().endswith(".fds"):
        reader = FDS(path)
        oct_volume = reader.read_oct_volume()
        bits = oct_volume.oct_header["bits_per_pixel"]
        fundus = reader.read_fundus_image()
    else:
        reader = FDA(path)
        oct_volume = reader.read_oct_volume()
        bits = 16 if np.asarray(oct_volume.volume[0]).dtype == np.uint16 else 8
        fundus = reader.read_fundus_image()
    volume = np.stack([np.asarray(f) for f in oct_volume.volume])
    result = {
        "frames": int(volume.shape[0]), "height": int(volume.shape[1]), "width": int(volume.shape[2]),
        "sha256": sha(to_uint8(volume, bits)), "min": int(volume.min()), "max": int(volume.max()),
        "patient_id": oct_volume.patient_id, "laterality": oct_volume.laterality,
        "acquired": oct_volume.acquisition_date.strftime("%Y-%m-%dT%H:%M:%S"),
        "pixel_spacing": [float(x) for x in oct_volume.pixel_spacing], "type": kind.decode(),
    }
    if getattr(oct_volume, "contours", None):
        result["contours"] = {name: np.asarray(v).astype(float).tolist() for name, v in oct_volume.contours.items()}
    if fundus is not None:
        image = np.asarray(fundus.image).astype(np.uint8)
        result["fundus_sha256"] = sha(image)
        result["fundus_shape"] = list(image.shape)
    return result


def chunk(name, data):
    return bytes([len(name)]) + name.encode() + struct.pack("<I", len(data)) + data


def text(value, width):
    return value.encode()[: width - 1].ljust(width, b"\0")


def j2k(array):
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG2000", no_jp2=True)  # lossless by default
    return buffer.getvalue()


def write(out, kind, bits, width, height, frames, seed):
    rng = np.random.default_rng(seed)
    dtype = np.uint16 if bits > 8 else np.uint8
    volume = rng.integers(0, 1 << bits, size=(frames, height, width), dtype=np.int64).astype(dtype)
    fundus = rng.integers(0, 256, size=(40, 56, 3), dtype=np.int64).astype(np.uint8)  # RGB
    patient, eye, date, label, session = "PY-77", 0, (2021, 2, 28, 23, 59, 58), "Macula Radial", 91
    x_mm, y_mm, z_um, mode = 4.5, 3.0, 2.3, 2
    body = b"FOCT" + kind.upper().encode()[:3] + struct.pack("<II", 700, 1)
    body += chunk("@HW_INFO_03", text("Maestro2", 16) + bytes(64) + bytes(20))
    patient_chunk = text(patient, 32) + text("Grace", 32) + text("Hopper", 32) + bytes(8) + b"\x02" + struct.pack("<3H", 1906, 12, 9)
    body += chunk("@PATIENT_INFO_02", patient_chunk.ljust(615, b"\0"))
    body += chunk("@CAPTURE_INFO_02", struct.pack("<BBI", eye, mode, session) + text(label, 100) + struct.pack("<6H", *date))
    body += chunk("@PARAM_SCAN_04", struct.pack("<3I5d2B", 1, 2, 3, x_mm, y_mm, z_um, 0.5, 0.25, 0, 1))
    body += chunk("@GLA_LITTMANN_01", struct.pack("<2I", 0xFFFF, 1))
    if kind == "fds":
        scan = struct.pack("<B4IBI", mode, width, height, bits, frames, 0, volume.nbytes) + volume.astype("<u2" if bits > 8 else "u1").tobytes()
        body += chunk("@IMG_SCAN_03", scan)
        bgr = fundus[:, :, ::-1]
        body += chunk("@IMG_OBS", struct.pack("<4IBI", 56, 40, 24, 1, 0, bgr.size) + bgr.tobytes())
    else:
        scan = struct.pack("<B6I", mode, 0, 0, width, height, frames, 0)
        for frame in volume:
            stream = j2k(frame)
            scan += struct.pack("<I", len(stream)) + stream
        body += chunk("@IMG_JPEG", scan)
        stream = j2k(np.ascontiguousarray(fundus[:, :, ::-1]))
        body += chunk("@IMG_FUNDUS", struct.pack("<4I", 56, 40, 24, 1) + b"J2K\0" + struct.pack("<I", len(stream)) + stream)
    body += b"\0"
    open(out, "wb").write(body)
    print(json.dumps({
        "frames": frames, "height": height, "width": width, "sha256": sha(to_uint8(volume, bits)),
        "min": int(volume.min()), "max": int(volume.max()), "patient_id": patient, "laterality": "R",
        "acquired": "%04d-%02d-%02dT%02d:%02d:%02d" % date,
        "pixel_spacing": [x_mm / width, y_mm / frames, z_um / 1000], "fundus_sha256": sha(fundus),
        "fundus_shape": list(fundus.shape), "session": session, "label": label, "device": "Topcon Maestro2",
    }))


if sys.argv[1] == "read":
    read(sys.argv[2])
else:
    out, kind = sys.argv[2], sys.argv[3]
    write(out, kind, *(int(x) for x in sys.argv[4:9]))
