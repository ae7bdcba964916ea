"""The bags of each training iteration, computed from docs/MODEL.md ("Bags and batches") alone.

usage: batch_schedule.py JSON   with {"labels": [...], "frames": [...], "bags": B, "slices": [lo, hi],
                                      "central": C, "balanced": bool, "seed": S, "iterations": N}
prints a JSON list, per iteration, of [record, [slices...]] pairs.
"""
import json
import sys

M = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform in [0, n): the high 64 bits of x * n, redrawn while the low bits fall short."""
        threshold = ((1 << 64) - n) % n
        while True:
            product = self.next() * n
            if (product & M) >= threshold:
                return product >> 64

    def closed(self, lo, hi):
        return lo + self.below(hi - lo + 1)


def mix(a, b, c):
    return SplitMix64(a ^ ((b * 0x9E3779B97F4A7C15) & M) ^ ((c * 0xC2B2AE3D27D4EB4F) & M)).next()


def permutation(n, seed, epoch):
    g = SplitMix64(mix(seed, 1, epoch))
    order = list(range(n))
    for t in range(n - 1):
        r = g.below(n - t)
        order[t], order[t + r] = order[t + r], order[t]
    return order


def slices(g, frames, lo, hi, central):
    count = min(central, frames)
    start = (frames - count) // 2
    pool = list(range(start, start + count))
    size = g.closed(min(lo, count), min(hi, count))
    for j in range(size):
        k = j + g.below(count - j)
        pool[j], pool[k] = pool[k], pool[j]
    return sorted(pool[:size])


def iteration(spec, i):
    labels, n, bags = spec["labels"], len(spec["labels"]), spec["bags"]
    g = SplitMix64(mix(spec["seed"], 2, i))
    records = []
    if spec["balanced"]:
        classes = sorted(set(labels))
        members = [[r for r in range(n) if labels[r] == c] for c in classes]
        for _ in range(bags):
            pool = members[g.below(len(members))]
            records.append(pool[g.below(len(pool))])
    else:
        for b in range(bags):
            p = i * bags + b
            records.append(permutation(n, spec["seed"], p // n)[p % n])
    lo, hi = spec["slices"]
    return [[r, slices(g, spec["frames"][r], lo, hi, spec["central"])] for r in records]


spec = json.loads(sys.argv[1])
print(json.dumps([iteration(spec, i) for i in range(spec["iterations"])]))
