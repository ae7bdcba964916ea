"""The networks of docs/MODEL.md's table as torch modules whose state_dict names are mims-train's
checkpoint names: `backbone.<torchvision ResNet name>` and `head.<MIMSHead name>`.

The structure follows the Swift code, which is what checkpoints are trained with:
`Sources/MIMSTrain/Model/Network.swift` (variants, pyramid, feature layers),
`Sources/MIMSModels/MIMSHead.swift` (branches, groups, magnitude normalization, pooling),
`Sources/MIMSModels/ResNetTrunk.swift` and `ResNetBlock.swift` (torchvision's ResNet), and
`Sources/MIMSTrain/Model/BagScoring.swift` (how slice scores become a volume's score).
mims_torch.train trains these modules as they are.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import pipeline as pipeline_module
from .pipeline import Pipeline


# ---------------------------------------------------------------------------------------------
# Trunk


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inputs: int, width: int, stride: int, downsample: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = nn.Sequential(nn.Conv2d(inputs, width, 1, stride, bias=False), nn.BatchNorm2d(width)) if downsample else None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """torchvision v1.5: the stride sits on the 3x3 convolution."""

    expansion = 4

    def __init__(self, inputs: int, width: int, stride: int, downsample: bool):
        super().__init__()
        outputs = width * 4
        self.conv1 = nn.Conv2d(inputs, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, outputs, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(outputs)
        self.downsample = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)) if downsample else None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + identity)


BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}


class ResNetTrunk(nn.Module):
    """torchvision's ResNet without fc. All four layers exist whatever the feature layer, as in
    ResNetTrunk.parameterShapes (a layer2 checkpoint carries untrained layer3 and layer4 tensors);
    `forward` runs only as far as the last layer asked for."""

    def __init__(self, depth: int):
        super().__init__()
        self.depth = depth
        block = Bottleneck if depth in (50, 101) else BasicBlock
        self.expansion = block.expansion
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        inputs = 64
        for layer, count in enumerate(BLOCKS[depth]):
            width = 64 << layer
            outputs = width * block.expansion
            blocks = []
            for index in range(count):
                stride = 2 if index == 0 and layer > 0 else 1
                downsample = index == 0 and (layer > 0 or inputs != outputs)
                blocks.append(block(inputs, width, stride, downsample))
                inputs = outputs
            self.add_module(f"layer{layer + 1}", nn.Sequential(*blocks))

    def channels(self, layer: int) -> int:
        return 64 * (1 << (layer - 1)) * self.expansion

    def forward(self, x, outputs: Sequence[int]) -> List[torch.Tensor]:
        """The outputs of the given layers (1-based), in the order asked."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        found: Dict[int, torch.Tensor] = {}
        for layer in range(1, max(outputs) + 1):
            x = getattr(self, f"layer{layer}")(x)
            found[layer] = x
        return [found[layer] for layer in outputs]


# ---------------------------------------------------------------------------------------------
# Head


@dataclasses.dataclass(frozen=True)
class Branch:
    """One view of a primary map: which map, its resize factor and the dilation of the group
    convolutions on it; each branch has its own magnitude normalization."""

    source: int = 0
    scale: float = 1.0
    dilation: int = 1


@dataclasses.dataclass(frozen=True)
class Group:
    """One convolution shared by its branches (None: every branch)."""

    kernel: int
    channels: int
    branches: Optional[Sequence[int]] = None


def scaled(size: int, scale: float) -> int:
    """h = max(1, floor(H s + 0.5)); s = 1 leaves the size alone."""
    return size if scale == 1 else max(1, int(math.floor(size * scale + 0.5)))


def resize(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    if x.shape[2] == height and x.shape[3] == width:
        return x
    return F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)


class TopK(nn.Module):
    """θ of top-k pooling, shared by every channel; its own module so the name is `topk.theta`."""

    def __init__(self, k: int):
        super().__init__()
        self.theta = nn.Parameter(torch.arange(k, dtype=torch.float32) * math.log(0.5))


class MSConv(nn.Module):
    def __init__(self, input_channels: List[int], branches: List[Branch], groups: List[Group]):
        super().__init__()
        features = sum(g.channels for g in groups)
        self.convs = nn.ModuleList()
        # bns.<branch>.<group>: a ModuleDict, since a group may cover only some branches.
        self.bns = nn.ModuleDict()
        for g, group in enumerate(groups):
            members = list(group.branches) if group.branches is not None else list(range(len(branches)))
            source = branches[members[0]].source
            self.convs.append(nn.Conv2d(input_channels[source], group.channels, group.kernel, bias=True))
            for i in members:
                if str(i) not in self.bns:
                    self.bns[str(i)] = nn.ModuleDict()
                self.bns[str(i)][str(g)] = nn.BatchNorm2d(group.channels)
        self.sw = nn.Parameter(torch.ones(len(branches), features))


class MIMSHead(nn.Module):
    """MSConv over resized primary maps, magnitude normalization, bag pooling, the classifier."""

    def __init__(self, input_channels: List[int], branches: List[Branch], groups: List[Group], aggregation: str, k: int, classes: int = 2):
        super().__init__()
        if not groups and not all(b.scale == 1 and b.dilation == 1 for b in branches):
            raise ValueError("without MSConv groups the branches are the primary maps themselves")
        self.branches, self.groups, self.aggregation = branches, groups, aggregation
        self.features = sum(g.channels for g in groups) if groups else input_channels[branches[0].source]
        if groups:
            self.msconv = MSConv(input_channels, branches, groups)
        if aggregation == "topk":
            self.topk = TopK(k)
        self.fc = nn.Linear(self.features, classes)

    def _members(self, group: Group) -> List[int]:
        return list(group.branches) if group.branches is not None else list(range(len(self.branches)))

    def pool(self, outputs: List[torch.Tensor], bag_sizes: List[int]) -> torch.Tensor:
        """[bags, C]: per bag and channel, one number from all its values over the inputs (the
        scales), the bag's slices and every position, ordered input, slice, row, column."""
        rows = []
        start = 0
        for size in bag_sizes:
            values = torch.cat([x[start:start + size].transpose(0, 1).reshape(x.shape[1], -1) for x in outputs], 1)
            if self.aggregation == "topk":
                theta = self.topk.theta
                count = min(theta.numel(), values.shape[1])
                top = torch.topk(values, count, dim=1, largest=True, sorted=True).values
                weights = torch.softmax(theta[:count].double(), 0).float()
                rows.append((top * weights).sum(1))
            elif self.aggregation == "mean":
                rows.append(values.double().mean(1).float())
            elif self.aggregation == "max":
                rows.append(values.max(1).values)
            else:
                raise ValueError(f"aggregation {self.aggregation!r} is not a pooling (max-inst pools top-k per slice)")
            start += size
        if start != outputs[0].shape[0]:
            raise ValueError(f"bag sizes add up to {start}, the maps hold {outputs[0].shape[0]} slices")
        return torch.stack(rows, 0)

    def pooled(self, maps: List[torch.Tensor], bag_sizes: List[int]) -> torch.Tensor:
        if not self.groups:
            return self.pool([maps[b.source] for b in self.branches], bag_sizes)
        resized: Dict[int, torch.Tensor] = {}
        pooled = []
        offset = 0
        for g, group in enumerate(self.groups):
            conv = self.msconv.convs[g]
            outputs = []
            for i in self._members(group):
                branch = self.branches[i]
                if i not in resized:
                    x = maps[branch.source]
                    resized[i] = resize(x, scaled(x.shape[2], branch.scale), scaled(x.shape[3], branch.scale))
                padding = branch.dilation * (group.kernel // 2)
                y = F.conv2d(resized[i], conv.weight, conv.bias, 1, padding, branch.dilation)
                y = self.msconv.bns[str(i)][str(g)](y)
                factors = self.msconv.sw[i, offset:offset + group.channels]
                outputs.append(y * factors.view(1, -1, 1, 1))
            pooled.append(self.pool(outputs, bag_sizes))
            offset += group.channels
        return torch.cat(pooled, 1)

    def forward(self, maps: List[torch.Tensor], bag_sizes: List[int]) -> torch.Tensor:
        return self.fc(self.pooled(maps, bag_sizes))


# ---------------------------------------------------------------------------------------------
# The whole network


class Network(nn.Module):
    """Trunk plus head for one pipeline, classifying into `classes` classes (the shard set's, at
    least 2); `forward(input, bag_sizes)` gives each bag's class probabilities, scored as
    mims-train's evaluator scores it."""

    def __init__(self, pipeline: Pipeline, classes: int = 2):
        super().__init__()
        if classes < 2:
            raise ValueError("a classifier needs at least two classes")
        self.pipeline, self.classes = pipeline, classes
        layer = pipeline.feature_layer
        variant = pipeline.model
        self.pyramid = [1.0]
        self.feature_layers = [layer]
        self.backbone = ResNetTrunk(pipeline.trunk_depth)
        channels = self.backbone.channels(layer)
        aggregation = "topk" if pipeline.aggregation == "max-inst" else pipeline.aggregation
        k = 5 if pipeline.aggregation == "max-inst" else pipeline.k
        kernel_groups = [Group(kernel, count) for kernel, count in pipeline.kernels]
        total = sum(count for _, count in pipeline.kernels)
        single3x3 = [Group(3, total)]
        if variant in ("mims", "mims-patchcls"):
            inputs, branches, groups = [channels], [Branch(scale=s) for s in pipeline.scales], kernel_groups
        elif variant in ("mi-pre", "resnet34-scratch"):
            inputs, branches, groups = [channels], [Branch()], []
        elif variant == "pyramid-mi-pre":
            self.pyramid = [0.5, 0.75, 1.0]
            inputs, branches, groups = [channels] * 3, [Branch(source=s) for s in range(3)], []
        elif variant in ("mi-pre-conv", "mi-pre-conv-patchcls"):
            inputs, branches, groups = [channels], [Branch()], single3x3
        elif variant == "mims-noresizing":
            inputs, branches, groups = [channels], [Branch()], kernel_groups
        elif variant == "pyramid-mims":
            self.pyramid = [0.5, 0.75, 1.0]
            inputs, branches, groups = [channels] * 3, [Branch(source=s) for s in range(3)], kernel_groups
        elif variant == "mi-pre-trident":
            inputs, branches, groups = [channels], [Branch(dilation=d) for d in (1, 2, 3)], single3x3
        elif variant == "featpyra-4-5":
            self.feature_layers = [3, 4]
            half = max(1, total // 2)
            inputs = [self.backbone.channels(3), self.backbone.channels(4)]
            branches = [Branch(source=0), Branch(source=1)]
            groups = [Group(3, half, [0]), Group(3, half, [1])]
        else:
            raise ValueError(f"model {variant!r} is not one of {', '.join(pipeline_module.VARIANTS)}")
        self.head = MIMSHead(inputs, branches, groups, aggregation, k, classes)
        # Patch classifiers and max-inst classify each slice; the others pool the whole bag.
        self.scoring = "slice-mean" if pipeline.is_patch_classifier else "slice-max" if pipeline.aggregation == "max-inst" else "pooled"

    def load_backbone(self, path: str) -> None:
        """The trunk's tensors from a torchvision-named safetensors file, with mims-train's checks
        (mims_torch.weights)."""
        from . import weights
        self.backbone.load_state_dict(weights.load(path, self.backbone), strict=True)

    def primary_maps(self, x: torch.Tensor) -> List[torch.Tensor]:
        maps = []
        for factor in self.pyramid:
            level = resize(x, scaled(x.shape[2], factor), scaled(x.shape[3], factor))
            maps += self.backbone(level, self.feature_layers)
        return maps

    def head_bag_sizes(self, bag_sizes: List[int]) -> List[int]:
        return [1] * sum(bag_sizes) if self.scoring != "pooled" else list(bag_sizes)

    def logits(self, x: torch.Tensor, bag_sizes: List[int]) -> torch.Tensor:
        """[head bags, classes]; the head bags are the slices for the slice-scoring variants."""
        return self.head(self.primary_maps(x), self.head_bag_sizes(bag_sizes))

    @staticmethod
    def probabilities(logits: torch.Tensor) -> torch.Tensor:
        """Softmax of each row in float64, rounded to float32, as Scoring.probabilities does."""
        return torch.softmax(logits.double(), 1).float()

    @staticmethod
    def class_one_probabilities(logits: torch.Tensor) -> torch.Tensor:
        """Scoring.classOneProbabilities: column 1 of ``probabilities``."""
        return Network.probabilities(logits)[:, 1]

    def forward(self, x: torch.Tensor, bag_sizes: List[int]) -> torch.Tensor:
        """[bags, classes] (float64): each bag's class probabilities as BagScoring.bagProbabilities
        makes them: the pooled bag's softmax; the mean of its slices' probability vectors (patch
        classifiers); for max-inst the vector of the slice with the largest class-1 probability
        (the first on ties)."""
        rows = self.probabilities(self.logits(x, bag_sizes))
        if self.scoring == "pooled":
            return rows.double()
        parts = torch.split(rows, list(bag_sizes))
        if self.scoring == "slice-mean":
            return torch.stack([p.double().sum(0) / p.shape[0] for p in parts])
        # torch.argmax returns the first of equal values, as Swift's loop keeps the first.
        return torch.stack([p[int(torch.argmax(p[:, 1]))].double() for p in parts])


def build(pipeline: Pipeline, backbone_weights: Optional[str] = None, classes: int = 2) -> Network:
    """The network for `pipeline` with `classes` outputs (the shard set's class count,
    `ShardDataset.class_count()`), in eval mode (running BatchNorm statistics), weights at
    PyTorch's defaults, the trunk's from `backbone_weights` when given (the ImageNet safetensors
    file mims-train reads, docs/WEIGHTS.md): load a checkpoint into it to score, or train it."""
    network = Network(pipeline, classes)
    if backbone_weights is not None:
        network.load_backbone(backbone_weights)
    return network.eval()


# ---------------------------------------------------------------------------------------------
# Checkpoints


class CheckpointError(ValueError):
    """A file that is not a usable mims checkpoint; the message names the file and the reason."""


@dataclasses.dataclass
class Loaded:
    network: Network
    pipeline: Pipeline
    metadata: Dict[str, str]


@dataclasses.dataclass
class Stored:
    tensors: Dict[str, torch.Tensor]
    metadata: Dict[str, str]


def read_checkpoint(path: str) -> Stored:
    """A mims-train checkpoint's tensors and metadata (safetensors with `format=mims-checkpoint`),
    as Checkpoint.read reads them, without building a network."""
    import os

    from safetensors import safe_open

    if os.path.isdir(path):
        inside = os.path.join(path, "checkpoint.safetensors")
        raise CheckpointError(f"{path}: is a folder; give the checkpoint file" + (f", e.g. {inside}" if os.path.exists(inside) else ""))
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such file (a run writes RUN/checkpoint.safetensors)")
    try:
        with safe_open(path, framework="pt") as f:
            metadata = dict(f.metadata() or {})
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except Exception as error:  # safetensors raises its own error types for malformed files
        raise CheckpointError(f"{path}: not a mims-train checkpoint ({error})") from None
    if metadata.get("format") != "mims-checkpoint":
        raise CheckpointError(f"{path}: not a mims-train checkpoint (no format=mims-checkpoint in its metadata)")
    return Stored(tensors, metadata)


def checked_tensors(tensors: Dict[str, torch.Tensor], network: nn.Module, path: str) -> Dict[str, torch.Tensor]:
    """Checkpoint.restore's checks: every tensor of `network` present with its shape, nothing
    else; the tensors in the network's dtypes, ready for load_state_dict."""
    expected = network.state_dict()
    for name in sorted(expected):
        if name not in tensors:
            raise CheckpointError(f"{path}: missing tensor '{name}' (was it written for another pipeline?)")
        if list(tensors[name].shape) != list(expected[name].shape):
            raise CheckpointError(f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}, the pipeline needs {list(expected[name].shape)}")
    extra = sorted(set(tensors) - set(expected))
    if extra:
        raise CheckpointError(f"{path}: unexpected tensor '{extra[0]}' for this pipeline")
    return {name: tensors[name].to(expected[name].dtype) for name in expected}


def class_count(metadata: Dict[str, str], path: str) -> int:
    """DatasetSignature(metadata:).classCount: the recorded `class_count`, 2 for checkpoints
    written before it was recorded."""
    text = metadata.get("class_count", "2")
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 2:
        raise CheckpointError(f"{path}: class_count '{text}' in its metadata is not a number of classes (2 or more)")
    return count


def load_checkpoint(path: str) -> Loaded:
    """Reads a mims-train checkpoint (safetensors, `format=mims-checkpoint` in its metadata, the
    pipeline's text under `pipeline`) into the network its pipeline describes, checking every
    tensor's name and shape as Checkpoint.restore does; the classifier has the checkpoint's
    `class_count` outputs (2 when it records none)."""
    stored = read_checkpoint(path)
    metadata = stored.metadata
    text = metadata.get("pipeline")
    if text is None:
        raise CheckpointError(f"{path}: no pipeline in its metadata")
    pipeline = pipeline_module.parse(text, path + " (embedded pipeline)")
    if metadata.get("precision") in ("fp32", "bf16", "fp16"):
        pipeline.precision = metadata["precision"]
    network = build(pipeline, classes=class_count(metadata, path))
    network.load_state_dict(checked_tensors(stored.tensors, network, path), strict=True)
    return Loaded(network, pipeline, metadata)
