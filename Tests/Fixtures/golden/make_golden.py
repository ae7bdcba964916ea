#!/usr/bin/env python3
"""The golden cases of this folder (README.md), recomputed or generated in PyTorch float64.

  make_golden.py --check [DIR]            recompute every case in DIR (default: this folder) from
                                          its stored inputs and compare with its stored outputs
  make_golden.py --write DIR [--seed S]   write a fresh suite of every op into DIR

Each op is one function from (inputs, case parameters) to outputs, and both modes call it, so a
suite written here is checked by the same arithmetic that checks the committed one. The functions
follow docs/MODEL.md; they deliberately do not import python/mims_torch, which is a second
implementation of the same model and would otherwise be checked against itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
BN_EPS, BN_MOMENTUM = 1e-5, 0.1

# The stored floats are float32 roundings of float64 results, so a faithful recomputation lands
# within a few float32 ulps; anything near 1e-4 (the Swift tests' bar) is a different function.
RELATIVE_TOLERANCE = 1e-6
# Some gradients are exactly zero in exact arithmetic (a conv bias feeding a training-mode
# BatchNorm); what is stored there is float64 rounding noise, which no relative test can judge.
ZERO_NORM, ZERO_TOLERANCE = 1e-10, 1e-9

Tensors = Dict[str, torch.Tensor]


def f64(tensors: Tensors) -> Tensors:
    return {k: v.double() if v.is_floating_point() else v for k, v in tensors.items()}


def leaf(t: torch.Tensor) -> torch.Tensor:
    return t.detach().double().clone().requires_grad_(True)


# ---------------------------------------------------------------------------------------------
# Ops: inputs (float64) and case parameters -> outputs. Each returns exactly the output keys the
# case files store, so --check can also tell that nothing stored goes unchecked.


def conv2d(inp: Tensors, case: dict) -> Tensors:
    x, w, b = leaf(inp["x"]), leaf(inp["weight"]), leaf(inp["bias"])
    y = F.conv2d(x, w, b, case["stride"], case["padding"], case["dilation"])
    y.backward(inp["grad_y"])
    return {"y": y.detach(), "grad_x": x.grad, "grad_weight": w.grad, "grad_bias": b.grad}


def batch_norm_train(x, weight, bias, mean, var):
    """PyTorch's BatchNorm2d training step; `mean` and `var` (running statistics) are updated in
    place with momentum 0.1 from the unbiased batch variance."""
    return F.batch_norm(x, mean, var, weight, bias, training=True, momentum=BN_MOMENTUM, eps=BN_EPS)


def batchnorm2d(inp: Tensors, case: dict) -> Tensors:
    assert case["momentum"] == BN_MOMENTUM and case["eps"] == BN_EPS, case
    x, w, b = leaf(inp["x"]), leaf(inp["weight"]), leaf(inp["bias"])
    mean, var = inp["running_mean_before"].clone(), inp["running_var_before"].clone()
    y = batch_norm_train(x, w, b, mean, var)
    y.backward(inp["grad_y"])
    with torch.no_grad():
        y_eval = F.batch_norm(x, mean, var, w, b, training=False, eps=BN_EPS)
    return {"y_train": y.detach(), "grad_x": x.grad, "grad_weight": w.grad, "grad_bias": b.grad,
            "running_mean_after": mean, "running_var_after": var, "y_eval_after": y_eval}


def maxpool2d(inp: Tensors, case: dict) -> Tensors:
    x = leaf(inp["x"])
    y = F.max_pool2d(x, case["kernel"], case["stride"], case["padding"])
    y.backward(inp["grad_y"])
    return {"y": y.detach(), "grad_x": x.grad}


def resize_bilinear(inp: Tensors, case: dict) -> Tensors:
    assert case["align_corners"] is False, case
    x = leaf(inp["x"])
    y = F.interpolate(x, size=tuple(case["out"]), mode="bilinear", align_corners=False)
    y.backward(inp["grad_y"])
    return {"y": y.detach(), "grad_x": x.grad}


def linear_xent(inp: Tensors, case: dict) -> Tensors:
    assert case["reduction"] == "mean", case
    x, w, b = leaf(inp["x"]), leaf(inp["weight"]), leaf(inp["bias"])
    logits = F.linear(x, w, b)
    loss = F.cross_entropy(logits, inp["labels"], reduction="mean")
    loss.backward()
    return {"logits": logits.detach(), "loss": loss.detach().reshape(1),
            "grad_x": x.grad, "grad_weight": w.grad, "grad_bias": b.grad}


def initial_theta(k: int) -> torch.Tensor:
    """θ_r = (r - 1) ln 0.5: initial weights halving from rank to rank."""
    return torch.arange(k, dtype=torch.float64) * math.log(0.5)


def top_k_pool(values: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """[C, M] -> [C]: per row, the k largest values weighted by softmax(θ[:k_eff]). A stable
    descending sort sends ties to the lower index, which torch.topk does not promise."""
    count = min(theta.numel(), values.shape[1])
    order = torch.sort(values.detach(), dim=1, descending=True, stable=True).indices[:, :count]
    top = torch.gather(values, 1, order)
    return (top * torch.softmax(theta[:count], 0)).sum(1)


def topk_pool(inp: Tensors, case: dict) -> Tensors:
    values, theta = leaf(inp["values"]), leaf(inp["theta"])
    assert theta.numel() == case["k"], case
    y = torch.stack([top_k_pool(values[b], theta) for b in range(values.shape[0])])
    y.backward(inp["grad_y"])
    return {"y": y.detach(), "grad_values": values.grad, "grad_theta": theta.grad}


def topk_pool_init(inp: Tensors, case: dict) -> Tensors:
    theta = initial_theta(case["k"])
    return {"theta": theta, "weights": torch.softmax(theta, 0)}


# ResNet blocks as torchvision names them; the same table gives the state-dict shapes of the
# whole networks (resnet*_state_dict_shapes.json).

def bn_shapes(prefix: str, channels: int) -> List[Tuple[str, List[int]]]:
    return [(prefix + n, [channels]) for n in ("weight", "bias", "running_mean", "running_var")] + [(prefix + "num_batches_tracked", [])]


def block_shapes(block: str, inputs: int, width: int, downsample: bool) -> List[Tuple[str, List[int]]]:
    """A torchvision BasicBlock's or Bottleneck's (v1.5) state-dict entries, in its order."""
    if block == "BasicBlock":
        outputs = width
        shapes = [("conv1.weight", [width, inputs, 3, 3])] + bn_shapes("bn1.", width)
        shapes += [("conv2.weight", [width, width, 3, 3])] + bn_shapes("bn2.", width)
    else:
        outputs = 4 * width
        shapes = [("conv1.weight", [width, inputs, 1, 1])] + bn_shapes("bn1.", width)
        shapes += [("conv2.weight", [width, width, 3, 3])] + bn_shapes("bn2.", width)
        shapes += [("conv3.weight", [outputs, width, 1, 1])] + bn_shapes("bn3.", outputs)
    if downsample:
        shapes += [("downsample.0.weight", [outputs, inputs, 1, 1])] + bn_shapes("downsample.1.", outputs)
    return shapes


RESNET_LAYERS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}


def resnet_state_dict_shapes(depth: int) -> Dict[str, List[int]]:
    block = "Bottleneck" if depth >= 50 else "BasicBlock"
    expansion = 4 if block == "Bottleneck" else 1
    shapes = [("conv1.weight", [64, 3, 7, 7])] + bn_shapes("bn1.", 64)
    inputs = 64
    for layer, count in enumerate(RESNET_LAYERS[depth]):
        width = 64 << layer
        for index in range(count):
            # torchvision downsamples where the stride or the channel count changes.
            downsample = index == 0 and (layer > 0 or inputs != width * expansion)
            shapes += [(f"layer{layer + 1}.{index}.{n}", s) for n, s in block_shapes(block, inputs, width, downsample)]
            inputs = width * expansion
    shapes += [("fc.weight", [1000, inputs]), ("fc.bias", [1000])]
    return dict(shapes)


def conv_bn(x, p, conv, bn, stride, padding, after):
    y = F.conv2d(x, p[conv + ".weight"], None, stride, padding)
    mean, var = p[bn + ".running_mean"].clone(), p[bn + ".running_var"].clone()
    y = batch_norm_train(y, p[bn + ".weight"], p[bn + ".bias"], mean, var)
    after[bn + ".running_mean"], after[bn + ".running_var"] = mean, var
    return y


def resnet_block_forward(block: str, x, p, stride: int, after: Tensors):
    """torchvision's blocks in training mode; v1.5 Bottleneck (stride on the 3x3)."""
    identity = x
    if "downsample.0.weight" in p:
        identity = conv_bn(x, p, "downsample.0", "downsample.1", stride, 0, after)
    if block == "BasicBlock":
        out = F.relu(conv_bn(x, p, "conv1", "bn1", stride, 1, after))
        out = conv_bn(out, p, "conv2", "bn2", 1, 1, after)
    else:
        out = F.relu(conv_bn(x, p, "conv1", "bn1", 1, 0, after))
        out = F.relu(conv_bn(out, p, "conv2", "bn2", stride, 1, after))
        out = conv_bn(out, p, "conv3", "bn3", 1, 0, after)
    return F.relu(out + identity)


def resnet_block(inp: Tensors, case: dict) -> Tensors:
    assert case["mode"] == "train", case
    p = {k[len("param."):]: (leaf(v) if v.is_floating_point() and "running" not in k else v) for k, v in inp.items() if k.startswith("param.")}
    x = leaf(inp["x"])
    # The metadata does not record the stride; the output size does (3x3, padding 1).
    height, out_height = x.shape[2], inp["grad_y"].shape[2]
    stride = next(s for s in (1, 2) if (height - 1) // s + 1 == out_height)
    after: Tensors = {}
    y = resnet_block_forward(case["block"], x, p, stride, after)
    y.backward(inp["grad_y"])
    out = {"y": y.detach(), "grad_x": x.grad}
    out.update({"grad." + k: v.grad for k, v in p.items() if isinstance(v, torch.Tensor) and v.requires_grad})
    out.update({"after." + k: v for k, v in after.items()})
    return out


# The MIMS head (docs/MODEL.md: MSConv, magnitude normalization, top-k, classifier), functional
# over the torch module names of the case files.

def scaled(size: int, scale: float) -> int:
    return size if scale == 1 else max(1, int(math.floor(size * scale + 0.5)))


def mims_head_logits(x, p: Tensors, case: dict, bag_sizes: List[int], after: Tensors):
    scales, kernels = case["scales"], case["kernels"]
    resized = []
    for s in scales:
        h, w = scaled(x.shape[2], s), scaled(x.shape[3], s)
        resized.append(x if (h, w) == tuple(x.shape[2:]) else F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False))
    pooled, offset = [], 0
    for g, (k, channels) in enumerate(kernels):
        outputs = []
        for i in range(len(scales)):
            y = F.conv2d(resized[i], p[f"msconv.convs.{g}.weight"], p[f"msconv.convs.{g}.bias"], 1, k // 2)
            bn = f"msconv.bns.{i}.{g}"
            mean, var = p[bn + ".running_mean"].clone(), p[bn + ".running_var"].clone()
            y = batch_norm_train(y, p[bn + ".weight"], p[bn + ".bias"], mean, var)
            after[bn + ".running_mean"], after[bn + ".running_var"] = mean, var
            outputs.append(y * p["msconv.sw"][i, offset:offset + channels].view(1, -1, 1, 1))
        # A channel's values ordered scale, slice, row, column (the tie order of top-k).
        rows, start = [], 0
        for size in bag_sizes:
            values = torch.cat([o[start:start + size].transpose(0, 1).reshape(channels, -1) for o in outputs], 1)
            rows.append(top_k_pool(values, p["topk.theta"]))
            start += size
        assert start == x.shape[0], (bag_sizes, x.shape)
        pooled.append(torch.stack(rows))
        offset += channels
    return F.linear(torch.cat(pooled, 1), p["fc.weight"], p["fc.bias"])


def heatmap_quantized(t: torch.Tensor) -> torch.Tensor:
    """P = round(255 T / max T), half to even (torch.round), zero when max T is 0."""
    top = t.max()
    return torch.zeros_like(t) if top <= 0 else torch.round(255 * t / top)


def mims_head(inp: Tensors, case: dict) -> Tensors:
    assert case["mode"] == "train", case
    p = {k[len("param."):]: (leaf(v) if v.is_floating_point() and "running" not in k else v) for k, v in inp.items() if k.startswith("param.")}
    x = leaf(inp["x"])
    bag_sizes = [int(s) for s in inp["bag_sizes"]]
    after: Tensors = {}
    logits = mims_head_logits(x, p, case, bag_sizes, after)
    loss = F.cross_entropy(logits, inp["labels"], reduction="mean")
    loss.backward(retain_graph=True)
    grad_x = x.grad.clone()
    # Supplement C at the head's input, on the same forward (training-mode BatchNorm over the
    # stacked bags): d = dlogit[bag 0, class 1]/dx. The parameters' .grad keep accumulating, so
    # the stored grad.* are the loss's plus this pass's, as the first generator stored them.
    x.grad = None
    logits[0, 1].backward()
    first = bag_sizes[0]
    t = (x.grad[:first] * x.detach()[:first]).sum(1).clamp(min=0)
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1), "grad_x": grad_x,
           "heatmap_T_bag0_class1": t, "heatmap_P_bag0_class1": heatmap_quantized(t)}
    out.update({"grad." + k: v.grad for k, v in p.items() if isinstance(v, torch.Tensor) and v.requires_grad})
    out.update({"after." + k: v for k, v in after.items()})
    return out


OPS: Dict[str, Callable[[Tensors, dict], Tensors]] = {
    "conv2d": conv2d, "batchnorm2d": batchnorm2d, "maxpool2d": maxpool2d, "resize_bilinear": resize_bilinear,
    "linear+cross_entropy": linear_xent, "topk_pool": topk_pool, "topk_pool_init": topk_pool_init,
    "resnet_block": resnet_block, "mims_head": mims_head,
}

# Stored outputs compared within ±1 rather than relatively: rounding half to even of a float32
# and of a float64 ratio can land on either side of .5.
QUANTIZED = {"heatmap_P_bag0_class1"}


def auroc(scores: List[float], labels: List[int]) -> float:
    """Mann-Whitney by counting pairs: a positive above a negative counts 1, a tie one half. NaN
    ranks lowest (docs/MODEL.md), where a plain `>` would make it lose to nothing; as -inf."""
    key = lambda s: -math.inf if math.isnan(s) else s
    positives = [key(s) for s, l in zip(scores, labels) if l == 1]
    negatives = [key(s) for s, l in zip(scores, labels) if l != 1]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


# ---------------------------------------------------------------------------------------------
# --check


def relative_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out.double() - ref).norm() / ref.norm())


def compare(stored: Tensors, computed: Tensors, inputs: Tensors) -> Tuple[List[str], float]:
    problems, worst = [], 0.0
    missing = sorted(set(computed) - set(stored))
    unchecked = sorted(set(stored) - set(computed) - set(inputs))
    if missing:
        problems.append(f"outputs not stored: {missing}")
    if unchecked:
        problems.append(f"stored tensors neither input nor output: {unchecked}")
    for key in sorted(set(computed) & set(stored)):
        out, ref = stored[key], computed[key]
        if tuple(out.shape) != tuple(ref.shape):
            problems.append(f"{key}: shape {list(out.shape)}, PyTorch {list(ref.shape)}")
        elif not out.is_floating_point():
            if not torch.equal(out, ref.to(out.dtype)):
                problems.append(f"{key}: integers differ")
        elif key in QUANTIZED:
            far = int(((out.double() - ref).abs() > 1).sum())
            if far:
                problems.append(f"{key}: {far} values off by more than 1")
        elif float(ref.norm()) < ZERO_NORM:
            error = float((out.double() - ref).abs().max())
            if error > ZERO_TOLERANCE:
                problems.append(f"{key}: zero in PyTorch, stored values up to {error:.3g}")
        else:
            error = relative_error(out, ref)
            worst = max(worst, error)
            if not error <= RELATIVE_TOLERANCE:
                problems.append(f"{key}: relative error {error:.3g}")
    return problems, worst


def read_case(path: str) -> Tuple[dict, Tensors]:
    with safe_open(path, framework="pt") as f:
        case = json.loads((f.metadata() or {})["case"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return case, tensors


def case_inputs(op: str, stored: Tensors, case: dict) -> Tensors:
    """The stored tensors the op reads; every other stored tensor is an output."""
    names = {
        "conv2d": ["x", "weight", "bias", "grad_y"],
        "batchnorm2d": ["x", "weight", "bias", "running_mean_before", "running_var_before", "grad_y"],
        "maxpool2d": ["x", "grad_y"], "resize_bilinear": ["x", "grad_y"],
        "linear+cross_entropy": ["x", "weight", "bias", "labels"],
        "topk_pool": ["values", "theta", "grad_y"], "topk_pool_init": [],
        "resnet_block": ["x", "grad_y"], "mims_head": ["x", "bag_sizes", "labels"],
    }[op]
    inputs = {k: stored[k] for k in names}
    if op in ("resnet_block", "mims_head"):
        inputs.update({k: v for k, v in stored.items() if k.startswith("param.")})
    return inputs


class Skipped(Exception):
    """A file --check has no PyTorch function for; reported, never passed over silently."""


def check_file(path: str) -> Tuple[List[str], float]:
    """The problems found in one file of the suite, and its largest relative error."""
    file = os.path.basename(path)
    if file.endswith(".safetensors"):
        case, stored = read_case(path)
        if case.get("op") not in OPS:
            raise Skipped(f"no PyTorch function for op {case.get('op')!r} in this script")
        inputs = case_inputs(case["op"], stored, case)
        return compare(stored, OPS[case["op"]](f64(inputs), case), inputs)
    if file == "auroc_cases.json":
        problems, worst = [], 0.0
        for index, c in enumerate(json.load(open(path))):
            value = auroc(c["scores"], c["labels"])
            worst = max(worst, abs(value - c["auroc"]))
            if abs(value - c["auroc"]) > 1e-12:
                problems.append(f"case {index}: auroc {c['auroc']}, pair counting {value}")
        return problems, worst
    if file.startswith("resnet") and file.endswith("_state_dict_shapes.json"):
        depth = int(file[len("resnet"):-len("_state_dict_shapes.json")])
        if depth not in RESNET_LAYERS:
            raise Skipped(f"no ResNet-{depth} in this script")
        stored_shapes, built = json.load(open(path)), resnet_state_dict_shapes(depth)
        if stored_shapes != built:
            extra, absent = sorted(set(stored_shapes) - set(built)), sorted(set(built) - set(stored_shapes))
            wrong = sorted(k for k in set(stored_shapes) & set(built) if stored_shapes[k] != built[k])
            return [f"names only stored {extra[:3]}, only built {absent[:3]}, shapes differ {wrong[:3]}"], 0.0
        if list(stored_shapes) != list(built):
            return ["same names and shapes, in another order than torchvision's state dict"], 0.0
        return [], 0.0
    raise Skipped("no check for this JSON file in this script")


def check(folder: str) -> int:
    failures, skips, count = [], [], 0
    for file in sorted(os.listdir(folder)):
        if not file.endswith((".safetensors", ".json")):
            continue
        name = file.rsplit(".", 1)[0]
        count += 1
        try:
            problems, worst = check_file(os.path.join(folder, file))
        except Skipped as reason:
            print(f"SKIPPED {name}: {reason}")
            skips.append(name)
            continue
        except Exception as error:  # an unreadable file or unexpected parameters: report, go on
            problems, worst = [f"{type(error).__name__}: {error}"], 0.0
        for problem in problems:
            print(f"MISMATCH {name} {problem}")
        if problems:
            failures.append(name)
        else:
            print(f"ok {name} (max rel err {worst:.2g})")
    if failures:
        print(f"{len(failures)} of {count} cases differ")
        # stderr too, so a caller that only keeps stderr on failure still learns which.
        print(f"golden cases differing from PyTorch: {', '.join(failures)}", file=sys.stderr)
        return 1
    if skips:
        # Not "ok N cases": a skipped case is not a checked one.
        print(f"ok {count - len(skips)} cases, {len(skips)} SKIPPED")
        return 0
    print(f"ok {count} cases")
    return 0


# ---------------------------------------------------------------------------------------------
# --write: seeded inputs with the committed suite's names, shapes and parameters.


class Inputs:
    """Draws float32-representable inputs, so the stored inputs are exactly what was computed on."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed)

    def normal(self, *shape, std=1.0, mean=0.0):
        return (mean + std * torch.randn(*shape, generator=self.generator)).float().double()

    def uniform(self, *shape, low=-1.0, high=1.0):
        return (low + (high - low) * torch.rand(*shape, generator=self.generator)).float().double()

    def integers(self, high, *shape):
        return torch.randint(0, high, shape, generator=self.generator)


CONV_CASES = [  # x shape, out channels, kernel, stride, padding, dilation
    ((2, 3, 13, 11), 5, 3, 1, 1, 1), ((2, 3, 17, 17), 4, 7, 2, 3, 1), ((1, 6, 9, 8), 5, 1, 2, 0, 1),
    ((2, 4, 7, 7), 3, 2, 1, 1, 1), ((2, 4, 9, 10), 3, 3, 1, 2, 2), ((1, 5, 12, 12), 6, 3, 2, 1, 1),
    ((3, 4, 4, 4), 2, 3, 1, 1, 1),
]
BN_CASES = [(4, 3, 5, 6), (2, 8, 3, 3), (18, 4, 1, 1)]
MAXPOOL_CASES = [(2, 3, 9, 9), (2, 3, 8, 11), (2, 3, 112, 112)]
RESIZE_CASES = [((7, 7), (4, 4)), ((7, 7), (5, 5)), ((14, 14), (7, 7)), ((13, 10), (10, 8)), ((5, 9), (9, 17)),
                ((28, 28), (224, 224)), ((1, 1), (3, 3))]
TOPK_CASES = [((2, 4, 30), 5), ((1, 3, 3), 5), ((3, 2, 7), 2)]
BLOCK_CASES = [  # name, block, x shape, width, stride
    ("basicblock", "BasicBlock", (2, 8, 6, 7), 8, 1), ("basicblock_down", "BasicBlock", (3, 8, 9, 9), 16, 2),
    ("bottleneck_down", "Bottleneck", (3, 16, 9, 8), 8, 2),
]
HEAD_CASES = [  # name, x shape, bag sizes, kernels
    ("mims_head_small", (4, 6, 3, 4), [2, 2], [[2, 4], [3, 5]]), ("mims_head_2d", (4, 10, 7, 7), [1, 1, 1, 1], [[1, 3], [2, 6]]),
    ("mims_head_3d", (8, 12, 7, 7), [5, 3], [[2, 4], [3, 5]]),
]
HEAD_PARAM_NAMES = "torch module names: msconv.convs.G.*, msconv.bns.I.G.*, msconv.sw [scales, N], topk.theta, fc.*"
AUROC_CASES = [  # ties inside and across the classes, all tied, perfect, reversed
    ([0.9, 0.8, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1], [1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0]),
    ([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), ([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]), ([0.4, 0.3, 0.2, 0.1], [0, 0, 1, 1]),
]


def generated_cases(seed: int):
    """(file name, case parameters, inputs) of the whole suite."""
    r = Inputs(seed)
    for i, (shape, out, k, stride, padding, dilation) in enumerate(CONV_CASES):
        y = F.conv2d(torch.zeros(shape), torch.zeros(out, shape[1], k, k), None, stride, padding, dilation)
        yield f"conv2d_{i}", {"op": "conv2d", "stride": stride, "padding": padding, "dilation": dilation}, {
            "x": r.normal(*shape), "weight": r.normal(out, shape[1], k, k, std=1 / math.sqrt(shape[1] * k * k)),
            "bias": r.normal(out, std=0.1), "grad_y": r.normal(*y.shape)}
    for i, shape in enumerate(BN_CASES):
        c = shape[1]
        yield f"batchnorm2d_{i}", {"op": "batchnorm2d", "momentum": BN_MOMENTUM, "eps": BN_EPS,
                                   "note": "y_eval_after uses the running stats after the train step"}, {
            "x": r.normal(*shape, std=1.5, mean=0.5), "weight": r.normal(c), "bias": r.normal(c),
            "running_mean_before": r.normal(c), "running_var_before": r.uniform(c, low=0.5, high=3.0), "grad_y": r.normal(*shape)}
    for i, shape in enumerate(MAXPOOL_CASES):
        out = (shape[0], shape[1], (shape[2] - 1) // 2 + 1, (shape[3] - 1) // 2 + 1)
        yield f"maxpool2d_{i}", {"op": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1}, {
            "x": r.normal(*shape), "grad_y": r.normal(*out)}
    for i, (size, out) in enumerate(RESIZE_CASES):
        yield f"resize_bilinear_{i}", {"op": "resize_bilinear", "align_corners": False, "out": list(out)}, {
            "x": r.normal(2, 3, *size), "grad_y": r.normal(2, 3, *out)}
    yield "linear_xent", {"op": "linear+cross_entropy", "reduction": "mean"}, {
        "x": r.normal(6, 18), "weight": r.normal(2, 18, std=0.25), "bias": r.normal(2, std=0.5), "labels": r.integers(2, 6)}
    for i, (shape, k) in enumerate(TOPK_CASES):
        yield f"topk_pool_{i}", {"op": "topk_pool", "k": k, "weights": "softmax(theta[:min(k,n)])"}, {
            "values": r.normal(*shape), "theta": initial_theta(k) + r.normal(k, std=0.1), "grad_y": r.normal(*shape[:2])}
    yield "topk_pool_init", {"op": "topk_pool_init", "k": 5}, {}
    for name, block, shape, width, stride in BLOCK_CASES:
        inputs = {"x": r.normal(*shape)}
        downsample = stride != 1 or shape[1] != width * (4 if block == "Bottleneck" else 1)
        for entry, s in block_shapes(block, shape[1], width, downsample):
            if entry.endswith("num_batches_tracked"):
                inputs["param." + entry] = torch.zeros((), dtype=torch.int64)
            elif entry.endswith("running_mean"):
                inputs["param." + entry] = torch.zeros(s)
            elif entry.endswith("running_var"):
                inputs["param." + entry] = torch.ones(s)
            elif entry.endswith("bias"):
                inputs["param." + entry] = r.normal(*s, std=0.1)
            elif len(s) == 1:
                inputs["param." + entry] = r.uniform(*s, low=0.1, high=1.7)
            else:
                inputs["param." + entry] = r.normal(*s, std=math.sqrt(2 / (s[0] * s[2] * s[3])))
        out = (shape[0], width * (4 if block == "Bottleneck" else 1), (shape[2] - 1) // stride + 1, (shape[3] - 1) // stride + 1)
        inputs["grad_y"] = r.normal(*out)
        yield name, {"op": "resnet_block", "block": block, "mode": "train"}, inputs
    for name, shape, bag_sizes, kernels in HEAD_CASES:
        scales, k, c = [0.5, 0.75, 1.0], 5, shape[1]
        features = sum(n for _, n in kernels)
        inputs = {"x": r.normal(*shape), "bag_sizes": torch.tensor(bag_sizes), "labels": r.integers(2, len(bag_sizes))}
        # Initialization as docs/MODEL.md, with sw and θ moved off 1 and ln 0.5 so their
        # gradients are tested away from the symmetric start.
        for g, (kernel, n) in enumerate(kernels):
            bound = 1 / math.sqrt(c * kernel * kernel)
            inputs[f"param.msconv.convs.{g}.weight"] = r.uniform(n, c, kernel, kernel, low=-bound, high=bound)
            inputs[f"param.msconv.convs.{g}.bias"] = r.uniform(n, low=-bound, high=bound)
            for i in range(len(scales)):
                bn = f"param.msconv.bns.{i}.{g}."
                inputs.update({bn + "weight": torch.ones(n), bn + "bias": torch.zeros(n), bn + "running_mean": torch.zeros(n),
                               bn + "running_var": torch.ones(n), bn + "num_batches_tracked": torch.zeros((), dtype=torch.int64)})
        inputs["param.msconv.sw"] = r.normal(len(scales), features, std=0.1, mean=1.0)
        inputs["param.topk.theta"] = initial_theta(k) + r.normal(k, std=0.1)
        bound = 1 / math.sqrt(features)
        inputs["param.fc.weight"] = r.uniform(2, features, low=-bound, high=bound)
        inputs["param.fc.bias"] = r.uniform(2, low=-bound, high=bound)
        yield name, {"op": "mims_head", "kernels": kernels, "scales": scales, "k": k, "mode": "train",
                     "param_names": HEAD_PARAM_NAMES}, inputs


def write(folder: str, seed: int) -> int:
    os.makedirs(folder, exist_ok=True)
    for name, case, inputs in generated_cases(seed):
        outputs = OPS[case["op"]](inputs, case)
        if "heatmap_P_bag0_class1" in outputs and float(outputs["heatmap_P_bag0_class1"].max()) != 255:
            # HeadGoldenTests expects a map with a maximum; an all-zero one tests nothing.
            print(f"warning: {name}'s heatmap is all zero; try another --seed", file=sys.stderr)
        tensors = {k: (v.detach().float() if v.is_floating_point() else v.long()).contiguous() for k, v in {**inputs, **outputs}.items()}
        save_file(tensors, os.path.join(folder, name + ".safetensors"), metadata={"case": json.dumps(case)})
        print(f"wrote {name}")
    cases = [{"scores": s, "labels": l, "auroc": auroc(s, l)} for s, l in AUROC_CASES]
    with open(os.path.join(folder, "auroc_cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    for depth in RESNET_LAYERS:
        with open(os.path.join(folder, f"resnet{depth}_state_dict_shapes.json"), "w") as f:
            json.dump(resnet_state_dict_shapes(depth), f, indent=0)
    print(f"wrote the suite into {folder}; check it with --check {folder}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", nargs="?", const=HERE, metavar="DIR", help="recompute and compare the cases in DIR (default: this folder)")
    mode.add_argument("--write", metavar="DIR", help="write a fresh suite into DIR")
    parser.add_argument("--seed", type=int, default=0, help="seed of --write's inputs")
    args = parser.parse_args()
    return check(args.check) if args.check else write(args.write, args.seed)


if __name__ == "__main__":
    sys.exit(main())
