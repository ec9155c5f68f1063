"""The serum free light chain table (flchain): 7,874 residents of Olmsted County, Minnesota, aged 50+.

Source: the Mayo Clinic study of Dispenzieri et al., "Use of nonclonal serum immunoglobulin free light
chains to predict overall survival in the general population", Mayo Clinic Proceedings 87:512-523 (2012).
The table is distributed with R's `survival` package (LGPL) and shipped by scikit-survival as
sksurv/datasets/data/flchain.arff (read with sksurv.datasets.load_flchain). What the installed files let
us verify: scikit-survival 0.28.0's metadata says GPL-3.0-or-later, and load_flchain's docstring cites
the paper above; the .arff file itself carries no licence line. The R package's LGPL is not in any
installed file (R is not installed): it is stated from the R package's documentation, not checked here.

What the course does with the raw table (`raw()`), and why:
  - outcome `death` ("alive"/"dead"): died during follow-up, 2,169 of 7,874 (27.5%). This ignores how
    long each person was followed (futime, up to 5,215 days): a binary "death during follow-up", not a
    survival analysis. `futime` is dropped (it is part of the outcome, not a feature).
  - `chapter` is DROPPED: it is the ICD-9 chapter of the cause of death, filled in exactly for the 2,169
    who died and missing for everyone else. Any model given it (even "is chapter missing?") predicts
    death perfectly: a leak of the outcome into the features (`chapter_leak()` shows it).
  - `creatinine` is missing for 1,350 rows (17.1%), and not at random: 15.3% of them died against 30.1%
    of the others, and most 2002-2003 samples lack it. So we keep those rows, add a categorical column
    `creatinine_missing` ("no"/"yes"), and fill the gap with the median of the TRAINING split (1.0), so
    the test split's values never shape the training data.
  - split: stratified on death, 70% train / 30% test, seed 0 (scikit-learn's train_test_split): 5,511 and
    2,363 rows, both 27.5% deaths.

Column types, declared (SCHEMA): numeric age, kappa, lambda, creatinine; categorical sex, sample.yr
(the year the blood was drawn, 1995-2003), flc.grp (the study's FLC decile group 1-10), creatinine_missing,
mgus (diagnosed with monoclonal gammopathy), and the target death.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from course_lib.tabular.schema import Schema, pandas

from .registry import DatasetInfo, check_split, register

SPLITS = ("train", "test", "all")
TEST_SIZE, SPLIT_SEED = 0.3, 0
LICENSE = ("GPL-3.0-or-later as shipped by scikit-survival (its metadata); from R's survival package (LGPL, "
           "not verifiable offline); data: Dispenzieri et al. 2012, Mayo Clinic")
SCHEMA = Schema(numeric=("age", "kappa", "lambda", "creatinine"),
                categorical=("sex", "sample.yr", "flc.grp", "creatinine_missing", "mgus", "death"),
                target="death")
COLUMNS = ("age", "sex", "sample.yr", "kappa", "lambda", "flc.grp", "creatinine", "creatinine_missing", "mgus",
           "death")


@lru_cache(maxsize=None)
def _raw():
    pd = pandas()
    try:
        from sksurv.datasets import load_flchain
    except ImportError as err:
        raise ImportError("the flchain table comes with scikit-survival: pip install 'genai-course[apps]'") from err
    X, y = load_flchain()
    out = X.copy()
    out["futime"] = y["futime"]
    out["death"] = pd.Categorical(np.where(y["death"], "dead", "alive"), categories=["alive", "dead"])
    return out


def raw():
    """The table as scikit-survival ships it (with chapter, futime and missing creatinine), outcome added."""
    return _raw().copy()


def chapter_leak():
    """Rows: is `chapter` filled in? Columns: the outcome. Every filled-in chapter is a death, every empty
    one a survivor, which is why the column must go before any model sees it."""
    t = _raw()
    return pandas().crosstab(t["chapter"].notna().rename("chapter given"), t["death"])


@lru_cache(maxsize=None)
def _split_index() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split
    rows = np.arange(len(_raw()))
    train, test = train_test_split(rows, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=_raw()["death"])
    return np.sort(train), np.sort(test)


def load_flchain(split: str = "train"):
    """`data.load("flchain", split=...)`: the cleaned table (module docstring), columns COLUMNS, types SCHEMA."""
    check_split("flchain", split, SPLITS)
    pd = pandas()
    t = _raw().drop(columns=["chapter", "futime"])
    train_idx, test_idx = _split_index()
    missing = t["creatinine"].isna()
    t["creatinine_missing"] = pd.Categorical(np.where(missing, "yes", "no"), categories=["no", "yes"])
    t["creatinine"] = t["creatinine"].fillna(float(t["creatinine"].iloc[train_idx].median()))
    t = t[list(COLUMNS)]
    if split != "all":
        t = t.iloc[train_idx if split == "train" else test_idx]
    return t.reset_index(drop=True)


register(DatasetInfo("flchain", "table", "serum free light chain study (Mayo Clinic, Olmsted County): 4 numeric, "
                     "5 categorical columns and death during follow-up; chapter (leaks death) and futime dropped",
                     LICENSE, "bundled: scikit-survival", "7,874 patients, 27.5% died (test 2,363: 30%, stratified)",
                     SPLITS), load_flchain)
