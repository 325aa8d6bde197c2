# The two commands of README.md; each runs the idempotent set-up first.
VENV ?= .venv
TRISIM = $(VENV)/bin/trisim
DEMO_OUT ?= out/demo
DEMO_SCALE ?= 0.1

.PHONY: setup demo test bench setup-mpi test-mpi bench-mpi

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

# trisim against native NEST, NEURON and Brian2 scripts of seed 002, side by side, and a scaling
# sweep (benchmarks/results/coba_stp_vs_native.json and .png); ~25 min on 2 cores.
bench: setup
	$(VENV)/bin/python benchmarks/coba_stp_vs_native.py

# Opt-in: OpenMPI and NEST rebuilt from its sdist with MPI into the same venv (~20 min on 2 cores).
setup-mpi: setup
	bash scripts/setup_mpi.sh

# Runs across MPI processes (tests/test_mpi.py): one simulation, one NIX file, identical spikes.
test-mpi: setup-mpi
	$(VENV)/bin/python -m pytest -q -m mpi tests/test_mpi.py

# Speed-up of 2 MPI ranks over 1 on NEST and NEURON at full scale (benchmarks/results/coba_stp_mpi.json).
bench-mpi: setup-mpi
	$(VENV)/bin/python benchmarks/coba_stp_mpi.py
