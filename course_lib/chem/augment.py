"""Randomized SMILES: the same molecule written from a random starting atom along a random traversal.

A canonical SMILES is one of many valid spellings of a molecule. Training on a fresh random spelling at
every step (Bjerrum 2017; Arús-Pous et al. 2019, "Randomized SMILES strings improve the quality of molecular
generative models") shows the model the grammar rather than one string per molecule, a known help on small
sets. Here the randomness is ours, not RDKit's global generator: the atoms are renumbered by a permutation
drawn from a numpy Generator, and RDKit writes the renumbered molecule without canonical reordering
(Chem.MolToSmiles(canonical=False)), so the same seed gives the same strings on every run.

    rng = np.random.default_rng(0)
    randomized_smiles("CC(=O)Oc1ccccc1C(=O)O", rng)     # e.g. 'c1cc(OC(C)=O)c(C(O)=O)cc1'
"""
from __future__ import annotations

import numpy as np


def _mol(smiles_or_mol):
    from rdkit import Chem
    from course_lib.chem.clean import quiet_rdkit
    if not isinstance(smiles_or_mol, str):
        if isinstance(smiles_or_mol, Chem.Mol):
            return smiles_or_mol
        raise TypeError(f"expected a SMILES string or an RDKit Mol, got {type(smiles_or_mol).__name__}")
    quiet_rdkit()
    mol = Chem.MolFromSmiles(smiles_or_mol) if smiles_or_mol else None
    if mol is None:
        raise ValueError(f"expected a valid SMILES string, got {smiles_or_mol!r}")
    return mol


def randomized_smiles(smiles_or_mol, rng: np.random.Generator) -> str:
    """One random (non-canonical) SMILES of the molecule, stereo dropped as in the cleaned data.
    rng: a numpy Generator (the only source of randomness)."""
    from rdkit import Chem
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    mol = _mol(smiles_or_mol)
    order = rng.permutation(mol.GetNumAtoms()).tolist()
    return Chem.MolToSmiles(Chem.RenumberAtoms(mol, order), canonical=False, isomericSmiles=False)


def randomize_all(smiles, seed: int = 0, n: int = 1) -> list[str]:
    """n randomized spellings of every SMILES in the list, molecule by molecule (len = n * len(smiles))."""
    if isinstance(smiles, str):
        raise TypeError("smiles must be a list of SMILES strings, got a single str (wrap it in a list)")
    rng = np.random.default_rng(seed)
    return [randomized_smiles(m, rng) for m in (_mol(s) for s in smiles) for _ in range(n)]
