"""What an evaluation measures, as `Sources/MIMSTrain/Evaluation/Metrics.swift` and
`Evaluation.swift` compute it: with two classes AUROC ranks the class-1 probability and accuracy
thresholds it at 0.5; with more, each class is ranked one-vs-rest by its own probability, AUROC is
the mean over the classes present in the split (macro), accuracy that of the most probable class."""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence


def auroc(scores: Sequence[float], labels: Sequence[int]) -> Optional[float]:
    """Metrics.auroc: Mann-Whitney with ties as one half, NaN scores ranked lowest; None without
    both classes (label 1 against every other label)."""
    values = [float("-inf") if s != s else s for s in scores]
    positives = sum(1 for l in labels if l == 1)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(values)), key=lambda i: values[i])
    rank_sum, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2 + 1
        rank_sum += sum(mid for k in range(i, j + 1) if labels[order[k]] == 1)
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def one_vs_rest(probabilities: Sequence[Sequence[float]], labels: Sequence[int], classes: int) -> List[Optional[float]]:
    """Metrics.oneVsRestAUROC: each class's probabilities ranked against "label is c"; None for a
    class absent from the labels (or the only one in them)."""
    return [auroc([p[c] for p in probabilities], [1 if l == c else 0 for l in labels]) for c in range(classes)]


def macro_average(values: Sequence[Optional[float]]) -> Optional[float]:
    """Metrics.macroAverage: the mean of the AUROCs that exist; None when none does."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def predicted_class(probabilities: Sequence[float]) -> int:
    """Metrics.predictedClass: the class of highest probability, the lowest index on ties."""
    best = 0
    for c in range(len(probabilities)):
        if probabilities[c] > probabilities[best]:
            best = c
    return best


def score(probabilities: Sequence[float]) -> float:
    """Evaluator.Scored.score: the class-1 probability with two classes, else the probability of
    the predicted class."""
    return probabilities[1] if len(probabilities) == 2 else probabilities[predicted_class(probabilities)]


@dataclasses.dataclass
class Evaluation:
    """Trainer.Evaluation's record-level numbers for one split: `auroc` (two classes: of the
    class-1 probability; more: macro one-vs-rest), `class_auroc`, `accuracy`."""

    classes: int
    auroc: Optional[float]
    class_auroc: List[Optional[float]]
    accuracy: float

    @property
    def auroc_name(self) -> str:
        """How mims-train's printed lines name `auroc`."""
        return "AUROC" if self.classes == 2 else "AUROC (macro)"


def evaluate(probabilities: Sequence[Sequence[float]], labels: Sequence[int]) -> Evaluation:
    classes = len(probabilities[0]) if probabilities else 2
    per_class = one_vs_rest(probabilities, labels, classes)
    if classes == 2:
        scores = [p[1] for p in probabilities]
        correct = sum(1 for s, l in zip(scores, labels) if (1 if s >= 0.5 else 0) == l)
        value = auroc(scores, labels)
    else:
        correct = sum(1 for p, l in zip(probabilities, labels) if predicted_class(p) == l)
        value = macro_average(per_class)
    return Evaluation(classes, value, per_class, correct / len(probabilities) if probabilities else 0.0)


def format_auroc(value: Optional[float]) -> str:
    """Experiment.format: three decimals, or why there is none."""
    return "n/a (one class only)" if value is None else f"{value:.3f}"
