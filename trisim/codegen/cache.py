"""The compile cache: each generated and built model, keyed by everything that shapes it.

A key covers the .nestml source, the target, the versions of NESTML, ODE-toolbox and the
simulator, and trisim's own code generator (its source files), so an unchanged model costs
no analysis and no build on a second run, and any change rebuilds. Builds happen in a private
temporary directory that is renamed into place under a file lock, so concurrent processes
never see a half-built entry and build each model once.
"""

import fcntl
import hashlib
import os
import shutil
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

ROOT_VARIABLE = "TRISIM_CACHE"
built_here = []  # the entries this process built (others were found in the cache)


def root():
    """Where built models live: ``$TRISIM_CACHE`` or ``~/.cache/trisim``."""
    return Path(os.environ.get(ROOT_VARIABLE) or Path.home() / ".cache" / "trisim") / "nestml"


TARGET_NAMES = ("nest", "neuron", "brian2")


def _generator_fingerprint(target):
    """A digest of the generator code that shapes ``target``'s builds: the shared modules and
    the target's own module and templates (another target's code does not rebuild it); for
    ``None``, the shared modules only."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix not in (".py", ".jinja2"):
            continue
        owner = path.name.split(".")[0].split("_")[0] if path.suffix == ".jinja2" else path.stem
        if owner in TARGET_NAMES and owner != target:
            continue
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# Read once, when the generator is imported: every key of one process then names the code
# the process runs, even if the files change under it (a checkout or rebase during a run).
# Read at each key instead, a NEST cell built with its postsynaptic-port synapse and that
# synapse's type, made minutes later, got different keys and did not pair.
_FINGERPRINTS = {target: _generator_fingerprint(target) for target in (*TARGET_NAMES, None)}


def key(source, target, simulator_distribution, variant=""):
    """The cache key of NESTML ``source`` text built for ``target``.

    ``variant`` names a build of the simulator that needs its own modules although its version
    is the same (NEST built with MPI, ``make setup-mpi``).
    """
    versions = [metadata.version(d) for d in ("NESTML", "odetoolbox", simulator_distribution)]
    digest = hashlib.sha256("\0".join([source, target, *versions, variant,
                                       _FINGERPRINTS.get(target, _FINGERPRINTS[None])]).encode())
    return digest.hexdigest()


@contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def entry(target, name, cache_key, build):
    """The directory of a built model, calling ``build(directory)`` first if it is missing."""
    directory = root() / target / f"{name}-{cache_key[:16]}"
    if directory.is_dir():
        return directory
    with _locked(directory.with_name(directory.name + ".lock")):
        if directory.is_dir():  # another process built it while we waited
            return directory
        scratch = directory.with_name(f"{directory.name}.building-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            build(scratch)
            os.rename(scratch, directory)
            built_here.append(directory)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return directory
