"""What an evaluation measures, as `Sources/MIMSTrain/Evaluation/Metrics.swift` and
`Evaluation.swift` compute it: with two classes AUROC ranks the class-1 probability and accuracy
thresholds it at 0.5; with more, each class is ranked one-vs-rest by its own probability, AUROC is
the mean over the classes present in the split (macro), accuracy that of the most probable class.
Where patients have several records, the same per patient (each scored by the mean of its
records' class probabilities, mims-train's default patient score)."""

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


def confusion_at_half(scores: Sequence[float], labels: Sequence[int]) -> List[List[int]]:
    """Metrics.confusion(scores:labels:): [[true negatives, false positives], [false negatives,
    true positives]] at 0.5 (a label other than 1 counts as negative, a NaN score as below)."""
    m = [[0, 0], [0, 0]]
    for s, l in zip(scores, labels):
        m[1 if l == 1 else 0][1 if s >= 0.5 else 0] += 1
    return m


def confusion(predicted: Sequence[int], labels: Sequence[int], classes: int) -> List[List[int]]:
    """Metrics.confusion(predicted:labels:classes:): counts[true class][predicted class]; labels
    outside 0..C-1 are left out."""
    m = [[0] * classes for _ in range(classes)]
    for p, l in zip(predicted, labels):
        if 0 <= l < classes and 0 <= p < classes:
            m[l][p] += 1
    return m


@dataclasses.dataclass
class PatientLevel:
    """Trainer.PatientLevel with the mean patient score: `patients` as (patient id, label,
    records, class probabilities) sorted by id; `mixed_labels`, the patients left out because
    their records disagree on the label; `auroc` over the patients (macro with C > 2)."""

    patients: List[tuple]
    mixed_labels: List[str]
    auroc: Optional[float]
    aggregation: str = "mean"


def patient_level(probabilities: Sequence[Sequence[float]], labels: Sequence[int], patients: Sequence[str]) -> Optional[PatientLevel]:
    """None when records carry no patient ids or no patient has two records of one label (the
    level would repeat the records'). A patient's probabilities are the mean of its records',
    summed in record order as Swift sums them."""
    groups = {}
    for values, label, patient in zip(probabilities, labels, patients):
        if patient:
            groups.setdefault(patient, []).append((values, label))
    if not any(len(members) > 1 and len({l for _, l in members}) == 1 for members in groups.values()):
        return None
    classes = len(probabilities[0])
    kept, mixed = [], []
    for patient in sorted(groups):
        members = groups[patient]
        if len({l for _, l in members}) != 1:
            mixed.append(patient)
            continue
        mean = [sum(values[c] for values, _ in members) / len(members) for c in range(classes)]
        kept.append((patient, members[0][1], len(members), mean))
    patient_labels = [p[1] for p in kept]
    if classes == 2:
        value = auroc([p[3][1] for p in kept], patient_labels)
    else:
        value = macro_average(one_vs_rest([p[3] for p in kept], patient_labels, classes))
    return PatientLevel(kept, mixed, value)


@dataclasses.dataclass
class Evaluation:
    """Trainer.Evaluation's numbers for one split: `auroc` (two classes: of the class-1
    probability; more: macro one-vs-rest), `class_auroc`, `accuracy`, `confusion`
    (counts[true][predicted]; at 0.5 with two classes) and `patients` (None unless some
    patient has several records of one label)."""

    classes: int
    auroc: Optional[float]
    class_auroc: List[Optional[float]]
    accuracy: float
    confusion: List[List[int]] = dataclasses.field(default_factory=list)
    patients: Optional[PatientLevel] = None

    @property
    def auroc_name(self) -> str:
        """How mims-train's printed lines name `auroc`."""
        return "AUROC" if self.classes == 2 else "AUROC (macro)"


def evaluate(probabilities: Sequence[Sequence[float]], labels: Sequence[int], patients: Sequence[str] = ()) -> Evaluation:
    """The evaluation of records with these class probabilities and labels; with their patient
    ids also the patient level."""
    classes = len(probabilities[0]) if probabilities else 2
    per_class = one_vs_rest(probabilities, labels, classes)
    if classes == 2:
        scores = [p[1] for p in probabilities]
        correct = sum(1 for s, l in zip(scores, labels) if (1 if s >= 0.5 else 0) == l)
        value = auroc(scores, labels)
        matrix = confusion_at_half(scores, labels)
    else:
        predicted = [predicted_class(p) for p in probabilities]
        correct = sum(1 for p, l in zip(predicted, labels) if p == l)
        value = macro_average(per_class)
        matrix = confusion(predicted, labels, classes)
    level = patient_level(probabilities, labels, patients) if patients and probabilities else None
    return Evaluation(classes, value, per_class, correct / len(probabilities) if probabilities else 0.0, matrix, level)


def format_auroc(value: Optional[float]) -> str:
    """Experiment.format: three decimals, or why there is none."""
    return "n/a (one class only)" if value is None else f"{value:.3f}"
