"""Silence what simulators and build tools print, down to the file descriptor.

NEST prints a banner on import, and NESTML's cmake/make write straight to the process's
stdout; a command whose stdout is data (``trisim cell`` prints JSON) must keep it clean.
"""

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def quiet_stdout():
    """Send everything written to file descriptor 1 inside the block to a scratch file.

    Yields a function returning what was written (for error messages).
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as scratch:
        os.dup2(scratch.fileno(), 1)
        try:
            yield lambda: (sys.stdout.flush(), scratch.seek(0), scratch.read())[2].decode(
                errors="replace")
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
