"""Precision/recall separate realism from variety; the GAN's mapping network and truncation trade them."""
import pytest
import torch

from course_lib import data
from course_lib.metrics import digit_precision_recall, precision_recall
from course_lib.models.gan import GAN


def test_collapse_keeps_precision_and_loses_recall_and_noise_loses_precision():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(400, 2, generator=g)
    same = torch.randn(400, 2, generator=g)
    collapsed = 0.2 * torch.randn(400, 2, generator=g)              # realistic but only the centre
    far = torch.randn(400, 2, generator=g) + 6.0                     # nothing like the data
    pr = precision_recall(real, same)
    assert pr.precision > 0.9 and pr.recall > 0.9
    pr = precision_recall(real, collapsed)
    assert pr.precision > 0.95 and pr.recall < 0.5
    assert precision_recall(real, far).precision < 0.05
    with pytest.raises(ValueError, match="same D"):
        precision_recall(real, torch.zeros(5, 3))
    with pytest.raises(ValueError, match="k must be an int"):
        precision_recall(real, same, k=400)


def test_digit_precision_recall_of_real_digits_is_high():
    train, test = data.load("digits", split="train"), data.load("digits", split="test")
    pr = digit_precision_recall(train.images[:360], test.images)
    assert pr.precision > 0.8 and pr.recall > 0.8
    blank = torch.zeros_like(test.images)
    assert digit_precision_recall(train.images[:360], blank).recall < 0.1


def test_truncation_moves_samples_towards_the_average_w():
    torch.manual_seed(0)
    gan = GAN(data_shape=(2,), latent_dim=4, hidden=16, mapping=3)
    gan.G.train()
    for _ in range(50):                                            # training forwards track w_avg
        gan.G(torch.randn(64, 4))
    assert gan.G.w_avg.abs().sum() > 0
    z = torch.randn(256, 4, generator=torch.Generator().manual_seed(1))
    spread = {psi: gan.sample(256, z=z, truncation=psi).std(dim=0).sum().item() for psi in (1.0, 0.5, 0.01)}
    assert spread[1.0] > spread[0.5] > spread[0.01]
    assert spread[0.01] < 0.05 * spread[1.0]
    with pytest.raises(ValueError, match=r"truncation must be in \(0, 1\]"):
        gan.sample(4, truncation=0.0)
    with pytest.raises(ValueError, match="mixture latent"):
        GAN(data_shape=(2,), latent_modes=5).sample(4, truncation=0.5)
    plain = GAN(data_shape=(2,), latent_dim=4, hidden=16)
    assert "mapping" not in plain.config_dict() and plain.G.mapping is None
    assert torch.allclose(plain.sample(8, z=z[:8], truncation=0.5), plain.G(0.5 * z[:8]))


def test_cli_trains_a_mapping_network_and_samples_truncated(tmp_path):
    import numpy as np

    from course_lib import cli
    ckpt = tmp_path / "gan.pt"
    assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "5", "--out", str(ckpt),
                     "--option", "mapping=2", "--option", "hidden=16"]) == 0
    full, cut = tmp_path / "full.npz", tmp_path / "cut.npz"
    assert cli.main(["sample", str(ckpt), "--n", "200", "--out", str(full)]) == 0
    assert cli.main(["sample", str(ckpt), "--n", "200", "--out", str(cut), "--option", "truncation=0.3"]) == 0
    assert np.load(cut)["x"].std(axis=0).sum() < np.load(full)["x"].std(axis=0).sum()
    with pytest.raises(SystemExit, match="truncation must be in"):
        cli.main(["sample", str(ckpt), "--n", "2", "--option", "truncation=1.5"])


def test_planted_distributions_at_k5():
    """Issue 27: a sample equal to the data has precision and recall ~1; a collapsed one has low recall."""
    g = torch.Generator().manual_seed(1)
    centres = 8.0 * torch.randn(10, 8, generator=g)                             # 10 well separated modes
    def draw(n, modes):
        return centres[modes[torch.randint(len(modes), (n,), generator=g)]] + torch.randn(n, 8, generator=g)
    real = draw(500, torch.arange(10))
    pr = precision_recall(real, real.clone(), k=5)                            # the data itself
    assert pr.precision == 1.0 and pr.recall == 1.0
    pr = precision_recall(real, draw(500, torch.arange(10)), k=5)             # fresh draws of the same data
    assert pr.precision > 0.9 and pr.recall > 0.9
    pr = precision_recall(real, draw(500, torch.tensor([3])), k=5)            # collapsed onto one mode
    assert pr.precision > 0.9 and pr.recall < 0.2


def test_digits_sample_equal_to_data_and_one_class_at_k5():
    train, test = data.load("digits", split="train"), data.load("digits", split="test")
    pr = digit_precision_recall(test.images, train.images[:1000], k=5)       # the scorecard's sizes
    assert pr.precision >= 0.9 and pr.recall >= 0.9
    threes = train.images[train.labels == 3]                                  # one class only (~150 digits)
    pr = digit_precision_recall(test.images, threes, k=5)
    assert pr.precision > 0.9 and pr.recall <= 0.2
