"""course_lib.ethics.copies (near-copy detection) and membership_images (the VAE membership attack), issue 22
items 2, 3 and 7: known inputs and one tiny planted VAE. Rates on real models: benchmarks/privacy_images.py."""
from __future__ import annotations

import math

import pytest
import torch

from course_lib import data
from course_lib.ethics import copies as cp
from course_lib.ethics import membership_images as mim


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", split="train").images                              # (1437, 1, 8, 8)


def test_nearest_known_points():
    ref = torch.tensor([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    d, j = cp.nearest(torch.tensor([[3.0, 4.5], [9.0, 0.0]]), ref, k=2)
    assert j.tolist() == [[1, 0], [2, 1]]
    assert torch.allclose(d, torch.tensor([[0.5, math.sqrt(9 + 20.25)], [1.0, math.sqrt(36 + 16)]]))
    with pytest.raises(ValueError, match="same size"):
        cp.nearest(torch.zeros(2, 3), ref)
    with pytest.raises(ValueError, match="non-empty"):
        cp.nearest(torch.zeros(0, 2), ref)
    with pytest.raises(ValueError, match="k must be in 1..3"):
        cp.nearest(ref, ref, k=4)


def test_training_image_is_a_copy_heldout_image_is_not(digits):
    train, heldout, new = digits[:300], digits[300:800], digits[800:810]
    for space in ("pixel", "features"):
        r = cp.near_copies(torch.cat([train[:10], new]), train, heldout, space=space)
        assert r.is_copy[:10].all() and r.index[:10].tolist() == list(range(10)) and r.space == space
        assert torch.allclose(r.distance[:10], torch.zeros(10), atol=1e-3)
        assert r.distance[10:].min() > 0 and r.threshold > 0
    pairs = cp.closest_pairs(torch.cat([train[:10], new]), train, r, n=4)
    assert pairs.shape == (4, 2, 1, 8, 8) and torch.equal(pairs[:, 0], pairs[:, 1])   # exact copies come first


def test_false_alarm_rate_is_about_the_quantile():
    g = torch.Generator().manual_seed(0)
    train = torch.rand(200, 1, 8, 8, generator=g)
    heldout = torch.rand(400, 1, 8, 8, generator=g)
    copies = train[:10] + 0.01 * torch.randn(10, 1, 8, 8, generator=g)
    new = torch.rand(2000, 1, 8, 8, generator=g)                  # drawn like the held-out set
    for q in (0.05, 0.2):
        r = cp.near_copies(torch.cat([copies, new]), train, heldout, quantile=q)
        assert r.is_copy[:10].all()
        rate = r.is_copy[10:].float().mean().item()
        assert abs(rate - q) < 0.04, (q, rate)                    # 400 held-out images: the quantile's noise
    with pytest.raises(ValueError, match="space"):
        cp.near_copies(copies, train, heldout, space="ssim")
    with pytest.raises(ValueError, match="quantile"):
        cp.near_copies(copies, train, heldout, quantile=1.5)


def test_member_split_disjoint_nested_and_seeded():
    ids = torch.arange(300.0).view(300, 1, 1, 1)                                  # each "image" is its index
    m50, n50 = mim.member_split(ids, 50, 100, seed=3)
    m200, n200 = mim.member_split(ids, 200, 100, seed=3)
    assert m50.shape == (50, 1, 1, 1) and n50.shape == (100, 1, 1, 1)
    assert torch.equal(n50, n200) and torch.equal(m50, m200[:50])                  # same non-members, nested members
    members, non = set(m200.flatten().tolist()), set(n200.flatten().tolist())
    assert len(members) == 200 and len(non) == 100 and not members & non
    assert not torch.equal(mim.member_split(ids, 50, 100, seed=4)[0], m50)


def test_subset_larger_than_the_data_names_both_numbers(digits):
    with pytest.raises(ValueError, match=r"2000 members \+ 100 non-members = 2100 images.*only 1437"):
        mim.member_split(digits, 2000, 100)
    with pytest.raises(ValueError, match="n_members must be a positive int"):
        mim.member_split(digits, 0, 100)
    with pytest.raises(ValueError, match="unknown VAE option"):
        mim.train_vae(digits[:4], steps=1, widht=3)


def test_attack_on_a_planted_case(digits):
    """A VAE drilled on 16 digits: its members are told apart from 200 unseen digits (AUC near 1); a second
    set of unseen digits scored as 'members' is not (AUC near 0.5)."""
    torch.set_num_threads(1)
    members, nonmembers = mim.member_split(digits, 16, 400, seed=0)
    model = mim.train_vae(members, steps=150, seed=0, hidden=128, dropout=0.0, k=1)
    r = mim.loss_attack(model, members, nonmembers[:200], k=4, n_boot=200)
    assert r.auc > 0.9 and r.auc_interval[0] <= r.auc <= r.auc_interval[1] and r.gap > 0
    assert 0 <= r.tpr_at_1pct <= 1 and r.loss_members.shape == (16,)
    fake = mim.loss_attack(model, nonmembers[200:216], nonmembers[:200], k=4, n_boot=200)
    assert 0.25 < fake.auc < 0.75 and fake.auc_interval[0] < 0.5 < fake.auc_interval[1]
    again = mim.loss_attack(model, members, nonmembers[:200], k=4, n_boot=200)
    assert again.auc == r.auc and torch.equal(again.loss_members, r.loss_members)   # seeded


def test_bootstrap_interval_of_perfect_and_random_attacks():
    g = torch.Generator().manual_seed(0)
    assert mim.bootstrap_auc(torch.arange(10.0) + 100, torch.arange(10.0), n_boot=100) == (1.0, 1.0)
    lo, hi = mim.bootstrap_auc(torch.randn(300, generator=g), torch.randn(300, generator=g), n_boot=200)
    assert lo < 0.5 < hi and hi - lo < 0.15


def test_attack_by_size_rows(digits):
    torch.set_num_threads(1)
    rows = mim.attack_by_size(digits[:100], (8, 30), steps=5, n_nonmembers=40, k=2, hidden=32)
    assert [r["members"] for r in rows] == [8, 30]
    assert all(0 <= r["auc"] <= 1 and 0 <= r["tpr_at_1pct"] <= 1 and r["train_seconds"] >= 0 for r in rows)
    with pytest.raises(ValueError, match="data holds only 100"):
        mim.attack_by_size(digits[:100], (80,), steps=5, n_nonmembers=40)
