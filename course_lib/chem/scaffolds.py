"""Bemis-Murcko scaffolds (the ring systems and the linkers between them, side chains removed) and a
split by scaffold, so no scaffold is in two splits and the held-out set holds ring systems the model has
not seen, as MOSES's scaffold test set does.

    murcko_scaffold("CC(=O)Oc1ccccc1C(=O)O")   # aspirin -> 'c1ccccc1'
    murcko_scaffold("CCO")                     # no ring -> '' (every acyclic molecule shares this scaffold)
    scaffold_split(smiles)                     # {'train': [...], 'val': [...], 'test': [...]}
"""
from __future__ import annotations

import hashlib
from collections import Counter

SPLITS = ("train", "val", "test")
FRACTIONS = (0.8, 0.1, 0.1)
BIG = 0.01              # a scaffold shared by more than this fraction of the molecules always goes to train


def murcko_scaffold(smiles: str) -> str:
    """The canonical SMILES of the molecule's Bemis-Murcko scaffold ('' for a molecule without rings).
    A string RDKit cannot parse is a ValueError naming it."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold
    from course_lib.chem.clean import quiet_rdkit
    quiet_rdkit()
    mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) and smiles else None
    if mol is None:
        raise ValueError(f"expected a valid SMILES string, got {smiles!r}")
    return Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol), isomericSmiles=False)


def split_of_scaffold(scaffold: str, fractions=FRACTIONS) -> str:
    """train / val / test for a scaffold from a hash of its SMILES (the same on every machine and every
    Python: no seed, no set order), in proportions `fractions` of scaffolds."""
    u = int(hashlib.sha1(scaffold.encode()).hexdigest()[:8], 16) / 16**8
    return "train" if u < fractions[0] else "val" if u < fractions[0] + fractions[1] else "test"


def scaffold_split(smiles, scaffolds=None, fractions=FRACTIONS, big: float = BIG) -> dict:
    """{"train", "val", "test": SMILES lists (input order kept)}; each Bemis-Murcko scaffold goes whole to
    one split: a scaffold shared by more than `big` of the molecules to train (in the course's set: benzene,
    1,557 molecules, and no ring at all, 1,043; one coin flip would otherwise move a tenth of the data and
    the held-out set would lack the commonest chemistry), every other one by `split_of_scaffold`.
    `scaffolds` may pass the precomputed scaffold of each SMILES."""
    smiles = list(smiles)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers adding up to 1, got {fractions!r}")
    scaffolds = [murcko_scaffold(s) for s in smiles] if scaffolds is None else list(scaffolds)
    if len(scaffolds) != len(smiles):
        raise ValueError(f"need one scaffold per SMILES: got {len(scaffolds)} for {len(smiles)}")
    sizes = Counter(scaffolds)
    out = {name: [] for name in SPLITS}
    for s, scaf in zip(smiles, scaffolds):
        out["train" if sizes[scaf] > big * len(smiles) else split_of_scaffold(scaf, fractions)].append(s)
    return out
