"""Relaxing a batch of structures, one failure at a time, with per-candidate checkpoints;
together in one batched model call per step when the engine can."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import Field
from pymatgen.core import Structure

from discoverflow.core.checkpoint import JsonCheckpoint, each_checkpointed
from discoverflow.settings import PositiveInt, StageSettings

MAX_VOLUME_CHANGE = 3.0
Status = Literal["relaxed", "unconverged", "failed"]


class RelaxSettings(StageSettings):
    """An ML relaxation: which engine, its convergence criteria, and structures per job."""

    engine: str = Field("chgnet", description="'vasp' or an ML relax-engine plugin name")
    engine_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the relax engine"
    )
    fmax: float = Field(0.05, gt=0, description="Force convergence criterion (eV/A)")
    steps: PositiveInt = Field(500, description="Maximum optimiser steps")
    relax_cell: bool = Field(True, description="Relax the cell as well as the positions")
    batch_size: PositiveInt = Field(16, description="Structures per relaxation job (ML engines)")


@dataclass
class RelaxOutcome:
    """One finished relaxation, as a relax engine reports it.

    Parameters
    ----------
    structure
        The relaxed structure.
    energy
        Its total energy (eV).
    n_steps
        Optimiser steps taken.
    converged
        Whether the forces fell below ``fmax`` within the steps.
    max_force
        Largest residual force, cell forces included when the cell relaxes (eV/A).
    """

    structure: Structure
    energy: float
    n_steps: int
    converged: bool
    max_force: float  # largest residual force, including cell forces when the cell relaxes

    @property
    def energy_per_atom(self) -> float:
        return self.energy / len(self.structure)


@runtime_checkable
class Relaxer(Protocol):
    """A relax engine: relaxes one structure, raising on failure.

    Attributes
    ----------
    name
        The engine's name and version, recorded with each relaxation.
    """

    name: str

    def relax(self, structure: Structure) -> RelaxOutcome:
        """Relax one structure.

        Parameters
        ----------
        structure
            The structure to relax.

        Returns
        -------
        RelaxOutcome
            The relaxed structure, its energy and convergence; a failure raises.
        """
        ...


@runtime_checkable
class BatchRelaxer(Relaxer, Protocol):
    """A relax engine that also relaxes many structures together, the same way as one by one."""

    def relax_batch(
        self, structures: Mapping[str, Structure]
    ) -> Iterator[tuple[str, RelaxOutcome | Exception]]:
        """Yield ``(key, outcome)`` as each relaxation ends, ``(key, exception)`` as each fails."""
        ...


@dataclass
class RelaxRecord:
    """What happened to one candidate's relaxation.

    Parameters
    ----------
    candidate_id
        Candidate id.
    status
        relaxed, unconverged or failed.
    reason
        Why it failed or did not converge.
    energy
        Final total energy (eV).
    energy_per_atom
        Final energy (eV/atom).
    n_steps
        Optimiser steps taken.
    max_force
        Largest residual force (eV/A).
    structure
        The relaxed structure.
    """

    candidate_id: str
    status: Status
    reason: str | None = None
    energy: float | None = None
    energy_per_atom: float | None = None
    n_steps: int = 0
    max_force: float | None = None
    structure: Structure | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["structure"] = self.structure.as_dict() if self.structure else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> RelaxRecord:
        structure = data.get("structure")
        return cls(**{**data, "structure": Structure.from_dict(structure) if structure else None})


def relaxer_settings(relaxer: Relaxer) -> dict:
    """The relaxer's type and plain settings: what makes two relaxations interchangeable.

    Parameters
    ----------
    relaxer
        A relax engine.

    Returns
    -------
    dict
        Its class name and its public settings of plain types.
    """
    settings = {
        key: value
        for key, value in sorted(vars(relaxer).items())
        if not key.startswith("_") and isinstance(value, str | int | float | bool | None)
    }
    return {"type": type(relaxer).__qualname__, **settings}


def relax_checkpoint(folder: Path, relaxer: Relaxer) -> JsonCheckpoint:
    """Finished relaxations, one JSON file per candidate, for this relaxer's settings.

    Parameters
    ----------
    folder
        The checkpoint's folder.
    relaxer
        The relax engine; its settings name the checkpoint's subfolder.

    Returns
    -------
    JsonCheckpoint
        The checkpoint.
    """
    return JsonCheckpoint(folder, "relax", relaxer_settings(relaxer))


def relax_one(candidate_id: str, structure: Structure, relaxer: Relaxer) -> RelaxRecord:
    """Relax one structure; a failure becomes a record with its reason, never an exception.

    Parameters
    ----------
    candidate_id
        Candidate id.
    structure
        The structure.
    relaxer
        The relax engine.

    Returns
    -------
    RelaxRecord
        The relaxation's record.
    """
    try:
        outcome = relaxer.relax(structure)
    except Exception as exc:
        return record_of(candidate_id, structure, exc)
    return record_of(candidate_id, structure, outcome)


def record_of(
    candidate_id: str, structure: Structure, outcome: RelaxOutcome | Exception
) -> RelaxRecord:
    """The record of a relaxation of ``structure`` that ended in ``outcome`` or raised it.

    A volume change of more than a factor of three is a failure.

    Parameters
    ----------
    candidate_id
        Candidate id.
    structure
        The structure before relaxing.
    outcome
        What the relax engine returned or raised.

    Returns
    -------
    RelaxRecord
        relaxed, unconverged (with the residual force) or failed (with the reason).
    """
    if isinstance(outcome, Exception):
        reason = f"{type(outcome).__name__}: {outcome}".strip()
        return RelaxRecord(candidate_id, "failed", reason=reason[:500])
    ratio = outcome.structure.volume / structure.volume
    if not 1 / MAX_VOLUME_CHANGE < ratio < MAX_VOLUME_CHANGE:
        return RelaxRecord(
            candidate_id,
            "failed",
            reason=f"unphysical volume change (x{ratio:.2f})",
            n_steps=outcome.n_steps,
        )
    status: Status = "relaxed" if outcome.converged else "unconverged"
    reason = (
        None
        if outcome.converged
        else f"not converged in {outcome.n_steps} steps (max force {outcome.max_force:.3f} eV/A)"
    )
    return RelaxRecord(
        candidate_id,
        status,
        reason=reason,
        energy=outcome.energy,
        energy_per_atom=outcome.energy_per_atom,
        n_steps=outcome.n_steps,
        max_force=outcome.max_force,
        structure=outcome.structure,
    )


def relax_many(
    structures: Mapping[str, Structure],
    relaxer: Relaxer,
    checkpoint: JsonCheckpoint | None = None,
    on_done: Callable[[RelaxRecord], None] | None = None,
    batched: bool = True,
) -> list[RelaxRecord]:
    """Relax every structure, reusing and writing checkpoints, in the input order.

    An engine that relaxes batches (``relax_batch``) relaxes them together unless ``batched``
    is False; each record is checkpointed the moment its relaxation ends.

    Parameters
    ----------
    structures
        Candidate id -> structure.
    relaxer
        The relax engine.
    checkpoint
        Where finished relaxations are kept, if anywhere.
    on_done
        Called with each record as it is made or reused.
    batched
        Relax together when the engine can.

    Returns
    -------
    list of RelaxRecord
        One record per structure, in the input order.
    """
    if batched and isinstance(relaxer, BatchRelaxer):
        return relax_together(structures, relaxer, checkpoint, on_done)
    return each_checkpointed(
        structures,
        lambda candidate_id, structure: relax_one(candidate_id, structure, relaxer),
        lambda candidate_id, error: RelaxRecord(candidate_id, "failed", reason=str(error)[:500]),
        checkpoint,
        encode=RelaxRecord.to_json,
        decode=RelaxRecord.from_json,
        on_done=on_done,
    )


def checkpointed_record(checkpoint: JsonCheckpoint | None, key: str) -> RelaxRecord | None:
    """The record kept for ``key``, or None (none kept, or one that no longer decodes).

    Parameters
    ----------
    checkpoint
        The checkpoint, if any.
    key
        Candidate id.

    Returns
    -------
    RelaxRecord or None
        The kept record.
    """
    if checkpoint is None or (data := checkpoint.load(key)) is None:
        return None
    try:
        return RelaxRecord.from_json(data)
    except (TypeError, KeyError, ValueError):
        return None


def batch_outcomes(
    relaxer: BatchRelaxer, structures: Mapping[str, Structure]
) -> Iterator[tuple[str, RelaxOutcome | Exception]]:
    """``relaxer.relax_batch``, one outcome per structure: when the engine itself breaks (or
    skips a structure), each structure left gets its exception.

    Parameters
    ----------
    relaxer
        A relax engine with ``relax_batch``.
    structures
        Candidate id -> structure.

    Yields
    ------
    tuple
        ``(key, outcome or exception)``, one per structure.
    """
    done = set()
    try:
        for key, outcome in relaxer.relax_batch(structures):
            done.add(key)
            yield key, outcome
    except Exception as error:
        for key in [key for key in structures if key not in done]:
            done.add(key)
            yield key, error
    for key in [key for key in structures if key not in done]:
        yield key, RuntimeError("the relax engine returned no result")


def relax_together(
    structures: Mapping[str, Structure],
    relaxer: BatchRelaxer,
    checkpoint: JsonCheckpoint | None = None,
    on_done: Callable[[RelaxRecord], None] | None = None,
) -> list[RelaxRecord]:
    """``relax_many`` through ``relaxer.relax_batch``: a killed job loses only those in flight.

    Parameters
    ----------
    structures
        Candidate id -> structure.
    relaxer
        A relax engine with ``relax_batch``.
    checkpoint
        Where finished relaxations are kept, if anywhere.
    on_done
        Called with each record as it is made or reused.

    Returns
    -------
    list of RelaxRecord
        One record per structure, in the input order.
    """
    records: dict[str, RelaxRecord] = {}

    def keep(record: RelaxRecord, new: bool) -> None:
        records[record.candidate_id] = record
        if new and checkpoint is not None:
            checkpoint.save(record.candidate_id, record.to_json())
        if on_done is not None:
            on_done(record)

    todo = {}
    for key, structure in structures.items():
        if (record := checkpointed_record(checkpoint, key)) is not None:
            keep(record, new=False)
        else:
            todo[key] = structure
    for key, outcome in batch_outcomes(relaxer, todo):
        keep(record_of(key, todo[key], outcome), new=True)
    return [records[key] for key in structures]
