# The two commands of README.md; each runs the idempotent set-up first.
VENV ?= .venv
TRISIM = $(VENV)/bin/trisim
DEMO_OUT ?= out/demo
DEMO_SCALE ?= 0.1

.PHONY: setup demo test bench

setup:
	bash scripts/setup.sh

# Seed 002 at small scale on all three simulators, then its Elephant summary and plots.
demo: setup
	for backend in nest neuron brian2; do \
	    $(TRISIM) run coba_stp --backend $$backend --scale $(DEMO_SCALE) --out $(DEMO_OUT) || exit 1; \
	    $(TRISIM) analyze $(DEMO_OUT)/coba_stp_$${backend}_seed11922.nix || exit 1; \
	done
	@echo "demo: results in $(DEMO_OUT)/ (*.summary.json, *.analysis.json, *.png)"

test: setup
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python benchmarks/coba_stp_backends.py
