"""A Python run that does nothing wrong prints nothing but what it is asked to."""

import subprocess
import sys

SCRIPT = """
from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from discoverflow.core.relax import RelaxSettings
from discoverflow.makers import MLRelaxMaker
from discoverflow.stores import make_store

b2 = Structure(Lattice.cubic(2.95), ["Al", "Ni"], [[0, 0, 0], [0.5, 0.5, 0.5]])
job = MLRelaxMaker(settings=RelaxSettings(steps=5)).make({"alni": b2})
store = make_store("memory")
run_locally(job, store=store, log=False, ensure_success=True)
print(store.get_output(job.uuid)["records"][0]["energy_per_atom"] < 0)
"""


def test_a_relaxation_in_python_prints_no_warning():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"  # no "CHGNet ... initialized with ... parameters"
    assert done.stderr == ""  # no FutureWarning from jobflow, no UserWarning from CHGNet
