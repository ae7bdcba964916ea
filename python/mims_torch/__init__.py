"""PyTorch side of mims (issue 15): the models of docs/MODEL.md over the shard folders that
mims-ingest writes, with the tensor names of mims-train's checkpoints, so a checkpoint trained in
Swift is scored here with the same numbers, and a run trained here (on GPUs, data-parallel under
torchrun: docs/GPU.md) is read by mims-train as its own."""

__version__ = "0.1.0"
