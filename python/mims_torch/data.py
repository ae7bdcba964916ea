"""The records of one split of a shard folder (docs/SHARDS.md) as a torch Dataset, with the bags and
the input transform of mims-train's evaluator (`Sources/MIMSTrain/Data/`, `Evaluation/`).

Which files form a split is decided as `ShardDataset.swift` decides it: every `<split>-NNNNN.h5` of
the folder (five or more digits), sorted by name, records in file order. `splits.json` maps record
ids to splits, not files, so the file names are the authority and the order is the same as Swift's.

Files are opened read-only, lazily, once per process (DataLoader workers open their own). On a
network file system (NFS, Lustre, GPFS) where HDF5's file locks fail or hang, set
`HDF5_USE_FILE_LOCKING=FALSE` in the environment of every process that reads shards; reading
needs no lock, and mims never writes a shard while it trains.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Dict, List, Optional, Tuple

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from .pipeline import Pipeline
from .schedule import TrainingSchedule

SPLITS = ("train", "val", "test")
_SHARD_NAME = re.compile(r"(train|val|test)-([0-9]{5,})\.h5\Z")

# ImageNet statistics, as float32 like InputTransform.swift's Float constants.
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32)


class ShardError(ValueError):
    """A shard folder or file that cannot be used; the message names the path and the reason."""


def shard_names(folder: str, split: str) -> List[str]:
    """The shard files of `split` in `folder`, sorted by name."""
    names = []
    for name in os.listdir(folder):
        match = _SHARD_NAME.match(name)
        if match and match.group(1) == split:
            names.append(name)
    return sorted(names)


def check_folder(folder: str) -> None:
    if not os.path.exists(folder):
        raise ShardError(f"{folder}: no such folder (--shards wants the folder mims-ingest run wrote, holding train-*.h5)")
    if not os.path.isdir(folder):
        hint = "a shard file; --shards wants the folder holding it" if folder.endswith(".h5") else "a file; --shards wants a folder"
        raise ShardError(f"{folder}: is {hint} (the one mims-ingest run wrote, with train-*.h5, splits.json)")
    if not os.access(folder, os.R_OK):
        raise ShardError(f"{folder}: cannot read this folder (permissions)")


@dataclasses.dataclass(frozen=True)
class Record:
    shard: int
    frame_start: int
    frame_count: int
    label: int
    id: str
    patient: str


def _attribute_text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def transform(frames: np.ndarray, size: List[int]) -> torch.Tensor:
    """uint8 frames [S, H, W, C] (C = 1 or 3) to the normalized float32 input [S, 3, h, w]:
    v / 255, bilinear resize (align_corners=False) when the size differs, gray replicated to three
    channels, then ImageNet normalization (docs/MODEL.md "Tensors and input")."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).to(torch.float32) / 255
    if list(x.shape[2:]) != list(size):
        x = F.interpolate(x, size=(size[0], size[1]), mode="bilinear", align_corners=False)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return ((x - MEAN.view(1, 3, 1, 1)) / STD.view(1, 3, 1, 1)).contiguous()


class ShardDataset(torch.utils.data.Dataset):
    """Evaluation bags of one split: item i is (input [S, 3, h, w], label, i), S being every
    central slice of record i's volume (`training.central_slices`) or its one frame (2D); with
    `raw=True` the input is the stored uint8 frames [S, H, W, C] instead, untransformed.

    Any sampler picks records by index, `torch.utils.data.DistributedSampler` included, and
    DataLoader workers may be persistent: each keeps its own open files.

    The record tables are read once, with each file closed again. The frames are read through
    h5py files opened read-only on first use in each process: a handle opened before a
    DataLoader forks its workers is never used by them (handles are kept per process id and
    dropped when the dataset is pickled), since an HDF5 handle shared across fork is unsafe.
    """

    def __init__(self, shards: str, split: str, pipeline: Pipeline, raw: bool = False):
        check_folder(shards)
        if split not in SPLITS:
            raise ShardError(f"{shards}: split '{split}' is not one of train, val, test")
        names = shard_names(shards, split)
        if not names:
            raise ShardError(f"{shards}: no {split}-*.h5 shards (is this the folder mims-ingest run wrote?)")
        self.folder, self.split, self.pipeline, self.raw = shards, split, pipeline, raw
        self.paths = [os.path.join(shards, name) for name in names]
        self.records: List[Record] = []
        self.kind = self.dataset = ""
        self.frame_shape: Optional[Tuple[int, int, int]] = None
        for index, path in enumerate(self.paths):
            kind, dataset, shape, records = self._read_table(path, index)
            if self.frame_shape is None:
                self.kind, self.dataset, self.frame_shape = kind, dataset, shape
            elif kind != self.kind or shape != self.frame_shape:
                raise ShardError(f"{path}: kind {kind}, frames {shape} differ from {self.paths[0]} ({self.kind}, {self.frame_shape})")
            self.records.extend(records)
        self._handles: Dict[int, Dict[int, h5py.File]] = {}

    @staticmethod
    def _read_table(path: str, index: int):
        try:
            with h5py.File(path, "r") as f:
                if _attribute_text(f.attrs.get("format", "")) != "mims-shard":
                    raise ShardError(f"{path}: not a mims shard (root attribute format is not 'mims-shard')")
                version = int(f.attrs.get("format_version", 0))
                if version not in (1, 2):
                    raise ShardError(f"{path}: format_version {version} is not supported (this reader reads versions 1 and 2)")
                kind = _attribute_text(f.attrs["kind"])
                if kind not in ("image2d", "volume3d"):
                    raise ShardError(f"{path}: kind '{kind}' is neither image2d nor volume3d")
                frames = f["frames"]
                if frames.ndim != 4:
                    raise ShardError(f"{path}: /frames has rank {frames.ndim}, expected 4 (F, H, W, C)")
                shape = tuple(int(v) for v in frames.shape[1:])
                starts = f["record_frame_start"][()]
                counts = f["record_frame_count"][()]
                labels = f["label"][()]
                ids = f["id"].asstr()[()]
                patients = f["patient"].asstr()[()]
                if not len(starts) == len(counts) == len(labels) == len(ids) == len(patients):
                    raise ShardError(f"{path}: the record arrays differ in length")
                records = [Record(index, int(s), int(c), int(l), str(i), str(p))
                           for s, c, l, i, p in zip(starts, counts, labels, ids, patients)]
                return kind, _attribute_text(f.attrs.get("dataset", "")), shape, records
        except OSError as error:
            raise ShardError(f"{path}: cannot read this shard ({error})") from None
        except KeyError as error:
            raise ShardError(f"{path}: missing {error} (not a complete mims shard)") from None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state

    def _file(self, shard: int) -> h5py.File:
        mine = self._handles.setdefault(os.getpid(), {})
        handle = mine.get(shard)
        if handle is None:
            handle = h5py.File(self.paths[shard], "r")
            mine[shard] = handle
        return handle

    def close(self) -> None:
        """Closes the files this process opened (others' handles are left alone)."""
        for handle in self._handles.pop(os.getpid(), {}).values():
            handle.close()

    def __len__(self) -> int:
        return len(self.records)

    def slices(self, index: int) -> range:
        """Frames of record `index` in its evaluation bag: the whole central window."""
        return self.pipeline.central_window(self.records[index].frame_count)

    def frames(self, index: int) -> np.ndarray:
        record, window = self.records[index], self.slices(index)
        start = record.frame_start + window.start
        return self._file(record.shard)["frames"][start:start + len(window)]

    def training_frames(self, index: int, slices: List[int]) -> np.ndarray:
        """The chosen frames of record `index` (ascending, from TrainingSchedule), read as one span."""
        record = self.records[index]
        first = slices[0]
        span = self._file(record.shard)["frames"][record.frame_start + first:record.frame_start + slices[-1] + 1]
        return span[[s - first for s in slices]]

    def training_bag(self, index: int, slices: List[int]) -> torch.Tensor:
        """The input of a training bag, transformed exactly as evaluation frames are
        (BagBatch.swift uses the one InputTransform for both); uint8 frames with `raw=True`."""
        frames = self.training_frames(index, slices)
        return torch.from_numpy(np.ascontiguousarray(frames)) if self.raw else transform(frames, self.pipeline.input_size)

    def __getitem__(self, index: int):
        record = self.records[index]
        frames = self.frames(index)
        inputs = torch.from_numpy(np.ascontiguousarray(frames)) if self.raw else transform(frames, self.pipeline.input_size)
        return inputs, record.label, index

    @property
    def channels(self) -> int:
        return self.frame_shape[2] if self.frame_shape else 0

    def class_names(self) -> List[str]:
        """labels.classes of the manifest copy beside the shards, or [] (DatasetSignature.swift)."""
        return manifest_class_names(self.folder)

    def class_count(self) -> int:
        """DatasetSignature.classCount: the manifest's class list decides the classifier's outputs
        (a split may lack a class); shards without one count up to their largest label (at least 2)."""
        names = self.class_names()
        return len(names) if names else max(2, max((r.label for r in self.records), default=1) + 1)


def is_unlabelled_set(folder: str) -> bool:
    """ShardDataset.isUnlabelledSet: a folder holding only test shards, every record of them
    unlabelled (label -1, ingested with `labels: none`): data to score, not to train on."""
    if not os.path.isdir(folder) or shard_names(folder, "train") or shard_names(folder, "val"):
        return False
    records = [r for i, name in enumerate(shard_names(folder, "test")) for r in ShardDataset._read_table(os.path.join(folder, name), i)[3]]
    return bool(records) and all(r.label == -1 for r in records)


def manifest_class_names(folder: str) -> List[str]:
    """labels.classes of the manifest copy beside the shards in `folder`, or []."""
    import yaml
    path = os.path.join(folder, "manifest.yaml")
    try:
        with open(path, "rb") as handle:
            manifest = yaml.safe_load(handle)
        classes = manifest["labels"]["classes"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return []
    if isinstance(classes, (str, int, float)):
        return [str(classes)]
    return [str(c) for c in classes] if isinstance(classes, list) else []


def collate_bags(items):
    """A DataLoader batch of bags: the slices stacked [sum S, 3, h, w], the bag sizes, labels and
    record indices (bags differ in size, so the default collate does not apply)."""
    inputs = torch.cat([item[0] for item in items], 0)
    return inputs, [item[0].shape[0] for item in items], [item[1] for item in items], [item[2] for item in items]


class TrainingBags(torch.utils.data.Dataset):
    """Item i: what one rank trains on in iteration i, a dict of `input` [S, 3, h, w] (its bags'
    slices stacked, or uint8 frames with a raw dataset), `sizes`, `labels` and `records` of its
    bags, and the whole iteration's `bags` and `slices` counts (for the loss's mean over the
    global batch). The iteration's bags are TrainingSchedule.choices(i); the rank's share is
    TrainingSchedule.share. Index it with the iterations to train (a DataLoader with
    `batch_size=None` and `sampler=range(first, last)`), in any worker processes."""

    def __init__(self, dataset: ShardDataset, schedule: TrainingSchedule, iterations: int, rank: int = 0, world: int = 1):
        self.dataset, self.schedule, self.iterations, self.rank, self.world = dataset, schedule, iterations, rank, world

    def __len__(self) -> int:
        return self.iterations

    def __getitem__(self, iteration: int) -> dict:
        choices = self.schedule.choices(iteration)
        mine = [choices[b] for b in TrainingSchedule.share(len(choices), self.rank, self.world)]
        return {"input": torch.cat([self.dataset.training_bag(r, s) for r, s in mine], 0),
                "sizes": [len(s) for _, s in mine], "labels": [self.dataset.records[r].label for r, _ in mine],
                "records": [r for r, _ in mine], "bags": len(choices), "slices": sum(len(s) for _, s in choices)}
