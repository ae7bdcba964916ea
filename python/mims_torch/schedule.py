"""Which records and slices training iteration i uses, as a function of (seed, i) alone: docs/MODEL.md
"Bags and batches", as `Sources/MIMSTrain/Data/TrainingSchedule.swift` and `SliceSampler.swift` draw
them. Both engines must consume the generator identically (Swift's bounded-integer rule, one draw
even for a range of one value), or every later bag of the iteration differs.

Under data-parallel training every rank draws the whole iteration and keeps its share
(`TrainingSchedule.share`): rank r of W takes the bags floor(r B / W) ..< floor((r + 1) B / W) of
the iteration's B bags, in the order drawn. The ranks together train on exactly the bags one
process trains on."""

from __future__ import annotations

from typing import List, Sequence, Tuple

_MASK = (1 << 64) - 1


class SplitMix64:
    """The 64-bit generator of docs/MODEL.md, with Swift's `Int.random(in:using:)` on top."""

    def __init__(self, seed: int):
        self.state = seed & _MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """Uniform in [0, n): the high 64 bits of next() * n, drawn again while the low 64 bits
        fall below (2^64 - n) mod n (Swift's `next(upperBound:)`)."""
        threshold = ((1 << 64) - n) % n
        while True:
            product = self.next() * n
            if (product & _MASK) >= threshold:
                return product >> 64

    def closed(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)


def mix(a: int, b: int, c: int) -> int:
    """The first output of SplitMix64 seeded with a ^ b·φ ^ c·0xC2B2AE3D27D4EB4F (a stream's seed)."""
    seed = (a & _MASK) ^ ((b * 0x9E3779B97F4A7C15) & _MASK) ^ ((c * 0xC2B2AE3D27D4EB4F) & _MASK)
    return SplitMix64(seed).next()


class TrainingSchedule:
    """The bags of every training iteration: `choices(i)` is a list of (record, slices)."""

    def __init__(self, labels: Sequence[int], frame_counts: Sequence[int], bags: int, slices: Sequence[int],
                 central: int, class_balanced: bool, seed: int):
        self.labels, self.frame_counts = list(labels), list(frame_counts)
        self.bags, self.lo, self.hi, self.central = bags, slices[0], slices[1], central
        self.class_balanced, self.seed = class_balanced, seed
        self.members = [[r for r, label in enumerate(self.labels) if label == c] for c in sorted(set(self.labels))]
        self._epoch: Tuple[int, List[int]] = (-1, [])

    def permutation(self, epoch: int) -> List[int]:
        """Swift's `shuffled(using:)`: for amount = n down to 2, swap (n - amount) with a uniform
        position of the remaining tail."""
        if self._epoch[0] == epoch:
            return self._epoch[1]
        g = SplitMix64(mix(self.seed, 1, epoch))
        order = list(range(len(self.labels)))
        for t in range(len(order) - 1):
            r = g.below(len(order) - t)
            order[t], order[t + r] = order[t + r], order[t]
        self._epoch = (epoch, order)
        return order

    def central_window(self, frames: int) -> range:
        count = min(self.central, frames)
        start = (frames - count) // 2
        return range(start, start + count)

    def training_slices(self, g: SplitMix64, frames: int) -> List[int]:
        """SliceSampler.training: a uniform count in [lo, hi] (capped by the window), the first
        `count` entries of a partial Fisher-Yates over the central window, ascending."""
        pool = list(self.central_window(frames))
        size = g.closed(min(self.lo, len(pool)), min(self.hi, len(pool)))
        for j in range(size):
            k = j + g.below(len(pool) - j)
            pool[j], pool[k] = pool[k], pool[j]
        return sorted(pool[:size])

    def choices(self, iteration: int) -> List[Tuple[int, List[int]]]:
        g = SplitMix64(mix(self.seed, 2, iteration))
        records = []
        if self.class_balanced:
            for _ in range(self.bags):
                pool = self.members[g.below(len(self.members))]
                records.append(pool[g.below(len(pool))])
        else:
            n = len(self.labels)
            for slot in range(self.bags):
                position = iteration * self.bags + slot
                records.append(self.permutation(position // n)[position % n])
        # The slices are drawn after all the records, bag after bag, from the same stream.
        return [(record, self.training_slices(g, self.frame_counts[record])) for record in records]

    @staticmethod
    def share(bags: int, rank: int, world: int) -> range:
        """Which of an iteration's `bags` bags rank `rank` of `world` trains on: a contiguous
        block, the blocks in rank order, sizes differing by at most one."""
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is not in [0, {world})")
        return range(rank * bags // world, (rank + 1) * bags // world)
