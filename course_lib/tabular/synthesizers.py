"""Three ways to make synthetic rows, one interface: `fit(train_table)`, then `sample(n, seed) -> table`.

  - VAESynthesizer: the course's TabularVAE (course_lib.models.tabular_vae) on quantile-scaled numeric and
    one-hot categorical columns, trained with course_lib.train.fit on a step (and optional time) budget.
  - GaussianCopula: every column through its own marginal to a normal score, one correlation matrix for
    all of them (the idea of Sklar's theorem as used by SDV's GaussianCopula, Patki et al. 2016; written
    here in numpy). A categorical column takes the normal score of a uniform draw inside its category's
    slice of the cumulative frequencies, so a category is a slice [F(k-1), F(k)) of (0, 1); the order of
    categories is their listed order, arbitrary for nominal columns, which the copula cannot know.
  - Memoriser: returns copies of training rows (optionally with a little noise on numeric columns). It
    scores almost perfectly on fidelity and utility, and is the privacy lesson: it has leaked everyone.

    syn = VAESynthesizer(schema, steps=3000).fit(train)
    fake = syn.sample(len(train), seed=0)      # DataFrame: same columns, dtypes and categories as train
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm

from course_lib import config
from course_lib.models.inputs import check_n
from course_lib.tabular.encoding import TableEncoder
from course_lib.tabular.schema import Schema


class _Synthesizer:
    def __init__(self, schema: Schema):
        if not isinstance(schema, Schema):
            raise TypeError(f"schema must be a course_lib.tabular.Schema, got {type(schema).__name__}")
        self.schema, self.encoder = schema, None

    def _fit_encoder(self, frame: pd.DataFrame, numeric: str) -> np.ndarray:
        self.encoder = TableEncoder(self.schema, numeric=numeric).fit(frame)
        return self.encoder.transform(frame)                                     # (N, D)

    def _check_sample(self, n) -> int:
        if self.encoder is None:
            raise RuntimeError(f"{type(self).__name__}: call fit(train_table) before sample")
        return check_n(n)


class VAESynthesizer(_Synthesizer):
    """The course's tabular VAE behind fit/sample. steps defaults to config.budget(3000, 150)."""

    def __init__(self, schema: Schema, *, steps: int | None = None, seconds: float | None = None,
                 latent_dim: int = 8, hidden: int = 128, depth: int = 2, batch_size: int = 256, lr: float = 2e-3,
                 seed: int = 0, progress: bool = False):
        super().__init__(schema)
        self.steps = config.budget(3000, 150) if steps is None and seconds is None else steps
        self.seconds, self.batch_size, self.lr, self.seed, self.progress = seconds, batch_size, lr, seed, progress
        self.model_kw = dict(latent_dim=latent_dim, hidden=hidden, depth=depth)
        self.model = self.history = None

    def fit(self, frame: pd.DataFrame) -> "VAESynthesizer":
        from course_lib.models.tabular_vae import TabularVAE
        from course_lib.train import CosineSchedule, fit, random_rows
        X = torch.from_numpy(self._fit_encoder(frame, "quantile"))               # (N, D)
        torch.manual_seed(self.seed)
        heads = [[s.kind, s.stop - s.start] for s in self.encoder.spans]
        self.model = TabularVAE(heads, **self.model_kw)
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr)
        sched = CosineSchedule(opt, self.lr, steps=self.steps, seconds=self.seconds)
        batches = random_rows(X, batch_size=min(self.batch_size, len(X)), generator=torch.Generator().manual_seed(self.seed))
        self.history = fit(self.model, lambda m, x: m.loss(x), batches, optimizer=opt, steps=self.steps,
                           seconds=self.seconds, on_step=[sched], progress=self.progress, desc="tabular VAE")
        return self

    def sample(self, n: int, seed: int = 0) -> pd.DataFrame:
        n = self._check_sample(n)
        x = self.model.sample(n, generator=torch.Generator().manual_seed(seed))  # (n, D)
        return self.encoder.inverse_transform(x.cpu().numpy())


class GaussianCopula(_Synthesizer):
    """Marginals kept exactly (up to interpolation), dependence summarised by one correlation matrix."""

    def fit(self, frame: pd.DataFrame, seed: int = 0) -> "GaussianCopula":
        X = self._fit_encoder(frame, "quantile")                                 # numeric columns: normal scores
        rng = np.random.default_rng(seed)
        Z, self.cum = [], {}
        for s in self.encoder.spans:
            if s.kind == "numeric":
                Z.append(X[:, s.start].astype(np.float64))
                continue
            codes = X[:, s.start:s.stop].argmax(axis=1)                          # (N,)
            freq = np.bincount(codes, minlength=s.stop - s.start) / len(codes)   # (K,)
            cum = np.concatenate([[0.0], np.cumsum(freq)])                       # (K+1,) slice edges
            u = cum[codes] + rng.uniform(size=len(codes)) * freq[codes]          # uniform inside the slice
            Z.append(norm.ppf(np.clip(u, 1e-6, 1 - 1e-6)))
            self.cum[s.name] = cum[1:-1]                                         # (K-1,) inner edges
        Z = np.stack(Z, axis=1)                                                  # (N, C) one score per column
        with np.errstate(invalid="ignore", divide="ignore"):
            R = np.corrcoef(Z, rowvar=False) if len(Z) > 1 else np.eye(Z.shape[1])
        R = np.nan_to_num(np.atleast_2d(R))                                      # constant column: no correlation
        np.fill_diagonal(R, 1.0)
        w, V = np.linalg.eigh(R)                                                 # keep it positive definite
        self.corr = (V * np.clip(w, 1e-6, None)) @ V.T
        return self

    def sample(self, n: int, seed: int = 0) -> pd.DataFrame:
        n = self._check_sample(n)
        rng = np.random.default_rng(seed)
        L = np.linalg.cholesky(self.corr + 1e-9 * np.eye(len(self.corr)))
        Z = rng.standard_normal((n, len(self.corr))) @ L.T                        # (n, C) ~ N(0, R)
        X = np.zeros((n, self.encoder.width))
        for j, s in enumerate(self.encoder.spans):
            if s.kind == "numeric":
                X[:, s.start] = Z[:, j]
            else:
                k = np.searchsorted(self.cum[s.name], norm.cdf(Z[:, j]), side="right")   # the slice u falls in
                X[np.arange(n), s.start + k] = 1.0
        return self.encoder.inverse_transform(X)


class Memoriser(_Synthesizer):
    """Copies of training rows drawn at random (without replacement while there are enough), numeric
    columns jittered by `noise` training standard deviations (0: exact copies)."""

    def __init__(self, schema: Schema, noise: float = 0.0):
        super().__init__(schema)
        if not noise >= 0:
            raise ValueError(f"noise must be >= 0 (a share of each column's std), got {noise!r}")
        self.noise = noise

    def fit(self, frame: pd.DataFrame) -> "Memoriser":
        self._fit_encoder(frame, "standard")
        self.rows = frame.reset_index(drop=True).copy()
        return self

    def sample(self, n: int, seed: int = 0) -> pd.DataFrame:
        n = self._check_sample(n)
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(self.rows), size=n, replace=n > len(self.rows))
        out = self.rows.iloc[idx].reset_index(drop=True)
        for c in self.schema.numeric:
            if self.noise:
                jitter = rng.standard_normal(n) * self.noise * self.encoder.std[c]
                out[c] = (out[c] + jitter).astype(out[c].dtype)
        return out
