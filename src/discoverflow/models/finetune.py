"""Fine-tuning CHGNet on new reference energies with chgnet's own trainer."""

from __future__ import annotations

import contextlib
import copy
import io
import tempfile
from collections.abc import Sequence

import numpy as np
from pymatgen.core import Structure


def finetune_chgnet(
    model,
    structures: Sequence[Structure],
    energies_per_atom: Sequence[float],
    epochs: int = 30,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
):
    """A copy of ``model`` trained on the given energies (eV/atom); the original is untouched.

    Only energies are fitted: the buffered results are relaxed structures whose forces are
    not stored. chgnet's trainer writes epoch checkpoints (by default into a date-named folder
    in the working directory); they go to a temporary folder and are discarded.
    """
    from chgnet.data.dataset import StructureData, get_loader
    from chgnet.trainer import Trainer

    tuned = copy.deepcopy(model)
    data = StructureData(
        list(structures),
        [float(e) for e in energies_per_atom],
        [np.zeros((len(s), 3)) for s in structures],
        graph_converter=tuned.graph_converter,
        shuffle=False,
    )
    loader = get_loader(data, batch_size=min(8, len(structures)))
    trainer = Trainer(
        model=tuned,
        targets="e",
        epochs=epochs,
        learning_rate=learning_rate,
        use_device=device,
        print_freq=10**6,
        torch_seed=seed,
        data_seed=seed,
    )
    quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    with quiet[0], quiet[1], tempfile.TemporaryDirectory(prefix="chgnet-finetune-") as scratch:
        trainer.train(loader, loader, save_dir=scratch)  # its epoch checkpoints are not kept
    tuned = trainer.model.to(device)
    tuned.eval()
    return tuned
