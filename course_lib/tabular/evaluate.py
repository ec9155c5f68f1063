"""Judging synthetic rows three ways: fidelity, utility, privacy. Every figure is defined exactly here.

FIDELITY (does it look like the real table?)
  - numeric column: the two-sample Kolmogorov-Smirnov statistic, max_x |F_real(x) - F_syn(x)| (scipy's
    ks_2samp), in [0, 1]; unchanged by any monotone rescaling, so standardizing first changes nothing.
  - categorical column: total variation distance, 0.5 * sum_k |p_real(k) - p_syn(k)|, in [0, 1].
  - association: the mean absolute difference between the Pearson correlation matrices of the two tables,
    both encoded with the encoder fitted on the real table (numeric standardized, categories one-hot),
    over every pair of encoded columns that come from DIFFERENT original columns (the one-hot columns of
    one variable are tied to each other by construction). A constant encoded column has no correlation:
    it counts as 0. In [0, 2]; 0 = the same linear associations.
UTILITY (can a model trained on it be used on real patients?)
  - TSTR: train scikit-learn's HistGradientBoostingClassifier (random_state fixed) on the synthetic table,
    test on the real held-out table: ROC AUC for the positive class of the target. TRTR: the same with the
    real training table. The gap TRTR - TSTR is what synthesis cost (Esteban et al. 2017).
PRIVACY (does it give the training patients away?) — HEURISTICS, NOT GUARANTEES
  - DCR, distance to closest record: for each row, the smallest Euclidean distance to a real TRAINING row,
    in the standardized one-hot encoding fitted on the real training table. Synthetic rows are compared
    with real HELD-OUT rows, which were never trained on: if synthetic rows sit much closer to the
    training rows than fresh patients do, the generator copies. Reported: both medians, the share of exact
    copies (DCR < 1e-6), and the share of synthetic rows closer than the 5th percentile of the held-out DCRs
    (about 0.05 when the generator copies no more than chance).
  - membership inference: an attacker holds candidate records, half training members, half not (held-out),
    and scores each by minus its distance to the nearest synthetic row (close = "was in training"). The ROC
    AUC of that score: 0.5 = the attacker learns nothing, 1.0 = every member is exposed.
  Passing these checks shows that THESE attacks fail, not that no attack succeeds: a rare patient can still
  be re-identified, and a stronger attacker (shadow models, attribute inference) may do better. A bound
  on what any attacker can learn comes only from differentially private training (e.g. DP-SGD, which
  opacus implements for PyTorch), paid for in fidelity and utility.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from course_lib.tabular.encoding import TableEncoder, categories_of
from course_lib.tabular.schema import Schema


def _checked(schema: Schema, **tables) -> list[pd.DataFrame]:
    out = []
    for what, t in tables.items():
        t = schema.check(t, f"{what} table")
        if len(t) == 0:
            raise ValueError(f"the {what} table is empty (0 rows): nothing to evaluate")
        out.append(t)
    return out


# ------------------------------------------------------------------------------------------ fidelity

def ks_statistic(real, synthetic) -> float:
    """max |F_real - F_syn| over x, the two empirical CDFs: 0 for identical samples, 1 for disjoint ones."""
    return float(ks_2samp(np.asarray(real, dtype=float), np.asarray(synthetic, dtype=float)).statistic)


def total_variation(real, synthetic, categories=None) -> float:
    """0.5 * sum_k |p_real(k) - p_syn(k)| over the categories (default: every value seen in either)."""
    real, synthetic = pd.Series(real).astype(object), pd.Series(synthetic).astype(object)
    cats = list(categories) if categories is not None else sorted(set(real) | set(synthetic), key=str)
    p = real.value_counts(normalize=True).reindex(cats, fill_value=0.0).to_numpy()
    q = synthetic.value_counts(normalize=True).reindex(cats, fill_value=0.0).to_numpy()
    return float(0.5 * np.abs(p - q).sum())


def column_distances(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """One row per column: its type, the distance used (ks or tv) and its value."""
    real, synthetic = _checked(schema, real=real, synthetic=synthetic)
    rows = [{"column": c, "type": "numeric", "metric": "ks", "distance": ks_statistic(real[c], synthetic[c])}
            for c in schema.numeric]
    rows += [{"column": c, "type": "categorical", "metric": "tv",
              "distance": total_variation(real[c], synthetic[c], categories_of(real[c]))} for c in schema.categorical]
    return pd.DataFrame(rows)


def association_matrix(table: pd.DataFrame, encoder: TableEncoder) -> np.ndarray:
    """Pearson correlations (D, D) of the encoded table; a constant encoded column gets 0 correlations."""
    X = encoder.transform(table).astype(np.float64)                             # (N, D)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.corrcoef(X, rowvar=False)
    return np.nan_to_num(R)


def association_difference(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> float:
    """Mean |R_real - R_syn| over encoded column pairs from different original columns (module docstring)."""
    real, synthetic = _checked(schema, real=real, synthetic=synthetic)
    enc = TableEncoder(schema, "standard").fit(real)
    owner = np.concatenate([[i] * (s.stop - s.start) for i, s in enumerate(enc.spans)])   # (D,) original column
    pairs = owner[:, None] != owner[None, :]                                    # (D, D) across columns only
    diff = np.abs(association_matrix(real, enc) - association_matrix(synthetic, enc))
    return float(diff[pairs].mean()) if pairs.any() else 0.0


def fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict:
    """{"ks_mean", "tv_mean", "ks_max", "tv_max", "assoc_diff", "columns": per-column DataFrame}."""
    cols = column_distances(real, synthetic, schema)
    num, cat = cols[cols.type == "numeric"].distance, cols[cols.type == "categorical"].distance
    nan = float("nan")
    return {"ks_mean": float(num.mean()) if len(num) else nan, "ks_max": float(num.max()) if len(num) else nan,
            "tv_mean": float(cat.mean()) if len(cat) else nan, "tv_max": float(cat.max()) if len(cat) else nan,
            "assoc_diff": association_difference(real, synthetic, schema), "columns": cols}


# ------------------------------------------------------------------------------------------ utility

def _features(table: pd.DataFrame, schema: Schema, categories: dict) -> np.ndarray:
    """Numeric columns as they are, categorical features as integer codes of the REAL table's categories."""
    cols = [table[c].to_numpy(dtype=float) if c in schema.numeric
            else pd.Index(categories[c], dtype=object).get_indexer(table[c].astype(object)).astype(float)
            for c in schema.features]
    return np.stack(cols, axis=1)                                               # (N, F)


def classifier_auc(fit_table: pd.DataFrame, test_table: pd.DataFrame, schema: Schema, positive=None,
                   random_state: int = 0) -> float:
    """Train HistGradientBoostingClassifier on fit_table, return its ROC AUC on test_table for the target's
    `positive` class (default: the target's last category in test_table, e.g. "dead")."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    if schema.target is None:
        raise ValueError("the schema has no target column: utility needs one (Schema(..., target=...))")
    fit_table, test_table = _checked(schema, training=fit_table, test=test_table)
    categories = {c: categories_of(test_table[c]) for c in schema.categorical}
    positive = categories[schema.target][-1] if positive is None else positive
    y_fit = (fit_table[schema.target].astype(object) == positive).to_numpy()
    y_test = (test_table[schema.target].astype(object) == positive).to_numpy()
    if y_fit.all() or not y_fit.any():
        raise ValueError(f"the training table's target {schema.target!r} has a single class "
                         f"({'all' if y_fit.all() else 'no'} rows are {positive!r}): no classifier to train")
    if y_test.all() or not y_test.any():
        raise ValueError(f"the test table's target {schema.target!r} has a single class: AUC is undefined")
    is_cat = [c in schema.categorical for c in schema.features]
    clf = HistGradientBoostingClassifier(categorical_features=is_cat if any(is_cat) else None,
                                         random_state=random_state)
    clf.fit(_features(fit_table, schema, categories), y_fit)
    return float(roc_auc_score(y_test, clf.predict_proba(_features(test_table, schema, categories))[:, 1]))


def utility(train: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, positive=None,
            random_state: int = 0) -> dict:
    """{"trtr_auc", "tstr_auc", "gap"}: the same classifier trained on real vs synthetic rows, both
    tested on the real held-out table; gap = trtr - tstr."""
    trtr = classifier_auc(train, test, schema, positive, random_state)
    tstr = classifier_auc(synthetic, test, schema, positive, random_state)
    return {"trtr_auc": trtr, "tstr_auc": tstr, "gap": trtr - tstr}


# ------------------------------------------------------------------------------------------ privacy

def closest_distances(reference: pd.DataFrame, query: pd.DataFrame, encoder: TableEncoder) -> np.ndarray:
    """(len(query),) Euclidean distance from each query row to its nearest reference row, in encoder's space."""
    from sklearn.neighbors import NearestNeighbors
    nn = NearestNeighbors(n_neighbors=1).fit(encoder.transform(reference))
    return nn.kneighbors(encoder.transform(query))[0][:, 0]


def membership_auc(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema,
                   seed: int = 0) -> float:
    """The distance attack's ROC AUC: as many members (drawn from train, seeded) as non-members (holdout),
    each scored by minus its distance to the nearest synthetic row. 0.5 = nothing learnt."""
    from sklearn.metrics import roc_auc_score
    train, holdout, synthetic = _checked(schema, training=train, holdout=holdout, synthetic=synthetic)
    enc = TableEncoder(schema, "standard").fit(train)
    n = min(len(train), len(holdout))
    rng = np.random.default_rng(seed)
    members = train.iloc[rng.choice(len(train), n, replace=False)]
    outsiders = holdout.iloc[rng.choice(len(holdout), n, replace=False)]
    score = -np.concatenate([closest_distances(synthetic, members, enc), closest_distances(synthetic, outsiders, enc)])
    return float(roc_auc_score(np.r_[np.ones(n), np.zeros(n)], score))


def privacy(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema,
            seed: int = 0) -> dict:
    """DCR figures and the membership-inference AUC (module docstring); the DCR arrays for histograms."""
    train, holdout, synthetic = _checked(schema, training=train, holdout=holdout, synthetic=synthetic)
    enc = TableEncoder(schema, "standard").fit(train)
    d_syn = closest_distances(train, synthetic, enc)                          # (n_syn,)
    d_hold = closest_distances(train, holdout, enc)                           # (n_holdout,)
    p5 = float(np.percentile(d_hold, 5))
    return {"dcr_synthetic_median": float(np.median(d_syn)), "dcr_holdout_median": float(np.median(d_hold)),
            "holdout_p5": p5, "share_closer_than_holdout_p5": float((d_syn < p5).mean()),
            "exact_copies": float((d_syn < 1e-6).mean()),
            "mia_auc": membership_auc(train, holdout, synthetic, schema, seed),
            "dcr_synthetic": d_syn, "dcr_holdout": d_hold}
