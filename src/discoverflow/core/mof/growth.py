"""A retrainable linker generator: RDKit growth and mutation of known linkers.

Proposals start from a parent (a seed such as terephthalic acid, or a linker of a good MOF
after retraining) and apply a few edits - substituents, aromatic N, fused rings, spacers
between ring and anchor - drawn with weights. Retraining re-estimates the edit weights from
the edit histories of the best MOFs' linkers and makes those linkers the new parents, so the
generator proposes more of what worked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from discoverflow.core.mof.generation import LinkerProposal, TrainingExample
from discoverflow.core.mof.linkers import LinkerRejected, anchor_type, parse_linker, rdkit_modules

EDITS: dict[str, str] = {
    "fluoro": "[cH:1]>>[c:1]F",
    "chloro": "[cH:1]>>[c:1]Cl",
    "bromo": "[cH:1]>>[c:1]Br",
    "methyl": "[cH:1]>>[c:1]C",
    "hydroxy": "[cH:1]>>[c:1]O",
    "amino": "[cH:1]>>[c:1]N",
    "methoxy": "[cH:1]>>[c:1]OC",
    "nitro": "[cH:1]>>[c:1][N+](=O)[O-]",
    "aza": "[cH:1]>>[n:1]",
    "benzo": "[cH:1]:[cH:2]>>[c:1]1:[c:2]:c:c:c:c:1",
    "phenylene_coo": "[a:1]-[C:2](=[O:3])[OH:4]>>[a:1]-c1ccc(cc1)-[C:2](=[O:3])[OH:4]",
    "phenylene_cn": "[a:1]-[C:2]#[N:3]>>[a:1]-c1ccc(cc1)-[C:2]#[N:3]",
    "ethynyl_coo": "[a:1]-[C:2](=[O:3])[OH:4]>>[a:1]C#C[C:2](=[O:3])[OH:4]",
    "ethynyl_cn": "[a:1]-[C:2]#[N:3]>>[a:1]C#C[C:2]#[N:3]",
}

SEED_LINKERS = {
    "COO": ["OC(=O)c1ccc(cc1)C(=O)O"],
    "CN": ["N#Cc1ccc(cc1)C#N"],
}


@dataclass
class GrowthState:
    """Everything retraining changes; JSON-serialisable so every round's model is stored."""

    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(EDITS, 1.0))
    parents: dict[str, list[LinkerProposal]] = field(default_factory=dict)
    parent_weights: dict[str, list[float]] = field(default_factory=dict)
    version: int = 0
    trained_on: int = 0


class GrowthLinkerGenerator:
    """Propose linkers by weighted edits of parents; ``retrain`` on the best MOFs' linkers
    (a ``LinkerGenerator``)."""

    def __init__(
        self,
        max_edits: int = 2,
        max_heavy_atoms: int = 24,
        learning_rate: float = 0.7,
        state: GrowthState | dict | None = None,
    ) -> None:
        self.max_edits = max_edits
        self.max_heavy_atoms = max_heavy_atoms
        self.learning_rate = learning_rate
        if isinstance(state, dict):
            state = GrowthState(
                weights=state["weights"],
                parents={k: [LinkerProposal(**p) for p in v] for k, v in state["parents"].items()},
                parent_weights=state["parent_weights"],
                version=state["version"],
                trained_on=state["trained_on"],
            )
        self.state = state or GrowthState()
        _, AllChem = rdkit_modules()
        self._reactions = {name: AllChem.ReactionFromSmarts(s) for name, s in EDITS.items()}

    def parents(self, anchor: str) -> tuple[list[LinkerProposal], np.ndarray]:
        if anchor not in SEED_LINKERS:
            raise ValueError(f"anchor must be one of {sorted(SEED_LINKERS)}, got {anchor!r}")
        parents = self.state.parents.get(anchor) or [
            LinkerProposal(s) for s in SEED_LINKERS[anchor]
        ]
        weights = np.asarray(
            self.state.parent_weights.get(anchor) or [1.0] * len(parents), dtype=float
        )
        return parents, weights / weights.sum()

    @staticmethod
    def usable_edits(anchor: str) -> list[str]:
        foreign = "_cn" if anchor == "COO" else "_coo"
        return [name for name in EDITS if not name.endswith(foreign)]

    def edit(self, smiles: str, name: str, rng: np.random.Generator) -> str | None:
        Chem, _ = rdkit_modules()
        products = self._reactions[name].RunReactants((Chem.MolFromSmiles(smiles),))
        if not products:
            return None
        for index in rng.permutation(len(products)):
            product = products[index][0]
            try:
                Chem.SanitizeMol(product)
            except Exception:
                continue
            return Chem.MolToSmiles(product)
        return None

    def anchor_of(self, smiles: str) -> str | None:
        """The linker's anchor type when it is valid and small enough, else None."""
        try:
            mol = parse_linker(smiles)
            if mol.GetNumHeavyAtoms() > self.max_heavy_atoms:
                return None
            return anchor_type(mol)
        except LinkerRejected:
            return None

    def propose(
        self,
        count: int,
        anchor: str = "COO",
        seed: int = 0,
        exclude: Iterable[str] = (),
        max_tries: int | None = None,
    ) -> list[LinkerProposal]:
        """Up to ``count`` distinct new linkers (none of ``exclude``), reproducible for a given
        seed and state."""
        rng = np.random.default_rng(seed)
        parents, parent_p = self.parents(anchor)
        names = self.usable_edits(anchor)
        weights = np.array([self.state.weights.get(n, 1.0) for n in names], dtype=float)
        edit_p = weights / weights.sum()
        seen = {p.smiles for p in parents} | set(exclude)
        proposals: list[LinkerProposal] = []
        for _ in range(max_tries or 50 * count):
            if len(proposals) == count:
                break
            parent = parents[rng.choice(len(parents), p=parent_p)]
            smiles, history = parent.smiles, list(parent.history)
            for _ in range(int(rng.integers(1, self.max_edits + 1))):
                name = names[rng.choice(len(names), p=edit_p)]
                edited = self.edit(smiles, name, rng)
                if edited is not None:
                    smiles, history = edited, [*history, name]
            if smiles in seen or self.anchor_of(smiles) != anchor:
                continue
            seen.add(smiles)
            proposals.append(LinkerProposal(smiles, history))
        return proposals

    def retrain(self, examples: list[TrainingExample]) -> GrowthState:
        """Edit weights move toward the edits of the examples; the examples become parents."""
        by_anchor: dict[str, list[TrainingExample]] = {}
        for example in examples:
            anchor = self.anchor_of(example.smiles)
            if anchor is not None:
                by_anchor.setdefault(anchor, []).append(example)
        examples = [e for group in by_anchor.values() for e in group]
        if not examples:
            return self.state
        counts = dict.fromkeys(EDITS, 1.0)
        for example in examples:
            for name in example.history:
                counts[name] = counts.get(name, 1.0) + 1.0
        total = sum(counts.values())
        mean_weight = np.mean(list(self.state.weights.values()))
        weights = {
            name: (1 - self.learning_rate) * self.state.weights.get(name, 1.0)
            + self.learning_rate * mean_weight * len(counts) * counts[name] / total
            for name in counts
        }
        parents = dict(self.state.parents)
        parent_weights = dict(self.state.parent_weights)
        for anchor, group in by_anchor.items():
            ranked = sorted(group, key=lambda e: e.score, reverse=True)
            parents[anchor] = [LinkerProposal(e.smiles, list(e.history)) for e in ranked]
            parent_weights[anchor] = [1.0 / (rank + 1) for rank in range(len(ranked))]
        self.state = GrowthState(
            weights=weights,
            parents=parents,
            parent_weights=parent_weights,
            version=self.state.version + 1,
            trained_on=len(examples),
        )
        return self.state
