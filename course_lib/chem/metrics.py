"""The field's metrics for generated molecules, as MOSES (Polykovskiy et al. 2020) defines them, with RDKit
doing every chemistry step (parsing, canonical SMILES, fingerprints, scaffolds, descriptors).

Definitions (samples: the generated strings; valid: those RDKit parses, an empty string is invalid):
  validity      = valid samples / all samples
  uniqueness    = distinct canonical SMILES among the valid / valid samples
  novelty       = distinct valid canonical SMILES not in the training set's canonical set / distinct valid
  intdiv1       = 1 - mean Tanimoto similarity over all pairs i != j of valid samples (duplicates kept, the
                  diagonal excluded; MOSES averages the full matrix, diagonal included, which differs by
                  about 1/n), on Morgan fingerprints radius 2, 2,048 bits
  snn           = mean over valid samples of the largest Tanimoto similarity to any reference molecule
  scaffold_sim  = cosine similarity of the Bemis-Murcko scaffold count vectors of valid samples and of the
                  reference (molecules without a ring have no scaffold and are left out, as in MOSES)
  w1_<prop>     = Wasserstein-1 distance (scipy.stats.wasserstein_distance) between the valid samples' and the
                  reference's values of MW (Descriptors.MolWt), logP (Crippen.MolLogP), TPSA and QED
  sa            = mean synthetic accessibility, 1 (easy) .. 10 (hard), Ertl & Schuffenhauer 2009, from RDKit's
                  contributed sascorer (RDConfig.RDContribDir/SA_Score, loaded from its file by path)
  frechet_descriptor_distance = Fréchet distance between Gaussians fitted to DESCRIPTORS of valid samples and
                  of the reference, each descriptor standardised by the reference's mean and standard deviation.
                  NOT the Fréchet ChemNet Distance: no installed package ships ChemNet's weights (neither fcd nor
                  fcd_torch is installed), so this is the same formula on RDKit descriptors.
`evaluate(samples, train, reference)` returns all of them in one dict; invalid strings are counted, never
an error; an empty sample list is a ValueError. Figures that need a valid sample are nan when none is valid.
"""
from __future__ import annotations

import math
from collections import Counter
from functools import cached_property, lru_cache

import numpy as np

from course_lib.chem.clean import quiet_rdkit

RADIUS, N_BITS = 2, 2048
PROPERTIES = ("MW", "logP", "TPSA", "QED")
DESCRIPTORS = ("MolWt", "MolLogP", "TPSA", "qed", "NumHDonors", "NumHAcceptors", "NumRotatableBonds", "RingCount",
               "NumAromaticRings", "FractionCSP3", "HeavyAtomCount", "NumHeteroatoms")


def _check_list(smiles, what: str = "samples", allow_empty: bool = False) -> list:
    if isinstance(smiles, str) or not hasattr(smiles, "__iter__"):
        raise TypeError(f"{what} must be a list of SMILES strings, got {type(smiles).__name__}")
    smiles = list(smiles)
    if not smiles and not allow_empty:
        raise ValueError(f"{what} is empty: expected at least one SMILES string")
    bad = [s for s in smiles if not isinstance(s, str)]
    if bad:
        raise TypeError(f"{what} must hold strings, got {type(bad[0]).__name__} ({bad[0]!r})")
    return smiles


def parse(smiles) -> list:
    """RDKit Mol for each string, None where RDKit cannot parse it (or the string is empty)."""
    from rdkit import Chem
    quiet_rdkit()
    return [Chem.MolFromSmiles(s) if s.strip() else None for s in _check_list(smiles, allow_empty=True)]


def canonical_set(smiles) -> set:
    """The distinct canonical SMILES (no stereo, as the cleaned data) of the valid strings."""
    from rdkit import Chem
    return {Chem.MolToSmiles(m, isomericSmiles=False) for m in parse(smiles) if m is not None}


def validity(samples) -> float:
    """Valid samples / all samples."""
    mols = parse(_check_list(samples))
    return sum(m is not None for m in mols) / len(mols)


def uniqueness(samples) -> float:
    """Distinct canonical valid / valid (nan when none is valid)."""
    n_valid = sum(m is not None for m in parse(_check_list(samples)))
    return len(canonical_set(samples)) / n_valid if n_valid else math.nan


def novelty(samples, train) -> float:
    """Distinct valid canonical SMILES not among the training set's canonical SMILES / distinct valid."""
    distinct = canonical_set(_check_list(samples))
    return len(distinct - canonical_set(_check_list(train, "train"))) / len(distinct) if distinct else math.nan


def fingerprints(mols) -> np.ndarray:
    """Morgan fingerprints (radius 2, 2,048 bits) of RDKit Mols as a (N, 2048) float32 0/1 matrix."""
    from rdkit.Chem import rdFingerprintGenerator
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=RADIUS, fpSize=N_BITS)
    out = np.zeros((len(mols), N_BITS), dtype=np.float32)
    for i, m in enumerate(mols):
        out[i] = gen.GetFingerprintAsNumPy(m)
    return out


def tanimoto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tanimoto similarity |a & b| / |a | b| of every row of a (N, D) with every row of b (M, D) -> (N, M)."""
    inter = a @ b.T                                                     # (N, M) common bits
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)      # two empty fingerprints: identical


def _chunks(a: np.ndarray, b: np.ndarray, fn, size: int = 2048):
    for i in range(0, len(a), size):
        yield i, fn(tanimoto(a[i:i + size], b))


def internal_diversity(mols) -> float:
    """1 - mean Tanimoto over pairs i != j of the Mols' fingerprints (nan for fewer than 2)."""
    fps = fingerprints(mols)
    n = len(fps)
    if n < 2:
        return math.nan
    total = sum(s.sum() - np.trace(s[:, i:i + len(s)]) for i, s in _chunks(fps, fps, lambda s: s))
    return float(1 - total / (n * (n - 1)))


def nearest_neighbour_similarity(mols, ref_fps: np.ndarray) -> float:
    """Mean over Mols of the largest Tanimoto similarity to any row of ref_fps (nan for no Mols)."""
    if not mols:
        return math.nan
    best = np.concatenate([m for _, m in _chunks(fingerprints(mols), ref_fps, lambda s: s.max(1))])
    return float(best.mean())


def scaffold_counts(mols) -> Counter:
    """Bemis-Murcko scaffold (canonical SMILES) -> count; molecules without rings are left out."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold
    scafs = (Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(m), isomericSmiles=False) for m in mols)
    return Counter(s for s in scafs if s)


def cosine_similarity(a: Counter, b: Counter) -> float:
    """Cosine of two count vectors given as Counters (nan when one is empty)."""
    dot = sum(v * b[k] for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return dot / norm if norm else math.nan


@lru_cache(maxsize=1)
def _sascorer():
    """RDKit's contributed SA scorer, imported from its file (RDContribDir is not a package on sys.path)."""
    import importlib.util
    import os
    from rdkit import RDConfig
    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    spec = importlib.util.spec_from_file_location("rdkit_contrib_sascorer", path)
    if spec is None or not os.path.isfile(path):
        raise ImportError(f"RDKit's contributed SA_Score/sascorer.py is not at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sa_score(mol) -> float:
    """Synthetic accessibility of one RDKit Mol, 1 (easy to make) .. 10 (hard)."""
    return float(_sascorer().calculateScore(mol))


def properties(mols) -> dict:
    """{"MW", "logP", "TPSA", "QED", "SA": float arrays (N,)} of RDKit Mols (notebook histograms)."""
    from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors
    fns = {"MW": Descriptors.MolWt, "logP": Crippen.MolLogP, "TPSA": rdMolDescriptors.CalcTPSA, "QED": QED.qed,
           "SA": sa_score}
    return {k: np.array([f(m) for m in mols], dtype=np.float64) for k, f in fns.items()}


def descriptor_matrix(mols, qed=None) -> np.ndarray:
    """(N, len(DESCRIPTORS)) RDKit descriptor values of the Mols (rdkit.Chem.Descriptors by name); pass the
    Mols' QED values as `qed` when they are already computed (QED is the slowest of them)."""
    from rdkit.Chem import Descriptors
    fns = dict(Descriptors.descList)
    cols = [np.asarray(qed, dtype=np.float64) if name == "qed" and qed is not None else
            np.array([fns[name](m) for m in mols], dtype=np.float64) for name in DESCRIPTORS]
    return np.stack(cols, axis=1) if mols else np.zeros((0, len(DESCRIPTORS)))


def _frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance of Gaussians fitted to descriptor rows a and b, standardised by b's mean and std."""
    from course_lib.metrics.frechet import frechet_distance
    if len(a) < 2 or len(b) < 2:
        return math.nan
    mu, sd = b.mean(0), b.std(0)
    sd[sd == 0] = 1.0
    return float(frechet_distance((a - mu) / sd, (b - mu) / sd))


def frechet_descriptor_distance(mols, ref_mols) -> float:
    """Fréchet distance of Gaussians on DESCRIPTORS, standardised by the reference (module docstring)."""
    return _frechet(descriptor_matrix(mols), descriptor_matrix(ref_mols))


class Reference:
    """A set of SMILES parsed once; fingerprints, scaffolds, properties and descriptors computed when first
    needed and kept, so one training or held-out set serves many evaluations (a temperature sweep)."""

    def __init__(self, smiles, what: str = "reference"):
        self.mols = [m for m in parse(_check_list(smiles, what)) if m is not None]
        if not self.mols:
            raise ValueError(f"{what} has no valid SMILES")

    @cached_property
    def fps(self) -> np.ndarray:
        return fingerprints(self.mols)

    @cached_property
    def canonical(self) -> set:
        from rdkit import Chem
        return {Chem.MolToSmiles(m, isomericSmiles=False) for m in self.mols}

    @cached_property
    def scaffolds(self) -> Counter:
        return scaffold_counts(self.mols)

    @cached_property
    def props(self) -> dict:
        return properties(self.mols)

    @cached_property
    def descriptors(self) -> np.ndarray:
        return descriptor_matrix(self.mols, qed=self.props["QED"])


def evaluate(samples, train, reference, *, train_ref: "Reference | None" = None,
             ref: "Reference | None" = None) -> dict:
    """Every metric of the module docstring for `samples` against the training SMILES (novelty, snn_train)
    and the held-out `reference` SMILES (snn, scaffold_sim, w1_*, frechet_descriptor_distance), plus the
    counts and the mean of each property. Pass train_ref / ref (Reference objects) to reuse parsed sets."""
    from scipy.stats import wasserstein_distance
    samples = _check_list(samples)
    ref = ref if ref is not None else Reference(reference)
    train_ref = train_ref if train_ref is not None else Reference(_check_list(train, "train"), "train")
    gen = Reference.__new__(Reference)                   # the valid samples, with the same cached features
    gen.mols = [m for m in parse(samples) if m is not None]
    mols, distinct = gen.mols, gen.canonical if gen.mols else set()
    out = {"samples": len(samples), "valid": len(mols), "validity": len(mols) / len(samples),
           "uniqueness": len(distinct) / len(mols) if mols else math.nan,
           "novelty": len(distinct - train_ref.canonical) / len(distinct) if distinct else math.nan,
           "intdiv1": internal_diversity(mols),
           "snn": nearest_neighbour_similarity(mols, ref.fps),
           "snn_train": nearest_neighbour_similarity(mols, train_ref.fps),
           "scaffold_sim": cosine_similarity(gen.scaffolds, ref.scaffolds) if mols else math.nan}
    for k in PROPERTIES:
        out[f"w1_{k}"] = float(wasserstein_distance(gen.props[k], ref.props[k])) if mols else math.nan
    out["frechet_descriptor_distance"] = _frechet(gen.descriptors, ref.descriptors) if mols else math.nan
    for k in PROPERTIES:
        out[f"mean_{k}"] = float(gen.props[k].mean()) if mols else math.nan
    out["sa"] = float(gen.props["SA"].mean()) if mols else math.nan
    return out
