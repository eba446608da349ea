"""Run one RASPA simulation in this (fresh) process.

``python -m discoverflow.core.mof.raspa_worker SCRIPT CIF`` prints
RASPA's output. A separate interpreter keeps RASPA's leaks and crashes, and fork-unsafe
threads of the caller (JAX, torch), away from the calling process."""

from __future__ import annotations

import sys
from ctypes import c_bool, c_char_p, c_void_p, cast, cdll
from pathlib import Path


def run(script: str, cif: str) -> str:
    """Run RASPA on one input in this process.

    Parameters
    ----------
    script
        RASPA's ``simulation.input`` text.
    cif
        The framework's CIF text.

    Returns
    -------
    str
        RASPA's output."""
    from RASPA2 import raspa2

    library = cdll.LoadLibrary(str(Path(raspa2.libraspa_dir) / raspa2.libraspa_file))
    library.run.argtypes = (c_char_p, c_char_p, c_char_p, c_bool)
    library.run.restype = c_void_p
    pointer = library.run(
        script.encode("ascii"), cif.encode("ascii"), raspa2.raspa_dir.encode(), True
    )
    return cast(pointer, c_char_p).value.decode("utf-8")


if __name__ == "__main__":
    sys.stdout.write(run(Path(sys.argv[1]).read_text(), Path(sys.argv[2]).read_text()))
