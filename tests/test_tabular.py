"""Synthetic patients (course_lib.tabular, notebook 11): the flchain table and its leak, the mixed-type
encoding, the three synthesizers, every evaluation on small tables with answers checked by hand, and the
anomaly detector."""
import math

import numpy as np
import pytest
import torch

pd = pytest.importorskip("pandas")

from course_lib import data  # noqa: E402
from course_lib.models.tabular_vae import TabularVAE  # noqa: E402
from course_lib.tabular import Schema, evaluate  # noqa: E402
from course_lib.tabular.encoding import Marginal, TableEncoder  # noqa: E402
from course_lib.tabular.synthesizers import GaussianCopula, Memoriser, VAESynthesizer  # noqa: E402

MIXED = Schema(numeric=("age", "dose"), categorical=("sex", "ward", "smoker", "died"), target="died")


def mixed_table(n=40, seed=0):
    """A small patient table of every supported dtype: int, float, category, object (str), bool."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 90, n)
    return pd.DataFrame({
        "age": age.astype(np.int64),
        "dose": rng.gamma(2.0, 1.5, n),
        "sex": pd.Categorical(rng.choice(["F", "M"], n), categories=["F", "M", "X"]),   # "X" never seen
        "ward": rng.choice(["a", "b", "c"], n).astype(object),
        "smoker": rng.random(n) < 0.3,
        "died": pd.Categorical(np.where(age + rng.normal(0, 10, n) > 60, "yes", "no"), categories=["no", "yes"]),
    })


# ------------------------------------------------------------------------------------- the flchain table

def test_flchain_is_registered_split_stratified_and_clean():
    pytest.importorskip("sksurv")
    from course_lib.data.flchain import COLUMNS, SCHEMA
    info = data.info("flchain")
    assert info.kind == "table" and info.source == "bundled: scikit-survival" and "GPL" in info.license
    train, test, full = (data.load("flchain", split=s) for s in ("train", "test", "all"))
    assert (len(train), len(test), len(full)) == (5511, 2363, 7874)
    assert tuple(train.columns) == COLUMNS and "chapter" not in train and "futime" not in train
    SCHEMA.check(train)
    assert not full.isna().any().any()
    dead = [(t["death"] == "dead").mean() for t in (train, test, full)]
    assert max(dead) - min(dead) < 1e-3 and abs(dead[2] - 2169 / 7874) < 1e-12           # stratified
    assert (full["creatinine_missing"] == "yes").sum() == 1350
    from course_lib.data.flchain import _split_index, raw
    filled = full.loc[full["creatinine_missing"] == "yes", "creatinine"].unique()
    assert list(filled) == [raw()["creatinine"].iloc[_split_index()[0]].median()]   # the TRAINING median
    pd.testing.assert_frame_equal(train, data.load("flchain", split="train"))                # deterministic


def test_chapter_leaks_the_outcome_which_is_why_it_is_dropped():
    pytest.importorskip("sksurv")
    from sklearn.metrics import roc_auc_score
    from course_lib.data.flchain import chapter_leak, raw
    leak = chapter_leak()
    assert leak.loc[True, "alive"] == 0 and leak.loc[False, "dead"] == 0                  # a perfect split
    assert leak.loc[True, "dead"] == 2169 and leak.loc[False, "alive"] == 5705
    t = raw()
    # "is a cause of death filled in?" alone predicts death perfectly: the column is the outcome
    assert roc_auc_score(t["death"] == "dead", t["chapter"].notna()) == 1.0


def test_breast_cancer_table_names_its_classes_right():
    from course_lib.data.breast_cancer import schema
    train, test = data.load("breast_cancer"), data.load("breast_cancer", split="test")
    assert (len(train), len(test)) == (398, 171) and len(schema().numeric) == 30
    full = data.load("breast_cancer", split="all")
    assert full["diagnosis"].value_counts().to_dict() == {"benign": 357, "malignant": 212}
    # malignant nuclei are larger: the mapping of sklearn's codes (0 = malignant) was not flipped
    means = full.groupby("diagnosis", observed=True)["mean radius"].mean()
    assert means["malignant"] > means["benign"] + 3


# ------------------------------------------------------------------------------------- schema and encoding

def test_schema_infers_types_and_names_a_column_it_cannot_use():
    t = mixed_table()
    s = Schema.infer(t, target="died")
    assert s.numeric == ("age", "dose") and set(s.categorical) == {"sex", "ward", "smoker", "died"}
    t["admitted"] = pd.Timestamp("2020-01-01")
    with pytest.raises(ValueError, match=r"column 'admitted' has dtype datetime64"):
        Schema.infer(t)
    with pytest.raises(ValueError, match="target 'age' must be one of the categorical"):
        Schema(numeric=("age",), categorical=("sex",), target="age")


def test_check_names_missing_extra_and_mistyped_columns():
    t = mixed_table()
    with pytest.raises(ValueError, match=r"missing columns \['dose'\], unexpected columns \['extra'\]"):
        MIXED.check(t.drop(columns="dose").assign(extra=1))
    with pytest.raises(ValueError, match="numeric column 'dose' has dtype (object|str)"):
        MIXED.check(t.assign(dose="high"))
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        MIXED.check(t.to_numpy())


@pytest.mark.parametrize("scaling", ["standard", "quantile"])
def test_encode_decode_round_trip_keeps_values_dtypes_and_categories(scaling):
    t = mixed_table()
    enc = TableEncoder(MIXED, scaling).fit(t)
    X = enc.transform(t)
    assert X.shape == (40, 2 + 3 + 3 + 2 + 2) and X.dtype == np.float32         # sex has 3 declared categories
    for s in enc.spans[2:]:
        assert (X[:, s.start:s.stop].sum(axis=1) == 1).all()                     # one-hot
    back = enc.inverse_transform(X)
    assert list(back.columns) == list(t.columns) and back.dtypes.equals(t.dtypes)
    assert list(back["sex"].cat.categories) == ["F", "M", "X"]
    pd.testing.assert_frame_equal(back.drop(columns="dose"), t.drop(columns="dose"))
    np.testing.assert_allclose(back["dose"], t["dose"], rtol=1e-5)
    if scaling == "standard":
        assert abs(X[:, 0].mean()) < 1e-5 and abs(X[:, 0].std() - 1) < 1e-5


def test_encoder_refuses_bad_input_clearly():
    t = mixed_table()
    enc = TableEncoder(MIXED).fit(t)
    with pytest.raises(ValueError, match=r"column 'ward' has values \['z'\] that were not in the training table"):
        enc.transform(t.assign(ward="z"))
    with pytest.raises(ValueError, match=r"columns \['dose'\] have missing values"):
        enc.transform(t.assign(dose=np.nan))
    with pytest.raises(ValueError, match=r"shape \(N, 12\)"):
        enc.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="empty table"):
        TableEncoder(MIXED).fit(t.iloc[:0])
    with pytest.raises(RuntimeError, match="call fit"):
        TableEncoder(MIXED).transform(t)


def test_marginal_keeps_tied_values_as_point_masses():
    m = Marginal(np.array([1.0, 1.0, 1.0, 2.0, 3.5, 4.0, 4.0]))
    x = np.array([1.0, 2.0, 3.5, 4.0])
    np.testing.assert_allclose(m.from_normal(m.to_normal(x)), x)
    back = m.from_normal(np.linspace(-6, 6, 1001))
    assert back.min() == 1.0 and back.max() == 4.0                          # never outside the training range
    assert np.mean(back == 1.0) > 0.3                                        # 3 of 7 values are 1.0: a plateau


# ------------------------------------------------------------------------------------- fidelity, by hand

def test_column_distances_on_hand_checked_columns():
    assert evaluate.total_variation(["a", "a", "b", "b"], ["a", "b", "b", "a"]) == 0.0
    assert evaluate.total_variation(["a", "a", "b", "b"], ["a", "a", "a", "a"]) == 0.5
    assert evaluate.total_variation(["a"], ["b"]) == 1.0
    assert evaluate.ks_statistic([1, 2, 3, 4], [4, 3, 2, 1]) == 0.0
    assert evaluate.ks_statistic([1, 2], [3, 4]) == 1.0
    assert evaluate.ks_statistic([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5


def test_association_difference_of_a_reversed_relation_is_two():
    s = Schema(numeric=("x", "y"), categorical=())
    real = pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [0.0, 1, 2, 3]})                # corr +1
    fake = pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [3.0, 2, 1, 0]})                # corr -1
    assert evaluate.association_difference(real, real, s) == 0.0
    assert evaluate.association_difference(real, fake, s) == pytest.approx(2.0)
    f = evaluate.fidelity(real, fake, s)
    assert f["ks_mean"] == 0.0 and math.isnan(f["tv_mean"]) and f["assoc_diff"] == pytest.approx(2.0)


# ------------------------------------------------------------------------------------- utility

def test_tstr_is_high_on_faithful_rows_and_low_on_flipped_labels():
    rng = np.random.default_rng(0)
    s = Schema(numeric=("x",), categorical=("y",), target="y")

    def table(n, flip=False):
        x = rng.normal(size=n)
        y = (x > 0) ^ flip
        return pd.DataFrame({"x": x, "y": pd.Categorical(np.where(y, "sick", "well"), categories=["well", "sick"])})
    train, test = table(200), table(200)
    u = evaluate.utility(train, test, table(200), s)
    assert u["trtr_auc"] > 0.95 and u["tstr_auc"] > 0.95 and abs(u["gap"]) < 0.05
    assert evaluate.classifier_auc(table(200, flip=True), test, s) < 0.05       # learnt the opposite
    one_class = train.assign(y=pd.Categorical(["well"] * 200, categories=["well", "sick"]))
    with pytest.raises(ValueError, match="single class"):
        evaluate.classifier_auc(one_class, test, s)


# ------------------------------------------------------------------------------------- privacy, by hand

def test_distance_to_closest_record_by_hand():
    s = Schema(numeric=("x",), categorical=())
    train = pd.DataFrame({"x": [0.0, 2.0]})                                    # mean 1, std 1: x - 1
    enc = TableEncoder(s, "standard").fit(train)
    np.testing.assert_allclose(evaluate.closest_distances(train, train, enc), [0, 0])      # exact copies: 0
    np.testing.assert_allclose(evaluate.closest_distances(train, pd.DataFrame({"x": [0.5, 3.0]}), enc), [0.5, 1.0])


def test_memoriser_passes_fidelity_and_fails_privacy():
    train, holdout = mixed_table(60, seed=1), mixed_table(60, seed=2)
    fake = Memoriser(MIXED).fit(train).sample(60, seed=0)
    f = evaluate.fidelity(train, fake, MIXED)
    assert f["ks_max"] == 0.0 and f["tv_max"] == 0.0 and f["assoc_diff"] == pytest.approx(0.0, abs=1e-9)
    p = evaluate.privacy(train, holdout, fake, MIXED)
    assert p["exact_copies"] == 1.0 and p["dcr_synthetic_median"] == 0.0 and p["share_closer_than_holdout_p5"] == 1.0
    assert p["mia_auc"] == 1.0                                                 # every member sits on a copy
    assert len(p["dcr_synthetic"]) == 60 and len(p["dcr_holdout"]) == 60


def test_membership_attack_auc_reads_both_ways():
    train, holdout = mixed_table(50, seed=3), mixed_table(50, seed=4)
    assert evaluate.membership_auc(train, holdout, train, MIXED) == 1.0       # synthetic = the members
    assert evaluate.membership_auc(train, holdout, holdout, MIXED) == 0.0     # synthetic = the outsiders


def test_evaluations_refuse_empty_or_mismatched_tables():
    train, test = mixed_table(), mixed_table(seed=5)
    with pytest.raises(ValueError, match="synthetic table is empty"):
        evaluate.fidelity(train, train.iloc[:0], MIXED)
    with pytest.raises(ValueError, match="synthetic table is empty"):
        evaluate.privacy(train, test, train.iloc[:0], MIXED)
    with pytest.raises(ValueError, match=r"missing columns \['ward'\]"):
        evaluate.utility(train, test, train.drop(columns="ward"), MIXED)
    with pytest.raises(ValueError, match="numeric column 'age' has dtype"):
        evaluate.fidelity(train, train.assign(age=pd.Timestamp("2020-01-01")), MIXED)


# ------------------------------------------------------------------------------------- the synthesizers

def test_copula_keeps_marginals_and_correlation_of_a_gaussian_table():
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=n)
    y = 0.8 * x + 0.6 * rng.normal(size=n)
    real = pd.DataFrame({"x": x, "y": np.exp(y),                               # a skewed marginal
                         "c": pd.Categorical(rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]))})
    s = Schema(numeric=("x", "y"), categorical=("c",))
    fake = GaussianCopula(s).fit(real).sample(n, seed=1)
    assert fake.dtypes.equals(real.dtypes)
    assert evaluate.ks_statistic(real.x, fake.x) < 0.04 and evaluate.ks_statistic(real.y, fake.y) < 0.04
    assert evaluate.total_variation(real.c, fake.c) < 0.03
    rho = np.corrcoef(fake.x, np.log(fake.y))[0, 1]
    assert abs(rho - 0.8) < 0.05
    pd.testing.assert_frame_equal(GaussianCopula(s).fit(real).sample(10, seed=1), fake.iloc[:10])


def test_tiny_vae_trains_and_samples_a_table_like_the_real_one():
    t = mixed_table(80)
    syn = VAESynthesizer(MIXED, steps=30, hidden=16, latent_dim=2, batch_size=32).fit(t)
    assert len(syn.history.steps) == 30 and all(math.isfinite(v) for v in syn.history.loss)
    fake = syn.sample(25, seed=0)
    assert len(fake) == 25 and list(fake.columns) == list(t.columns) and fake.dtypes.equals(t.dtypes)
    assert list(fake["sex"].cat.categories) == ["F", "M", "X"] and set(fake["ward"]) <= {"a", "b", "c"}
    assert fake["age"].between(t["age"].min(), t["age"].max()).all()          # quantile decoding stays in range
    pd.testing.assert_frame_equal(fake, syn.sample(25, seed=0))
    assert not fake.equals(syn.sample(25, seed=1))
    with pytest.raises(RuntimeError, match="call fit"):
        VAESynthesizer(MIXED, steps=1).sample(3)
    with pytest.raises(ValueError, match="n must be a positive int"):
        syn.sample(0)


def test_memoriser_returns_training_rows_and_noise_moves_only_numbers():
    t = mixed_table(30)
    copies = Memoriser(MIXED).fit(t).sample(30, seed=0)
    assert sorted(map(tuple, copies.astype(str).to_numpy())) == sorted(map(tuple, t.astype(str).to_numpy()))
    noisy = Memoriser(MIXED, noise=0.1).fit(t).sample(30, seed=0)
    assert not np.allclose(noisy["dose"], copies["dose"])
    pd.testing.assert_frame_equal(noisy[list(MIXED.categorical)], copies[list(MIXED.categorical)])


# ------------------------------------------------------------------------------------- the model

def test_tabular_vae_likelihood_by_hand_and_protocol_checks():
    torch.manual_seed(0)
    model = TabularVAE([["numeric", 1], ["categorical", 4]], latent_dim=2, hidden=8, depth=1)
    x = torch.tensor([[0.5, 0, 1, 0, 0], [-1.0, 0, 0, 0, 1]])
    mean, std, logits = torch.zeros(2, 1), torch.ones(2, 1), [torch.zeros(2, 4)]
    expected = -0.5 * x[:, 0] ** 2 - 0.5 * math.log(2 * math.pi) - math.log(4)  # N(x; 0, 1) * uniform of 4
    torch.testing.assert_close(model.log_likelihood(x, (mean, std, logits)), expected)
    assert model.elbo(x).shape == (2,) and model.loss(x).dim() == 0
    s = model.sample(7, generator=torch.Generator().manual_seed(0))
    assert s.shape == (7, 5) and (s[:, 1:].sum(dim=1) == 1).all()
    again = TabularVAE.from_config(model.config_dict())
    assert again.config_dict() == model.config_dict()
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, labels=torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\['categorical', 1\]"):
        TabularVAE([["categorical", 1]])
    with pytest.raises(ValueError, match=r"shape \(N, 5\)"):
        model.elbo(torch.zeros(2, 3))


# ------------------------------------------------------------------------------------- anomaly detection

def test_anomaly_detector_scores_the_unseen_higher():
    from course_lib.data.breast_cancer import schema
    from course_lib.tabular.anomaly import VAEAnomalyDetector, compare_with_supervised
    train, test = data.load("breast_cancer"), data.load("breast_cancer", split="test")
    s = schema()
    features = Schema(numeric=s.numeric, categorical=())
    benign = train[train.diagnosis == "benign"]
    det = VAEAnomalyDetector(features, steps=100).fit(benign)
    typical = benign[list(s.numeric)].median().to_frame().T
    odd = typical * 3                                                          # nuclei three times as large
    assert det.score(odd)[0] > det.score(typical)[0] + 10                      # nats
    r = compare_with_supervised(train, test, s, "benign", steps=100)
    assert r["test_anomalies"] == (test.diagnosis == "malignant").sum() and r["steps"] == 100
    assert 0.8 < r["generative_auc"] <= 1 and 0.9 < r["supervised_auc"] <= 1
    with pytest.raises(ValueError, match="without a target"):
        VAEAnomalyDetector(s)


# ------------------------------------------------------------------------------------- the figures

def test_figures_draw_one_panel_per_column_and_name_what_they_show():
    import matplotlib.pyplot as plt
    from course_lib.tabular import plots
    train, holdout = mixed_table(60, seed=1), mixed_table(60, seed=2)
    fake = GaussianCopula(MIXED).fit(train).sample(60, seed=0)
    fig = plots.marginals(train, {"copula": fake}, MIXED, ncols=4)
    shown = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in shown] == list(MIXED.columns)
    fig = plots.associations(train, {"copula": fake, "copies": train}, MIXED)
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles[0] == "real" and "assoc_diff 0.000" in titles[2]
    ax = plots.dcr_histogram(evaluate.privacy(train, holdout, train, MIXED))
    assert "membership AUC 1.00" == ax.get_title()
    result = {"generative_roc": ([0, 0.5, 1], [0, 0.9, 1]), "supervised_roc": ([0, 1], [0, 1]),
              "generative_auc": 0.9, "supervised_auc": 0.5}
    ax = plots.roc_curves(result)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["VAE on normal rows only (AUC 0.900)",
                                                                  "logistic regression, labels (AUC 0.500)"]
    plt.close("all")
