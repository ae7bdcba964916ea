# mims — build, test, demo and benchmark targets. Every target first makes sure the Debian
# libraries are present (`make deps`), so a fresh machine needs nothing else.

SWIFT        ?= swift
DEB_PACKAGES := libhdf5-dev libopenblas-dev libdnnl-dev libjpeg-dev libpng-dev libtiff-dev zlib1g-dev libdeflate-dev libopenjp2-7-dev libxml2-dev libgdcm-dev librsvg2-dev pkg-config
PY_PACKAGES  := h5py numpy scipy Pillow tifffile pydicom torch safetensors pyyaml oct-converter eyepy
DEMO_RUN     ?= demo-run
# Extra mims-train options for the demo's training run, e.g. make demo DEMO_TRAIN_FLAGS="--precision bf16"
DEMO_TRAIN_FLAGS ?=

.PHONY: all deps py-deps build debug test demo scale-demo bench bench-science clean fixtures golden

all: build

## deps: install the Debian -dev packages when missing (as root), else print the command to run
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || exit 1; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

## py-deps: Python packages the interop tests use: independent readers (h5py, Pillow, eyepy for Heyex XML), scipy (Student t), and, for
## python/mims_torch and its test against mims-train, torch, safetensors and PyYAML
py-deps:
	@python3 -c "import h5py, numpy, scipy, PIL, tifffile, pydicom, torch, safetensors, yaml, oct_converter, eyepy" 2>/dev/null || python3 -m pip install -q $(PY_PACKAGES)

## build: release binaries in .build/release/
build: deps
	$(SWIFT) build -c release --product mims-ingest
	$(SWIFT) build -c release --product mims-split
	$(SWIFT) build -c release --product mims-train

debug: deps
	$(SWIFT) build

## test: the whole test suite, optimized (numeric and fuzz tests are 10-50x slower in debug builds);
## its own build folder keeps the testable build apart from the release binaries
TEST_FLAGS := -c release -Xswiftc -enable-testing --scratch-path .build-test
test: deps py-deps
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	$(SWIFT) test --skip-build --disable-xctest $(TEST_FLAGS)

## demo: the embedded default, end to end into ./demo-run/: synthesize small Cirrus cubes, ingest
## them into verified split shards, print the split report, train MIMS-CNN, write the report with
## plots and heatmaps, score the heatmaps in the pointing game, evaluate on the test split
demo: build
	rm -rf $(DEMO_RUN)
	.build/release/mims-ingest synth --dataset cirrus --small --count 80 --seed 7 --out $(DEMO_RUN)/source
	.build/release/mims-ingest run $(DEMO_RUN)/source/manifest.yaml --out $(DEMO_RUN)/shards --log-format text
	.build/release/mims-ingest verify $(DEMO_RUN)/shards
	.build/release/mims-split report $(DEMO_RUN)/shards
	.build/release/mims-train --shards $(DEMO_RUN)/shards --pipeline pipelines/demo-cirrus-small.yaml --out $(DEMO_RUN)/run \
	  --lesions $(DEMO_RUN)/source/lesions.json --plain $(DEMO_TRAIN_FLAGS)
	.build/release/mims-train heatmap --shards $(DEMO_RUN)/shards --checkpoint $(DEMO_RUN)/run/checkpoint.safetensors \
	  --out $(DEMO_RUN)/heatmaps --lesions $(DEMO_RUN)/source/lesions.json
	@echo "report: $(DEMO_RUN)/run/report.html"
	.build/release/mims-train eval --shards $(DEMO_RUN)/shards --checkpoint $(DEMO_RUN)/run/checkpoint.safetensors

## scale-demo: a split ingest on this machine (docs/SCALE.md): synthesize tiles, ingest them as 4
## parts running at once, merge them, and compare the merged set, through h5py, with a
## single-process ingest of the same manifest
SCALE_RUN     ?= scale-run
SCALE_DATASET ?= crc-msi
SCALE_COUNT   ?= 600
SCALE_PARTS   ?= 4
scale-demo: deps py-deps
	$(SWIFT) build -c release --product mims-ingest
	$(SWIFT) build -c release --product mims-split
	rm -rf $(SCALE_RUN)
	.build/release/mims-ingest synth --dataset $(SCALE_DATASET) --small --count $(SCALE_COUNT) --seed 3 --out $(SCALE_RUN)/source
	@# Small shards, so that parts cut through them as they would on a real dataset.
	sed -i 's/records_per_shard: [0-9]*/records_per_shard: 64/' $(SCALE_RUN)/source/manifest.yaml
	@mkdir -p $(SCALE_RUN)/logs; echo "$(SCALE_PARTS) parts at once, one worker each:"
	@start=$$(date +%s.%N); pids=""; last=$$(($(SCALE_PARTS) - 1)); \
	for i in $$(seq 0 $$last); do \
	  .build/release/mims-ingest run $(SCALE_RUN)/source/manifest.yaml --out $(SCALE_RUN)/part-$$i --part $$i/$(SCALE_PARTS) \
	    --jobs 1 --log-format text 2> $(SCALE_RUN)/logs/part-$$i.log & pids="$$pids $$!"; \
	done; \
	for pid in $$pids; do wait $$pid || { cat $(SCALE_RUN)/logs/part-*.log; exit 1; }; done; \
	grep -h "files matched:" $(SCALE_RUN)/logs/part-*.log; \
	echo "parts: $$(awk "BEGIN { printf \"%.1f\", $$(date +%s.%N) - $$start }") s"
	.build/release/mims-ingest merge $(SCALE_RUN)/part-* --out $(SCALE_RUN)/merged --log-format text
	@start=$$(date +%s.%N); \
	.build/release/mims-ingest run $(SCALE_RUN)/source/manifest.yaml --out $(SCALE_RUN)/single --jobs $(SCALE_PARTS) --log-format text \
	  2> $(SCALE_RUN)/logs/single.log || { cat $(SCALE_RUN)/logs/single.log; exit 1; }; \
	grep -h "files matched:" $(SCALE_RUN)/logs/single.log; \
	echo "single process, $(SCALE_PARTS) workers: $$(awk "BEGIN { printf \"%.1f\", $$(date +%s.%N) - $$start }") s"
	.build/release/mims-ingest verify $(SCALE_RUN)/merged
	.build/release/mims-split check $(SCALE_RUN)/merged
	python3 Tests/Interop/shard_set_records.py $(SCALE_RUN)/merged > $(SCALE_RUN)/merged.json
	python3 Tests/Interop/shard_set_records.py $(SCALE_RUN)/single > $(SCALE_RUN)/single.json
	cmp $(SCALE_RUN)/merged.json $(SCALE_RUN)/single.json
	@echo "merged set = single run: the same records, frames, labels, patients, splits, rejects and warnings (h5py, by id)"

## bench-science: the paper's Tables 1 and 2 in miniature: the 11 methods and the 7 aggregations of
## mims trained on the same synthetic Cirrus cubes, budget and seeds, tabulated by mims-train compare
## (about an hour on 2 cores; restartable: rerun to continue; docs/BENCHMARKS.md)
SCIENCE_RUN        ?= science-run
SCIENCE_SEEDS      ?= 1,2,3
SCIENCE_ITERATIONS ?= 60
bench-science: build
	SCIENCE_RUN=$(SCIENCE_RUN) SCIENCE_SEEDS=$(SCIENCE_SEEDS) SCIENCE_ITERATIONS=$(SCIENCE_ITERATIONS) bash bench/science_tables.sh

## bench: release-build benchmarks (docs/BENCHMARKS.md records results)
bench: deps py-deps
	$(SWIFT) build -c release --product mims-bench
	$(SWIFT) build -c release --product mims-train
	.build/release/mims-bench
	@if python3 -c "import torch" 2>/dev/null; then python3 bench/train_step_ratios.py .build/release/mims-train; \
	else .build/release/mims-train bench; echo "PyTorch baseline skipped: torch is not installed (pip install torch)"; fi

## fixtures: regenerate the image test fixtures (committed; needs Pillow, tifffile, tiffcp)
fixtures: py-deps
	@command -v tiffcp >/dev/null || apt-get install -y -qq libtiff-tools
	python3 Tests/Fixtures/make_image_fixtures.py

## golden: recompute every golden case (Tests/Fixtures/golden) in PyTorch float64 and compare with
## the committed files (GoldenRegenerationTests runs the same check). To regenerate or extend the
## suite, write it elsewhere, check it, then copy what should change:
##   python3 Tests/Fixtures/golden/make_golden.py --write /tmp/golden --seed 0
##   python3 Tests/Fixtures/golden/make_golden.py --check /tmp/golden
golden: py-deps
	python3 Tests/Fixtures/golden/make_golden.py --check

clean:
	rm -rf .build .build-test $(DEMO_OUT) $(SCALE_RUN)
