"""SevenNet (the ``sevenn`` package) as an energy model (batched, energy-only inference) and
as a relax engine, under the plugin name ``sevennet``.

Weights shipped in the sevenn wheel (no download): ``7net-0`` (the default), ``7net-0_22may2024``,
``7net-l3i5`` and the multi-fidelity ``7net-mf-0``; other sevenn names are downloaded by
sevenn at run time, and a checkpoint file path works too.

How MP2020-compatible the energies are:

- ``7net-0`` and ``7net-l3i5`` are trained on MPtrj, Materials Project's GGA/GGA+U relaxation
  trajectories with the MP2020 anion and U corrections *not* applied: the same footing as
  CHGNet. Their energies mix GGA and GGA+U as MP does (GGA+U for oxides and fluorides of
  Co, Cr, Fe, Mn, Mo, Ni, V, W), so they are comparable to raw MP energies, not to
  MP2020-corrected ones, and they carry no MP2020 correction themselves.
- ``7net-mf-0`` is trained on MPtrj (modal ``PBE``) and MP's r2SCAN data (modal ``R2SCAN``);
  the default modal here is ``PBE``, on the MPtrj footing above. ``R2SCAN`` energies are on
  another scale and must never be mixed with PBE references.

Formation energies and hulls are meaningful only against elemental references (and known
phases) computed with the same model and modal, which is what the campaign does when it
relaxes its references with the screening/relax model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from copy import deepcopy
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pymatgen.core import Structure

from discoverflow.core.relax import RelaxOutcome
from discoverflow.errors import DiscoverflowError
from discoverflow.models.ase_relax import BatchRelaxing, relax_with_calculator
from discoverflow.models.base import configure_torch
from discoverflow.settings import get_settings

SHIPPED_MODELS = ("7net-0", "7net-0_22may2024", "7net-l3i5", "7net-mf-0")
MP_COMPATIBLE_MODALS = ("PBE", "mpa")
"""The modal picked by default for a multi-fidelity model: the first one it has."""

# keys of a sevenn AtomGraphSequential's input and output (sevenn 0.13)
TOTAL_ENERGY, FORCE, STRESS = "inferred_total_energy", "inferred_force", "inferred_stress"
NUM_ATOMS, MODALITY = "num_atoms", "data_modality"
REFERENCE_ENERGY = "total_energy"


@cache
def load_sevennet(model: str = "7net-0", device: str = "cpu", energy_only: bool = False):
    """A cached SevenNet network in eval mode, batched input; ``energy_only`` drops the force
    and stress output (no gradient pass)."""
    from sevenn.util import load_checkpoint

    configure_torch()
    try:
        network = load_checkpoint(model).build_model()
    except Exception as exc:
        reason = " ".join(str(exc).split())
        raise DiscoverflowError(
            f"cannot load SevenNet model {model!r}: {reason} Shipped with sevenn: "
            f"{', '.join(SHIPPED_MODELS)}; other names are downloaded at run time; "
            "a checkpoint file path also works"
        ) from None
    if energy_only:
        network = deepcopy(network)
        network.delete_module_by_key("force_output")
        network.key_grad = None
    network.set_is_batch_data(True)
    return network.to(device).eval()


def resolve_modal(network, model: str, modal: str | None) -> str | None:
    """The modal to evaluate: None for a single-fidelity model, else the one asked for or the
    first MP-compatible one."""
    available = list(network.modal_map or {})
    if not available:
        if modal is not None:
            raise DiscoverflowError(f"SevenNet model {model!r} has no modals (asked {modal!r})")
        return None
    if modal is None:
        modal = next((m for m in MP_COMPATIBLE_MODALS if m in available), None)
        if modal is None:
            raise DiscoverflowError(f"SevenNet model {model!r} needs a modal: one of {available}")
    if modal not in available:
        raise DiscoverflowError(f"unknown modal {modal!r} of {model!r}; choose from {available}")
    return modal


def structure_graph(structure: Structure, cutoff: float, modal: str | None):
    """sevenn's graph of one structure (neighbours within ``cutoff``)."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph

    graph = AtomGraphData.from_numpy_dict(
        unlabeled_atoms_to_graph(AseAtomsAdaptor.get_atoms(structure), cutoff)
    )
    if modal is not None:
        graph[MODALITY] = modal
    return graph


def check_elements(network, model: str, structures: Sequence[Structure]) -> None:
    """Refuse structures with elements the SevenNet model has no parameters for.

    Parameters
    ----------
    network
        The SevenNet model.
    model
        Its name, for the message.
    structures
        The structures.

    Raises
    ------
    DiscoverflowError
        Naming the first structure with unknown elements."""
    known = set(network.type_map)
    for structure in structures:
        unknown = sorted({el.symbol for el in structure.composition if el.Z not in known})
        if unknown:
            raise DiscoverflowError(
                f"SevenNet {model!r} has no parameters for {', '.join(unknown)} "
                f"({structure.composition.reduced_formula})"
            )


def finetune_sevennet(
    model: str,
    modal: str | None,
    structures: Sequence[Structure],
    energies_per_atom: Sequence[float],
    epochs: int = 30,
    learning_rate: float = 1e-3,
    seed: int = 0,
    path: str | Path = "sevennet-finetuned.pth",
    device: str = "cpu",
) -> str:
    """Fine-tune a copy of a SevenNet model on the given energies (eV/atom) with sevenn's own
    trainer and per-atom energy loss, and save it as a sevenn checkpoint at ``path``.

    Only energies are fitted (the buffered results carry no forces), so the copy is trained
    without its force output; the checkpoint loads back with every output (sevenn's
    ``load_checkpoint``, so ``SevenNetEnergyModel(model=path)`` and the relax engine take it).
    """
    import sevenn
    from sevenn.train.loss import PerAtomEnergyLoss
    from sevenn.train.trainer import Trainer
    from sevenn.util import load_checkpoint
    from torch_geometric.loader import DataLoader

    checkpoint = load_checkpoint(model)
    network = checkpoint.build_model()
    check_elements(network, model, structures)
    modal = resolve_modal(network, model, modal)
    network.delete_module_by_key("force_output")
    network.key_grad = None
    graphs = []
    for structure, energy in zip(structures, energies_per_atom, strict=True):
        graph = structure_graph(structure, network.cutoff, modal)
        graph[REFERENCE_ENERGY] = torch.tensor(float(energy) * len(structure))
        graphs.append(graph)
    loader = DataLoader(graphs, batch_size=min(8, len(graphs)), shuffle=False)
    torch.manual_seed(seed)
    loss = [(PerAtomEnergyLoss(criterion=torch.nn.MSELoss()), 1.0)]
    trainer = Trainer(network, loss, torch.optim.Adam, {"lr": learning_rate}, device=device)
    for _ in range(epochs):
        trainer.run_one_epoch(loader, is_train=True)
    # the weights are in this sevenn's layout now: an older checkpoint's version would make
    # sevenn convert them again on loading
    config = {**checkpoint.config, "version": sevenn.__version__}
    trainer.write_checkpoint(str(path), config=config, epoch=epochs)
    return str(path)


def _chunks(items: Sequence, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class SevenNetEnergyModel:
    """SevenNet energy per atom, ``batch_size`` structures per forward pass, without forces.

    ``predict_energy_forces_stress`` gives energies, forces and stresses of a batch in one
    pass too (for batched relaxations).

    Parameters
    ----------
    model
        SevenNet model name (7net-0, 7net-l3i5, 7net-mf-0) or a checkpoint file.
    modal
        The fidelity of a multi-fidelity model (e.g. PBE); None for the others.
    device
        Torch device; None takes ``DISCOVERFLOW_DEVICE``.
    batch_size
        Structures per forward pass.
    """

    def __init__(
        self,
        model: str = "7net-0",
        modal: str | None = None,
        device: str | None = None,
        batch_size: int = 16,
    ) -> None:
        self.model = model
        self.modal = modal
        self.device = device or get_settings().DEVICE
        self.batch_size = batch_size
        self.name = f"sevennet-{Path(model).stem}" + (f"-{modal}" if modal else "")

    def finetuned(
        self,
        structures: Sequence[Structure],
        energies_per_atom: Sequence[float],
        epochs: int,
        learning_rate: float,
        stem: Path,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Fine-tune a copy on the energies, save it as ``<stem>.pth`` and return the options
        that load it."""
        path = finetune_sevennet(
            self.model,
            self.modal,
            structures,
            energies_per_atom,
            epochs,
            learning_rate,
            seed,
            f"{stem}.pth",
            self.device,
        )
        return {"model": path}

    def network(self, energy_only: bool = True):
        return load_sevennet(self.model, self.device, energy_only)

    def _batches(self, structures: Sequence[Structure], network) -> Iterator:
        from torch_geometric.data import Batch

        check_elements(network, self.model, structures)
        modal = resolve_modal(network, self.model, self.modal)
        for chunk in _chunks(structures, self.batch_size):
            graphs = [structure_graph(s, network.cutoff, modal) for s in chunk]
            yield Batch.from_data_list(graphs).to(self.device)

    def predict_energy_per_atom(self, structures: Sequence[Structure]) -> np.ndarray:
        network = self.network(energy_only=True)
        energies: list[np.ndarray] = []
        with torch.inference_mode():
            for batch in self._batches(structures, network):
                output = network(batch)
                energies.append((output[TOTAL_ENERGY] / output[NUM_ATOMS]).cpu().numpy())
        return np.concatenate(energies).astype(float) if energies else np.array([])

    def predict_energy_forces_stress(
        self, structures: Sequence[Structure]
    ) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """Per structure: total energy (eV), forces (eV/A, one row per site) and stress
        (eV/A^3, Voigt order xx yy zz yz xz xy, as ASE's get_stress gives it)."""
        network = self.network(energy_only=False)
        results = []
        for batch in self._batches(structures, network):
            output = network(batch)
            counts = output[NUM_ATOMS].tolist()
            forces = torch.split(output[FORCE].detach(), counts)
            stresses = -output[STRESS].detach()[:, [0, 1, 2, 4, 5, 3]]
            energies = output[TOTAL_ENERGY].detach()
            results += [
                (float(e), f.cpu().numpy(), s.cpu().numpy())
                for e, f, s in zip(energies, forces, stresses, strict=True)
            ]
        return results


def sevennet_calculator(model: str = "7net-0", modal: str | None = None, device: str | None = None):
    """sevenn's ASE calculator (energy, forces, stress) for a SevenNet model and modal, on a
    copy of the cached network."""
    from sevenn.calculator import SevenNetCalculator

    device = device or get_settings().DEVICE
    network = load_sevennet(model, device)
    modal = resolve_modal(network, model, modal)
    return SevenNetCalculator(
        model=deepcopy(network), file_type="model_instance", device=device, modal=modal
    )


class SevenNetRelaxer(BatchRelaxing):
    """Relaxes positions (and the cell, under ASE's FrechetCellFilter) with SevenNet: one
    structure through sevenn's ASE calculator, or many together (``relax_batch``, the same
    optimiser each, ``max_batch`` in flight, one batched SevenNet pass per step).

    Parameters
    ----------
    model
        SevenNet model name or checkpoint file.
    modal
        The fidelity of a multi-fidelity model; None for the others.
    device, fmax, steps, relax_cell, optimizer, max_batch
        The relax options (``BatchRelaxing.set_relax_options``).
    """

    def __init__(
        self,
        model: str = "7net-0",
        modal: str | None = None,
        device: str | None = None,
        fmax: float = 0.05,
        steps: int = 500,
        relax_cell: bool = True,
        optimizer: str = "FIRE",
        max_batch: int = 32,
    ) -> None:
        self.set_relax_options(device, fmax, steps, relax_cell, optimizer, max_batch)
        self.model = model
        self.modal = modal
        self.name = f"sevennet-{model}" + (f"-{modal}" if modal else "")

    @cached_property
    def _calculator(self):
        return sevennet_calculator(self.model, self.modal, self.device)

    def relax(self, structure: Structure) -> RelaxOutcome:
        check_elements(load_sevennet(self.model, self.device), self.model, [structure])
        return relax_with_calculator(
            structure, self._calculator, self.fmax, self.steps, self.relax_cell, self.optimizer
        )

    def evaluate(
        self, structures: Sequence[Structure]
    ) -> tuple[list[float], list[np.ndarray], list[np.ndarray]]:
        """Total energies (eV), forces (eV/A) and stresses (eV/A^3, Voigt) in one pass."""
        model = SevenNetEnergyModel(self.model, self.modal, self.device, max(1, len(structures)))
        results = model.predict_energy_forces_stress(structures)
        return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results]
