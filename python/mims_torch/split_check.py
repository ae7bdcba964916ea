"""What `mims-split check` finds wrong with a shard folder's splits, in its words
(`Sources/MIMSSplit/SplitReport.swift`, `SplitReport.problems`): patients in more than one split
(unless splits.json lists them as straddling on purpose), the same source image in several
splits, a split with a single class, records edited after ingest (record digests, the set
digest), and disagreements between splits.json, the shards and rejected.jsonl. mims-train refuses
to train on such shards unless `--allow-leakage`; so does mims_torch, from the same rules."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Dict, List, Tuple

import h5py

from . import data

SPLITS_FILE = "splits.json"
REJECTED_FILE = "rejected.jsonl"


class SplitCheckError(ValueError):
    """A shard folder whose splits cannot even be read (a damaged splits.json)."""


def record_digest(record_id: str, label: int, patient: str, source_sha256: str, pixels_sha256: str) -> str:
    """RecordDigest.of (docs/SHARDS.md): SHA-256 of "mims-record-2" and the fields, NUL-separated."""
    fields = [record_id, str(label), patient, source_sha256.lower(), pixels_sha256.lower()]
    return hashlib.sha256(b"\0".join([b"mims-record-2"] + [f.encode("utf-8") for f in fields])).hexdigest()


def set_digest(digests: List[str]) -> str:
    """RecordDigest.ofSet: SHA-256 of the sorted record digests, one per line."""
    return hashlib.sha256("".join(d + "\n" for d in sorted(digests)).encode("utf-8")).hexdigest()


def _text(value) -> str:
    return value.decode("utf-8").rstrip("\0") if isinstance(value, bytes) else str(value)


def _rejections(folder: str) -> List[dict]:
    """RejectedFile.read: the lines with id, path and reason; `stage` defaults to decode."""
    try:
        with open(os.path.join(folder, REJECTED_FILE), "rb") as handle:
            lines = handle.read().split(b"\n")
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            fields = json.loads(line)
        except ValueError:
            continue
        if isinstance(fields, dict) and all(isinstance(fields.get(k), str) for k in ("id", "path", "reason")):
            stage = fields.get("stage")
            out.append({"id": fields["id"], "stage": stage if stage in ("discovery", "decode") else "decode", "label": fields.get("label")})
    return out


def _splits_file(folder: str):
    path = os.path.join(folder, SPLITS_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as handle:
            fields = json.loads(handle.read())
    except OSError:
        raise SplitCheckError(f"{path}: cannot read the file") from None
    except ValueError:
        fields = None
    if (not isinstance(fields, dict) or not isinstance(fields.get("policy"), str) or not isinstance(fields.get("seed"), int)
            or not isinstance(fields.get("splits"), dict) or not all(isinstance(v, str) for v in fields["splits"].values())):
        raise SplitCheckError(f"{path}: not a splits.json file (JSON with policy, seed and splits expected)")
    return fields


def _class_name(label: int, names: List[str]) -> str:
    if label == -1:
        return "unlabelled"
    return names[label] if 0 <= label < len(names) else f"class {label}"


def problems(folder: str) -> List[str]:
    """Every problem `mims-split check FOLDER` reports, in its order and words; [] for sound shards."""
    names = sorted(n for split in data.SPLITS for n in data.shard_names(folder, split))
    patients_by_split: Dict[str, set] = {}
    class_counts: Dict[str, Dict[int, int]] = {}
    stored: Dict[str, Tuple[str, str]] = {}
    by_source: Dict[str, List[Tuple[str, str]]] = {}
    tampered: List[str] = []
    digests: List[str] = []
    all_digested = True
    for name in names:
        path = os.path.join(folder, name)
        try:
            with h5py.File(path, "r") as f:
                split = _text(f.attrs["split"])
                ids = f["id"].asstr()[()]
                labels = f["label"][()]
                patients = f["patient"].asstr()[()]
                sources = [_text(v) for v in f["source_sha256"][()]]
                pixels = [_text(v) for v in f["pixels_sha256"][()]]
                version = int(f.attrs.get("format_version", 1))
                recorded = [_text(v) for v in f["record_sha256"][()]] if version >= 2 and "record_sha256" in f else None
        except OSError as error:
            raise data.ShardError(f"{path}: cannot read this shard ({error})") from None
        except KeyError as error:
            raise data.ShardError(f"{path}: missing {error} (not a complete mims shard)") from None
        counts = class_counts.setdefault(split, {})
        for r, (record_id, label, patient) in enumerate(zip(ids, labels, patients)):
            record_id, label, patient = str(record_id), int(label), str(patient)
            counts[label] = counts.get(label, 0) + 1
            patients_by_split.setdefault(split, set()).add(patient)
            stored[record_id] = (split, name)
            by_source.setdefault(sources[r], []).append((record_id, split))
            if recorded is None:
                all_digested = False
                continue
            digests.append(recorded[r])
            if recorded[r] != record_digest(record_id, label, patient, sources[r], pixels[r]):
                tampered.append(f"'{record_id}' in {name}: its id, label, patient or hashes changed after it was written (record digest mismatch)")

    splits_file = _splits_file(folder)
    rejected = _rejections(folder)
    straddling = set(splits_file.get("straddling_patients") or []) if splits_file else set()
    found: List[str] = []
    ordered = [s for s in data.SPLITS if s in patients_by_split]
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            shared = sorted(patients_by_split[a] & patients_by_split[b])
            if shared and not all(p in straddling for p in shared):
                found.append(f"patient overlap between {a} and {b}: {len(shared)} patients ({', '.join(shared[:10])})")
    duplicates = [(sorted(i for i, _ in entries), {s for _, s in entries}) for entries in by_source.values() if len(entries) > 1]
    for ids, splits in sorted(duplicates, key=lambda d: d[0][0]):
        if len(splits) > 1:
            found.append("duplicate image across splits: " + ", ".join(ids))
    class_names = data.manifest_class_names(folder)
    for split in data.SPLITS:
        counts = class_counts.get(split)
        # An unlabelled set (labels: none) is data to score: one "class" is what it is.
        if counts is not None and len(counts) < 2 and any(label != -1 for label in counts):
            found.append(f"split {split} has a single class ({''.join(_class_name(label, class_names) for label in counts)})")
    found += tampered
    if splits_file is None:
        return found + ["no splits.json beside the shards"]
    expected = splits_file.get("set_digest")
    if isinstance(expected, str) and all_digested and set_digest(digests) != expected:
        found.append("the shard set's digest differs from splits.json's set_digest: records were added, removed or changed after ingest")
    decode_rejected = {r["id"] for r in rejected if r["stage"] == "decode"}
    assignment = splits_file["splits"]
    for record_id in sorted(assignment):
        split = assignment[record_id]
        if record_id in stored:
            where_split, shard = stored[record_id]
            if where_split != split:
                found.append(f"record '{record_id}' is assigned to {split} but sits in {shard}")
            if record_id in decode_rejected:
                found.append(f"record '{record_id}' is both rejected and in {shard}")
        elif record_id not in decode_rejected:
            found.append(f"record '{record_id}' ({split}) is in no shard and was not rejected")
    for record_id in sorted(stored):
        if record_id not in assignment:
            found.append(f"record '{record_id}' in {stored[record_id][1]} is not in splits.json")
    return found
