"""course_lib.metrics: bits/dim, mode coverage, Fréchet distance and the shipped digit classifiers."""
import math
from importlib import resources

import numpy as np
import pytest
import torch

from course_lib import data, metrics


# ----------------------------------------------------------------------------- likelihood

def test_bits_per_dim_known_values():
    # A uniform model over 256 levels spends exactly 8 bits on every pixel.
    assert metrics.bits_per_dim(784 * math.log(256), 784) == pytest.approx(8.0)
    assert metrics.bits_per_dim(64 * math.log(2), num_dims=64) == pytest.approx(1.0)
    out = metrics.bits_per_dim(torch.tensor([0.0, 64 * math.log(17)]), 64)
    torch.testing.assert_close(out, torch.tensor([0.0, math.log2(17)]))
    assert metrics.nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert metrics.nats_to_bits(math.log(8)) == pytest.approx(3.0)


def test_nll_perplexity_gaussian_and_dequantized():
    assert metrics.nll([-1.0, -3.0]) == pytest.approx(2.0)
    assert metrics.perplexity(math.log(5.0)) == pytest.approx(5.0)
    x, mean, log_var = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    expected = -torch.distributions.Normal(mean, torch.exp(0.5 * log_var)).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(metrics.gaussian_nll(x, mean, log_var), expected)
    # The uniform density on [0,1]^D (NLL 0) dequantizes to the uniform discrete model: log2(levels) bits/dim.
    assert metrics.bits_per_dim(metrics.dequantized_nll(0.0, 64, 17), 64) == pytest.approx(math.log2(17))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bits_per_dim_rejects_bad_num_dims(bad):
    with pytest.raises(ValueError, match="num_dims"):
        metrics.bits_per_dim(1.0, bad)


def test_nll_of_empty_raises():
    with pytest.raises(ValueError, match="empty"):
        metrics.nll([])


# ----------------------------------------------------------------------------- mode coverage

RING = torch.stack([torch.tensor([2 * math.cos(a), 2 * math.sin(a)])
                    for a in torch.arange(8) * 2 * math.pi / 8])  # (8, 2)
STD = 0.02


def _around(modes, per_mode, gen):
    """per_mode Gaussian samples (std STD) around each given mode."""
    return (modes.repeat_interleave(per_mode, 0) + STD * torch.randn(len(modes) * per_mode, 2, generator=gen))


def test_mode_coverage_all_modes_hit():
    gen = torch.Generator().manual_seed(0)
    res = metrics.mode_coverage(_around(RING, 100, gen), RING, STD)
    assert (res.covered, res.total) == (8, 8)
    assert res.high_quality_fraction > 0.97  # 3 std in 2-D holds 98.9% of a Gaussian
    assert res.counts.shape == (8,) and int(res.counts.sum()) == round(800 * res.high_quality_fraction)
    assert "8/8 modes covered" in str(res)


def test_mode_coverage_half_the_modes():
    gen = torch.Generator().manual_seed(1)
    res = metrics.mode_coverage(_around(RING[::2], 200, gen), RING, STD)
    assert res.covered == 4 and res.total == 8
    assert (res.counts[1::2] == 0).all() and (res.counts[::2] > 150).all()


def test_off_mode_samples_lower_quality_not_coverage():
    gen = torch.Generator().manual_seed(2)
    on = _around(RING, 75, gen)  # 600 good samples
    off = torch.zeros(200, 2)  # 200 at the centre: 2 away from every mode, i.e. 100 std
    res = metrics.mode_coverage(torch.cat([on, off]), RING, STD)
    assert res.covered == 8
    assert 0.73 < res.high_quality_fraction <= 0.75
    assert int(res.counts.sum()) <= 600


def test_min_count_decides_coverage():
    gen = torch.Generator().manual_seed(3)
    samples = torch.cat([_around(RING[:7], 100, gen), _around(RING[7:], 5, gen)])  # mode 7 nearly dropped
    default = metrics.mode_coverage(samples, RING, STD)
    assert default.min_count == round(0.2 * len(samples) / 8) and default.covered == 7
    assert metrics.mode_coverage(samples, RING, STD, min_count=1).covered == 8
    # A looser radius turns more samples into high-quality ones, never fewer.
    assert metrics.mode_coverage(samples, RING, STD, n_std=10).high_quality_fraction == 1.0


def test_mode_coverage_matches_toy_data():
    toy = data.load("grid25", n=2500, seed=0)
    res = metrics.mode_coverage(toy.x, toy.modes, toy.std)
    assert res.covered == 25 and res.high_quality_fraction > 0.97


@pytest.mark.parametrize("samples,modes,kwargs,match", [
    (torch.zeros(10, 3), RING, {}, r"samples must have shape \(N, 2\), got \(10, 3\)"),
    (torch.zeros(10), RING, {}, r"samples must have shape \(N, 2\)"),
    (torch.zeros(10, 2), RING[:, :1], {}, r"modes must have shape \(N, 2\)"),
    (torch.zeros(0, 2), RING, {}, "empty"),
    (torch.zeros(10, 2), RING, {"min_count": 0}, "min_count"),
])
def test_mode_coverage_bad_input(samples, modes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.mode_coverage(samples, modes, STD, **kwargs)


def test_mode_coverage_bad_std():
    with pytest.raises(ValueError, match="std"):
        metrics.mode_coverage(torch.zeros(10, 2), RING, 0.0)


# ----------------------------------------------------------------------------- Fréchet distance

def _exact_samples(mean, cov, n, seed):
    """n samples whose empirical mean and covariance (ddof=1) are exactly mean and cov."""
    z = np.random.default_rng(seed).standard_normal((n, len(mean)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.atleast_2d(np.cov(z, rowvar=False)))).T  # whiten: cov(z) = I
    return z @ np.linalg.cholesky(cov).T + mean


def test_frechet_identical_sets_is_zero():
    x = np.random.default_rng(0).standard_normal((500, 16))
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert metrics.frechet_distance(torch.tensor(x, dtype=torch.float32), x) < 1e-4


def test_frechet_matches_closed_form_1d_and_diagonal():
    # 1-D: FD(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2
    a = _exact_samples(np.array([1.0]), np.array([[4.0]]), 200, 0)
    b = _exact_samples(np.array([-2.0]), np.array([[0.25]]), 300, 1)
    assert metrics.frechet_distance(a, b) == pytest.approx(9.0 + (2.0 - 0.5) ** 2, rel=1e-9)
    # Diagonal: the same, summed over dimensions.
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = ((m1 - m2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()
    a, b = _exact_samples(m1, np.diag(v1), 400, 2), _exact_samples(m2, np.diag(v2), 400, 3)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert metrics.gaussian_frechet_distance(m1, np.diag(v1), m2, np.diag(v2)) == pytest.approx(expected)


def test_frechet_general_covariances_match_scipy_sqrtm():
    from scipy import linalg
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    cov_a, cov_b = A @ A.T + 0.1 * np.eye(6), B @ B.T + 0.1 * np.eye(6)
    mu_a, mu_b = rng.standard_normal(6), rng.standard_normal(6)
    reference = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b) - 2 * np.trace(linalg.sqrtm(cov_a @ cov_b)).real
    assert metrics.gaussian_frechet_distance(mu_a, cov_a, mu_b, cov_b) == pytest.approx(reference, rel=1e-8)


def test_frechet_is_symmetric_and_handles_singular_covariance():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((300, 8)), 2.0 * rng.standard_normal((200, 8)) + 1.0
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a), rel=1e-9)
    a[:, 3] = 0.0  # a dead feature (ReLU units can be): covariance is singular, FD still finite
    fd = metrics.frechet_distance(a, b)
    assert math.isfinite(fd) and fd > 0


def test_frechet_bad_input():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.frechet_distance(x, np.zeros((10, 5)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.frechet_distance(x, np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        metrics.frechet_distance(np.zeros(10), x)
    with pytest.warns(UserWarning, match="more samples than features"):
        metrics.frechet_distance(np.random.default_rng(0).standard_normal((3, 4)), np.ones((10, 4)))


# ----------------------------------------------------------------------------- shipped digit classifiers

@pytest.mark.parametrize("name", ["digits", "mnist5k"])
def test_shipped_classifier_accuracy(name):
    test = data.load(name, split="test")
    accuracy = (metrics.classify_digits(test.images) == test.labels).float().mean().item()
    assert accuracy >= 0.97, f"{name}: test accuracy {accuracy:.4f}"


@pytest.mark.parametrize("size", [8, 28])
def test_shipped_weights_are_small_and_load_safely(size):
    path = resources.files("course_lib").joinpath("assets", f"digit_classifier_{size}x{size}.pt")
    assert path.is_file() and path.stat().st_size < 1_000_000
    with path.open("rb") as f:
        state = torch.load(f, weights_only=True)
    metrics.DigitClassifier(size).load_state_dict(state)  # strict: every key and shape matches


def test_digit_features_shape_and_numpy_input():
    images = data.load("digits", split="test").images[:10]
    feats = metrics.digit_features(images)
    assert feats.shape == (10, 128) and feats.dtype == torch.float32
    torch.testing.assert_close(metrics.digit_features(images.numpy()), feats)
    assert metrics.classify_digits(images.numpy()).shape == (10,)


@pytest.mark.parametrize("name", ["digits", "mnist5k"])
def test_digit_frechet_real_vs_real_is_far_below_noise(name):
    train, test = data.load(name, split="train"), data.load(name, split="test")
    real = metrics.digit_frechet_distance(test.images, train.images[:2000])
    noise = torch.rand(len(test), *test.images.shape[1:], generator=torch.Generator().manual_seed(0))
    fake = metrics.digit_frechet_distance(test.images, noise)
    assert real < 0.1 * fake, (real, fake)


@pytest.mark.parametrize("images,match", [
    (torch.rand(32, 64), r"shape \(N, 1, H, W\) with H = W in \[8, 28\], got \(32, 64\)"),
    (torch.rand(4, 3, 8, 8), r"got \(4, 3, 8, 8\)"),
    (torch.rand(4, 1, 16, 16), r"got \(4, 1, 16, 16\)"),
    (torch.rand(4, 1, 8, 28), r"got \(4, 1, 8, 28\)"),
    (torch.zeros(0, 1, 8, 8), "empty"),
    (torch.randint(0, 17, (4, 1, 8, 8)), "must be float"),
    (2 * torch.rand(4, 1, 8, 8) - 1, r"must be in \[0, 1\]"),
    (torch.full((4, 1, 8, 8), float("nan")), r"must be in \[0, 1\]"),
])
def test_digit_metrics_reject_bad_images(images, match):
    with pytest.raises(ValueError, match=match):
        metrics.digit_features(images)


def test_digit_frechet_rejects_mixed_sizes_and_non_arrays():
    with pytest.raises(ValueError, match="one size"):
        metrics.digit_frechet_distance(torch.rand(200, 1, 8, 8), torch.rand(200, 1, 28, 28))
    with pytest.raises(TypeError, match="torch.Tensor or numpy array"):
        metrics.classify_digits([[0.0] * 8] * 8)
