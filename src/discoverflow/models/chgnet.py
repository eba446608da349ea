"""CHGNet as an energy model (batched, energy-only inference) and as a relax engine."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import cache, cached_property
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from pymatgen.core import Structure

from discoverflow.core.relax import RelaxOutcome
from discoverflow.errors import DiscoverflowError
from discoverflow.models.ase_relax import BatchRelaxing, relax_with_calculator
from discoverflow.models.base import configure_torch
from discoverflow.models.finetune import finetune_chgnet
from discoverflow.settings import get_settings

T = TypeVar("T")
PIPELINE_FIRST_BATCH = 16
"""Structures in the first forward pass: its graphs are the only ones nothing overlaps."""


@cache
def load_chgnet(model_name: str = "0.3.0", device: str = "cpu"):
    """A cached CHGNet; its weights ship inside the chgnet package.

    Parameters
    ----------
    model_name
        CHGNet version (0.3.0, 0.2.0).
    device
        Torch device.

    Returns
    -------
    CHGNet
        The model, in eval mode.
    """
    from chgnet.model import CHGNet

    configure_torch()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # "CHGNet ... initialized with ..."
            model = CHGNet.load(model_name=model_name, use_device=device, verbose=False)
    except (ValueError, FileNotFoundError) as exc:
        raise DiscoverflowError(f"cannot load CHGNet weights {model_name!r}: {exc}") from None
    return model.eval()


@cache
def load_chgnet_file(path: str, device: str = "cpu"):
    """A fine-tuned CHGNet saved by ``save_chgnet``.

    Parameters
    ----------
    path
        The saved model's file.
    device
        Torch device to load it on.

    Returns
    -------
    CHGNet
        The fine-tuned model.
    """
    from chgnet.model import CHGNet

    if not Path(path).is_file():
        raise DiscoverflowError(f"fine-tuned CHGNet weights not found: {path}")
    with contextlib.redirect_stdout(io.StringIO()):
        return CHGNet.from_file(path).to(device)


def save_chgnet(model, path) -> None:
    """Save a CHGNet model as ``CHGNet.from_file`` reads it.

    Parameters
    ----------
    model
        The model.
    path
        The file."""
    torch.save({"model": model.as_dict()}, path)


_worker_converter = None


def _init_graph_worker(atom_cutoff: float, bond_cutoff: float) -> None:
    global _worker_converter
    from chgnet.graph import CrystalGraphConverter

    torch.set_num_threads(1)
    _worker_converter = CrystalGraphConverter(
        atom_graph_cutoff=atom_cutoff, bond_graph_cutoff=bond_cutoff, algorithm="fast"
    )


def _convert_chunk(structures: list[Structure]) -> list:
    return [_worker_converter(s) for s in structures]


def _chunks(items: Sequence, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def atom_batches(
    structures: Sequence[Structure], max_atoms: int, max_structures: int, first: int | None = None
) -> Iterator[list[Structure]]:
    """Consecutive batches of at most ``max_structures`` structures and ``max_atoms`` atoms
    (a larger structure is a batch of its own): the batch the model's forward pass is fast
    on without running out of memory on large cells. With ``first``, the batches start at
    that many structures and double up to ``max_structures`` (a pipeline's first batch is
    the one nothing overlaps)."""
    limit = min(first or max_structures, max_structures)
    batch: list[Structure] = []
    atoms = 0
    for structure in structures:
        if batch and (atoms + len(structure) > max_atoms or len(batch) >= limit):
            yield batch
            batch, atoms = [], 0
            limit = min(2 * limit, max_structures)
        batch.append(structure)
        atoms += len(structure)
    if batch:
        yield batch


def prefetched(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items``, each next one computed in a thread while the caller works on
    the current one (worth it where the caller's work releases the GIL, as torch does)."""
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(next, items, _DONE)
        while (item := pending.result()) is not _DONE:
            pending = pool.submit(next, items, _DONE)
            yield item


_DONE = object()


class CHGNetEnergyModel:
    """CHGNet energy per atom, batched, under ``torch.inference_mode``.

    A forward pass takes up to ``batch_size`` structures and ``batch_atoms`` atoms (on two
    CPU cores 64 small cells run 2x faster per structure than 16; raise both on a GPU).
    While the model evaluates one batch, a thread builds the next batch's crystal graphs
    (torch releases the GIL), the first batch kept small so that little waits for graphs;
    ``graph_workers`` processes build them instead (worth it when inference runs on a GPU).

    Parameters
    ----------
    model_name
        CHGNet version of the shipped weights.
    device
        Torch device; None takes ``DISCOVERFLOW_DEVICE``.
    batch_size
        Most structures per forward pass.
    batch_atoms
        Most atoms per forward pass.
    graph_workers
        Processes building crystal graphs; None: none on a CPU, one per core but one otherwise.
    model_file
        A fine-tuned model's file, instead of the shipped weights.
    """

    def __init__(
        self,
        model_name: str = "0.3.0",
        device: str | None = None,
        batch_size: int = 128,
        batch_atoms: int = 1024,
        graph_workers: int | None = None,
        model_file: str | None = None,
    ) -> None:
        self.model_name = model_name
        self.model_file = model_file
        self.device = device or get_settings().DEVICE
        self.batch_size = batch_size
        self.batch_atoms = batch_atoms
        if graph_workers is None:
            graph_workers = 0 if self.device == "cpu" else max(1, (os.cpu_count() or 2) - 1)
        self.graph_workers = graph_workers
        self.name = f"chgnet-{Path(model_file).stem if model_file else model_name}"

    @property
    def model(self):
        if self.model_file:
            return load_chgnet_file(self.model_file, self.device)
        return load_chgnet(self.model_name, self.device)

    def finetuned(
        self,
        structures: Sequence[Structure],
        energies_per_atom: Sequence[float],
        epochs: int,
        learning_rate: float,
        stem: Path,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Fine-tune a copy on the energies, save it as ``<stem>.pt`` and return the options
        that load it."""
        tuned = finetune_chgnet(
            self.model, structures, energies_per_atom, epochs, learning_rate, seed, self.device
        )
        path = Path(f"{stem}.pt")
        save_chgnet(tuned, path)
        return {"model_file": str(path)}

    def _graphs(self, structures: Sequence[Structure]) -> Iterator[list]:
        """Graph batches, built in a thread while the model evaluates the previous batch, or
        in ``graph_workers`` processes."""
        converter = self.model.graph_converter
        batches = atom_batches(
            structures, self.batch_atoms, self.batch_size, first=PIPELINE_FIRST_BATCH
        )
        if self.graph_workers <= 0:
            yield from prefetched([converter(s) for s in chunk] for chunk in batches)
            return
        with ProcessPoolExecutor(
            self.graph_workers,
            mp_context=get_context("forkserver"),  # never fork a process running torch threads
            initializer=_init_graph_worker,
            initargs=(converter.atom_graph_cutoff, converter.bond_graph_cutoff),
        ) as pool:
            futures = [pool.submit(_convert_chunk, chunk) for chunk in batches]
            for future in futures:
                yield future.result()

    def predict_energy_per_atom(self, structures: Sequence[Structure]) -> np.ndarray:
        energies: list[float] = []
        model = self.model
        with torch.inference_mode():
            for graphs in self._graphs(structures):
                predictions = model.predict_graph(graphs, task="e", batch_size=len(graphs))
                if isinstance(predictions, dict):
                    predictions = [predictions]
                energies.extend(float(p["e"]) for p in predictions)
        return np.array(energies)


def chgnet_calculator(model_name: str = "0.3.0", device: str | None = None):
    """An ASE calculator (energy, forces, stress) for a CHGNet version."""
    from chgnet.model.dynamics import CHGNetCalculator

    device = device or get_settings().DEVICE
    with contextlib.redirect_stdout(io.StringIO()):
        return CHGNetCalculator(model=load_chgnet(model_name, device), use_device=device)


class CHGNetRelaxer(BatchRelaxing):
    """Relaxes positions (and the cell, under ASE's FrechetCellFilter) with CHGNet.

    ``relax`` relaxes one structure through CHGNet's ASE calculator; ``relax_batch`` relaxes
    many with the same optimiser each, ``max_batch`` in flight, evaluated by one batched CHGNet
    call per step (the results do not depend on ``max_batch``, so it is no relax setting).

    Parameters
    ----------
    model_name
        CHGNet version of the shipped weights.
    device, fmax, steps, relax_cell, optimizer, max_batch
        The relax options (``BatchRelaxing.set_relax_options``).
    """

    def __init__(
        self,
        model_name: str = "0.3.0",
        device: str | None = None,
        fmax: float = 0.05,
        steps: int = 500,
        relax_cell: bool = True,
        optimizer: str = "FIRE",
        max_batch: int = 32,
    ) -> None:
        self.set_relax_options(device, fmax, steps, relax_cell, optimizer, max_batch)
        self.model_name = model_name
        self.name = f"chgnet-{model_name}"

    @cached_property
    def _calculator(self):
        return chgnet_calculator(self.model_name, self.device)

    def relax(self, structure: Structure) -> RelaxOutcome:
        return relax_with_calculator(
            structure, self._calculator, self.fmax, self.steps, self.relax_cell, self.optimizer
        )

    def evaluate(
        self, structures: Sequence[Structure]
    ) -> tuple[list[float], list[np.ndarray], list[np.ndarray] | None]:
        """Total energies (eV), forces (eV/A) and, when the cell relaxes, stresses (eV/A^3, 3x3)
        of a batch: one CHGNet energy pass and one backward pass to the fractional coordinates
        and lattices of all graphs (CHGNet's own ``efs`` task runs two backward passes that
        keep their graphs for training, 2-3x the cost).

        With fractional coordinates ``s`` held, ``r = s L``: forces ``-dE/ds L^-T``; the
        stress of the strain ``L (1 + e)`` is ``L^T dE/dL / V`` (V signed, as in CHGNet)."""
        model = load_chgnet(self.model_name, self.device)
        device = next(model.parameters()).device
        graphs = [model.graph_converter(structure).to(device) for structure in structures]
        inputs = [graph.atom_frac_coord.requires_grad_() for graph in graphs]
        if self.relax_cell:
            inputs += [graph.lattice.requires_grad_() for graph in graphs]
        with torch.enable_grad(), warnings.catch_warnings():
            # CHGNet batches the cells' volumes with torch.tensor, which warns when the
            # lattices require gradients, as they do here for the stress
            warnings.filterwarnings("ignore", "Converting a tensor with requires_grad")
            energies = model(graphs, task="e")["e"]
            if model.is_intensive:
                energies = energies * torch.tensor([len(s) for s in structures]).to(energies)
            gradients = torch.autograd.grad(energies.sum(), inputs)
        gradients = [gradient.detach().cpu().numpy().astype(float) for gradient in gradients]
        lattices = [structure.lattice.matrix for structure in structures]
        forces = [
            -np.linalg.solve(lattice, gradient.T).T
            for lattice, gradient in zip(lattices, gradients[: len(graphs)], strict=True)
        ]
        stresses = None
        if self.relax_cell:
            stresses = [
                lattice.T @ gradient / np.linalg.det(lattice)
                for lattice, gradient in zip(lattices, gradients[len(graphs) :], strict=True)
            ]
        return energies.detach().cpu().numpy().astype(float).tolist(), forces, stresses


class CHGNetMagneticMomentModel:
    """CHGNet's predicted magnetic moment, summed over sites, per atom (mu_B/atom).

    Parameters
    ----------
    model_name, device
        As ``CHGNetEnergyModel``'s.
    batch_size
        Structures per forward pass.
    """

    property_name = "magnetic_moment_per_atom"
    unit = "mu_B/atom"

    def __init__(self, model_name: str = "0.3.0", device: str | None = None, batch_size: int = 16):
        self.model_name = model_name
        self.device = device or get_settings().DEVICE
        self.batch_size = batch_size
        self.name = f"chgnet-{model_name}-magmom"

    def predict(self, structures: Sequence[Structure]) -> np.ndarray:
        model = load_chgnet(self.model_name, self.device)
        values = []
        with torch.inference_mode():
            for chunk in _chunks(structures, self.batch_size):
                predictions = model.predict_structure(chunk, task="em", batch_size=len(chunk))
                if isinstance(predictions, dict):
                    predictions = [predictions]
                values.extend(float(np.abs(p["m"]).sum() / len(p["m"])) for p in predictions)
        return np.array(values)
