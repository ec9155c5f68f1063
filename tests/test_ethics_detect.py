"""course_lib.ethics.detect: quantisation, the DCT, both detectors on a known artefact, the accuracy figures on
stub detectors with known answers, the cross-generator table, the arms race's bookkeeping, and bad input."""
import math

import pytest
import torch
import torch.nn as nn

from course_lib import pretrained
from course_lib.ethics import detect as D


@pytest.fixture(autouse=True)
def one_thread():
    """Small convolutions on a busy 2-core machine ran ~30x slower on 2 threads than on 1 (measured here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _levels(n, seed, size=8):
    """Smooth random images on the 17 grey levels: 4x4 random blocks, each 2x2 pixels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 13, (n, 1, size // 2, size // 2), generator=g).float() / 16
    return x.repeat_interleave(2, 2).repeat_interleave(2, 3)


def _checkerboard(x):
    """The classic upsampling artefact: +-1/16 alternating pixel by pixel (stays on the grey levels)."""
    i, j = torch.meshgrid(torch.arange(x.shape[2]), torch.arange(x.shape[3]), indexing="ij")
    return (x + ((i + j) % 2 * 2 - 1).float() / 16 + 1 / 16).clamp(0, 1)


class Threshold(nn.Module):
    """A stub detector: 'fake' exactly when the mean pixel is above t."""

    def __init__(self, t):
        super().__init__()
        self.t = t

    def forward(self, x):
        return (x.mean(dim=(1, 2, 3)) - self.t) * 100


def test_quantise_rounds_to_the_grey_levels_and_passes_the_gradient_straight_through():
    x = torch.tensor([0.0, 0.03, 0.04, 0.5, 0.97, 1.0, 1.2, -0.1]).reshape(1, 1, 2, 4).requires_grad_(True)
    q = D.quantise(x)
    assert q.flatten().tolist() == pytest.approx([0, 0, 1 / 16, 0.5, 1, 1, 1, 0])
    q.sum().backward()
    assert x.grad.flatten().tolist() == [1, 1, 1, 1, 1, 1, 0, 0]          # identity inside [0, 1], clamp outside
    assert D.quantise(torch.full((1, 1, 1, 1), 0.3), levels=2).item() == 0.0
    for bad in (1, 2.0, True):
        with pytest.raises(ValueError, match="levels must be an int >= 2"):
            D.quantise(x, levels=bad)


def test_dct_is_orthonormal_and_a_flat_image_has_only_the_dc_coefficient():
    c = D.dct_matrix(8)
    assert torch.allclose(c @ c.T, torch.eye(8), atol=1e-6)
    flat = torch.full((2, 1, 8, 8), 0.25)
    y = D.dct2(flat)
    assert y[:, 0, 0].tolist() == pytest.approx([0.25 * 8] * 2, abs=1e-5)   # sum / sqrt(64) = mean * 8
    y[:, 0, 0] = 0
    assert y.abs().max() < 1e-5
    x = _levels(3, 0)
    assert torch.allclose(c.T @ D.dct2(x) @ c, x[:, 0], atol=1e-5)         # inverts
    # a checkerboard lives at high frequencies: most of its energy is in the quadrant k, l >= 4
    energy = D.dct2(_checkerboard(torch.zeros(1, 1, 8, 8)))[0] ** 2
    assert energy[4:, 4:].sum() > 0.8 * energy[1:, 1:].sum()
    assert D.mean_spectrum(x).shape == (8, 8)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        D.dct2(torch.zeros(3, 8, 8))


@pytest.mark.parametrize("kind", D.KINDS)
def test_each_detector_learns_a_checkerboard_artefact_and_is_seeded(kind):
    real, fake = _levels(256, 1), _checkerboard(_levels(256, 2))
    det = D.train_detector(real, fake, kind=kind, steps=60, batch=64, seed=0)
    acc = D.evaluate(det, _levels(200, 3), _checkerboard(_levels(200, 4)))
    assert acc.balanced > 0.9, acc
    x = _levels(5, 5)
    a, b = (D.train_detector(real, fake, kind=kind, steps=3, batch=16, seed=s) for s in (1, 1))
    assert torch.equal(D.fake_probability(a, x), D.fake_probability(b, x))              # seeded


def test_evaluate_counts_reals_and_fakes_separately_with_wilson_intervals():
    real = torch.cat([torch.full((3, 1, 8, 8), 0.1), torch.full((1, 1, 8, 8), 0.9)])   # 3 of 4 called real
    fake = torch.cat([torch.full((1, 1, 8, 8), 0.1), torch.full((9, 1, 8, 8), 0.9)])   # 9 of 10 called fake
    acc = D.evaluate(Threshold(0.5), real, fake)
    assert (acc.real, acc.fake, acc.balanced, acc.n_real, acc.n_fake) == (0.75, 0.9, 0.825, 4, 10)
    lo, hi = acc.fake_ci
    assert lo < 0.9 < hi and 0.55 < lo < 0.6                               # Wilson 9/10: [0.596, 0.982]
    assert acc.real_ci[0] < 0.75 < acc.real_ci[1]
    assert acc.balanced_ci[0] < 12 / 14 < acc.balanced_ci[1]               # all correct calls: 12 of 14


def test_cross_generator_puts_training_generator_in_rows_and_test_sets_in_columns():
    real = torch.full((4, 1, 8, 8), 0.1)
    fakes = {"bright": torch.full((4, 1, 8, 8), 0.8), "dim": torch.full((4, 1, 8, 8), 0.3)}
    dets = {"bright": Threshold(0.5), "dim": Threshold(0.2)}
    table = D.cross_generator(dets, real, fakes)
    assert list(table.index) == ["bright", "dim"] and list(table.columns) == ["bright", "dim"]
    assert table.loc["bright", "bright"] == 1.0 and table.loc["bright", "dim"] == 0.5   # misses the dim fakes
    assert table.loc["dim", "dim"] == 1.0 and table.loc["dim", "bright"] == 1.0
    ci = D.cross_generator(dets, real, fakes, field="balanced_ci")
    assert ci.loc["bright", "dim"][0] < 0.5 < ci.loc["bright", "dim"][1]
    with pytest.raises(ValueError, match="field must be one of"):
        D.cross_generator(dets, real, fakes, field="f1")
    with pytest.raises(ValueError, match="at least one detector"):
        D.cross_generator({}, real, fakes)


def test_bad_input_is_named():
    real = _levels(4, 0)
    with pytest.raises(ValueError, match=r"N >= 1, got \(0, 1, 8, 8\)"):
        D.train_detector(real, torch.zeros(0, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        D.evaluate(Threshold(0.5), real, torch.zeros(4, 8, 8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        D.fake_probability(Threshold(0.5), real * 255)
    with pytest.raises(TypeError, match="float tensor"):
        D.train_detector(real, (real * 16).long())
    with pytest.raises(ValueError, match="same shape"):
        D.train_detector(real, torch.zeros(4, 1, 6, 6))
    with pytest.raises(ValueError, match="kind must be one of"):
        D.train_detector(real, real, kind="svm")
    with pytest.raises(ValueError, match="steps must be a positive int"):
        D.train_detector(real, real, steps=0)
    with pytest.raises(ValueError, match="generator must be one of"):
        D.sample_fakes("gpt", 4)
    with pytest.raises(ValueError, match="n must be a positive int"):
        D.sample_fakes("gan", 0)


def test_sample_fakes_is_seeded_and_on_the_real_grey_levels():
    a, b = D.sample_fakes("gan", 6, seed=3), D.sample_fakes("gan", 6, seed=3)
    assert a.shape == (6, 1, 8, 8) and torch.equal(a, b)
    assert not torch.equal(a, D.sample_fakes("gan", 6, seed=4))
    assert torch.equal(a * 16, torch.round(a * 16))
    v = D.sample_fakes("vae", 3, seed=0)
    assert v.shape == (3, 1, 8, 8) and torch.equal(v * 16, torch.round(v * 16))


def test_evade_moves_the_generator_and_arms_race_reports_every_round():
    gan = pretrained.load("digits-gan")
    real = _levels(64, 0)
    det = D.train_detector(real, D.sample_fakes("gan", 64, model=gan), steps=5)
    before = [p.clone() for p in gan.G.parameters()]
    D.evade(gan, det, real, steps=2, batch=8)
    assert any(not torch.equal(p, q) for p, q in zip(before, gan.G.parameters()))
    assert all(p.requires_grad for p in det.parameters())
    with pytest.raises(ValueError, match="multiple of the discriminator's pack"):
        D.evade(gan, det, real, steps=1, batch=gan.D.pack + 1)
    with pytest.warns(UserWarning, match="covariance is singular"):      # few samples: FD is only bookkeeping here
        rows = D.arms_race(pretrained.load("digits-gan"), real, _levels(16, 1), rounds=1, g_steps=2, d_steps=3, n=32)
    assert [r["round"] for r in rows] == [0, 1]
    assert rows[0]["fake_acc_before"] is None and 0 <= rows[1]["fake_acc_before"] <= 1
    assert all(math.isfinite(r["fd_ratio"]) and r["fd_ratio"] > 0 for r in rows)
    with pytest.raises(ValueError, match="rounds must be an int >= 0"):
        D.arms_race(gan, real, real, rounds=-1)
