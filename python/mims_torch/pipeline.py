"""Pipeline YAML files (docs/PIPELINES.md), read with the keys, defaults and checks of
`Sources/MIMSTrain/Pipeline/Pipeline.swift`.

The Swift reader works on YAML nodes and their raw scalar text (Yams), not on resolved Python
values; this module does the same through `yaml.compose`, so `1e-3`, `yes` or `[12, 18]` mean here
exactly what they mean to mims-train, and every error names the file, the line and the key as the
Swift one does (`p.yaml:6: 'optimizer.learnig_rate': not a known key here; known keys: ...`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import List, Optional, Sequence

import yaml

VARIANTS = [
    "mims", "mi-pre", "pyramid-mi-pre", "mi-pre-conv", "mims-noresizing", "pyramid-mims",
    "mi-pre-trident", "featpyra-4-5", "resnet34-scratch", "mims-patchcls", "mi-pre-conv-patchcls",
]
# Variants whose head has no MSConv layers (Pipeline.Variant.usesMSConv in Swift).
WITHOUT_MSCONV = {"mi-pre", "pyramid-mi-pre", "resnet34-scratch"}
# Variants that resize their primary maps by msconv.scales (Pipeline.Variant.usesScales).
USES_SCALES = {"mims", "mims-patchcls"}
PATCH_CLASSIFIERS = {"mims-patchcls", "mi-pre-conv-patchcls"}
DEPTHS = (18, 34, 50, 101)


class PipelineError(ValueError):
    """An invalid pipeline: the file, the line (0 when unknown), the dotted key and what was
    expected, formatted as mims-train's ConfigError."""

    def __init__(self, file: str, key: str, line: int, expected: str):
        self.file, self.key, self.line, self.expected = file, key, line, expected
        where = f"{file}:{line}:" if line > 0 else f"{file}:"
        super().__init__(where + (" " if not key else f" '{key}': ") + expected)


# Swift's Int(String) and Double(String): an optional sign and decimal digits; Double also takes
# exponents, "inf"/"nan" (rejected later as not finite) and hexadecimal floats.
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_SPECIAL = re.compile(r"[+-]?(inf|infinity|nan)\Z", re.IGNORECASE)
_HEX = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?[0-9]+)?\Z")


def _swift_int(text: str) -> Optional[int]:
    if not _INTEGER.match(text):
        return None
    value = int(text)
    return value if -(2 ** 63) <= value < 2 ** 63 else None


def _swift_double(text: str) -> Optional[float]:
    if _DECIMAL.match(text) or _SPECIAL.match(text):
        return float(text)
    if _HEX.match(text):
        return float.fromhex(text)
    return None


class _Field:
    """One YAML node with its dotted path: the typed accessors of MIMSConfig's Field."""

    def __init__(self, node: yaml.Node, path: str, file: str):
        self.node, self.path, self.file = node, path, file

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1 if self.node.start_mark is not None else 0

    def error(self, expected: str) -> PipelineError:
        return PipelineError(self.file, self.path, self.line, expected)

    def missing(self, key: str, expected: str) -> PipelineError:
        return PipelineError(self.file, key if not self.path else self.path + "." + key, self.line, "missing; expected " + expected)

    def _mapping(self):
        return self.node.value if isinstance(self.node, yaml.MappingNode) else None

    def _child(self, key: str) -> Optional["_Field"]:
        for k, v in self._mapping() or []:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return _Field(v, key if not self.path else self.path + "." + key, self.file)
        return None

    def required(self, key: str) -> "_Field":
        if self._mapping() is None:
            raise self.error("a mapping")
        field = self._child(key)
        if field is None:
            raise self.missing(key, "a value")
        return field

    def optional(self, key: str) -> Optional["_Field"]:
        if self._mapping() is None:
            raise self.error("a mapping")
        return self._child(key)

    def allow(self, known: Sequence[str]) -> None:
        mapping = self._mapping()
        if mapping is None:
            raise self.error("a mapping with keys " + ", ".join(known))
        for k, _ in mapping:
            name = k.value if isinstance(k, yaml.ScalarNode) else None
            if name is None or name not in known:
                name = name if name is not None else "?"
                line = k.start_mark.line + 1 if k.start_mark is not None else self.line
                raise PipelineError(self.file, name if not self.path else self.path + "." + name, line,
                                    "not a known key here; known keys: " + ", ".join(known))

    def _scalar(self) -> Optional[str]:
        return self.node.value if isinstance(self.node, yaml.ScalarNode) else None

    def _items(self):
        return self.node.value if isinstance(self.node, yaml.SequenceNode) else None

    def string(self) -> str:
        text = self._scalar()
        if text is None:
            raise self.error("a text value")
        return text

    def integer(self) -> int:
        text = self._scalar()
        value = _swift_int(text) if text is not None else None
        if value is None:
            raise self.error("a whole number")
        return value

    def number(self) -> float:
        text = self._scalar()
        value = _swift_double(text) if text is not None else None
        if value is None or not math.isfinite(value):
            raise self.error("a number")
        return value

    def bool(self) -> bool:
        scalar = self._scalar()
        text = scalar.lower() if scalar is not None else None
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off"):
            return False
        raise self.error("true or false")

    def integers(self) -> List[int]:
        items = self._items()
        if items is None:
            raise self.error("a list of whole numbers")
        values = []
        for item in items:
            value = _swift_int(item.value) if isinstance(item, yaml.ScalarNode) else None
            if value is None:
                raise PipelineError(self.file, self.path, item.start_mark.line + 1, "a list of whole numbers")
            values.append(value)
        return values

    def numbers(self) -> List[float]:
        items = self._items()
        if items is None:
            raise self.error("a list of numbers")
        values = []
        for item in items:
            value = _swift_double(item.value) if isinstance(item, yaml.ScalarNode) else None
            if value is None or not math.isfinite(value):
                raise PipelineError(self.file, self.path, item.start_mark.line + 1, "a list of numbers")
            values.append(value)
        return values


@dataclasses.dataclass
class Pipeline:
    """One training configuration; the fields of Swift's `Pipeline` under Python names."""

    name: str
    model: str
    depth: int
    # 2, 3 or 4: the trunk ends at layer2, layer3 or layer4.
    feature_layer: int
    # "imagenet", "none", or None when the key is absent.
    weights: Optional[str]
    input_size: List[int]
    # [[size, channels], ...]; empty for the variants without MSConv.
    kernels: List[List[int]]
    scales: List[float]
    # "topk", "mean", "max" or "max-inst"; k only matters for "topk".
    aggregation: str
    k: int
    optimizer: str
    learning_rate: float
    backbone_learning_rate: float
    momentum: float
    weight_decay: float
    iterations: int
    batch: int
    slices: List[int]
    central_slices: int
    class_balanced: bool
    eval_every: int
    checkpoint_every: int
    eval_split: str
    # training.select: "last" (the default) or "best-val" (the test split is scored with the
    # weights of the best periodic val evaluation, kept in RUN/best.safetensors).
    select: str
    precision: str
    # The volume-only training keys the file sets (slices, central_slices).
    volume_keys: List[str]
    text: str
    # backbone.trainable: false is mims-train's frozen-feature training (docs/TRAINING.md); mims_torch
    # reads such pipelines (a checkpoint embeds its pipeline) but refuses to train them.
    trains_backbone: bool = True
    # training.patience (with select: best-val): stop once this many val evaluations in a row
    # have not beaten the best; None trains every iteration.
    patience: Optional[int] = None

    @property
    def selects_best_validation(self) -> bool:
        return self.select == "best-val"

    @property
    def is_patch_classifier(self) -> bool:
        return self.model in PATCH_CLASSIFIERS

    @property
    def uses_msconv(self) -> bool:
        return self.model not in WITHOUT_MSCONV

    @property
    def trunk_depth(self) -> int:
        """resnet34-scratch is always a ResNet-34, whatever backbone.depth says."""
        return 34 if self.model == "resnet34-scratch" else self.depth

    def central_window(self, frames: int) -> range:
        """The central slices of a volume of `frames` frames: all of them form its evaluation bag."""
        count = min(self.central_slices, frames)
        start = (frames - count) // 2
        return range(start, start + count)


def load(path: str) -> Pipeline:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise PipelineError(path, "", 0, "no such file (the shipped pipelines are in pipelines/, docs/PIPELINES.md describes the keys)") from None
    except IsADirectoryError:
        raise PipelineError(path, "", 0, "is a folder; a pipeline is a YAML file such as pipelines/demo-cirrus-small.yaml") from None
    except PermissionError:
        raise PipelineError(path, "", 0, "cannot read this file (permissions)") from None
    return parse(data.decode("utf-8", errors="replace"), path)


def parse(text: str, file: str) -> Pipeline:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise PipelineError(file, "", mark.line + 1 if mark is not None else 0, f"valid YAML ({error})") from None
    if not isinstance(node, yaml.MappingNode):
        raise PipelineError(file, "", 1, "a mapping of keys")
    top = _Field(node, "", file)
    top.allow(["name", "model", "backbone", "input_size", "msconv", "pooling", "optimizer", "training", "precision"])
    name = top.required("name").string()
    variant_field = top.required("model")
    model = variant_field.string()
    if model not in VARIANTS:
        raise variant_field.error("one of " + ", ".join(VARIANTS))

    backbone = top.required("backbone")
    backbone.allow(["depth", "feature_layer", "weights", "trainable"])
    depth_field = backbone.required("depth")
    depth = depth_field.integer()
    if depth not in DEPTHS:
        raise depth_field.error("18, 34, 50 or 101")
    feature_layer = 4
    layer_field = backbone.optional("feature_layer")
    if layer_field is not None:
        layer = layer_field.string()
        if layer not in ("layer2", "layer3", "layer4"):
            raise layer_field.error("layer2, layer3 or layer4")
        feature_layer = int(layer[-1])
    weights_field = backbone.optional("weights")
    weights = weights_field.string() if weights_field is not None else None
    if weights_field is not None and weights not in ("imagenet", "none"):
        raise weights_field.error("imagenet (pass the file with --backbone-weights) or none")

    size_field = top.required("input_size")
    input_size = size_field.integers()
    if len(input_size) != 2 or not all(32 <= v <= 4096 for v in input_size):
        raise size_field.error("[height, width], each 32...4096")

    kernels: List[List[int]] = []
    scales: List[float] = [1.0]
    msconv = top.optional("msconv")
    if msconv is not None:
        if model in WITHOUT_MSCONV:
            raise msconv.error(f"nothing: model {model} has no MSConv layers; remove the msconv block")
        msconv.allow(["kernels", "scales"])
        scales_field = msconv.optional("scales")
        if scales_field is not None and model not in USES_SCALES:
            raise scales_field.error(f"nothing: model {model} does not resize its feature maps (only mims and mims-patchcls use msconv.scales); remove the key")
        kernels_field = msconv.required("kernels")
        items = kernels_field.node.value if isinstance(kernels_field.node, yaml.SequenceNode) else None
        if not items:
            raise kernels_field.error("a list of [size, channels] pairs")
        for index, item in enumerate(items):
            pair = _Field(item, f"{kernels_field.path}[{index}]", file).integers()
            if len(pair) != 2 or not 1 <= pair[0] <= 7 or not 1 <= pair[1] <= 4096:
                raise kernels_field.error("[size 1...7, channels 1...4096] pairs such as [[2, 8], [3, 10]]")
            kernels.append(pair)
        scales = scales_field.numbers() if scales_field is not None else [0.5, 0.75, 1.0]
        if scales_field is not None and (not scales or not all(0 < s <= 4 for s in scales)):
            raise scales_field.error("a list of factors in (0, 4]")
    if model not in WITHOUT_MSCONV and not kernels:
        raise top.missing("msconv", f"msconv.kernels for model {model}")

    aggregation, k = "topk", 5
    pooling = top.optional("pooling")
    if pooling is not None:
        pooling.allow(["aggregation", "k"])
        k_field = pooling.optional("k")
        k = k_field.integer() if k_field is not None else 5
        if k < 1:
            raise pooling.required("k").error("a whole number >= 1")
        aggregation_field = pooling.optional("aggregation")
        aggregation = aggregation_field.string() if aggregation_field is not None else "topk"
        if aggregation != "topk" and k_field is not None:
            raise k_field.error(f"nothing: pooling.k is the k of topk, and aggregation is {aggregation}; remove the key")
        if aggregation not in ("topk", "mean", "max", "max-inst"):
            raise pooling.required("aggregation").error("topk, mean, max or max-inst")
        if aggregation == "max-inst":
            # Network.swift builds the max-inst head with top-5 pooling of each slice.
            k = 5

    def value(parent: Optional[_Field], key: str, read, default):
        if parent is None:
            return default
        field = parent.optional(key)
        return read(field) if field is not None else default

    opt = top.optional("optimizer")
    if opt is not None:
        opt.allow(["kind", "learning_rate", "backbone_learning_rate", "momentum", "weight_decay"])
    kind = value(opt, "kind", _Field.string, "sgd")
    if kind not in ("sgd", "adam"):
        raise opt.required("kind").error("sgd or adam")
    # Swift keeps the rates as Float; the half of the head's rate is taken before that rounding.
    learning_rate = value(opt, "learning_rate", _Field.number, 0.01)
    backbone_learning_rate = value(opt, "backbone_learning_rate", _Field.number, learning_rate / 2)
    momentum = value(opt, "momentum", _Field.number, 0.9)
    weight_decay = value(opt, "weight_decay", _Field.number, 0.0)

    training = top.optional("training")
    if training is not None:
        training.allow(["iterations", "batch", "slices", "central_slices", "class_balanced", "eval_every", "checkpoint_every", "eval_split", "select",
                        "patience"])
    iterations = value(training, "iterations", _Field.integer, 1000)
    batch = value(training, "batch", _Field.integer, 1)
    slices = [12, 18]
    slices_field = training.optional("slices") if training is not None else None
    if slices_field is not None:
        pair = slices_field.integers()
        if len(pair) != 2 or pair[0] < 1 or pair[0] > pair[1]:
            raise slices_field.error("[fewest, most] slices per bag, e.g. [12, 18]")
        slices = pair
    central = value(training, "central_slices", _Field.integer, 30)
    eval_split = value(training, "eval_split", _Field.string, "val")
    if eval_split not in ("train", "val", "test"):
        raise training.required("eval_split").error("one of val, test or train (the shard splits)")
    volume_keys = [key for key in ("slices", "central_slices") if training is not None and training.optional(key) is not None]
    if iterations < 1 or batch < 1 or central < 1:
        raise (training or top).error("iterations, batch and central_slices of at least 1")
    precision = "fp32"
    precision_field = top.optional("precision")
    if precision_field is not None:
        precision = precision_field.string()
        if precision not in ("fp32", "bf16"):
            raise precision_field.error("fp32 or bf16")
    select = "last"
    select_field = training.optional("select") if training is not None else None
    if select_field is not None:
        select = select_field.string()
        if select == "best-val" and eval_split != "val":
            raise select_field.error("best-val with eval_split: val (the checkpoint is chosen on val, then tested on test)")
        if select not in ("last", "best-val"):
            raise select_field.error("last or best-val")
    patience = None
    patience_field = training.optional("patience") if training is not None else None
    if patience_field is not None:
        if select != "best-val":
            raise patience_field.error("nothing without select: best-val (patience counts val evaluations that do not beat the best)")
        patience = patience_field.integer()
        if patience < 1:
            raise patience_field.error("a positive number of evaluations")
    return Pipeline(
        name=name, model=model, depth=depth, feature_layer=feature_layer, weights=weights, input_size=input_size,
        kernels=kernels, scales=scales, aggregation=aggregation, k=k, optimizer=kind, learning_rate=learning_rate,
        backbone_learning_rate=backbone_learning_rate, momentum=momentum, weight_decay=weight_decay, iterations=iterations,
        batch=batch, slices=slices, central_slices=central,
        class_balanced=value(training, "class_balanced", _Field.bool, False),
        eval_every=value(training, "eval_every", _Field.integer, max(1, iterations // 5)),
        checkpoint_every=value(training, "checkpoint_every", _Field.integer, max(1, iterations // 5)),
        eval_split=eval_split, select=select, precision=precision, volume_keys=volume_keys, text=text, patience=patience,
        trains_backbone=value(backbone, "trainable", _Field.bool, True))


def _float32_text(value: float) -> str:
    """A Float as Swift prints it: the shortest text that reads back as the same float32."""
    import numpy as np
    return str(np.float32(value))


def settings(p: Pipeline) -> List[tuple]:
    """Every setting by its YAML key, as text (Pipeline+Differences.swift's `settings`), so two
    pipelines can be compared key by key with the words mims-train uses."""
    aggregation = f"topk (k {p.k})" if p.aggregation == "topk" else p.aggregation
    return [
        ("name", p.name), ("model", p.model), ("backbone.depth", str(p.depth)),
        ("backbone.feature_layer", f"layer{p.feature_layer}"), ("backbone.weights", p.weights if p.weights is not None else "(absent)"),
        ("backbone.trainable", "true" if p.trains_backbone else "false"),
        ("input_size", str(list(p.input_size))), ("msconv.kernels", str([list(k) for k in p.kernels])), ("msconv.scales", str([float(s) for s in p.scales])),
        ("pooling", aggregation), ("optimizer.kind", p.optimizer),
        ("optimizer.learning_rate", _float32_text(p.learning_rate)), ("optimizer.backbone_learning_rate", _float32_text(p.backbone_learning_rate)),
        ("optimizer.momentum", _float32_text(p.momentum)), ("optimizer.weight_decay", _float32_text(p.weight_decay)),
        ("training.iterations", str(p.iterations)), ("training.batch", str(p.batch)),
        ("training.slices", f"[{p.slices[0]}, {p.slices[1]}]"),
        ("training.central_slices", str(p.central_slices)), ("training.class_balanced", "true" if p.class_balanced else "false"),
        ("training.eval_every", str(p.eval_every)), ("training.checkpoint_every", str(p.checkpoint_every)),
        ("training.eval_split", p.eval_split), ("training.select", p.select), ("precision", p.precision),
    ]


def differences(p: Pipeline, earlier: Pipeline) -> List[str]:
    """The settings of `p` that differ from `earlier`, as "key old -> new", in YAML order."""
    before = dict(settings(earlier))
    return [f"{key} {before[key]} -> {value}" for key, value in settings(p) if key in before and before[key] != value]
