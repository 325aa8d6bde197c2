#!/usr/bin/env bash
# Opt-in MPI set-up (`make setup-mpi`), after scripts/setup.sh: OpenMPI, and NEST rebuilt from its
# sdist with MPI into the same virtual environment (the PyPI wheel has OpenMP threads only).
# NEURON's wheel needs nothing more: it loads the MPI library at run time (ParallelContext).
# Idempotent: a NEST that already reports have_mpi is kept. The rebuild takes ~20 min on 2 cores;
# its log is $VENV/nest-mpi-build.log.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${TRISIM_VENV:-.venv}
NEST_VERSION=3.10.0

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup-mpi: no virtual environment $VENV; run scripts/setup.sh first" >&2
    exit 1
fi

APT_PACKAGES="build-essential cmake libboost-dev libltdl-dev libgsl-dev libopenmpi-dev openmpi-bin"
missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    echo "setup-mpi: installing system packages:" $missing
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

nest_has_mpi() {
    PYNEST_QUIET=1 "$VENV/bin/python" -c \
        "import sys, nest; sys.exit(0 if nest.build_info.get('have_mpi') else 1)" >/dev/null 2>&1
}

if nest_has_mpi; then
    echo "setup-mpi: NEST in $VENV already has MPI"
else
    echo "setup-mpi: building NEST $NEST_VERSION with MPI from the sdist (~20 min on 2 cores;" \
         "log: $VENV/nest-mpi-build.log)"
    # build dependencies first: the build runs without isolation, against the venv's numpy
    "$VENV/bin/pip" install -q "numpy>=2.0,<2.4" Cython==3.3.1 "scikit-build-core>=0.10" \
        "setuptools>=61" wheel mpi4py==4.1.2
    # _GLIBCXX_USE_CXX11_ABI=0: the ABI of the PyPI wheel, so extension modules built for the
    # wheel (NESTML, toolchain.md item 3) load into this build too.
    if ! CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$VENV/bin/pip" install -v --no-deps --force-reinstall \
            --no-build-isolation --no-binary nest-simulator \
            -C cmake.define.with-mpi=ON \
            -C cmake.define.CMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=0 \
            "nest-simulator==$NEST_VERSION" >"$VENV/nest-mpi-build.log" 2>&1; then
        echo "setup-mpi: the NEST build failed; last lines of $VENV/nest-mpi-build.log:" >&2
        tail -20 "$VENV/nest-mpi-build.log" >&2
        exit 1
    fi
    if ! nest_has_mpi; then
        echo "setup-mpi: NEST was rebuilt but does not report have_mpi" >&2
        exit 1
    fi
fi
# The build installs a nest-config that describes its temporary build directory. Leave none,
# as with the wheel: pyNN.nest would otherwise try (and fail) to build its extensions at every
# import, and trisim's NESTML target writes its own (trisim/codegen/nest.py).
if [ -f "$VENV/bin/nest-config" ] && grep -q "/tmp/" "$VENV/bin/nest-config"; then
    rm -f "$VENV/bin/nest-config"
fi
echo "setup-mpi: ready (mpirun $(mpirun --version 2>/dev/null | head -1 | awk '{print $NF}'))"
