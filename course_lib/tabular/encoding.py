"""A mixed table <-> a float matrix a network can read: numeric columns scaled, categorical ones one-hot.

Two ways to scale a numeric column, chosen per encoder:
  - "standard": (x - mean) / std of the training column. Used for distances (DCR, membership inference)
    and for anomaly detection, where a value far outside the training range must stay far.
  - "quantile": the empirical CDF then the standard normal's inverse, z = Phi^-1(F(x)) (normal scores).
    A skewed column (kappa, creatinine) becomes a bell a Gaussian head can model, and decoding maps any z
    back inside the training range through the inverse CDF. CTGAN uses a different per-mode scaling
    (a Gaussian mixture per column); this is the simpler normal-score version, the Gaussian copula's.

    enc = TableEncoder(schema, numeric="quantile").fit(train)
    X = enc.transform(train)            # (N, D) float32: numeric block, then one one-hot block per column
    back = enc.inverse_transform(X)     # DataFrame, original columns, dtypes and categories
    enc.spans                           # [Span("age", "numeric", 0, 1), ..., Span("sex", "categorical", 5, 7)]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as pdt
from scipy.stats import norm

from course_lib.tabular.schema import Schema

SCALINGS = ("standard", "quantile")


@dataclass(frozen=True)
class Span:
    """Where one original column sits in the encoded matrix: columns start..stop-1."""
    name: str
    kind: str      # "numeric" | "categorical"
    start: int
    stop: int


class Marginal:
    """The empirical distribution of one numeric column, as normal scores: x -> z = Phi^-1(F(x)) and back.

    Forward, F steps at each distinct value v_j; we use its midpoint (share below v_j + half the share at
    v_j), so ties get one score and the scores stay strictly inside (0, 1). Backward, u = Phi(z) -> x: a
    value seen more than once is a point mass and gets the whole slice of u it holds (ages stay whole
    years, the imputed creatinine spike stays a spike); between those plateaus and through values seen
    once, x is interpolated linearly, so every x lies inside [min, max] of the training column."""

    def __init__(self, values: np.ndarray):
        values = np.asarray(values, dtype=np.float64)
        self.values, counts = np.unique(values, return_counts=True)              # (K,), (K,)
        n, cum = counts.sum(), np.cumsum(counts)
        self.cdf = (cum - counts / 2.0) / n                                      # (K,) midpoints in (0, 1)
        lo, hi, eps = (cum - counts) / n, cum / n, 0.01 / n                      # the slice [lo, hi) of each value
        tied = counts > 1
        u = np.where(tied[:, None], np.stack([lo + eps, hi - eps], 1), self.cdf[:, None])   # (K, 2) knots
        self.knots_u, self.knots_x = u.ravel(), np.repeat(self.values, 2)        # a singleton's two knots coincide

    def to_normal(self, x: np.ndarray) -> np.ndarray:
        if len(self.values) == 1:
            return np.zeros(len(x))
        return norm.ppf(np.interp(x, self.values, self.cdf))

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        if len(self.values) == 1:
            return np.full(len(z), self.values[0])
        return np.interp(norm.cdf(z), self.knots_u, self.knots_x)


def categories_of(series: pd.Series) -> list:
    """The categories of a column: declared ones for a pandas Categorical (also those never seen), else the
    sorted distinct values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().unique().tolist())


class TableEncoder:
    """Fitted on a training table; transform/inverse_transform any table with the same schema."""

    def __init__(self, schema: Schema, numeric: str = "standard"):
        if numeric not in SCALINGS:
            raise ValueError(f"numeric scaling must be one of {SCALINGS}, got {numeric!r}")
        self.schema, self.numeric = schema, numeric
        self.fitted = False

    def fit(self, frame: pd.DataFrame) -> "TableEncoder":
        checked = self.schema.check(frame, "training table")
        self.order = list(frame.columns)                    # decoded tables keep the training column order
        frame = checked
        if len(frame) == 0:
            raise ValueError("cannot fit an encoder on an empty table (0 rows)")
        self._check_missing(frame)
        self.dtypes = dict(frame.dtypes)
        self.mean = {c: float(frame[c].mean()) for c in self.schema.numeric}
        self.std = {c: float(frame[c].std(ddof=0)) or 1.0 for c in self.schema.numeric}   # a constant column: 1
        self.marginals = {c: Marginal(frame[c].to_numpy()) for c in self.schema.numeric} if self.numeric == "quantile" else {}
        self.categories = {c: categories_of(frame[c]) for c in self.schema.categorical}
        spans, at = [], 0
        for c in self.schema.numeric:
            spans.append(Span(c, "numeric", at, at + 1))
            at += 1
        for c in self.schema.categorical:
            spans.append(Span(c, "categorical", at, at + len(self.categories[c])))
            at += len(self.categories[c])
        self.spans, self.width, self.fitted = spans, at, True
        return self

    def _check_missing(self, frame: pd.DataFrame) -> None:
        nan = [c for c in frame.columns if frame[c].isna().any()]
        if nan:
            raise ValueError(f"columns {nan} have missing values: impute them or add a missing indicator first")

    def _need_fit(self):
        if not self.fitted:
            raise RuntimeError("call fit(training_table) before transform/inverse_transform")

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """(N, width) float32: scaled numeric columns, then one one-hot block per categorical column."""
        self._need_fit()
        frame = self.schema.check(frame)
        self._check_missing(frame)
        out = np.zeros((len(frame), self.width), dtype=np.float32)
        for s in self.spans:
            col = frame[s.name]
            if s.kind == "numeric":
                x = col.to_numpy(dtype=np.float64)
                out[:, s.start] = (self.marginals[s.name].to_normal(x) if self.numeric == "quantile"
                                   else (x - self.mean[s.name]) / self.std[s.name])
            else:
                cats = self.categories[s.name]
                codes = pd.Index(cats, dtype=object).get_indexer(col.astype(object))  # (N,) -1: not a known category
                if (codes < 0).any():
                    bad = sorted(set(col[codes < 0].astype(str)))[:5]
                    raise ValueError(f"column {s.name!r} has values {bad} that were not in the training table "
                                     f"(known: {cats})")
                out[np.arange(len(frame)), s.start + codes] = 1.0
        return out

    def inverse_transform(self, X) -> pd.DataFrame:
        """An encoded matrix (N, width) back to a table: numeric columns unscaled (rounded for int columns),
        each categorical column the arg-max of its block, with the training dtypes and categories."""
        self._need_fit()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.width:
            raise ValueError(f"expected an encoded matrix of shape (N, {self.width}), got {X.shape}")
        cols = {}
        for s in self.spans:
            dtype = self.dtypes[s.name]
            if s.kind == "numeric":
                z = X[:, s.start]
                x = (self.marginals[s.name].from_normal(z) if self.numeric == "quantile"
                     else z * self.std[s.name] + self.mean[s.name])
                cols[s.name] = np.round(x).astype(dtype) if pdt.is_integer_dtype(dtype) else x.astype(dtype)
            else:
                cats = np.asarray(self.categories[s.name], dtype=object)
                values = cats[X[:, s.start:s.stop].argmax(axis=1)]
                if isinstance(dtype, pd.CategoricalDtype):
                    cols[s.name] = pd.Categorical(values, categories=dtype.categories, ordered=dtype.ordered)
                else:
                    cols[s.name] = pd.Series(values, dtype=object).astype(dtype).to_numpy()
        return pd.DataFrame(cols)[self.order]
