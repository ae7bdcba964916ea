"""Independent split assignment for the mims-split tests: the rules of SplitAssigner and
KFoldAssignment (docs/SPLITS.md), written again from their description, Python 3 stdlib only.

Reads JSON from the file given as the first argument:
  {"seed": N, "policy": {...}, "records": [{"id", "patient", "label", "official_split"?}, ...]}
with policy one of
  {"kind": "ratio", "train": f, "val": f, "test": f}
  {"kind": "kfold", "folds": k, "index": i}
  {"kind": "official"}, {"kind": "official-move", "fraction": f}, {"kind": "unlabelled"}
and prints {"assignment": {id: split}, "moved": [...], "straddling_patients": [...]}.
"""
import hashlib
import json
import math
import sys


def seeded_key(seed, key):
    # The seeded shuffle: SHA-256 of "seed:key" (seed in decimal), hex; ties (never seen) by key.
    return (hashlib.sha256(f"{seed}:{key}".encode("utf-8")).hexdigest(), key)


def seeded_order(keys, seed):
    return sorted(keys, key=lambda k: seeded_key(seed, k))


def round_half_away(x):
    # Python's round() rounds halves to even; the assigner rounds them away from zero.
    f = math.floor(abs(x))
    r = f + 1 if abs(x) - f >= 0.5 else f
    return int(math.copysign(r, x))


def strata(records, patient_of):
    """Patients by the smallest label any of their records carries."""
    smallest = {}
    for r in records:
        p = patient_of(r)
        smallest[p] = min(smallest.get(p, r["label"]), r["label"])
    by_label = {}
    for p, label in smallest.items():
        by_label.setdefault(label, []).append(p)
    return by_label


def ratio(records, seed, fractions):
    # Records are grouped under their patient id as given (an empty one is one group).
    side_of = {}
    for patients in strata(records, lambda r: r["patient"]).values():
        ordered = seeded_order(patients, seed)
        boundaries, cumulative = [], 0.0
        for _, fraction in fractions:
            cumulative += fraction
            boundaries.append(round_half_away(cumulative * len(ordered)))
        for index, patient in enumerate(ordered):
            side = next((i for i, b in enumerate(boundaries) if index < b), len(fractions) - 1)
            side_of[patient] = fractions[side][0]
    return {r["id"]: side_of[r["patient"]] for r in records}


def kfold(records, seed, folds, index):
    # Here a record without a patient id is a patient of its own.
    def patient(r):
        return r["patient"] if r["patient"] else "record:" + r["id"]

    fold_of = {}
    for patients in strata(records, patient).values():
        for position, p in enumerate(seeded_order(patients, seed)):
            fold_of[p] = position % folds
    return {r["id"]: "test" if fold_of[patient(r)] == index else "train" for r in records}


def official(records):
    return {r["id"]: r.get("official_split") or "train" for r in records}


def assign(records, policy, seed):
    kind = policy["kind"]
    moved, straddling = [], []
    if kind == "ratio":
        assignment = ratio(records, seed, [("train", policy["train"]), ("val", policy["val"]), ("test", policy["test"])])
    elif kind == "kfold":
        assignment = kfold(records, seed, policy["folds"], policy["index"])
    elif kind == "official":
        assignment = official(records)
    elif kind == "unlabelled":
        assignment = {r["id"]: "test" for r in records}
    elif kind == "official-move":
        assignment = official(records)
        test = seeded_order([r["id"] for r in records if assignment[r["id"]] == "test"], seed)
        moved = sorted(test[: round_half_away(policy["fraction"] * len(test))])
        for i in moved:
            assignment[i] = "train"
        sides = {}
        for r in records:
            sides.setdefault(r["patient"], set()).add(assignment[r["id"]])
        straddling = sorted(p for p, s in sides.items() if len(s) > 1)
    else:
        raise SystemExit(f"unknown policy kind {kind!r}")
    return {"assignment": assignment, "moved": moved, "straddling_patients": straddling}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    print(json.dumps(assign(request["records"], request["policy"], int(request["seed"])), sort_keys=True))


if __name__ == "__main__":
    main()
