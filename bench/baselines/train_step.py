"""Baseline for `mims-train bench`: the same ResNet training step in PyTorch on the CPU.

Times one step of torchvision-shaped ResNet-DEPTH (forward, backward, SGD update with momentum
0.9 and weight decay 1e-4) on BATCH random images of SIZE x SIZE with THREADS threads, the best of
REPEATS after a warm-up, then forward-only evaluation (`torch.no_grad()`, eval mode), in three
modes, each in its own process so that its peak resident memory is its own:
  fp32-nchw          float32, the default NCHW memory format
  fp32-channels-last float32, model and input in channels_last (PyTorch's fastest fp32 on CPU)
  bf16-autocast      torch.autocast("cpu", torch.bfloat16), channels_last
usage: train_step.py [DEPTH [BATCH [SIZE [THREADS [REPEATS [MODE]]]]]]   (no MODE: all three)
Needs torch (torchvision is not needed: the network is built here with torchvision's layout).
"""
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn

MODES = ["fp32-nchw", "fp32-channels-last", "bf16-autocast"]
numbers = [int(a) for a in sys.argv[1:6]]
depth, batch, size, threads, repeats = (numbers + [101, 16, 224, 2, 2][len(numbers):])[:5]
if len(sys.argv) <= 6:
    for mode in MODES:
        subprocess.run([sys.executable, __file__, str(depth), str(batch), str(size), str(threads), str(repeats), mode], check=True)
    sys.exit(0)
mode = sys.argv[6]
assert mode in MODES, f"mode must be one of {MODES}"
torch.set_num_threads(threads)
torch.manual_seed(1)


class Bottleneck(nn.Module):
    def __init__(self, inputs, width, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(inputs, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, width * 4, 1, bias=False), nn.BatchNorm2d(width * 4)
        self.downsample = None
        if stride != 1 or inputs != width * 4:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, width * 4, 1, stride, bias=False), nn.BatchNorm2d(width * 4))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class Basic(nn.Module):
    def __init__(self, inputs, width, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(inputs, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or inputs != width:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, width, 1, stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet(depth):
    blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth]
    block, expansion = (Bottleneck, 4) if depth >= 50 else (Basic, 1)
    layers, inputs = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 64
    for i, count in enumerate(blocks):
        for b in range(count):
            layers.append(block(inputs, 64 << i, 2 if b == 0 and i > 0 else 1))
            inputs = (64 << i) * expansion
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(inputs, 1000))


macs = {18: 1.81, 34: 3.66, 50: 4.09, 101: 7.80}[depth] * size * size / (224 * 224)
gflop = 2 * macs * batch
model = resnet(depth)
x = torch.rand(batch, 3, size, size) * 2 - 1
if mode != "fp32-nchw":
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
labels = torch.arange(batch) % 1000
autocast = mode == "bf16-autocast"


def step():
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        loss = nn.functional.cross_entropy(model(x), labels)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


step()
best = min(step() for _ in range(max(1, repeats)))
label = f"[PyTorch {torch.__version__}, {threads} threads]"
print(f"pytorch resnet{depth} train-step {batch}x{size} {mode}: {best:.2f} s ({3 * gflop / best:.1f} GFLOPS) {label}")
model.eval()
with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
    model(x)
    forward = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        model(x)
        forward = min(forward, time.perf_counter() - start)
print(f"pytorch resnet{depth} forward {batch}x{size} {mode}: {forward:.2f} s, {batch / forward:.1f} images/s ({gflop / forward:.1f} GFLOPS)")
print(f"pytorch {mode} peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
