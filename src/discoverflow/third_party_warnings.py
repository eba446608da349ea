"""Third-party warnings discoverflow silences, each by name with the reason.

They are silenced when ``discoverflow`` is imported (a run that does nothing wrong prints
nothing but what it is asked to), and the test suite silences exactly these
(``tests/conftest.py``); every other warning is shown, and one raised in discoverflow's own
code (or at a deprecated call it makes) fails the tests.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class SilencedWarning:
    """One third-party warning: a regular expression matching the start of its message (no
    colon: pytest's filter syntax splits on it), its category and the module it is attributed
    to, and why a discoverflow user need not see it."""

    message: str
    category: type[Warning]
    module: str
    reason: str

    def pytest_filter(self) -> str:
        """The ``filterwarnings`` line that ignores it."""
        return f"ignore:{self.message}:{self.category.__name__}:{self.module}"


SILENCED = (
    SilencedWarning(
        "cd is deprecated",
        FutureWarning,
        "jobflow",
        "jobflow's local manager calls monty's cd on every job; a jobflow user cannot act on it",
    ),
    SilencedWarning(
        "Some jobs are not connected",
        UserWarning,
        "jobflow",
        "a campaign's independent branches (references, generation) have no order to keep",
    ),
    SilencedWarning(
        "Set OLD_ERROR_HANDLING to false",
        DeprecationWarning,
        "spglib",
        "pymatgen's SpacegroupAnalyzer uses spglib's old error interface (pymatgen's to change)",
    ),
    SilencedWarning(
        ".*The `disp` and `iprint` options",
        DeprecationWarning,
        "pormake",
        "pormake's scaler passes L-BFGS-B options that SciPy 1.18 removes (pormake's to change)",
    ),
    SilencedWarning(
        "`torch.jit.script` is deprecated",
        DeprecationWarning,
        "torch.jit",
        "SevenNet scripts parts of its model; its authors' to change",
    ),
    SilencedWarning(
        "`task_document_kwargs` is now deprecated",
        DeprecationWarning,
        "atomate2.forcefields",
        "atomate2's ForceFieldRelaxMaker sets task_document_kwargs itself, then warns of it",
    ),
    SilencedWarning(
        "'pin_memory' argument is set as true but no accelerator",
        UserWarning,
        "torch.utils.data",
        "CHGNet's trainer pins memory for a GPU; on a CPU there is nothing to pin",
    ),
    SilencedWarning(
        "No tensor product accelerator is enabled",
        UserWarning,
        "sevenn",
        "said on every SevenNet model on a CPU, which has none; the GPU guide covers it",
    ),
)


def silence_third_party_warnings() -> None:
    """Ignore the warnings of ``SILENCED``, and only those."""
    for silenced in SILENCED:
        warnings.filterwarnings("ignore", silenced.message, silenced.category, silenced.module)
