#!/usr/bin/env bash
# make bench-science: the paper's Tables 1 and 2 in miniature (docs/BENCHMARKS.md).
# Table 1: the 11 methods; Table 2: the 7 aggregations of mims; each trained on the same synthetic
# Cirrus cubes with the same budget and seeds, then tabulated by `mims-train compare`.
#
# Restartable: a method whose every seed has its eval-test.json is kept; one that was cut off
# continues with --resume (runs resume bit for bit), so a killed benchmark loses at most a run's
# iterations since its last checkpoint.
#
# Environment: SCIENCE_RUN (output folder), SCIENCE_SEEDS (e.g. 1,2,3), SCIENCE_ITERATIONS,
# SCIENCE_COUNT (synthetic volumes), BIN (folder holding mims-ingest and mims-train).
set -euo pipefail

run=${SCIENCE_RUN:-science-run}
seeds=${SCIENCE_SEEDS:-1,2,3}
iterations=${SCIENCE_ITERATIONS:-60}
count=${SCIENCE_COUNT:-80}
bin=${BIN:-.build/release}

methods="mims mi-pre pyramid-mi-pre mi-pre-conv mims-noresizing pyramid-mims mi-pre-trident featpyra-4-5 resnet34-scratch mims-patchcls mi-pre-conv-patchcls"
aggregations="mims mims-top4 mims-top3 mims-top2 mims-max mims-mean mims-max-inst"

mkdir -p "$run"
if [ ! -f "$run/shards/splits.json" ]; then
  rm -rf "$run/source" "$run/shards"
  "$bin/mims-ingest" synth --dataset cirrus --small --count "$count" --seed 11 --out "$run/source" > /dev/null
  "$bin/mims-ingest" run "$run/source/manifest.yaml" --out "$run/shards" --log-format json > /dev/null
fi

finished() {  # every seed of run folder $1 has its test evaluation
  local seed
  for seed in ${seeds//,/ }; do [ -f "$1/seed-$seed/eval-test.json" ] || return 1; done
}

started=$(date +%s)
for name in $(echo $methods $aggregations | tr ' ' '\n' | awk '!seen[$0]++'); do
  out="$run/$name"
  if finished "$out"; then echo "$name: done before"; continue; fi
  resume=()
  [ -d "$out" ] && resume=(--resume)
  t0=$(date +%s)
  "$bin/mims-train" --shards "$run/shards" --pipeline "pipelines/science-$name.yaml" --out "$out" --seeds "$seeds" \
    --iterations "$iterations" --plain --no-report "${resume[@]}" > "$run/$name.txt" 2> "$run/$name.log"
  echo "$name: $(grep -E '^mean AUROC' "$run/$name.txt" | sed 's/^mean AUROC over [0-9]* seeds: /mean test AUROC /') ($(( $(date +%s) - t0 )) s)"
done

table() {  # $1: file stem, rest: method names
  local stem=$1; shift
  local folders=()
  for name in "$@"; do folders+=("$run/$name"); done
  "$bin/mims-train" compare "${folders[@]}" --format markdown --out "$run/$stem.md" > /dev/null
}
table table1-methods $methods
table table2-aggregations $aggregations
echo "science benchmark: $(( ($(date +%s) - started) / 60 )) min; seeds $seeds, $iterations iterations"
echo "== Table 1 (methods): $run/table1-methods.md"
cat "$run/table1-methods.md"
echo "== Table 2 (aggregations): $run/table2-aggregations.md"
cat "$run/table2-aggregations.md"
