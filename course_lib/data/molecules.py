"""Drug-like molecules as SMILES from the two sets that ship inside the RDKit wheel, cleaned and split by
scaffold.

Sources (read from the installed package, never copied into this repository):
  - RDConfig.RDDataDir/NCI/first_5K.smi: the first 5,000 structures of the NCI open database (tab-separated
    SMILES and id), shipped with RDKit under RDKit's BSD licence;
  - RDConfig.RDDataDir/Pains/test_data/wehi_mols.csv: 10,000 compounds of the WEHI screening set (quoted
    "SMILES","WEHI-id", no header), in RDKit's test data for its PAINS filters; the wheel states no licence
    of its own for this file.
Cleaning: course_lib.chem.clean.clean_smiles (parse, largest fragment, neutralise, allowed elements, size
cap, canonical SMILES without stereo, duplicates removed across both files), NCI first. `cleaning_report()`
gives the counts of every step. Split: by Bemis-Murcko scaffold (course_lib.chem.scaffolds), each scaffold
to train / val / test by a hash of its SMILES, 80/10/10 of scaffolds, so no scaffold is in two splits; the
two scaffolds shared by more than 1% of the molecules (benzene, and no ring at all) go to train.
Cleaning takes a few seconds, so the result is cached in config.data_dir()/"molecules" (written atomically).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from .registry import DatasetInfo, check_split, register

SPLITS = ("train", "val", "test", "all")
LICENSE = ("NCI subset: RDKit's BSD licence (shipped in the rdkit wheel); WEHI screening set: in RDKit's test data, "
           "no licence of its own stated in the wheel")


def source_files() -> dict:
    """{"nci": path, "wehi": path} inside the installed RDKit; a clear error when RDKit is missing."""
    try:
        from rdkit import RDConfig
    except ImportError:
        raise ImportError("the molecules dataset needs RDKit: pip install 'genai-course[apps]' (or pip install rdkit)") from None
    data = Path(RDConfig.RDDataDir)
    return {"nci": data / "NCI" / "first_5K.smi", "wehi": data / "Pains" / "test_data" / "wehi_mols.csv"}


def read_sources() -> list[str]:
    """The raw SMILES of both files, NCI first, in file order (15,000 strings, before any cleaning)."""
    files = source_files()
    nci = [line.split("\t")[0] for line in files["nci"].read_text().splitlines() if line.strip()]
    with files["wehi"].open(newline="") as f:
        wehi = [row[0] for row in csv.reader(f) if row]
    return nci + wehi


def _cache_path() -> Path:
    import rdkit
    from course_lib import config
    from course_lib.chem import clean
    digest = hashlib.sha1()
    for path in source_files().values():
        digest.update(path.read_bytes())
    digest.update(repr((sorted(clean.ALLOWED_ELEMENTS), clean.MIN_HEAVY, clean.MAX_HEAVY, clean.MAX_LEN)).encode())
    return config.data_dir() / "molecules" / f"molecules_rdkit-{rdkit.__version__}_{digest.hexdigest()[:12]}.json"


@lru_cache(maxsize=None)
def _cleaned() -> dict:
    """{"smiles": [...], "scaffolds": [...], "report": {...}}, from the cache or cleaned now and cached."""
    from course_lib.chem.clean import clean_smiles
    from course_lib.chem.scaffolds import murcko_scaffold
    path = _cache_path()
    if path.is_file():
        return json.loads(path.read_text())
    smiles, report = clean_smiles(read_sources())
    payload = {"smiles": smiles, "scaffolds": [murcko_scaffold(s) for s in smiles], "report": report.as_dict()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, path)
    return payload


def cleaning_report():
    """The counts of every cleaning step (course_lib.chem.clean.CleanReport) plus the split sizes."""
    from course_lib.chem.clean import CleanReport
    report = CleanReport(**_cleaned()["report"])
    sizes = {split: len(load_molecules(split)) for split in SPLITS[:3]}
    return report, sizes


@lru_cache(maxsize=None)
def _splits() -> dict:
    from course_lib.chem.scaffolds import scaffold_split
    cleaned = _cleaned()
    return scaffold_split(cleaned["smiles"], cleaned["scaffolds"])


def load_molecules(split: str = "train") -> list[str]:
    """Canonical SMILES of one split (a new list; module docstring: sources, cleaning, scaffold split)."""
    check_split("molecules", split, SPLITS)
    return list(_cleaned()["smiles"]) if split == "all" else list(_splits()[split])


register(DatasetInfo("molecules", "molecules", "NCI and WEHI molecules (RDKit wheel) as canonical SMILES, split by "
                     "Bemis-Murcko scaffold", LICENSE, "bundled: rdkit", "14,589 molecules (train 12,186 / val 1,125 / test 1,278 by scaffold)",
                     SPLITS), load_molecules)
