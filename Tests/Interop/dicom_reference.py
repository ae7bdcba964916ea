"""pydicom's view of DICOM objects, for the MIMSOCT DICOM tests: an independent decoder (and,
for `write`, an independent encoder) beside GDCM, which mims reads through.

usage: dicom_reference.py read FILE [CENTRAL]
         prints JSON: SOP class, transfer syntax, shape, raw sample range, the SHA-256 of the frames
         as uint8 under the documented rule (MONOCHROME1 inverted, round(v * 255 / (2^BitsStored - 1))),
         and the attributes mims reads, from wherever pydicom finds them; with CENTRAL, also
         central_sha256 of the CENTRAL middle frames (from (frames - CENTRAL) // 2), as ingest keeps them
       dicom_reference.py write FILE SPEC_JSON
         writes an Ophthalmic Tomography object with pydicom alone: implicit VR little endian,
         metadata only in the functional groups (none at the top level but the patient's)
"""
import hashlib
import json
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

OPT = "1.2.840.10008.5.1.4.1.1.77.1.5.4"


def to_uint8(ds, values):
    top = (1 << int(ds.BitsStored)) - 1
    v = values.astype(np.int64) & top
    if ds.PhotometricInterpretation == "MONOCHROME1":
        v = top - v
    return ((v * 255 * 2 + top) // (2 * top)).astype(np.uint8), int((values.astype(np.int64) & top).min()), int((values.astype(np.int64) & top).max())


def first(ds, *paths):
    """The first value found along the paths (each a list of keywords; sequences take item 0)."""
    for path in paths:
        node = ds
        try:
            for keyword in path:
                node = node[0] if isinstance(node, Sequence) else node
                node = getattr(node, keyword)
            return node
        except (AttributeError, IndexError):
            continue
    return None


def read(path, central=None):
    ds = pydicom.dcmread(path)
    out = {"sop_class": str(ds.SOPClassUID), "transfer_syntax": str(ds.file_meta.TransferSyntaxUID)}
    frames = int(getattr(ds, "NumberOfFrames", 1))
    out.update(frames=frames, rows=int(ds.Rows), columns=int(ds.Columns), sha256=None, value_range=None)
    try:
        arr = ds.pixel_array.reshape(frames, int(ds.Rows), int(ds.Columns))
    except RuntimeError:
        arr = None  # a syntax pydicom has no installed decoder for (JPEG lossless, JPEG-LS)
    if arr is not None:
        u8, low, high = to_uint8(ds, arr)
        out.update(sha256=hashlib.sha256(u8.tobytes()).hexdigest(), value_range=[low, high])
        if central is not None:
            start = (frames - central) // 2
            out["central_sha256"] = hashlib.sha256(u8[start:start + central].tobytes()).hexdigest()
    shared, per_frame = ("SharedFunctionalGroupsSequence",), ("PerFrameFunctionalGroupsSequence",)
    spacing = first(ds, ["PixelSpacing"], shared + ("PixelMeasuresSequence", "PixelSpacing"), per_frame + ("PixelMeasuresSequence", "PixelSpacing"))
    between = first(ds, ["SpacingBetweenSlices"], shared + ("PixelMeasuresSequence", "SpacingBetweenSlices"),
                    per_frame + ("PixelMeasuresSequence", "SpacingBetweenSlices"))
    side = first(ds, ["ImageLaterality"], ["Laterality"], shared + ("FrameAnatomySequence", "FrameLaterality"))
    out.update(
        pixel_spacing=[float(v) for v in spacing] if spacing is not None else None,
        spacing_between_slices=float(between) if between is not None else None,
        laterality=str(side) if side is not None else None,
        patient_id=str(ds.PatientID) if "PatientID" in ds else None,
        study_date=str(ds.StudyDate) if "StudyDate" in ds else None,
        acquisition_datetime=str(first(ds, ["AcquisitionDateTime"], per_frame + ("FrameContentSequence", "FrameAcquisitionDateTime")) or "") or None,
        manufacturer=str(ds.get("Manufacturer", "")) or None,
        model=str(ds.get("ManufacturerModelName", "")) or None,
        study_uid=str(ds.get("StudyInstanceUID", "")) or None,
    )
    if "PerFrameFunctionalGroupsSequence" in ds:
        out["positions"] = [[float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
                            for item in ds.PerFrameFunctionalGroupsSequence if "PlanePositionSequence" in item]
    print(json.dumps(out))


def write(path, spec):
    frames, rows, columns, bits = spec["frames"], spec["rows"], spec["columns"], spec["bits_stored"]
    rng = np.random.default_rng(spec["seed"])
    pixels = rng.integers(0, 1 << bits, size=(frames, rows, columns), dtype=np.uint16 if bits > 8 else np.uint8)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = OPT
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    meta.MediaStorageSOPClassUID = spec.get("sop_class", OPT)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.StudyDate, ds.StudyTime = "OPT", spec["patient_id"], spec["study_date"], "101500"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Manufacturer, ds.ManufacturerModelName = spec["manufacturer"], spec["model"]
    ds.SeriesDescription = spec["series_description"]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, spec["photometric"]
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.BitsAllocated = 16 if bits > 8 else 8
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    measures = Dataset()
    measures.PixelSpacing = spec["pixel_spacing"]
    measures.SliceThickness = spec["slice_spacing"]
    anatomy = Dataset()
    anatomy.FrameLaterality = spec["laterality"]
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.FrameAnatomySequence = Sequence([anatomy])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    items = []
    for i in range(frames):
        item, position, content = Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient = [0.0, i * spec["slice_spacing"], 0.0]
        content.FrameAcquisitionDateTime = spec["acquired"]
        item.PlanePositionSequence = Sequence([position])
        item.FrameContentSequence = Sequence([content])
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True, implicit_vr=True, little_endian=True)


if sys.argv[1] == "read":
    read(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
else:
    write(sys.argv[2], json.loads(sys.argv[3]))
