"""Issue 27 parts 1 and 3: KID, memorisation share, the every-family scorecard, `genai-course evaluate` and the
leaderboard's shipped rows. Real digits and planted samples only; the baselines' scores are recorded in
course_lib/metrics/leaderboard.json by scripts/leaderboard_baselines.py."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import cli, data, metrics
from course_lib.metrics.kid import mmd2_unbiased
from course_lib.metrics import leaderboard
from course_lib.metrics.scorecard import COLUMNS, class_kl, scorecard

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", split="train"), data.load("digits", split="test")


# ----------------------------------------------------------------------------- KID

def test_kid_agrees_with_a_direct_loop():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randn(6, 3, generator=g, dtype=torch.float64) + 0.5
    k = lambda a, b: (float(a @ b) / 3 + 1) ** 3                                     # noqa: E731
    m = 6
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    assert math.isclose(float(mmd2_unbiased(x, y)), xx + yy - 2 * xy, rel_tol=1e-12)
    r = metrics.kid(x, y, subset_size=6, subsets=3)                    # whole sets each time: same value, std 0
    assert math.isclose(r.mean, xx + yy - 2 * xy, rel_tol=1e-12) and r.std < 1e-12


def test_kid_near_zero_for_one_distribution_positive_for_a_shift():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(600, 16, generator=g), torch.randn(600, 16, generator=g)
    same = metrics.kid(a, b, subset_size=200, subsets=50)
    shifted = metrics.kid(a, b + 0.5, subset_size=200, subsets=50)
    assert abs(same.mean) < 3 * same.std / math.sqrt(50) + 1e-3    # ~0, either sign (unbiased)
    assert shifted.mean > 10 * abs(same.mean) and shifted.mean > 3 * shifted.std
    assert metrics.kid(a, b, seed=1) != metrics.kid(a, b, seed=2) and metrics.kid(a, b) == metrics.kid(a, b)


def test_kid_clear_errors(digits):
    a = torch.randn(50, 4)
    with pytest.raises(ValueError, match=r"shape \(N, D\), got \(50,\)"):
        metrics.kid(a[:, 0], a)
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.kid(a, torch.randn(50, 5))
    with pytest.raises(ValueError, match="subset_size 200 needs at least 200 samples in each set, got 50 and 50"):
        metrics.kid(a, a)
    with pytest.raises(ValueError, match="NaN or inf"):
        metrics.kid(a, torch.full((50, 4), float("nan")), subset_size=10)
    with pytest.raises(ValueError, match="subsets must be an int >= 1"):
        metrics.kid(a, a, subset_size=10, subsets=0)
    train, test = digits
    assert metrics.digit_kid(train.images[:400], test.images).mean < 1.0      # real vs real: small
    assert metrics.digit_kid(train.images[train.labels == 1][:100], test.images[:100], subset_size=100).mean > 5


# ----------------------------------------------------------------------------- memorisation

def test_memorisation_share_copies_and_heldout(digits):
    train, test = digits
    tr, held, fresh = train.images[:800], train.images[800:1100], train.images[1100:]   # 337 unseen digits
    for space in ("features", "pixels"):
        assert metrics.memorisation_share(tr[:200], tr, held, space=space) == 1.0
        share = metrics.memorisation_share(fresh, tr, held, space=space, quantile=0.1)
        assert abs(share - 0.1) < 0.06, (space, share)                    # ~ the quantile: the false-alarm rate
    with pytest.raises(ValueError, match="space must be 'features' or 'pixels', got 'ssim'"):
        metrics.memorisation_share(fresh, tr, held, space="ssim")


# ----------------------------------------------------------------------------- scorecard

def test_class_kl_ends():
    assert class_kl(torch.arange(1000) % 10) == pytest.approx(0.0, abs=1e-12)
    assert class_kl(torch.full((100,), 3)) == pytest.approx(math.log(10))


def test_real_digits_score_like_real_data_and_one_class_does_not(digits):
    train, _ = digits
    card = metrics.real_scorecard()
    assert card.n == 1000 and card.fd_ratio == pytest.approx(1.0)
    assert card.precision >= 0.9 and card.recall >= 0.9 and card.classes == 10 and card.class_kl < 0.02
    assert card.memorised == 1.0                                          # they ARE the training set
    assert set(card.as_dict()) == set(COLUMNS) and "recall" in str(card)
    threes = train.images[train.labels == 3]
    noise = 0.02 * torch.rand(8 * len(threes), 1, 8, 8, generator=torch.Generator().manual_seed(0))
    one = scorecard((threes.repeat(8, 1, 1, 1) + noise).clamp(0, 1))    # ~150 threes, slightly jittered
    assert one.recall <= 0.2 and one.classes <= 2 and one.class_kl > 1.5 and one.fd_ratio > 5
    assert scorecard(torch.cat([train.images[:1000], torch.zeros(5, 1, 8, 8)])) == card   # first n are scored


def test_scorecard_refuses_fewer_samples_and_wrong_images(digits):
    train, _ = digits
    with pytest.raises(ValueError, match="exactly n=1000 samples, got only 999"):
        scorecard(train.images[:999])
    with pytest.raises(ValueError, match=r"n must be an int in 200\.\.1437"):
        scorecard(train.images, n=100)
    with pytest.raises(ValueError, match=r"scores 8x8 digits .*got \(1000, 1, 28, 28\)"):
        scorecard(torch.rand(1000, 1, 28, 28))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        scorecard(train.images * 16)


# ----------------------------------------------------------------------------- the CLI verb

def _npz(path: Path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def test_evaluate_prints_every_metric_and_the_leaderboard(digits, tmp_path, capsys):
    train, _ = digits
    f = _npz(tmp_path / "real.npz", images=train.images[:1000].numpy(), labels=train.labels[:1000].numpy())
    assert cli.main(["evaluate", f]) == 0
    out = capsys.readouterr().out
    for name in COLUMNS:
        assert f"\n  {name} " in out
    assert "leaderboard: n = 1000" in out and "-> real.npz" in out and "digits-diffusion" in out
    assert cli.main(["evaluate", f, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got) == set(COLUMNS) and got["precision"] >= 0.9


@pytest.mark.parametrize("arrays, expected", [
    (dict(images=np.zeros((1000, 8, 8), np.float32)), r"images must be \(N, 1, 8, 8\), got \(1000, 8, 8\)"),
    (dict(images=np.zeros((1000, 3, 8, 8), np.float32)), r"\(N, 1, 8, 8\), got \(1000, 3, 8, 8\)"),
    (dict(images=np.zeros((1000, 1, 28, 28), np.float32)), r"\(N, 1, 8, 8\), got \(1000, 1, 28, 28\)"),
    (dict(images=np.full((1000, 1, 8, 8), 16, np.int64)), r"float \(float32\) in \[0, 1\], got dtype int64 "
                                                           r"\(grey levels 0\.\.16\? divide by 16\)"),
    (dict(images=np.full((1000, 1, 8, 8), 2.0, np.float32)), r"in \[0, 1\], got values in \[2, 2\]"),
    (dict(images=np.full((1000, 1, 8, 8), np.nan, np.float32)), "finite numbers in .* 64000 NaN or inf"),
    (dict(images=np.zeros((10, 1, 8, 8), np.float32)), "exactly n=1000 samples, got only 10"),
    (dict(pictures=np.zeros((10, 1, 8, 8), np.float32)), r"has no `images` array \(it has \['pictures'\]\)"),
])
def test_evaluate_bad_input_is_a_clear_error(tmp_path, capsys, arrays, expected):
    f = _npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(SystemExit, match="error: .*" + expected):
        cli.main(["evaluate", f])
    assert "fd_ratio" not in capsys.readouterr().out                      # never a score


def test_evaluate_missing_or_not_an_npz(tmp_path):
    with pytest.raises(SystemExit, match="error: no such images file"):
        cli.main(["evaluate", str(tmp_path / "nothing.npz")])
    (tmp_path / "text.npz").write_text("not numbers")
    with pytest.raises(SystemExit, match="is not a readable .npz file"):
        cli.main(["evaluate", str(tmp_path / "text.npz")])
    np.save(tmp_path / "lone.npy", np.zeros((1000, 1, 8, 8), np.float32))
    with pytest.raises(SystemExit, match="is not a readable .npz file"):
        cli.main(["evaluate", str(tmp_path / "lone.npy")])


def test_evaluate_as_a_command(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bad = _npz(tmp_path / "ints.npz", images=np.full((1000, 1, 8, 8), 16, np.uint8))
    r = subprocess.run([sys.executable, "-m", "course_lib.cli", "evaluate", bad], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=120)
    assert r.returncode != 0 and "divide by 16" in r.stderr and "fd" not in r.stdout


# ----------------------------------------------------------------------------- the leaderboard

def test_shipped_rows_are_complete_and_consistent():
    from course_lib import pretrained
    board = leaderboard.load()
    assert board["n"] == 1000 and board["seed"] == 0
    names = [r["name"] for r in board["rows"]]
    assert len(names) == len(set(names))
    zoo = {n for n in pretrained.names() if pretrained.info(n).dataset == "digits"}
    assert zoo <= set(names), f"zoo digits models without a leaderboard row: {zoo - set(names)}"
    for r in board["rows"]:
        assert set(COLUMNS) <= set(r) and r["n"] == 1000 and r["how"], r["name"]
        assert 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1 and 0 <= r["memorised"] <= 1
        assert 0 <= r["classes"] <= 10 and 0 <= r["class_kl"] <= math.log(10) + 1e-9 and r["fd"] > 0
        if r["name"] in zoo:
            assert r["family"] == pretrained.info(r["name"]).family and r["memorised"] < 0.2
    real = board["rows"][0]
    assert real["family"] == "data" and real["fd_ratio"] == 1.0 and real["memorised"] == 1.0
    assert real == {**real, **{k: round(v, 4) if isinstance(v, float) else v
                               for k, v in metrics.real_scorecard().as_dict().items()}}   # re-scored: same row


def test_rescore_one_baseline(tmp_path):
    """The GAN's row again, from its shipped weights, as a student would make and score it (seconds)."""
    from course_lib import pretrained, samples
    out = tmp_path / "gan.npz"
    with pretrained.weights_file("digits-gan") as weights:
        assert cli.main(["sample", str(weights), "--n", "1000", "--seed", "0", "--out", str(out)]) == 0
    card = scorecard(samples.read_images(out, (1, 8, 8)))
    row = next(r for r in leaderboard.load()["rows"] if r["name"] == "digits-gan")
    for k, v in card.as_dict().items():
        assert row[k] == pytest.approx(v, abs=2e-3), k
