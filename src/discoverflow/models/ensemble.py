"""Ensembles: mean energy and spread (the coordinate pattern's uncertainty), of CHGNet models
(``chgnet-ensemble``) or of models of different architectures (``ensemble``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from discoverflow.core.crystal.stability_probability import EnsembleEntry
from discoverflow.errors import DiscoverflowError
from discoverflow.models.base import FineTunable
from discoverflow.plugins import load_model

Member = str | Mapping[str, Any]


def member_spec(member: Member) -> dict[str, Any]:
    """A member as ``{"model": name, "model_options": {...}}`` (from a plugin name or that).

    Parameters
    ----------
    member
        A plugin name or a ``{"model": ..., "model_options": ...}`` dict.

    Returns
    -------
    dict
        The dict form.
    """
    if isinstance(member, str):
        return {"model": member, "model_options": {}}
    unknown = set(member) - {"model", "model_options"}
    if "model" not in member or unknown:
        raise DiscoverflowError(
            f"an ensemble member is a model name or {{'model': name, 'model_options': {{...}}}}; "
            f"got {dict(member)!r}"
        )
    return {"model": member["model"], "model_options": dict(member.get("model_options") or {})}


def member_model(member: Member):
    """The energy model ``member`` names, loaded: ``member`` as ``member_spec`` takes it."""
    spec = member_spec(member)
    return load_model(spec["model"], **spec["model_options"])


class EnsembleModel:
    """Energy per atom averaged over members of any architecture (plugin names, e.g.
    ``["chgnet", "sevennet"]``); their standard deviation per structure is the uncertainty.

    Parameters
    ----------
    members
        At least two energy-model plugins, by name or as ``{"model", "model_options"}``.
    """

    def __init__(self, members: Sequence[Member] = ("chgnet", "sevennet")) -> None:
        if len(members) < 2:
            raise DiscoverflowError("an ensemble needs at least two members")
        self.specs = [member_spec(m) for m in members]
        self.members = [member_model(m) for m in self.specs]
        self.name = "ensemble(" + "+".join(self.member_names()) + ")"

    def member_names(self) -> list[str]:
        return [m.name for m in self.members]

    def predict_with_uncertainty(
        self, structures: Sequence[Structure]
    ) -> tuple[np.ndarray, np.ndarray]:
        energies = self.member_energies(structures)
        return energies.mean(axis=0), energies.std(axis=0)

    def predict_energy_per_atom(self, structures: Sequence[Structure]) -> np.ndarray:
        return self.predict_with_uncertainty(structures)[0]

    def entries(self, structures: Mapping[str, Structure]) -> list[EnsembleEntry]:
        """Every member's energy per atom of each structure, for ``stability_probability``."""
        energies = self.member_energies(list(structures.values()))
        return [
            EnsembleEntry(key, structure.composition, [float(e) for e in energies[:, i]])
            for i, (key, structure) in enumerate(structures.items())
        ]

    def finetuned(
        self,
        structures: Sequence[Structure],
        energies_per_atom: Sequence[float],
        epochs: int,
        learning_rate: float,
        stem: Path,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Fine-tune every member that can be (seed + its index; the others stay as they
        are), save them as ``<stem>-member<i>.*`` and return the options of the new ensemble."""
        members = []
        for index, (spec, model) in enumerate(zip(self.specs, self.members, strict=True)):
            if isinstance(model, FineTunable):
                options = model.finetuned(
                    structures,
                    energies_per_atom,
                    epochs,
                    learning_rate,
                    Path(f"{stem}-member{index}"),
                    seed + index,
                )
                spec = {**spec, "model_options": {**spec["model_options"], **options}}
            members.append(spec)
        return {"members": members}

    def member_energies(self, structures: Sequence[Structure]) -> np.ndarray:
        """Energy per atom, one row per member."""
        return np.array([m.predict_energy_per_atom(structures) for m in self.members]).reshape(
            len(self.members), len(structures)
        )


class CHGNetEnsemble(EnsembleModel):
    """An ``EnsembleModel`` of CHGNet members: shipped weights by version (0.3.0, 0.2.0) and
    saved files (``model_files``); fine-tuning gives the ensemble of the tuned files.

    Parameters
    ----------
    versions
        CHGNet versions of shipped weights, one member each.
    model_files
        Saved (fine-tuned) CHGNet files, one member each.
    device
        Torch device of every member; None takes ``DISCOVERFLOW_DEVICE``.
    batch_size
        Structures per forward pass of every member.
    """

    def __init__(
        self,
        versions: Sequence[str] = ("0.3.0", "0.2.0"),
        model_files: Sequence[str] = (),
        device: str | None = None,
        batch_size: int | None = None,
    ) -> None:
        shared = {
            key: value
            for key, value in (("device", device), ("batch_size", batch_size))
            if value is not None
        }
        super().__init__(
            [{"model": "chgnet", "model_options": {**shared, "model_name": v}} for v in versions]
            + [
                {"model": "chgnet", "model_options": {**shared, "model_file": str(f)}}
                for f in model_files
            ]
        )
        self.name = "chgnet-ensemble"

    def finetuned(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``EnsembleModel.finetuned``, as this model's options: the tuned members' files."""
        tuned = super().finetuned(*args, **kwargs)["members"]
        return {"versions": [], "model_files": [m["model_options"]["model_file"] for m in tuned]}
