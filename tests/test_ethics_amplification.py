"""Tests for course_lib.ethics.amplification: shares with unknowns, the amplification measures and their
intervals on known numbers, the census groups and name mixes, rare-class subsets, the name model's sweep."""
import math

import pytest
import torch

from course_lib.ethics import amplification as am


def test_group_shares_count_unknown_in_the_denominator():
    shares = am.group_shares(["ann", "bob", "ann", "zzq"], {"ann": "F", "bob": "M"}, ("F", "M"))
    assert shares == {"F": 0.5, "M": 0.25, am.UNKNOWN: 0.25}


def test_group_shares_accept_a_callable_and_treat_foreign_groups_as_unknown():
    shares = am.group_shares([1, 2, 3, 4, 5], lambda x: "odd" if x % 2 else "other", ("odd",))
    assert shares == {"odd": 0.6, am.UNKNOWN: 0.4}
    assert am.group_counts([1, 2, 3], lambda x: "odd" if x % 2 else None, ("odd",)) == {"odd": 2, am.UNKNOWN: 1}


@pytest.mark.parametrize("bad", [[], ()])
def test_empty_sample_is_an_error_not_a_zero_share(bad):
    with pytest.raises(ValueError, match="empty"):
        am.group_shares(bad, {}, ("F", "M"))


def test_groups_must_be_distinct_and_not_unknown():
    with pytest.raises(ValueError, match="distinct"):
        am.group_shares(["a"], {}, ("F", "F"))
    with pytest.raises(ValueError, match="unknown"):
        am.group_shares(["a"], {}, ("F", am.UNKNOWN))
    with pytest.raises(TypeError, match="group_of"):
        am.group_shares(["a"], 3, ("F",))


def test_amplification_ratio_on_a_known_distribution():
    train = {"F": 0.4, "M": 0.6, am.UNKNOWN: 0.0}
    gen = {"F": 0.2, "M": 0.7, am.UNKNOWN: 0.1}
    assert am.amplification(gen, train, "M") == pytest.approx(0.7 / 0.6)
    assert am.amplification(gen, train, "F") == pytest.approx(0.5)
    assert am.majority_group(train) == "M"
    assert am.zhao_amplification(gen, train) == pytest.approx(0.1)   # only M is favoured: 0.7 - 0.6
    with pytest.raises(ValueError, match="missing"):
        am.amplification(gen, train, "X")
    with pytest.raises(ValueError, match="training share"):
        am.amplification({"F": 0.1}, {"F": 0.0}, "F")


def test_zhao_amplification_is_zero_for_a_balanced_training_set():
    assert am.zhao_amplification({"F": 0.9, "M": 0.1}, {"F": 0.5, "M": 0.5}) == 0.0


def test_wilson_interval_on_a_textbook_case():
    lo, hi = am.wilson(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert am.wilson(0, 20)[0] == 0.0 and am.wilson(20, 20)[1] == 1.0
    with pytest.raises(ValueError):
        am.wilson(3, 2)


def test_newcombe_difference_interval_matches_his_1998_example():
    d, lo, hi = am.share_difference_ci(56, 70, 48, 80)   # Newcombe (1998), method 10: 0.0524 to 0.3339
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)


def test_amplification_interval_is_the_share_interval_over_the_training_share():
    ratio, lo, hi = am.amplification_ci(30, 100, 0.2)
    wlo, whi = am.wilson(30, 100)
    assert ratio == pytest.approx(1.5) and lo == pytest.approx(wlo / 0.2) and hi == pytest.approx(whi / 0.2)
    assert lo < 1.5 < hi
    with pytest.raises(ValueError):
        am.amplification_ci(1, 10, 0.0)


def test_census_groups_follow_population_frequency():
    groups = am.census_groups()
    assert len(groups) > 5000 and all(name.islower() and name.isalpha() for name in groups)
    # names in both lists go to the sex in which more people bear them
    assert groups["lee"] == "male" and groups["jordan"] == "male" and groups["jean"] == "female"
    assert groups["james"] == "male" and groups["mary"] == "female"
    f = am.census_frequencies()["james"]
    assert f["male"] == pytest.approx(0.03318 * am.POPULATION_SHARE["male"])


def test_name_mix_is_seeded_and_frequency_weighted():
    mix = am.name_mix(20000, seed=3)
    assert mix == am.name_mix(20000, seed=3) and mix != am.name_mix(20000, seed=4)
    james = mix.count("james") / len(mix)              # 3.318% of males, about 1.6% of everyone
    assert 0.012 < james < 0.021
    shares = am.name_shares(mix)
    assert shares[am.UNKNOWN] == 0.0 and abs(shares["female"] - 0.51) < 0.02


def test_reweighting_moves_the_training_shares():
    shares = am.name_shares(am.name_mix(20000, seed=0))
    balanced = am.name_shares(am.name_mix(20000, seed=0, group_weights=am.balancing_weights(shares)))
    assert abs(balanced["female"] - 0.5) < 0.015
    skewed = am.name_shares(am.name_mix(20000, seed=0, group_weights={"male": 3.0}))
    assert 0.70 < skewed["male"] < 0.78               # 3 * 0.49 / (3 * 0.49 + 0.51) = 0.74
    with pytest.raises(ValueError, match="group_weights"):
        am.name_mix(10, group_weights={"other": 1.0})
    with pytest.raises(ValueError, match="no name"):
        am.name_mix(10, group_weights={"male": 0.0, "female": 0.0})


def test_rare_class_subset_holds_the_asked_share():
    labels = torch.arange(10).repeat_interleave(100)            # 100 of each class
    idx = am.rare_class_subset(labels, 3, 0.02, seed=0)
    kept = labels[idx]
    assert (kept == 3).sum().item() == 18 and (kept != 3).sum().item() == 900   # 18 / 918 = 1.96%
    assert torch.equal(idx, am.rare_class_subset(labels, 3, 0.02, seed=0))
    shares = am.class_shares(kept)
    assert shares[3].item() == pytest.approx(18 / 918) and shares.sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="only 100 exist"):
        am.rare_class_subset(labels, 3, 0.5)
    with pytest.raises(ValueError, match="no image has label"):
        am.rare_class_subset(labels, 11, 0.02)
    with pytest.raises(ValueError, match="non-empty"):
        am.class_shares(torch.zeros(0, dtype=torch.long))


def test_name_model_sweep_measures_shares_and_low_temperature_narrows_the_names():
    torch.set_num_threads(1)
    mix = am.name_mix(3000, seed=0)
    model, hist = am.train_name_model(mix, steps=300, seed=0)
    assert model.nll(mix[:500]) < math.log(27) - 0.8             # it learned something beyond uniform
    train = am.name_shares(mix)
    rows = am.temperature_sweep(model, train, [0.5, 1.5], n=400, seed=0)
    for r in rows:
        assert sum(r["shares"].values()) == pytest.approx(1.0) and r["majority"] == am.majority_group(train)
        lo, hi = r["ci95"]
        assert lo <= r["amplification"] <= hi
    assert rows[0]["distinct"] < rows[1]["distinct"]              # cold sampling repeats the common names
    assert rows[0]["shares"][am.UNKNOWN] < rows[1]["shares"][am.UNKNOWN]
    again = am.temperature_sweep(model, train, [0.5], n=400, seed=0)
    assert again[0]["counts"] == rows[0]["counts"]


# ----------------------------------------------------------------------------- course_lib.ethics.rare_class

def test_rare_digits_cut_one_class_to_the_asked_share():
    from course_lib.ethics import rare_class as rc
    X, Y = rc.rare_digits(3, 0.02, seed=0)
    assert X.shape[1:] == (1, 8, 8) and len(X) == len(Y)
    assert (Y == 3).float().mean().item() == pytest.approx(0.02, abs=0.001)
    assert all((Y == c).sum().item() > 100 for c in range(10) if c != 3)    # the others keep every image


def test_train_family_checks_its_inputs():
    from course_lib.ethics import rare_class as rc
    X = torch.rand(20, 1, 8, 8)
    with pytest.raises(ValueError, match="family"):
        rc.train_family("flow", X, steps=1)
    with pytest.raises(ValueError, match="steps"):
        rc.train_family("gan", X, steps=0)
    with pytest.raises(ValueError, match="images"):
        rc.train_family("gan", torch.rand(20, 64), steps=1)
    with pytest.raises(ValueError, match="labels"):
        rc.train_family("gan", X, torch.zeros(3, dtype=torch.long), steps=1)


def test_gan_trains_samples_and_balanced_sampling_needs_labels():
    from course_lib.ethics import rare_class as rc
    torch.set_num_threads(1)
    X, Y = rc.rare_digits(3, 0.02, seed=0)
    model = rc.train_family("gan", X, steps=5, seed=0)
    imgs = rc.sample_family(model, 40, seed=1)
    assert imgs.shape == (40, 1, 8, 8) and torch.equal(imgs, rc.sample_family(model, 40, seed=1))
    shares = rc.judged_shares(imgs)
    assert shares.shape == (10,) and shares.sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="conditional"):
        rc.sample_family(model, 10, balanced=True)
    cond = rc.train_family("gan", X, Y, steps=5, seed=0)
    assert rc.sample_family(cond, 20, balanced=True).shape == (20, 1, 8, 8)
    with pytest.raises(ValueError, match="balanced=True"):
        rc.sample_family(cond, 10)


# ----------------------------------------------------------------------------- course_lib.ethics.stereotype

def test_dominant_colour_reads_the_colour_of_real_shapes():
    from course_lib import data
    from course_lib.ethics import stereotype as st
    d = data.load("shapes", split="test", n=300)
    assert (st.dominant_colour(d.images) == d.attributes["colour"]).float().mean().item() > 0.98
    assert st.dominant_colour(torch.zeros(2, 3, 16, 16)).tolist() == [-1, -1]       # nothing drawn
    shares = st.colour_shares_of(torch.tensor([0, 0, 2, -1]))
    assert shares.tolist() == [0.5, 0.0, 0.25, 0.0, 0.0]                             # -1 stays in the denominator
    with pytest.raises(ValueError, match="RGB"):
        st.dominant_colour(torch.zeros(2, 1, 16, 16))


def test_spurious_shapes_makes_circles_mostly_red_and_keeps_the_rest():
    from course_lib import data
    from course_lib.ethics import stereotype as st
    full = data.load("shapes", split="train", n=2000)
    sp = st.spurious_shapes(full, "circle", "red", share=0.8, seed=0)
    assert st.colour_shares(sp, "circle")[0].item() == pytest.approx(0.8, abs=0.01)
    assert st.colour_shares(full, "circle")[0].item() < 0.3                           # uniform before
    others = lambda d: (d.attributes["shape"] != 0).sum().item()                      # noqa: E731
    assert others(sp) == others(full) and len(sp.captions) == len(sp)
    assert all("circle" in c for c, s in zip(sp.captions, sp.attributes["shape"].tolist()) if s == 0)
    with pytest.raises(ValueError, match="held-out"):
        st.spurious_shapes(full, "circle", "green")
