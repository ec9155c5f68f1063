"""The Wisconsin Diagnostic Breast Cancer table, as a DataFrame for the anomaly detector of notebook 11.

569 fine-needle aspirates (Street, Wolberg and Mangasarian 1993), 30 numeric features of the cell nuclei
(mean, standard error and worst value of ten measurements) and the diagnosis, "benign" (357) or
"malignant" (212). Read from scikit-learn's bundled copy (sklearn/datasets/data/breast_cancer.csv, loaded
with sklearn.datasets.load_breast_cancer; scikit-learn is BSD-3-Clause). The data's own licence is not in
the installed files (their description names creators, donor and date only); the UCI Machine Learning
Repository, where it comes from, publishes it under CC BY 4.0.
Split: stratified on the diagnosis, 70% train / 30% test, seed 0: 398 and 171 rows.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from course_lib.tabular.schema import Schema, pandas

from .registry import DatasetInfo, check_split, register

SPLITS = ("train", "test", "all")
TARGET = "diagnosis"


@lru_cache(maxsize=None)
def _table():
    pd = pandas()
    from sklearn.datasets import load_breast_cancer
    d = load_breast_cancer(as_frame=True)
    out = d.data.copy()
    out.columns = [str(c) for c in out.columns]
    # scikit-learn codes 0 = malignant, 1 = benign (d.target_names): name them, so nobody flips them
    out[TARGET] = pd.Categorical(np.asarray(d.target_names)[d.target.to_numpy()].astype(str),
                                 categories=["benign", "malignant"])
    return out


def schema() -> Schema:
    """30 numeric features, the diagnosis as the (categorical) target."""
    t = _table()
    return Schema(numeric=tuple(c for c in t.columns if c != TARGET), categorical=(TARGET,), target=TARGET)


def load_breast_cancer_table(split: str = "train"):
    """`data.load("breast_cancer", split=...)`: features and diagnosis, stratified 70/30 split with seed 0."""
    from sklearn.model_selection import train_test_split
    check_split("breast_cancer", split, SPLITS)
    t = _table()
    if split == "all":
        return t.copy()
    train, test = train_test_split(np.arange(len(t)), test_size=0.3, random_state=0, stratify=t[TARGET])
    return t.iloc[np.sort(train if split == "train" else test)].reset_index(drop=True)


register(DatasetInfo("breast_cancer", "table", "Wisconsin diagnostic breast cancer: 30 numeric nucleus features, "
                     "diagnosis benign/malignant", "CC BY 4.0 (UCI ML repository; not stated in the installed "
                     "files); BSD-3-Clause (scikit-learn)", "bundled: scikit-learn",
                     "569 aspirates, 212 malignant (test 171: 30%, stratified)", SPLITS), load_breast_cancer_table)
