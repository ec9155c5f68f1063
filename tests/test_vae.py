"""course_lib.models.vae: shapes, the KL, bound ordering, gradients, errors, checkpoints and the CLI."""
import math

import numpy as np
import pytest
import torch

from course_lib import checkpoints, cli, data
from course_lib.models.vae import VAE, ConditionalVAE, LatentMixture, build, gaussian_kl, reparameterize


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", split="test")


def _model(**kw):
    torch.manual_seed(0)
    return VAE(latent_dim=4, hidden=32, **kw)


def test_shapes_categorical_and_bernoulli(digits):
    x = digits.images[:5]                                   # (5, 1, 8, 8)
    m = _model()
    mu, logvar = m.encode(x)
    assert mu.shape == logvar.shape == (5, 4)
    assert m.decode(mu).shape == (5, 17, 8, 8)              # 17 logits per pixel
    assert m.elbo(x).shape == (5,) and m.nll(x, k=3).shape == (5,)
    s = m.sample(6)
    assert s.shape == (6, 1, 8, 8) and s.min() >= 0 and s.max() <= 1
    grains = m.sample(6, pixels="sample", generator=torch.Generator().manual_seed(0))
    assert torch.allclose(grains * 16, (grains * 16).round())  # drawn pixels sit on the 17-level grid
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(2))
    mode = m.sample(5, pixels="mode", generator=torch.Generator().manual_seed(2))
    assert torch.equal(mode, m.decode(z).argmax(1, keepdim=True).float() / 16)   # most likely level per pixel
    b = _model(likelihood="bernoulli", levels=256)
    assert b.decode(mu).shape == (5, 1, 8, 8)
    assert set(b.sample(4, pixels="sample").unique().tolist()) <= {0.0, 1.0}


def test_categorical_log_likelihood_matches_hand_computation(digits):
    m = _model()
    x = digits.images[:2]
    logits = torch.randn(2, 17, 8, 8)
    t = torch.round(x * 16).long()                          # (2, 1, 8, 8) levels 0..16
    expect = torch.log_softmax(logits, 1).gather(1, t).flatten(1).sum(1)
    assert torch.allclose(m.log_likelihood(x, logits), expect, atol=1e-5)


def test_kl_is_zero_when_posterior_equals_prior_and_matches_monte_carlo():
    assert torch.allclose(gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)), torch.zeros(3))
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.3, -0.7]])
    g = torch.Generator().manual_seed(0)
    z = reparameterize(mu.expand(200_000, 2), logvar.expand(200_000, 2), g)   # (N, 2) from q
    log_q = (-0.5 * ((z - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi))).sum(1)
    log_p = (-0.5 * (z ** 2 + math.log(2 * math.pi))).sum(1)
    assert abs((log_q - log_p).mean().item() - gaussian_kl(mu, logvar).item()) < 0.01
    assert gaussian_kl(mu, logvar).item() > 0


def test_elbo_below_iw_bound_below_zero(digits):
    m = _model()
    x = digits.images[:16]
    g = lambda: torch.Generator().manual_seed(1)
    with torch.no_grad():
        # Average the one-sample ELBO over many draws so the comparison is not noise.
        elbo = -m.nll(x.repeat(50, 1, 1, 1), k=1, generator=g()).view(50, 16).mean(0)
        iw = -m.nll(x, k=200, generator=g())
    assert (iw <= 0).all()
    assert (elbo <= iw + 1e-3).all()
    assert iw.mean() > elbo.mean()                          # k = 200 is tighter than k = 1


def test_iwae_loss_with_k1_equals_negative_elbo(digits):
    m = _model()
    x = digits.images[:8]
    torch.manual_seed(3)
    a = m.loss(x, k=1)
    torch.manual_seed(3)
    b = -m.elbo(x).mean()
    assert torch.allclose(a, b)


def test_iwae_loss_is_the_negative_importance_weighted_bound(digits):
    m = _model()
    m.eval()
    x = digits.images[:8]
    torch.manual_seed(4)
    loss = m.loss(x, k=5)
    torch.manual_seed(4)
    bound = -m.nll(x, k=5)                          # same draws from the global generator
    assert torch.allclose(loss, -bound.mean(), atol=1e-5)


@pytest.mark.parametrize("k", [1, 8])
def test_beta_weighs_the_kl_for_every_k(digits, k):
    # The digits default trains with k = 8: beta must change that loss exactly by (beta - 1) * KL.
    m = _model(dropout=0.5)                                 # train mode: dropout masks come from the seed too
    with torch.no_grad():
        m.encoder[-1].bias[:4] += 1.5                       # move mu off 0: a KL of several nats, not ~0.03
    x = digits.images[:16]
    losses = {}
    for beta in (1.0, 4.0):
        torch.manual_seed(7)
        losses[beta] = m.loss(x, beta=beta, k=k)
    torch.manual_seed(7)
    kl = gaussian_kl(*m.encode(x)).mean()                   # the encoder pass draws its dropout masks first
    assert kl.item() > 2.0                                  # a real KL, so the check below can fail
    assert torch.allclose(losses[4.0] - losses[1.0], 3 * kl, rtol=1e-4, atol=1e-4)


def test_gradients_flow_through_reparameterised_sample(digits):
    m = _model()
    m.loss(digits.images[:8]).backward()
    enc_grad = m.encoder[0].weight.grad
    assert enc_grad is not None and enc_grad.abs().sum() > 0
    mu = torch.zeros(4, 3, requires_grad=True)
    logvar = torch.zeros(4, 3, requires_grad=True)
    reparameterize(mu, logvar).sum().backward()
    assert torch.allclose(mu.grad, torch.ones(4, 3)) and logvar.grad.abs().sum() > 0


def test_training_improves_the_elbo(digits):
    m = _model()
    x = digits.images[:64]
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    before = -m.elbo(x, generator=torch.Generator().manual_seed(0)).mean().item()
    for _ in range(60):
        opt.zero_grad()
        m.loss(x).backward()
        opt.step()
    after = -m.elbo(x, generator=torch.Generator().manual_seed(0)).mean().item()
    assert after < before - 30                              # 64 pixels x ln 17 = 181 nats at chance


def test_conditional_vae_uses_labels(digits):
    torch.manual_seed(0)
    m = ConditionalVAE(latent_dim=4, hidden=32)
    x, y = digits.images[:6], digits.labels[:6]
    assert m.elbo(x, y).shape == (6,) and m.nll(x, labels=y, k=2).shape == (6,)
    z = torch.zeros(2, 4)
    a = m.decode(z, torch.tensor([0, 0]))
    b = m.decode(z, torch.tensor([0, 7]))
    assert torch.allclose(a[0], b[0]) and not torch.allclose(a[1], b[1])
    assert m.sample(3, labels=torch.tensor([1, 2, 3])).shape == (3, 1, 8, 8)
    with pytest.raises(ValueError, match=r"labels of shape \(6,\) int64"):
        m.elbo(x)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\]"):
        m.elbo(x, torch.full((6,), 10))


def test_bad_inputs_raise_clear_errors(digits):
    m = _model()
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 8, 8\).*got \(32, 64\)"):
        m.elbo(torch.rand(32, 64))
    with pytest.raises(ValueError, match="float"):
        m.encode(torch.zeros(2, 1, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match=r"z must have shape \(B, 4\)"):
        m.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="k must be a positive int"):
        m.nll(digits.images[:2], k=0)
    with pytest.raises(ValueError, match="n must be a positive int"):
        m.sample(0)
    with pytest.raises(ValueError, match="unconditional"):
        m.elbo(digits.images[:2], digits.labels[:2])
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAE(likelihood="gaussian")
    with pytest.raises(ValueError, match="bernoulli"):
        VAE(levels=256)


def test_checkpoint_round_trip(tmp_path, digits):
    m = ConditionalVAE(latent_dim=3, hidden=16)
    checkpoints.save(tmp_path / "c.pt", m, m.config)
    back = checkpoints.load(tmp_path / "c.pt", build)
    assert isinstance(back, ConditionalVAE)
    z, y = torch.randn(2, 3), torch.tensor([4, 5])
    assert torch.allclose(back.decode(z, y), m.decode(z, y))


@pytest.mark.parametrize("conditional", [False, True])
def test_cli_train_and_sample(tmp_path, capsys, conditional):
    ckpt, out = tmp_path / "vae.pt", tmp_path / "s.npz"
    opts = ["--option", "hidden=32", "--option", "eval_k=5"] + (["--option", "conditional=true"] if conditional else [])
    assert cli.main(["train", "vae", "--dataset", "digits", "--steps", "30", "--out", str(ckpt), *opts]) == 0
    printed = capsys.readouterr().out
    assert "test_iw_nll_nats_k5" in printed and "test_iw_bits_per_dim" in printed
    meta = checkpoints.read(ckpt)["meta"]
    assert meta["family"] == "vae" and meta["dataset"] == "digits" and meta["steps"] == 30
    assert cli.main(["sample", str(ckpt), "--n", "12", "--out", str(out)]) == 0
    got = np.load(out)
    assert got["images"].dtype == np.float32 and got["images"].shape == (12, 1, 8, 8)
    assert got["images"].min() >= 0 and got["images"].max() <= 1
    if conditional:
        assert got["labels"].tolist() == [i % 10 for i in range(12)]
    else:
        assert "labels" not in got.files
    assert not list(tmp_path.glob(".*tmp*"))                # no temp file left behind


def test_cli_rejects_unknown_option_and_dataset(tmp_path):
    with pytest.raises(SystemExit, match="unknown vae option"):
        cli.main(["train", "vae", "--dataset", "digits", "--steps", "1", "--out", str(tmp_path / "x.pt"),
                  "--option", "widht=3"])
    with pytest.raises(SystemExit, match="digits"):
        cli.main(["train", "vae", "--dataset", "names", "--steps", "1", "--out", str(tmp_path / "x.pt")])


def test_latent_mixture_samples_where_the_encoder_puts_the_data():
    torch.manual_seed(0)
    model = VAE(image_size=8, levels=17, latent_dim=3, hidden=32)
    images = torch.rand(400, 1, 8, 8)
    with torch.no_grad():
        mu, _ = model.encode(images)                                   # (400, 3)
    mix = LatentMixture.fit(model, images, k=4)
    assert mix.weights.shape == (4,) and mix.means.shape == (4, 3) and mix.scale_tril.shape == (4, 3, 3)
    assert mix.weights.sum().item() == pytest.approx(1.0, abs=1e-5)
    z = mix.sample(20000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20000, 3)
    assert torch.allclose(z.mean(0), mu.mean(0), atol=0.05 * mu.std(0).max().item() + 1e-3)
    assert torch.allclose(z.std(0), mu.std(0), rtol=0.1)
    a = mix.sample(5, generator=torch.Generator().manual_seed(1))
    b = LatentMixture.from_state(mix.state()).sample(5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)                                           # seeded, and survives a checkpoint
    x = model.sample(5, z=a)
    assert x.shape == (5, 1, 8, 8)
    with pytest.raises(ValueError, match=r"z must have shape \(5, 3\)"):
        model.sample(5, z=torch.zeros(5, 4))
    with pytest.raises(ValueError, match="unconditional"):
        LatentMixture.fit(ConditionalVAE(image_size=8, levels=17), images)
