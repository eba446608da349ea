"""Adapter for DiffLinker-style diffusion models that write linkers between two fragments.

The weights (e.g. MOFA's hMOF fine-tuned checkpoint) and the DiffLinker code are the
user's. Generated
molecules come back as XYZ without hydrogens; OpenBabel and RDKit turn them into SMILES,
which the usual linker processing then checks and anchors.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from discoverflow.core.mof.generation import LinkerProposal
from discoverflow.core.mof.linkers import LinkerRejected, smiles_from_xyz
from discoverflow.errors import DiscoverflowError

FRAGMENTS = {
    "COO": "OC(=O)c1ccccc1",
    "CN": "N#Cc1ccccc1",
}
"""MOFA's prompts: a benzoic acid and a benzonitrile fragment."""


class ModelWeightsMissing(DiscoverflowError):
    """A model's weights are not where the configuration says."""


class DiffLinkerGenerator:
    """Linkers from a DiffLinker checkpoint through a user-installed sampler.

    ``sampler`` is ``"module:function"`` taking ``(checkpoint, fragment_smiles, count,
    linker_size, seed)`` and returning XYZ texts (MOFA's ``difflinker_sample`` wraps DiffLinker
    this way); the weights and the sampler are not shipped with discoverflow.
    """

    def __init__(
        self,
        checkpoint: str | None = None,
        sampler: str | None = None,
        linker_size: int = 8,
        state: dict[str, Any] | None = None,
    ) -> None:
        path = Path(checkpoint).expanduser() if checkpoint else None
        if path is None or not path.is_file():
            raise ModelWeightsMissing(
                f"DiffLinker weights not found at {checkpoint!r}: download a checkpoint (e.g. "
                "MOFA's hMOF fine-tuned DiffLinker) and set linkers.generator_options.checkpoint"
            )
        if not sampler or ":" not in sampler:
            raise DiscoverflowError(
                "DiffLinker needs linkers.generator_options.sampler = 'module:function' "
                "(a DiffLinker sampling function installed with DiffLinker)"
            )
        module_name, function = sampler.split(":", 1)
        try:
            self.sample = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as error:
            raise DiscoverflowError(f"cannot import the DiffLinker sampler {sampler!r}") from error
        self.checkpoint = str(path)
        self.linker_size = linker_size
        self.state = state or {}

    def propose(
        self, count: int, anchor: str = "COO", seed: int = 0, exclude: Iterable[str] = ()
    ) -> list[LinkerProposal]:
        """Sample ``count`` linkers between two copies of the anchor's fragment."""
        texts = self.sample(self.checkpoint, FRAGMENTS[anchor], count, self.linker_size, seed)
        known, proposals = set(exclude), []
        for xyz in texts:
            try:
                smiles = smiles_from_xyz(xyz)
            except LinkerRejected:
                continue
            if smiles not in known:
                known.add(smiles)
                proposals.append(LinkerProposal(smiles, ["difflinker"]))
        return proposals

    def retrain(self, examples) -> dict[str, Any]:
        raise DiscoverflowError(
            "retraining DiffLinker needs its training loop (MOFA's difflinker_train); use the "
            "'growth' generator for online learning here"
        )
