"""course_lib.models.gan: losses on fixed logits, the gradient penalty on a known case, shapes, CLI."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from course_lib import checkpoints, cli
from course_lib.models import gan
from course_lib.recipes import gan as gan_recipe
from course_lib.train import fit

LOG2 = math.log(2.0)


def test_discriminator_loss_on_fixed_logits():
    zero = torch.zeros(4)
    assert gan.discriminator_loss(zero, zero).item() == pytest.approx(2 * LOG2)  # D undecided: 2 log 2
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = -(torch.sigmoid(real).log().mean() + (1 - torch.sigmoid(fake)).log().mean())
    assert gan.discriminator_loss(real, fake).item() == pytest.approx(expected.item(), rel=1e-6)
    # confident and right -> near zero; no overflow for huge logits
    assert gan.discriminator_loss(torch.tensor([50.0]), torch.tensor([-50.0])).item() < 1e-10
    assert math.isfinite(gan.discriminator_loss(torch.tensor([-1e4]), torch.tensor([1e4])).item())


def test_generator_losses_values_and_saturation():
    f = torch.tensor([-1.0, 0.0, 1.5])
    assert gan.generator_loss_minimax(f).item() == pytest.approx((1 - torch.sigmoid(f)).log().mean().item(), rel=1e-6)
    assert gan.generator_loss_nonsaturating(f).item() == pytest.approx(-torch.sigmoid(f).log().mean().item(), rel=1e-6)
    # When D confidently rejects the fakes (logit -8), the minimax gradient vanishes, the non-saturating one does not
    f = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(gan.generator_loss_minimax(f), f)
    (g_ns,) = torch.autograd.grad(gan.generator_loss_nonsaturating(f), f)
    assert abs(g_mm.item()) == pytest.approx(torch.sigmoid(torch.tensor(-8.0)).item(), rel=1e-5)  # ~3e-4
    assert abs(g_ns.item()) == pytest.approx(1 - torch.sigmoid(torch.tensor(-8.0)).item(), rel=1e-5)  # ~1
    assert abs(g_ns.item()) > 1000 * abs(g_mm.item())


def test_wgan_losses():
    r, f = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    assert gan.critic_loss(r, f).item() == pytest.approx(-0.5 - 2.0)
    assert gan.generator_loss_wgan(f).item() == pytest.approx(0.5)


def test_gradient_penalty_linear_critic_known_value():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5: the gradient is w everywhere, penalty (5 - 1)^2 = 16
    critic = lambda x: x @ w
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(16.0)
    unit = lambda x: x @ torch.tensor([0.6, 0.8])  # 1-Lipschitz exactly: zero penalty
    assert gan.gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_quadratic_critic_uses_interpolates():
    # D(x) = 0.5 * ||x||^2 -> gradient x_hat; with eps = 0.5, real = (2, 0), fake = (0, 0): x_hat = (1, 0), norm 1
    critic = lambda x: 0.5 * x.pow(2).sum(dim=1)
    real, fake = torch.tensor([[2.0, 0.0], [0.0, 6.0]]), torch.zeros(2, 2)
    gp = gan.gradient_penalty(critic, real, fake, eps=torch.tensor([0.5, 0.5]))
    assert gp.item() == pytest.approx((0.0 + (3.0 - 1.0) ** 2) / 2)  # norms 1 and 3
    # differentiable w.r.t. the critic's parameters (create_graph), as WGAN-GP training needs
    lin = nn.Linear(2, 1)
    gp = gan.gradient_penalty(lambda x: lin(x).squeeze(1), real, fake)
    gp.backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="same shape"):
        gan.gradient_penalty(critic, real, torch.zeros(3, 2))


@pytest.mark.parametrize("shape,arch", [((2,), "mlp"), ((1, 8, 8), "mlp"), ((1, 8, 8), "conv"), ((1, 28, 28), "conv")])
def test_shapes(shape, arch):
    m = gan.GAN(shape, latent_dim=4, hidden=16, depth=2, arch=arch)
    x = m.sample(6, generator=torch.Generator().manual_seed(0))
    assert x.shape == (6, *shape)
    if len(shape) == 3:
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert m.D(x).shape == (6,)


def test_pack_and_conditional_shapes():
    m = gan.GAN((2,), latent_dim=4, hidden=16, depth=2, pack=4)
    assert m.D(torch.randn(8, 2)).shape == (2,)  # one logit per pack of 4
    with pytest.raises(ValueError, match="multiple of pack=4"):
        m.D(torch.randn(6, 2))
    c = gan.GAN((1, 8, 8), latent_dim=4, hidden=16, depth=2, arch="conv", num_classes=10)
    labels = torch.tensor([3, 3, 7])
    x = c.sample(3, labels=labels)
    assert x.shape == (3, 1, 8, 8) and c.D(x, labels).shape == (3,)
    with pytest.raises(ValueError, match="pass labels"):
        c.G(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\], got 3..10"):
        c.sample(2, labels=torch.tensor([3, 10]))
    with pytest.raises(ValueError, match=r"a conditional GAN needs labels of shape \(3,\) int64, got \(2,\)"):
        c.sample(3, labels=torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="this GAN is unconditional"):
        gan.GAN((2,)).sample(2, labels=torch.tensor([0, 1]))


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="arch must be"):
        gan.GAN((2,), arch="rnn")
    with pytest.raises(ValueError, match="divisible by 4"):
        gan.GAN((1, 10, 10), arch="conv")
    with pytest.raises(ValueError, match="loss must be"):
        gan_recipe.GANTrainer(gan.GAN((2,)), loss="hinge")
    with pytest.raises(ValueError, match=r"batch must have shape \(N, 2\) float"):
        gan_recipe.GANTrainer(gan.GAN((2,)))(torch.randn(8, 3))


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_trainer_step_updates_both_networks(loss):
    torch.manual_seed(0)
    m = gan.GAN((2,), latent_dim=4, hidden=16, depth=2)
    g0, d0 = [p.clone() for p in m.G.parameters()], [p.clone() for p in m.D.parameters()]
    out = gan_recipe.GANTrainer(m, loss=loss, n_critic=2)(torch.randn(16, 2))
    assert {"d_loss", "g_loss"} <= set(out) and all(math.isfinite(v) for v in out.values())
    assert ("gp" in out) == (loss == "wgan-gp")
    assert any(not torch.equal(a, b) for a, b in zip(g0, m.G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, m.D.parameters()))


def test_fit_learns_a_shifted_gaussian():
    """400 steps move the generator's mean from ~0 (untrained) to within 1 of the data's mean 3."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    m = gan.GAN((2,), latent_dim=2, hidden=32, depth=2)
    trainer = gan_recipe.GANTrainer(m, lr=2e-3, generator=g)
    hist = fit(m, None, lambda: torch.randn(64, 2, generator=g) * 0.5 + 3.0, step_fn=trainer, steps=400,
               progress=False)
    assert set(hist.logs) == {"d_loss", "g_loss"} and len(hist.steps) == 400
    mean = m.sample(500, generator=g).mean(0)
    assert torch.allclose(mean, torch.tensor([3.0, 3.0]), atol=1.0), mean  # GANs oscillate around the data


def test_cli_train_and_sample_digits(tmp_path, capsys):
    ckpt = tmp_path / "gan.pt"
    assert cli.main(["train", "gan", "--dataset", "digits", "--steps", "30", "--out", str(ckpt),
                     "--option", "conditional=true", "--option", "hidden=32"]) == 0
    printed = capsys.readouterr().out
    assert "frechet_distance_vs_test" in printed and "class_accuracy" in printed
    meta = checkpoints.read(ckpt)["meta"]
    assert meta["family"] == "gan" and meta["dataset"] == "digits" and meta["steps"] == 30
    out = tmp_path / "s.npz"
    assert cli.main(["sample", str(ckpt), "--n", "12", "--out", str(out), "--option", "label=7"]) == 0
    arrays = np.load(out)
    assert arrays["images"].shape == (12, 1, 8, 8) and arrays["images"].dtype == np.float32
    assert 0 <= arrays["images"].min() and arrays["images"].max() <= 1
    assert (arrays["labels"] == 7).all()
    model = checkpoints.load(ckpt, gan.build)
    assert model.num_classes == 10


def test_cli_train_toy_and_bad_options(tmp_path, capsys):
    ckpt = tmp_path / "ring.pt"
    assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "20", "--out", str(ckpt)]) == 0
    assert "modes_covered" in capsys.readouterr().out
    out = tmp_path / "p.npz"
    assert cli.main(["sample", str(ckpt), "--n", "8", "--out", str(out)]) == 0
    assert np.load(out)["x"].shape == (8, 2)
    with pytest.raises(SystemExit, match="unknown gan option"):
        cli.main(["train", "gan", "--dataset", "digits", "--steps", "2", "--out", str(ckpt), "--option", "beta=2"])
    with pytest.raises(SystemExit, match="trains on"):
        cli.main(["train", "gan", "--dataset", "names", "--steps", "2", "--out", str(ckpt)])


def test_cli_digits_packs_unconditional_discriminators_only(tmp_path, capsys):
    ckpt = tmp_path / "dcgan.pt"
    assert cli.main(["train", "gan", "--dataset", "digits", "--steps", "3", "--out", str(ckpt),
                     "--option", "hidden=16"]) == 0
    assert checkpoints.read(ckpt)["config"]["pack"] == 4            # PacGAN: the best digits setting here
    assert cli.main(["train", "gan", "--dataset", "digits", "--steps", "3", "--out", str(ckpt),
                     "--option", "hidden=16", "--option", "conditional=true"]) == 0
    assert checkpoints.read(ckpt)["config"]["pack"] == 1            # a projection D judges one pair at a time
    with pytest.raises(ValueError, match="pack > 1"):
        cli.main(["train", "gan", "--dataset", "digits", "--steps", "3", "--out", str(ckpt),
                  "--option", "conditional=true", "--option", "pack=4"])


# ---------------------------------------------------------------------- fixes added for issue 4's targets

def test_r1_penalty_known_values():
    w = torch.tensor([3.0, 4.0])  # linear D(x) = w.x: gradient w everywhere, R1 = ||w||^2 = 25
    assert gan.r1_penalty(lambda x: x @ w, torch.randn(5, 2)).item() == pytest.approx(25.0)
    # D(x) = 0.5 ||x||^2 -> gradient x: R1 = mean ||x||^2 = (4 + 36) / 2, only the real points count
    quad = lambda x: 0.5 * x.pow(2).sum(dim=1)
    assert gan.r1_penalty(quad, torch.tensor([[2.0, 0.0], [0.0, 6.0]])).item() == pytest.approx(20.0)
    # images and a conditional critic: gradient of w.flatten(x) + label term is still w
    wi = torch.arange(4.0).reshape(1, 2, 2)
    crit = lambda x, y: (x * wi).flatten(1).sum(1) + y.float()
    assert gan.r1_penalty(crit, torch.rand(3, 1, 2, 2), labels=torch.tensor([1, 2, 3])).item() == pytest.approx(14.0)
    lin = nn.Linear(2, 1)  # differentiable w.r.t. D's parameters (create_graph), as training needs
    gan.r1_penalty(lambda x: lin(x).squeeze(1), torch.randn(4, 2)).backward()
    assert lin.weight.grad.abs().sum() > 0


def test_translate_moves_pixels_by_at_most_shift():
    img = torch.zeros(64, 1, 5, 5)
    img[:, 0, 2, 2] = 1.0                                     # one bright pixel in the middle
    g = torch.Generator().manual_seed(0)
    out = gan_recipe.translate(img, 1, generator=g)
    assert out.shape == img.shape and torch.allclose(out.sum((1, 2, 3)), torch.ones(64))  # moved, not lost
    pos = out[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 5, pos % 5
    assert rows.min() == 1 and rows.max() == 3 and cols.min() == 1 and cols.max() == 3  # every shift in [-1, 1]
    assert torch.equal(out, gan_recipe.translate(img, 1, generator=torch.Generator().manual_seed(0)))  # seeded
    assert torch.equal(gan_recipe.translate(img, 0), img)
    x = torch.rand(2, 1, 4, 4, requires_grad=True)
    gan_recipe.translate(x, 1, generator=g).sum().backward()       # differentiable: it can see the generator's fakes
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0} and x.grad.sum() > 0   # pixels moved: gradient 1, cut off: 0
    with pytest.raises(ValueError, match="images"):
        gan_recipe.translate(torch.randn(4, 2))
    with pytest.raises(ValueError, match="shift"):
        gan_recipe.translate(img, -1)


def test_mixture_latent_scale_batchnorm_and_spectral_norm():
    torch.manual_seed(0)
    m = gan.GAN((2,), latent_dim=4, hidden=16, depth=2, latent_modes=3, g_batchnorm=True, data_scale=2.0,
                spectral_norm=True)
    z = m.noise(3000, torch.Generator().manual_seed(0))              # (3000, 4) around 3 centres
    nearest = torch.cdist(z, m.latent_means).min(1)
    assert z.shape == (3000, 4) and nearest.values.max() < 6 * gan.LATENT_MODE_STD
    assert torch.bincount(nearest.indices, minlength=3).min() > 800  # each centre drawn about a third of the time
    assert m.sample(5).shape == (5, 2)
    assert any(isinstance(l, nn.BatchNorm1d) for l in m.G.net)
    m.D(torch.randn(8, 2))                                           # power iteration runs in train mode
    for layer in [l for l in m.D.features if isinstance(l, nn.Linear)] + [m.D.out]:
        assert torch.linalg.matrix_norm(layer.weight, ord=2).item() < 1.1   # W / sigma_max(W)
    with pytest.raises(ValueError, match="data_scale"):
        gan.GAN((1, 8, 8), arch="conv", data_scale=2.0)
    with pytest.raises(ValueError, match="latent_modes"):
        gan.GAN((2,), latent_modes=-1)


def test_trainer_r1_ema_augment_options():
    torch.manual_seed(0)
    m = gan.GAN((1, 8, 8), latent_dim=4, hidden=16, arch="conv", pack=2)
    t = gan_recipe.GANTrainer(m, r1=1.0, augment=1, ema=0.9, generator=torch.Generator().manual_seed(0))
    out = t(torch.rand(8, 1, 8, 8))
    assert "r1" in out and out["r1"] >= 0 and math.isfinite(out["d_loss"])
    before = [p.clone() for p in m.G.parameters()]
    t.apply_ema()                                                    # averaged weights differ from the last ones
    assert any(not torch.equal(a, b) for a, b in zip(before, m.G.parameters()))
    with pytest.raises(ValueError, match="r1"):
        gan_recipe.GANTrainer(m, r1=-1.0)
    with pytest.raises(ValueError, match="ema"):
        gan_recipe.GANTrainer(m, ema=1.0)
    with pytest.raises(ValueError, match="for images"):
        gan_recipe.GANTrainer(gan.GAN((2,)), augment=1)


def test_toy_defaults_are_deterministic_for_a_seed(tmp_path):
    """Same seed and step budget -> the same weights (mixture latent, BatchNorm and all)."""
    states = []
    for i in range(2):
        summary = gan_recipe.cli_train(dataset="grid25", seconds=None, steps=15, seed=3, out=tmp_path / f"{i}.pt", options={})
        states.append(checkpoints.read(tmp_path / f"{i}.pt")["state_dict"])
    assert summary["steps"] == 15
    assert states[0].keys() == states[1].keys() and all(torch.equal(states[0][k], states[1][k]) for k in states[0])
