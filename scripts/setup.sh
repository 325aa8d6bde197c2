#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 / Python 3.11 machine: system packages, a virtual
# environment with the pinned simulators, PyNN's NEURON mechanisms, and trisim itself.
# Each step is skipped when its result is already there, so a second call takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${TRISIM_VENV:-.venv}
PYTHON=${PYTHON:-python3.11}

APT_PACKAGES="build-essential cmake libboost-dev libltdl-dev libgsl-dev libopenmpi-dev openmpi-bin"
missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    echo "setup: installing system packages:" $missing
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
fi

# Reinstall only when the dependency pins changed (the test and docs extras included).
stamp="$VENV/.trisim-deps"
want=$(sha256sum setup.cfg pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing Python dependencies (pinned in setup.cfg)"
    "$VENV/bin/pip" install -q -e ".[test,docs]"
    echo "$want" > "$stamp"
fi

# PyNN's NEURON backend needs its NMODL mechanisms compiled once per installation.
venv_abs=$(realpath "$VENV")
nmodl_dir=$("$VENV/bin/python" -c "import os, pyNN; print(os.path.join(os.path.dirname(pyNN.__file__), 'neuron', 'nmodl'))")
if ! ls "$nmodl_dir"/x86_64/libnrnmech.* "$nmodl_dir"/*/libnrnmech.* >/dev/null 2>&1; then
    echo "setup: compiling PyNN's NEURON mechanisms in $nmodl_dir"
    (cd "$nmodl_dir" && PATH="$venv_abs/bin:$PATH" nrnivmodl >/dev/null)
fi
# PyNN's own system-test scenarios and example scripts (tests/test_pynn_scenarios.py and the
# unchanged-script tests) are not in its wheel: they come from its source distribution on the
# package index, same version, unpacked once into the virtual environment.
pynn_version=$("$VENV/bin/python" -c "from importlib.metadata import version; print(version('PyNN'))")
pynn_source="$VENV/share/trisim/pynn-$pynn_version"
if [ ! -d "$pynn_source/test/system/scenarios" ]; then
    echo "setup: unpacking PyNN $pynn_version's test scenarios and examples into $pynn_source"
    download=$(mktemp -d)
    "$VENV/bin/pip" download -q --no-deps --no-binary :all: "PyNN==$pynn_version" -d "$download"
    tar xzf "$download"/*.tar.gz -C "$download"
    mkdir -p "$(dirname "$pynn_source")"
    rm -rf "$pynn_source"
    mv "$download"/*/ "$pynn_source"
    rm -rf "$download"
fi
echo "setup: ready ($VENV)"
