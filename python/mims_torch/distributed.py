"""Data-parallel training over several processes (`torchrun --nproc_per_node N -m mims_torch.train`):
which process is which, the process group, and BatchNorm over the global batch.

Every rank computes the whole iteration's bags from (seed, iteration) (mims_torch.schedule) and
trains on its own contiguous share of them (`TrainingSchedule.share`), so the global batch is the
one a single process trains on. BatchNorm must then see that whole batch, as one process does:
on CUDA the layers become `torch.nn.SyncBatchNorm` (NCCL); torch refuses SyncBatchNorm on CPU, so
under gloo they become `GlobalBatchNorm2d` below, which computes the same thing (the mean and the
biased variance of the global batch for normalization, the unbiased one for the running variance)
with `all_reduce` in its forward and backward passes.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn


class DistributedError(ValueError):
    """A launch that cannot work; the message says why and what to change."""


@dataclasses.dataclass
class Context:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    # The process group GlobalBatchNorm2d reduces on (its own, so that its collectives never
    # interleave with DDP's gradient buckets on the default group).
    norm_group: Optional[object] = None

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def leader(self) -> bool:
        return self.rank == 0


def _environment_int(name: str) -> Optional[int]:
    text = os.environ.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise DistributedError(f"environment variable {name}={text!r} is not a whole number (torchrun sets it)") from None


def launched_world() -> int:
    """WORLD_SIZE as torchrun (or srun with torchrun) sets it; 1 when started as a plain process."""
    return _environment_int("WORLD_SIZE") or 1


def launched_rank() -> int:
    return _environment_int("RANK") or 0


def describe(device: str) -> Context:
    """The process's place in the launch, before any process group exists: rank, world size
    and the device it trains on (cuda:LOCAL_RANK under torchrun with --device cuda)."""
    world, rank = launched_world(), launched_rank()
    local = _environment_int("LOCAL_RANK") or 0
    if world < 1 or not 0 <= rank < world:
        raise DistributedError(f"RANK={rank} and WORLD_SIZE={world} do not describe a process of the launch")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DistributedError("--device cuda: torch sees no CUDA device (torch.cuda.is_available() is False); "
                                   "train with --device cpu, or install a CUDA build of torch on a GPU machine")
        if device == "cuda" and world > 1:
            count = torch.cuda.device_count()
            if local >= count:
                raise DistributedError(f"LOCAL_RANK {local}: this machine has {count} CUDA device(s); "
                                       f"start at most {count} processes per machine (torchrun --nproc_per_node {count})")
            chosen = torch.device("cuda", local)
        else:
            chosen = torch.device(device)
    else:
        chosen = torch.device("cpu")
    return Context(rank=rank, world=world, local_rank=local, device=chosen)


def start(context: Context) -> Context:
    """Joins the process group (NCCL for CUDA, gloo for CPU); a no-op for one process."""
    if not context.distributed:
        return context
    if context.device.type == "cuda":
        torch.cuda.set_device(context.device)
        try:
            dist.init_process_group("nccl", device_id=context.device)
        except TypeError:  # torch before 2.3 binds the device by set_device alone
            dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo", timeout=datetime.timedelta(minutes=30))
        context.norm_group = dist.new_group(backend="gloo")
    return context


def stop(context: Context) -> None:
    if context.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def synchronize_batch_norm(network: nn.Module, context: Context) -> nn.Module:
    """Every BatchNorm2d of `network` normalized over the global batch (state_dict names, shapes
    and values unchanged)."""
    if not context.distributed:
        return network
    if context.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(network)
    return GlobalBatchNorm2d.convert(network, context.norm_group)


def combine(value: torch.Tensor, context: Context, largest: bool = False) -> torch.Tensor:
    """The sum (or the largest) of `value` over every rank (a copy; `value` itself is left alone)."""
    total = value.detach().clone()
    if context.distributed:
        dist.all_reduce(total, op=dist.ReduceOp.MAX if largest else dist.ReduceOp.SUM)
    return total


def gather(items: list, context: Context) -> list:
    """Every rank's list, concatenated in rank order."""
    if not context.distributed:
        return list(items)
    parts = [None] * context.world
    dist.all_gather_object(parts, list(items))
    return [item for part in parts for item in part]


class _GlobalNormalization(torch.autograd.Function):
    """Batch normalization whose statistics are those of the inputs of every rank together."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group):
        channels = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        shape = [1, channels] + [1] * (x.dim() - 2)
        # float32 arithmetic for float32, bf16 and fp16 inputs (as autocast keeps BatchNorm), float64 for float64.
        compute = torch.float64 if x.dtype == torch.float64 else torch.float32
        xf = x.to(compute)
        local = torch.cat([xf.sum(dims, dtype=torch.float64), torch.tensor([xf.numel() // channels], dtype=torch.float64, device=x.device)])
        dist.all_reduce(local, group=group)
        count = local[channels]
        mean = local[:channels] / count
        # Two passes (the mean first, then the squared deviations) as a single process's BatchNorm does.
        squares = ((xf - mean.to(compute).view(shape)) ** 2).sum(dims, dtype=torch.float64)
        dist.all_reduce(squares, group=group)
        variance = squares / count
        invstd = torch.rsqrt(variance + eps).to(compute)
        mean32 = mean.to(compute)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype), alpha=momentum)
            unbiased = variance * count / max(float(count) - 1, 1.0)
            running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype), alpha=momentum)
        ctx.save_for_backward(xf, weight, mean32, invstd)
        ctx.group, ctx.count, ctx.dims, ctx.shape, ctx.dtype = group, float(count), dims, shape, x.dtype
        y = (xf - mean32.view(shape)) * (invstd * weight.to(compute)).view(shape) + bias.to(compute).view(shape)
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx, dy):
        xf, weight, mean, invstd = ctx.saved_tensors
        dims, shape, count = ctx.dims, ctx.shape, ctx.count
        dy = dy.to(xf.dtype)
        centered = xf - mean.view(shape)
        local = torch.cat([dy.sum(dims, dtype=torch.float64), (dy * centered).sum(dims, dtype=torch.float64)])
        channels = mean.numel()
        # The weight and bias gradients stay this rank's own: DDP averages them over the ranks,
        # and each rank's loss is scaled so that this average is the global batch's gradient.
        grad_weight = (local[channels:] * invstd.double()).to(weight.dtype)
        grad_bias = local[:channels].to(weight.dtype)
        total = local.clone()
        dist.all_reduce(total, group=ctx.group)
        mean_dy = (total[:channels] / count).to(xf.dtype).view(shape)
        mean_dy_centered = (total[channels:] / count).to(xf.dtype).view(shape)
        grad_input = (dy - mean_dy - centered * (invstd * invstd).view(shape) * mean_dy_centered) * (invstd * weight.to(xf.dtype)).view(shape)
        return grad_input.to(ctx.dtype), grad_weight, grad_bias, None, None, None, None, None


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d whose training-mode statistics are those of the global batch (all ranks);
    in evaluation mode, or outside a process group, it is nn.BatchNorm2d."""

    group = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size(self.group) > 1):
            return super().forward(x)
        self.num_batches_tracked.add_(1)
        return _GlobalNormalization.apply(x, self.weight, self.bias, self.running_mean, self.running_var, self.eps, self.momentum, self.group)

    @classmethod
    def convert(cls, module: nn.Module, group) -> nn.Module:
        if isinstance(module, nn.BatchNorm2d) and not isinstance(module, cls):
            if module.momentum is None or not module.affine or not module.track_running_stats:
                raise DistributedError("GlobalBatchNorm2d covers BatchNorm2d with momentum, affine parameters and running statistics only")
            replaced = cls(module.num_features, module.eps, module.momentum, device=module.weight.device, dtype=module.weight.dtype)
            replaced.group = group
            with torch.no_grad():
                replaced.weight.copy_(module.weight)
                replaced.bias.copy_(module.bias)
                replaced.running_mean.copy_(module.running_mean)
                replaced.running_var.copy_(module.running_var)
                replaced.num_batches_tracked.copy_(module.num_batches_tracked)
            replaced.weight.requires_grad_(module.weight.requires_grad)
            replaced.bias.requires_grad_(module.bias.requires_grad)
            replaced.train(module.training)
            return replaced
        for name, child in list(module.named_children()):
            module._modules[name] = cls.convert(child, group)
        return module
