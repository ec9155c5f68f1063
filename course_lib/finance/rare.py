"""Rare events: more examples of the thing a detector must catch, and how to tell whether they helped.

A detector trained on 32 defaults among 1,600 good loans sees the rare class too seldom. Four answers,
one classifier (logistic regression on standardised numeric + one-hot columns, course_lib.tabular's
TableEncoder: a small table with ~30 columns wants a model with few parameters), each tuned the same way
(the same grid C_GRID of inverse regularisation, chosen by pooled out-of-fold average precision in
stratified K-fold cross-validation on the TRAINING split only; resampling happens inside each fold):

  - "none":          fit on the data as it is;
  - "class weights": each class weighted by N / (2 N_class), so both classes weigh the same in the loss;
  - "SMOTE":         imbalanced-learn's SMOTE (the practitioner's tool, k=5) on the encoded matrix, up to
                     balance: new positives on segments between a positive and one of its k nearest
                     positive neighbours (Chawla et al. 2002; smote_interpolate writes it out by hand);
  - "VAE":           the healthcare module's tabular VAE (course_lib.tabular.synthesizers.VAESynthesizer)
                     fitted on the positive training rows only ("minority") or on all rows with the class
                     as a column, keeping the positive samples ("joint"), up to balance.

Evaluation on the held-out split: average precision (PR-AUC) and recall at a fixed false-positive rate,
each with a stratified percentile bootstrap interval (positives and negatives resampled separately, so
every resample keeps the test split's prevalence: average precision depends on it).

    res = compare(train, test, SCHEMA, positive="bad")        # {approach: Result}
    results_table(res)                                          # one row per approach, intervals
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from course_lib import config

APPROACHES = ("none", "class weights", "SMOTE", "VAE")
C_GRID = (0.001, 0.01, 0.1, 1.0)
FPR = 0.01


# ------------------------------------------------------------------------------------------ input checks

def binary_target(frame, column: str, positive) -> np.ndarray:
    """(N,) int 0/1 from a table's target column; anything but exactly two values is a ValueError."""
    if column not in frame.columns:
        raise ValueError(f"the table has no target column {column!r}; columns: {list(frame.columns)}")
    values = sorted(map(str, frame[column].dropna().unique()))
    if frame[column].isna().any() or len(values) != 2 or str(positive) not in values:
        raise ValueError(f"column {column!r} must be a binary target with positive value {positive!r} and no "
                         f"missing values; found values {values}{' and missing values' if frame[column].isna().any() else ''}")
    return (frame[column].astype(str).to_numpy() == str(positive)).astype(np.int64)


def _labels_scores(y, scores) -> tuple[np.ndarray, np.ndarray]:
    y, s = np.asarray(y), np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise ValueError(f"y and scores must be 1-D of the same length, got shapes {y.shape} and {s.shape}")
    found = sorted(set(np.unique(y).tolist()))
    if not set(found) <= {0, 1} or len(found) != 2:
        raise ValueError(f"y must hold both classes as 0 (negative) and 1 (positive), found values {found}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    return y.astype(np.int64), s


# ------------------------------------------------------------------------------------------ SMOTE by hand

def _rng(generator) -> np.random.Generator:
    return generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)


def nearest_neighbours(X: np.ndarray, k: int) -> np.ndarray:
    """(N, k) indices of each row's k nearest other rows (Euclidean), nearest first."""
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)                  # (N, N) squared distances
    np.fill_diagonal(d2, np.inf)                                          # a row is not its own neighbour
    return np.argsort(d2, axis=1, kind="stable")[:, :k]                   # (N, k)


def smote_interpolate(X_min, n_new: int, k: int = 5, generator=None) -> np.ndarray:
    """n_new synthetic minority rows (n_new, D): each picks a minority row x_i at random, one of its k nearest
    minority neighbours x_j at random, and lam ~ U(0, 1): x_new = x_i + lam * (x_j - x_i) (Chawla et al.
    2002). generator: None, an int seed or a numpy Generator."""
    X = np.asarray(X_min, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X_min must be a 2-D array (n_minority, D), got shape {X.shape}")
    if isinstance(n_new, bool) or not isinstance(n_new, (int, np.integer)) or n_new < 0:
        raise ValueError(f"n_new must be a non-negative int, got {n_new!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(X) - 1:
        raise ValueError(f"k must be an int in [1, n_minority - 1] = [1, {len(X) - 1}], got {k!r}")
    rng = _rng(generator)
    nbrs = nearest_neighbours(X, k)                                       # (N, k)
    i = rng.integers(len(X), size=n_new)                                  # (n_new,) base rows
    j = nbrs[i, rng.integers(k, size=n_new)]                              # (n_new,) one of their neighbours
    lam = rng.uniform(size=(n_new, 1))                                    # (n_new, 1) where on the segment
    return X[i] + lam * (X[j] - X[i])                                     # (n_new, D)


# ------------------------------------------------------------------------------------------ metrics

def average_precision(y, scores) -> float:
    """PR-AUC as average precision: sum over distinct thresholds of (R_n - R_{n-1}) * P_n, scores tied at a
    threshold entering together (the step-wise area scikit-learn's average_precision_score computes)."""
    recall, precision = _pr_steps(y, scores)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _pr_steps(y, scores) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision) when flagging score >= t, for each distinct score t from the highest down."""
    y, s = _labels_scores(y, scores)
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]                  # last index of each distinct score
    tp = np.cumsum(y)[last]                                               # true positives flagged at score >= t
    return tp / y.sum(), tp / (last + 1)


def recall_at_fpr(y, scores, fpr: float = FPR) -> float:
    """Recall when flagging score > t, t chosen from the negatives' scores so that at most floor(fpr * N_neg)
    negatives are flagged (ties at t are not flagged, so the false-positive rate never exceeds fpr)."""
    if not isinstance(fpr, (float, int)) or isinstance(fpr, bool) or not 0 < fpr < 1:
        raise ValueError(f"fpr must be a false-positive rate in (0, 1), got {fpr!r}")
    y, s = _labels_scores(y, scores)
    neg = np.sort(s[y == 0])[::-1]                                        # negatives' scores, highest first
    allowed = int(np.floor(fpr * len(neg)))                               # negatives we may flag
    t = neg[allowed] if allowed < len(neg) else -np.inf
    return float(np.mean(s[y == 1] > t))


def bootstrap_ci(y, scores, metric, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of metric(y, scores) over n_boot stratified resamples of the rows (positives and
    negatives drawn with replacement separately, so every resample has the same prevalence)."""
    y, s = _labels_scores(y, scores)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        stats[b] = metric(y[idx], s[idx])
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


# ------------------------------------------------------------------------------------------ the approaches

def features_schema(schema):
    """The table's schema without its target: the columns a detector (and its encoder) reads."""
    from course_lib.tabular.schema import Schema
    return Schema(schema.numeric, tuple(c for c in schema.categorical if c != schema.target))


def _as_categories(frame, like):
    """Categorical columns of `frame` with the categories of the full training table `like`, so a VAE fitted
    on the few positive rows still has a head for every category."""
    import pandas as pd
    out = frame.copy()
    for c in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[c].dtype) and not isinstance(frame[c].dtype, pd.CategoricalDtype)):
            cats = like[c].cat.categories if isinstance(like[c].dtype, pd.CategoricalDtype) else sorted(like[c].unique())
            out[c] = pd.Categorical(frame[c].astype(object), categories=list(cats))
    return out


def vae_positives(train, schema, positive, n_new: int, *, mode: str = "minority", steps: int | None = None,
                  seed: int = 0):
    """n_new synthetic positive rows (a table with schema's features) from the course's tabular VAE.
    mode "minority": fitted on the positive rows only; "joint": fitted on all rows, target included, and only
    its positive samples kept (drawn in rounds of 20 * n_new, at most 20 rounds; fewer if it rarely makes one)."""
    from course_lib.tabular.synthesizers import VAESynthesizer
    if mode not in ("minority", "joint"):
        raise ValueError(f"mode must be 'minority' or 'joint', got {mode!r}")
    steps = config.budget(1500, 40) if steps is None else steps
    feats = features_schema(schema)
    y = binary_target(train, schema.target, positive)
    if mode == "minority":
        rows = _as_categories(train.loc[y == 1, list(feats.columns)], train)
        return VAESynthesizer(feats, steps=steps, seed=seed).fit(rows).sample(n_new, seed=seed)
    syn = VAESynthesizer(schema, steps=steps, seed=seed).fit(_as_categories(train[list(schema.columns)], train))
    kept = []
    for r in range(20):
        fake = syn.sample(20 * n_new, seed=seed + r)
        kept.append(fake[fake[schema.target].astype(str) == str(positive)])
        if sum(map(len, kept)) >= n_new:
            break
    import pandas as pd
    return pd.concat(kept, ignore_index=True).iloc[:n_new][list(feats.columns)]


def resampled(approach: str, train, schema, positive, encoder, *, seed: int = 0, vae_steps: int | None = None,
              vae_mode: str = "minority"):
    """The training set an approach hands the classifier: (X (N', D), y (N',), class_weight)."""
    if approach not in APPROACHES:
        raise ValueError(f"approach must be one of {APPROACHES}, got {approach!r}")
    y = binary_target(train, schema.target, positive)                    # (N,)
    X = encoder.transform(train[list(encoder.schema.columns)])            # (N, D)
    n_new = int((y == 0).sum() - (y == 1).sum())                          # up to balance
    if approach == "none":
        return X, y, None
    if approach == "class weights":
        return X, y, "balanced"
    if approach == "SMOTE":
        from imblearn.over_sampling import SMOTE
        Xr, yr = SMOTE(k_neighbors=min(5, int(y.sum()) - 1), random_state=seed).fit_resample(X, y)
        return Xr, yr, None
    fake = vae_positives(train, schema, positive, n_new, mode=vae_mode, steps=vae_steps, seed=seed)
    Xf = encoder.transform(fake)                                          # (n_new', D)
    return np.vstack([X, Xf]), np.r_[y, np.ones(len(Xf), dtype=np.int64)], None


@dataclass
class Detector:
    """A fitted approach: the encoder (fitted on the real training rows) and the logistic regression."""
    approach: str
    encoder: object
    model: object
    C: float

    def score(self, table) -> np.ndarray:
        """(N,) predicted probability of the positive class."""
        return self.model.predict_proba(self.encoder.transform(table[list(self.encoder.schema.columns)]))[:, 1]


def _logreg(C, class_weight):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, class_weight=class_weight, max_iter=5000)


def fit_approach(approach: str, train, schema, positive, *, C: float = 1.0, seed: int = 0,
                 vae_steps: int | None = None, vae_mode: str = "minority") -> Detector:
    """One approach, one C: resample (or weight) the training table, fit the logistic regression."""
    from course_lib.tabular.encoding import TableEncoder
    feats = features_schema(schema)
    encoder = TableEncoder(feats, numeric="standard").fit(train[list(feats.columns)])
    X, y, cw = resampled(approach, train, schema, positive, encoder, seed=seed, vae_steps=vae_steps, vae_mode=vae_mode)
    return Detector(approach, encoder, _logreg(C, cw).fit(X, y), C)


def tune(approach: str, train, schema, positive, *, grid=C_GRID, folds: int = 5, seed: int = 0,
         vae_steps: int | None = None, vae_mode: str = "minority") -> tuple[float, dict]:
    """The C of `grid` with the best pooled out-of-fold average precision (stratified `folds`-fold CV on the
    training table only; each fold resampled from its own training rows). Returns (best C, {C: AP})."""
    from sklearn.model_selection import StratifiedKFold
    from course_lib.tabular.encoding import TableEncoder
    feats = features_schema(schema)
    y = binary_target(train, schema.target, positive)
    oof = {C: np.zeros(len(train)) for C in grid}
    for k, (fit_rows, val_rows) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(train, y)):
        part = train.iloc[fit_rows].reset_index(drop=True)
        encoder = TableEncoder(feats, numeric="standard").fit(part[list(feats.columns)])
        X, yr, cw = resampled(approach, part, schema, positive, encoder, seed=seed + k, vae_steps=vae_steps,
                              vae_mode=vae_mode)
        X_val = encoder.transform(train.iloc[val_rows][list(feats.columns)])
        for C in grid:
            oof[C][val_rows] = _logreg(C, cw).fit(X, yr).predict_proba(X_val)[:, 1]
    ap = {C: average_precision(y, oof[C]) for C in grid}
    return max(grid, key=lambda C: (ap[C], -C)), ap


@dataclass
class Result:
    """One approach on the held-out split: test scores and what tuning chose."""
    approach: str
    C: float
    cv_ap: dict
    y: np.ndarray          # (N_test,) 0/1
    scores: np.ndarray     # (N_test,) probability of the positive class
    fit_s: float
    extra: dict = field(default_factory=dict)


def compare(train, test, schema, positive, *, approaches=APPROACHES, grid=C_GRID, folds: int = 5, seed: int = 0,
            vae_steps: int | None = None, vae_mode: str = "minority", progress: bool = False) -> dict[str, Result]:
    """Tune (CV on train), refit on the whole training split, score the test split: {approach: Result}."""
    y_test = binary_target(test, schema.target, positive)
    binary_target(train, schema.target, positive)
    out = {}
    for a in approaches:
        start = time.perf_counter()
        C, ap = tune(a, train, schema, positive, grid=grid, folds=folds, seed=seed, vae_steps=vae_steps, vae_mode=vae_mode)
        det = fit_approach(a, train, schema, positive, C=C, seed=seed, vae_steps=vae_steps, vae_mode=vae_mode)
        out[a] = Result(a, C, ap, y_test, det.score(test), time.perf_counter() - start)
        if progress:
            print(f"{a:>14}: C={C:g}, cv AP {ap[C]:.3f}, test AP {average_precision(y_test, out[a].scores):.3f}, "
                  f"{out[a].fit_s:.1f} s", flush=True)
    return out


def results_table(results: dict, *, fpr: float = FPR, n_boot: int | None = None, seed: int = 0):
    """One row per approach: PR-AUC and recall at `fpr`, each with a 95% stratified bootstrap interval."""
    import pandas as pd
    n_boot = config.budget(1000, 200) if n_boot is None else n_boot
    rows = []
    for name, r in results.items():
        rec = lambda y, s: recall_at_fpr(y, s, fpr)  # noqa: E731
        ap_lo, ap_hi = bootstrap_ci(r.y, r.scores, average_precision, n_boot, seed)
        rc_lo, rc_hi = bootstrap_ci(r.y, r.scores, rec, n_boot, seed)
        rows.append({"approach": name, "C": r.C, "pr_auc": average_precision(r.y, r.scores), "pr_auc_lo": ap_lo,
                     "pr_auc_hi": ap_hi, f"recall@{fpr:g}fpr": recall_at_fpr(r.y, r.scores, fpr),
                     "recall_lo": rc_lo, "recall_hi": rc_hi})
    return pd.DataFrame(rows).set_index("approach")


# ------------------------------------------------------------------------------------------ figures

def pr_curve(y, scores) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision) at each distinct threshold, highest score first."""
    recall, precision = _pr_steps(y, scores)
    return np.r_[0.0, recall], np.r_[1.0, precision]


def plot_comparison(results: dict, table, *, fpr: float = FPR):
    """Left: the four PR curves with the prevalence line; right: forest plot of the two metrics' intervals."""
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, r in results.items():
        rec, prec = pr_curve(r.y, r.scores)
        ax1.step(rec, prec, where="post", label=f"{name} (AP {table.loc[name, 'pr_auc']:.2f})")
    prev = next(iter(results.values())).y.mean()
    ax1.axhline(prev, color="grey", ls=":", label=f"prevalence {prev:.1%}")
    ax1.set(xlabel="recall", ylabel="precision", title="precision-recall on the held-out split", ylim=(0, 1.02))
    ax1.legend(fontsize=8)
    rcol = f"recall@{fpr:g}fpr"
    names = list(table.index)
    for off, (col, lo, hi, lab) in zip((-0.15, 0.15), (("pr_auc", "pr_auc_lo", "pr_auc_hi", "PR-AUC"),
                                                       (rcol, "recall_lo", "recall_hi", f"recall at {fpr:.0%} FPR"))):
        pos = np.arange(len(names)) + off
        ax2.errorbar(table[col], pos, xerr=[table[col] - table[lo], table[hi] - table[col]], fmt="o", capsize=3,
                     label=lab)
    ax2.set_yticks(np.arange(len(names)), names)
    ax2.invert_yaxis()
    ax2.set(xlabel="held-out value, 95% bootstrap interval", xlim=(0, 1), title="point estimates and intervals")
    ax2.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
