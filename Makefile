# The two commands of README.md; each runs the idempotent set-up first.
VENV ?= .venv
TRISIM = $(VENV)/bin/trisim
DEMO_OUT ?= out/demo
DEMO_SCALE ?= 0.1
DEMO_SEEDS ?= 5

.PHONY: setup demo test docs docs-figures bench setup-mpi test-mpi test-mpi-neuron bench-mpi

setup:
	bash scripts/setup.sh

# The main job: validate seed 002 at small scale on all three simulators. Exit status 1 from
# validate with a verdict written means "the backends disagree", a result the report shows; 1
# without a verdict (a failed run) and 2 (bad input) fail the demo.
demo: setup
	rm -f $(DEMO_OUT)/verdict.json
	$(TRISIM) validate coba_stp --backends nest,neuron,brian2 --scale $(DEMO_SCALE) \
	    --seeds $(DEMO_SEEDS) --out $(DEMO_OUT); status=$$?; \
	    test $$status -eq 0 -o \( $$status -eq 1 -a -f $(DEMO_OUT)/verdict.json \) || exit $$status
	@echo "demo: open $(DEMO_OUT)/report.html in a browser (verdict: $(DEMO_OUT)/verdict.json)"

# Two worker processes (pytest-xdist), each taking whole test modules: a module's shared runs
# (module-scoped fixtures) are made once; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: setup
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The documentation site (docs/, Sphinx + numpydoc + MyST) into docs/_build/html; every warning
# (a broken cross-reference included: nitpicky) fails the build. About a minute on 2 cores.
docs: setup
	PYNEST_QUIET=1 $(VENV)/bin/python -m sphinx -b html -n -W --keep-going -q docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# The model pages' figures (docs/figures/*.png, committed): small runs and experiments of trisim's
# own commands, one backend each (docs/figures.py); a few minutes on 2 cores, niced.
docs-figures: setup
	nice -n 10 $(VENV)/bin/python docs/figures.py

# trisim against native NEST, NEURON and Brian2 scripts of seed 002, side by side (whole process,
# build, run, memory; medians of 3), and a scaling sweep; ~40 min on 2 cores. Results per commit
# in benchmarks/results/<benchmark>/<commit>.json; niced, so that it yields to other work.
bench: setup
	nice -n 10 $(VENV)/bin/python benchmarks/coba_stp_vs_native.py

# Opt-in: OpenMPI and NEST rebuilt from its sdist with MPI into the same venv (~20 min on 2 cores).
setup-mpi: setup
	bash scripts/setup_mpi.sh

# Runs across MPI processes (tests/test_mpi.py): one simulation, one NIX file, identical spikes.
test-mpi: setup-mpi
	$(VENV)/bin/python -m pytest -q -m mpi tests/test_mpi.py

# The MPI runs that need no NEST rebuild: NEURON's wheel has MPI (mpirun: openmpi-bin).
test-mpi-neuron: setup
	$(VENV)/bin/python -m pytest -q -m "mpi and not nest_mpi" tests/test_mpi.py

# Speed-up of 2 MPI ranks over 1 on NEST and NEURON at full scale (benchmarks/results/coba_stp_mpi/).
bench-mpi: setup-mpi
	$(VENV)/bin/python benchmarks/coba_stp_mpi.py
