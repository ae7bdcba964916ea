"""Independent reading of a several-seed mims-train report for the report tests.

Usage: report_figures.py RUN SEED...

Reads RUN/report.html's inline SVG charts with Python's XML parser and recomputes what each
should show from the seeds' own files (RUN/seed-S/scores-test.csv), printing JSON:
  confusion: per seed, the counts the SVG cells show and the counts recomputed from the CSV
             (label row, predicted column: score >= 0.5 is class 1).
  summary:   the results table's mean +- sd and 95% interval row as report.md prints them, and the
             same recomputed from the seeds' eval-test.json (statistics.stdev, scipy's Student t).
  mean_curve: the AUROC chart's mean line as its hover titles show it (iteration, mean, band low and
             high), and the same recomputed from the seeds' metrics.jsonl eval lines (mean +- 1 sd);
             and the number of band polygons in the AUROC and loss charts.
"""
import csv
import json
import os
import re
import statistics
import sys
import xml.etree.ElementTree as E

from scipy.stats import t as student_t

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
aurocs = [json.load(open(os.path.join(run, "seed-" + s, "eval-test.json")))["auroc"] for s in seeds]
md = open(os.path.join(run, "report.md"), encoding="utf-8").read()
mean_row = re.search(r"\| \*\*mean ± sd over (\d+) seeds\*\* \| \| \| \*\*([0-9.]+) ± ([0-9.]+)\*\*", md)
interval_row = re.search(r"\| 95% interval of the mean \(Student t, (\d+) df\) \| \| \| ([-0-9.]+) to ([-0-9.]+)", md)
n = len(aurocs)
mean, sd = statistics.mean(aurocs), statistics.stdev(aurocs)
half = student_t.ppf(0.975, n - 1) * sd / n ** 0.5
out["summary"] = {
    "report": None if not (mean_row and interval_row) else {
        "count": int(mean_row.group(1)), "mean": float(mean_row.group(2)), "sd": float(mean_row.group(3)),
        "df": int(interval_row.group(1)), "low": float(interval_row.group(2)), "high": float(interval_row.group(3))},
    "recomputed": {"count": n, "mean": mean, "sd": sd, "df": n - 1, "low": mean - half, "high": mean + half},
}

curves = {}
for s in seeds:
    for line in open(os.path.join(run, "seed-" + s, "metrics.jsonl")):
        o = json.loads(line)
        if o.get("type") == "eval" and o.get("auroc") is not None:
            curves.setdefault(o["iteration"], []).append(o["auroc"])
recomputed = []
for it in sorted(curves):
    v = curves[it]
    if len(v) == len(seeds):
        m, d = statistics.mean(v), statistics.stdev(v)
        recomputed.append([it, m, m - d, m + d])
auroc_chart = [c for c in charts if title(c).startswith("AUROC during training")][0]
loss_chart = [c for c in charts if title(c).startswith("Training loss")][0]
shown = []
for circle in auroc_chart.iter(NS + "circle"):
    text = circle.find(NS + "title").text
    m = re.match(r"mean ± sd over (\d+) seeds: iteration (\d+), AUROC ([-0-9.e]+) \(band ([-0-9.e]+) to ([-0-9.e]+)\)", text)
    if m:
        shown.append([int(m.group(2)), float(m.group(3)), float(m.group(4)), float(m.group(5))])


def bands(chart):
    return sum(1 for p in chart.iter(NS + "polygon") if p.get("class") == "band")


out["mean_curve"] = {"svg": shown, "recomputed": recomputed, "auroc_bands": bands(auroc_chart), "loss_bands": bands(loss_chart)}
print(json.dumps(out))
