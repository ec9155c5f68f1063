"""Standardise raw SMILES into one canonical form per molecule, counting what each step removes.

The steps, in order (all with RDKit; a molecule that fails a step is dropped and counted there):
  1. parse: Chem.MolFromSmiles (which also sanitises: valences, aromaticity); unparsable strings dropped;
  2. largest fragment: rdMolStandardize.LargestFragmentChooser keeps the biggest piece, so salts and
     solvents ("CCN.Cl") lose their counter-ions;
  3. neutralise: rdMolStandardize.Uncharger adds or removes hydrogens to cancel charges where it can
     ([NH3+] -> N, [O-] -> O); zwitterion-like groups such as nitro ([N+](=O)[O-]) keep their charges;
  4. allowed elements: every atom in ALLOWED_ELEMENTS (organic drug-like chemistry; metals, B, Si, Se, As
     ... dropped);
  5. size: MIN_HEAVY..MAX_HEAVY heavy atoms and a canonical SMILES of at most MAX_LEN characters (the
     model's context must hold a whole molecule);
  6. canonical SMILES without stereochemistry or isotopes (Chem.MolToSmiles(isomericSmiles=False)): one
     string per molecule, so duplicates can be found by string equality;
  7. duplicates removed, first occurrence kept (input order).

    kept, report = clean_smiles(["CCCCO.Cl", "CCCC[NH3+]", "[Na+].[Cl-]", "OCCCC", "C1CC"])
    kept   -> ['CCCCO', 'CCCCN']
    report -> CleanReport(read=5, unparsable=1, parsed=4, fragment_stripped=2, neutralised=2, too_small=1,
                          duplicates=1, kept=2, ...)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

ALLOWED_ELEMENTS = frozenset({"C", "N", "O", "S", "P", "F", "Cl", "Br", "I", "H"})
MIN_HEAVY, MAX_HEAVY, MAX_LEN = 5, 40, 80


def quiet_rdkit():
    """Silence RDKit's parse-error log (invalid SMILES are expected and counted, not printed)."""
    from rdkit import RDLogger
    RDLogger.DisableLog("rdApp.*")


@dataclass
class CleanReport:
    """How many molecules were read and how many each step of `clean_smiles` changed or dropped."""

    read: int = 0                # input strings
    unparsable: int = 0          # step 1: RDKit could not parse or sanitise them
    parsed: int = 0
    fragment_stripped: int = 0   # step 2: had more than one fragment (kept the largest)
    neutralised: int = 0         # step 3: the Uncharger changed their charges
    other_elements: int = 0      # step 4: dropped for an element outside ALLOWED_ELEMENTS
    too_small: int = 0           # step 5: fewer than MIN_HEAVY heavy atoms
    too_large: int = 0           # step 5: more than MAX_HEAVY heavy atoms or a SMILES over MAX_LEN characters
    duplicates: int = 0          # step 7: same canonical SMILES as an earlier molecule
    kept: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def __add__(self, other: "CleanReport") -> "CleanReport":
        return CleanReport(**{k: v + getattr(other, k) for k, v in asdict(self).items()})


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES without stereochemistry, or None when RDKit cannot parse `smiles`
    (an empty string is None too: it is no molecule)."""
    from rdkit import Chem
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    quiet_rdkit()
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=False)


def clean_smiles(smiles, *, max_heavy: int = MAX_HEAVY, max_len: int = MAX_LEN,
                 min_heavy: int = MIN_HEAVY) -> tuple[list[str], CleanReport]:
    """Steps 1-7 of the module docstring on a list of SMILES -> (unique canonical SMILES, CleanReport)."""
    from rdkit import Chem
    from rdkit.Chem.MolStandardize import rdMolStandardize
    if isinstance(smiles, str):
        raise TypeError("smiles must be a list of SMILES strings, got a single str (wrap it in a list)")
    smiles = list(smiles)
    bad = [s for s in smiles if not isinstance(s, str)]
    if bad:
        raise TypeError(f"smiles must be strings, got {type(bad[0]).__name__} ({bad[0]!r})")
    quiet_rdkit()
    chooser, uncharger = rdMolStandardize.LargestFragmentChooser(), rdMolStandardize.Uncharger()
    rep, kept, seen = CleanReport(read=len(smiles)), [], set()
    for s in smiles:
        mol = Chem.MolFromSmiles(s) if s.strip() else None                         # 1. parse
        if mol is None:
            rep.unparsable += 1
            continue
        rep.parsed += 1
        if len(Chem.GetMolFrags(mol)) > 1:                                        # 2. largest fragment
            mol = chooser.choose(mol)
            rep.fragment_stripped += 1
        before = Chem.MolToSmiles(mol)
        mol = uncharger.uncharge(mol)                                             # 3. neutralise
        rep.neutralised += Chem.MolToSmiles(mol) != before
        if any(a.GetSymbol() not in ALLOWED_ELEMENTS for a in mol.GetAtoms()):   # 4. elements
            rep.other_elements += 1
            continue
        can = Chem.MolToSmiles(mol, isomericSmiles=False)                         # 6. canonical form
        heavy = mol.GetNumHeavyAtoms()                                            # 5. size
        if heavy < min_heavy:
            rep.too_small += 1
            continue
        if heavy > max_heavy or len(can) > max_len:
            rep.too_large += 1
            continue
        if can in seen:                                                           # 7. duplicates
            rep.duplicates += 1
            continue
        seen.add(can)
        kept.append(can)
    rep.kept = len(kept)
    return kept, rep
