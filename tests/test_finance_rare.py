"""course_lib.finance.rare and the credit table: SMOTE by hand, the metrics on known inputs, bad input."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from course_lib import data
from course_lib.data.credit import POSITIVE, SCHEMA, TARGET
from course_lib.finance import rare


# ---------------------------------------------------------------------------------- the credit table

def test_credit_is_rare_split_half_and_half_and_complete():
    train, test = data.load("credit"), data.load("credit", split="test")
    assert data.info("credit").kind == "table"
    assert list(train.columns) == list(SCHEMA.columns)
    for t in (train, test):
        share = (t[TARGET] == POSITIVE).mean()
        assert 0.015 < share < 0.025, share                      # about 2% positives in each split
        assert not t.isna().any().any()
    assert abs(len(train) - len(test)) <= 1                      # 50/50
    assert (train[TARGET] == POSITIVE).sum() + (test[TARGET] == POSITIVE).sum() == 65
    SCHEMA.check(train)


def test_credit_seed_moves_the_subsample_and_imputation_uses_training_medians():
    a, b = data.load("credit", split="all", seed=0), data.load("credit", split="all", seed=1)
    assert not a[a[TARGET] == POSITIVE].reset_index(drop=True).equals(b[b[TARGET] == POSITIVE].reset_index(drop=True))
    from course_lib.data import credit
    raw, train = credit.raw(), data.load("credit")
    train_rows = credit._rows(0)[0]
    med = raw["Income"].iloc[train_rows].median()
    filled = train.loc[train["Income_missing"] == "yes", "Income"]
    assert len(filled) > 0 and (filled == med).all()
    with pytest.raises(ValueError, match="seed must be"):
        data.load("credit", seed=-1)


def test_binary_target_guard_names_column_and_values():
    frame = pd.DataFrame({"y": ["a", "b", "c"], "x": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"'y'.*\['a', 'b', 'c'\]"):
        rare.binary_target(frame, "y", "a")
    with pytest.raises(ValueError, match="no target column 'z'"):
        rare.binary_target(frame, "z", "a")
    assert rare.binary_target(frame.iloc[:2], "y", "b").tolist() == [0, 1]


# ---------------------------------------------------------------------------------- SMOTE

def _on_some_segment(x, X, nbrs, tol=1e-9):
    for i in range(len(X)):
        for j in nbrs[i]:
            d = X[j] - X[i]
            lam = d @ (x - X[i]) / (d @ d)
            if -tol <= lam <= 1 + tol and np.allclose(X[i] + lam * d, x, atol=1e-9):
                return True
    return False


def test_smote_rows_lie_on_segments_to_k_nearest_neighbours():
    X = np.random.default_rng(0).normal(size=(12, 3))
    new = rare.smote_interpolate(X, 40, k=3, generator=1)
    assert new.shape == (40, 3)
    nbrs = rare.nearest_neighbours(X, 3)
    assert all(_on_some_segment(x, X, nbrs) for x in new)
    far = X.max(0) + 10                                          # a point on no segment is rejected by the check
    assert not _on_some_segment(far, X, nbrs)
    assert np.array_equal(new, rare.smote_interpolate(X, 40, k=3, generator=1))   # seeded


def test_smote_matches_imbalanced_learn_in_mean_and_covariance():
    from imblearn.over_sampling import SMOTE
    rng = np.random.default_rng(0)
    X_min = rng.normal(size=(60, 2)) @ np.array([[2.0, 0.0], [1.5, 0.5]]) + 3   # correlated minority
    X_maj = rng.normal(size=(2060, 2))
    X, y = np.vstack([X_maj, X_min]), np.r_[np.zeros(2060), np.ones(60)]
    Xr, yr = SMOTE(k_neighbors=5, random_state=0).fit_resample(X, y)
    theirs = Xr[len(X):]                                         # imblearn appends its new rows
    ours = rare.smote_interpolate(X_min, len(theirs), k=5, generator=0)
    assert np.allclose(ours.mean(0), theirs.mean(0), atol=0.1)
    assert np.allclose(np.cov(ours.T), np.cov(theirs.T), atol=0.3)


def test_smote_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        rare.smote_interpolate(np.zeros((3, 2)), 5, k=3)
    with pytest.raises(ValueError, match="2-D"):
        rare.smote_interpolate(np.zeros(5), 5)
    with pytest.raises(ValueError, match="n_new"):
        rare.smote_interpolate(np.zeros((6, 2)), -1)


# ---------------------------------------------------------------------------------- metrics

def test_perfect_scores_give_recall_one_and_ap_one():
    y = np.r_[np.zeros(500), np.ones(10)].astype(int)
    s = y + np.random.default_rng(0).uniform(0, 0.5, size=len(y))
    assert rare.recall_at_fpr(y, s, 0.01) == 1.0
    assert rare.average_precision(y, s) == 1.0


def test_recall_at_fpr_exact_threshold_from_negatives():
    y = np.array([0] * 100 + [1] * 4)
    s = np.r_[np.arange(100) / 100, [0.995, 0.985, 0.5, 0.1]]    # negatives 0.00..0.99
    # 1% of 100 negatives: one may be flagged -> threshold = second-highest negative, 0.98
    assert rare.recall_at_fpr(y, s, 0.01) == 0.5
    assert rare.recall_at_fpr(y, s, 0.001) == 0.25               # none flagged: above 0.99
    assert rare.recall_at_fpr(y, s, 0.5) == 0.75                 # 50 flagged: above 0.49


def test_average_precision_matches_sklearn_with_ties_and_random_scores_give_prevalence():
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=3000) < 0.05).astype(int)
    s = np.round(rng.uniform(size=3000), 2)                       # many ties
    assert rare.average_precision(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    ap = np.mean([rare.average_precision(y, rng.uniform(size=3000)) for _ in range(20)])
    assert ap == pytest.approx(y.mean(), abs=0.015)


def test_bootstrap_interval_contains_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(300), np.ones(20)].astype(int)
    s = y * 0.5 + rng.uniform(size=320)
    lo, hi = rare.bootstrap_ci(y, s, rare.average_precision, n_boot=200, seed=0)
    assert lo < rare.average_precision(y, s) < hi
    assert (lo, hi) == rare.bootstrap_ci(y, s, rare.average_precision, n_boot=200, seed=0)


@pytest.mark.parametrize("fpr", [0, 1, -0.1, 1.5])
def test_fpr_outside_unit_interval(fpr):
    with pytest.raises(ValueError, match=r"fpr must be .* in \(0, 1\)"):
        rare.recall_at_fpr([0, 1], [0.1, 0.9], fpr)


def test_metric_bad_input():
    with pytest.raises(ValueError, match="same length"):
        rare.average_precision([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"found values \[0, 1, 2\]"):
        rare.recall_at_fpr([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="both classes"):
        rare.average_precision([1, 1], [0.1, 0.2])


# ---------------------------------------------------------------------------------- the four approaches

@pytest.fixture(scope="module")
def credit():
    return data.load("credit"), data.load("credit", split="test")


def test_resampling_balances_and_keeps_real_rows(credit):
    train, _ = credit
    det = rare.fit_approach("none", train, SCHEMA, POSITIVE)
    y = rare.binary_target(train, TARGET, POSITIVE)
    X0 = det.encoder.transform(train[list(det.encoder.schema.columns)])
    for a in ("SMOTE", "VAE"):
        X, yr, cw = rare.resampled(a, train, SCHEMA, POSITIVE, det.encoder, vae_steps=20)
        assert (yr == 1).sum() == (yr == 0).sum() == (y == 0).sum()
        assert np.allclose(X[:len(train)], X0) if a == "VAE" else True
    assert rare.resampled("class weights", train, SCHEMA, POSITIVE, det.encoder)[2] == "balanced"
    with pytest.raises(ValueError, match="approach must be one of"):
        rare.resampled("GAN", train, SCHEMA, POSITIVE, det.encoder)


def test_vae_joint_mode_returns_positive_feature_rows(credit):
    train, _ = credit
    fake = rare.vae_positives(train, SCHEMA, POSITIVE, 30, mode="joint", steps=20)
    assert list(fake.columns) == [c for c in SCHEMA.columns if c != TARGET] and len(fake) <= 30


def test_compare_table_has_one_row_per_approach_with_ordered_intervals(credit):
    train, test = credit
    res = rare.compare(train, test, SCHEMA, POSITIVE, grid=(0.1,), folds=2, vae_steps=20)
    table = rare.results_table(res, n_boot=50)
    assert list(table.index) == list(rare.APPROACHES)
    assert (table["pr_auc_lo"] <= table["pr_auc"]).all() and (table["pr_auc"] <= table["pr_auc_hi"]).all()
    assert (table["pr_auc"] > (test[TARGET] == POSITIVE).mean()).all()     # every detector beats chance
    fig = rare.plot_comparison(res, table)
    assert len(fig.axes) == 2
