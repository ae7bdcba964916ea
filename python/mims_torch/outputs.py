"""The files an evaluation leaves in a run folder, in mims-train's formats
(`Sources/MIMSTrain/Evaluation/RunOutputs.swift`): `scores-<split>.csv` (one row per record) and
`eval-<split>.json` (what the split's scores measure), so that `mims-train compare` and `report`
read a mims_torch run as their own."""

from __future__ import annotations

import os
import tempfile
from typing import List, Optional, Sequence, Tuple

from . import data, metrics

# ShardSchema.unlabelled: the label of a record ingested with `labels: none`.
UNLABELLED = -1


def csv_field(field: str) -> str:
    """CSVText.field: quoted only when it holds a comma, a quote or a line break."""
    if any(c in field for c in ',"\n\r'):
        return '"' + field.replace('"', '""') + '"'
    return field


def json_string(value: str) -> str:
    """JSONText.string: quotes, backslashes and control characters escaped, the rest as is
    (json.dumps would write \\b and \\f where Swift writes \\u0008 and \\u000c)."""
    out = ['"']
    for c in value:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20:
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return "".join(out) + '"'


def json_object(members: dict, multiline: bool = False) -> str:
    """JSONText.object: members (already JSON text) with keys in code-point order, one per line
    when `multiline`."""
    body = [json_string(key) + ":" + members[key] for key in sorted(members)]
    return "{\n  " + ",\n  ".join(body) + "\n}" if multiline else "{" + ",".join(body) + "}"


def names(class_names: Sequence[str], classes: int) -> List[str]:
    """RunOutputs.names: the shard set's class names when it names all `classes`, else class0, class1, ..."""
    return list(class_names) if len(class_names) == classes else [f"class{c}" for c in range(classes)]


def publish_text(text: str, path: str) -> None:
    """Written beside the target and renamed, so a failed run leaves no half file."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        # mkstemp creates the file private to its owner; a results file is as readable as any other.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_scores(results: List[Tuple[data.Record, List[float]]], path: str, class_names: Sequence[str] = ()) -> None:
    """RunOutputs.writeScores: `id,patient,label,score`, and with more than two classes one
    `p_<class>` column per class after it (`score` then being the most probable class's
    probability); an unlabelled record's label is empty."""
    classes = len(results[0][1]) if results else 2
    columns = "".join(",p_" + csv_field(n) for n in names(class_names, classes)) if classes > 2 else ""
    lines = []
    for record, values in results:
        label = "" if record.label == UNLABELLED else str(record.label)
        line = f"{csv_field(record.id)},{csv_field(record.patient)},{label},{metrics.score(values):.6f}"
        if classes > 2:
            line += "".join(f",{v:.6f}" for v in values)
        lines.append(line + "\n")
    publish_text(f"id,patient,label,score{columns}\n" + "".join(lines), path)


def _number(value: Optional[float]) -> str:
    return "null" if value is None else "%.6f" % value


def summary_text(split: str, iteration: int, records: int, result: metrics.Evaluation, class_names: Sequence[str] = ()) -> str:
    """RunOutputs.writeSummary's JSON: split, iteration (of the weights scored), records, classes,
    auroc, accuracy and the confusion matrix (`confusion_at_0.5` with two classes; `confusion`,
    `class_names` and `auroc_per_class` with more), and where patients have several records
    `patient_auroc`, `patients`, `patient_aggregation` (and `patients_with_mixed_labels`)."""
    matrix = "[" + ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in result.confusion) + "]"
    members = {"split": json_string(split), "iteration": str(iteration), "records": str(records), "classes": str(result.classes),
               "auroc": _number(result.auroc), "accuracy": "%.6f" % result.accuracy}
    if result.classes == 2:
        members["confusion_at_0.5"] = matrix
    else:
        named = names(class_names, result.classes)
        members["class_names"] = "[" + ",".join(json_string(n) for n in named) + "]"
        members["auroc_per_class"] = json_object({n: _number(v) for n, v in zip(named, result.class_auroc)})
        members["confusion"] = matrix
    patients = result.patients
    if patients is not None:
        members["patient_auroc"] = _number(patients.auroc)
        members["patients"] = str(len(patients.patients))
        members["patient_aggregation"] = json_string(patients.aggregation)
        if patients.mixed_labels:
            members["patients_with_mixed_labels"] = "[" + ",".join(json_string(p) for p in patients.mixed_labels) + "]"
    return json_object(members, multiline=True) + "\n"


def evaluate(results: List[Tuple[data.Record, List[float]]]) -> metrics.Evaluation:
    """The evaluation of scored records, per record and per patient."""
    return metrics.evaluate([p for _, p in results], [r.label for r, _ in results], [r.patient for r, _ in results])


def write(run: str, split: str, iteration: int, results: List[Tuple[data.Record, List[float]]], class_names: Sequence[str] = ()
          ) -> metrics.Evaluation:
    """RunOutputs.write: `run/scores-<split>.csv` and `run/eval-<split>.json` of the scored
    records; returns their evaluation."""
    result = evaluate(results)
    write_scores(results, os.path.join(run, f"scores-{split}.csv"), class_names)
    publish_text(summary_text(split, iteration, len(results), result, class_names), os.path.join(run, f"eval-{split}.json"))
    return result


def result_lines(split: str, result: metrics.Evaluation) -> List[str]:
    """What mims-train prints last about a scored split: `patient-level AUROC: x` where patients
    have several records, then `<split> AUROC: x` (`AUROC (macro)` with more than two classes)."""
    lines = [f"patient-level {result.auroc_name}: {metrics.format_auroc(result.patients.auroc)}"] if result.patients is not None else []
    return lines + [f"{split} {result.auroc_name}: {metrics.format_auroc(result.auroc)}"]
