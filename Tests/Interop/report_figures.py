"""Independent reading of a several-seed mims-train report for the report tests.

Usage: report_figures.py RUN SEED...

Reads RUN/report.html's inline SVG charts with Python's XML parser and recomputes what each
should show from the seeds' own files (RUN/seed-S/scores-test.csv), printing JSON:
  confusion: per seed, the counts the SVG cells show and the counts recomputed from the CSV
             (label row, predicted column: score >= 0.5 is class 1).
"""
import csv
import json
import os
import re
import sys
import xml.etree.ElementTree as E

NS = "{http://www.w3.org/2000/svg}"
run, seeds = sys.argv[1], sys.argv[2:]
html = open(os.path.join(run, "report.html"), encoding="utf-8").read()
charts = [E.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, re.S)]


def title(chart):
    return chart.find(NS + "title").text


def cells(chart):
    found = {}
    for g in chart.iter(NS + "g"):
        if g.get("class") == "cell":
            found[(int(g.get("data-row")), int(g.get("data-column")))] = int(g.find(NS + "text").text)
    n = int(len(found) ** 0.5)
    return [[found[(i, j)] for j in range(n)] for i in range(n)]


def confusion_from_scores(path):
    m = [[0, 0], [0, 0]]
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            m[int(row["label"])][1 if float(row["score"]) >= 0.5 else 0] += 1
    return m


out = {"confusion": {}}
for seed in seeds:
    shown = [c for c in charts if title(c) == "seed %s, threshold 0.5" % seed]
    out["confusion"][seed] = {
        "charts": len(shown),
        "svg": cells(shown[0]) if shown else None,
        "csv": confusion_from_scores(os.path.join(run, "seed-" + seed, "scores-test.csv")),
    }
print(json.dumps(out))
