"""course_lib.models.diffusion: schedules, q_sample against the closed form, the reverse steps on known
cases, determinism of DDIM, guidance, shapes, clear errors, checkpoints and the CLI."""
import math

import numpy as np
import pytest
import torch

from course_lib import checkpoints, cli, train
from course_lib.models import diffusion as dm
from course_lib.recipes import diffusion as recipe


@pytest.fixture(autouse=True)
def one_thread():
    """Small models: one thread is as fast as two on a busy 2-core machine; restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", dm.SCHEDULES)
@pytest.mark.parametrize("T", [10, 1000])
def test_schedules_alpha_bar_decreasing_and_bounded(kind, T):
    betas = dm.make_betas(kind, T)
    abar = dm.alpha_bars(betas)
    assert betas.shape == abar.shape == (T,)
    assert (betas > 0).all() and (betas < 1).all()
    assert (abar[1:] < abar[:-1]).all(), "alpha-bar must fall at every step"
    assert abar[0] > 0.9 and abar[-1] < 0.05, (abar[0], abar[-1])     # from almost clean to almost noise
    snr = dm.snr(abar)
    assert (snr[1:] < snr[:-1]).all()


def test_cosine_schedule_closed_form_and_gentler_start():
    T, s = 1000, 0.008
    abar = dm.alpha_bars(dm.cosine_betas(T))
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    for t in (0, 250, 500, 900):
        assert abar[t].item() == pytest.approx(f(t + 1) / f(0), rel=1e-4)
    lin = dm.alpha_bars(dm.linear_betas(T))
    assert abar[300] > lin[300]                     # the cosine schedule destroys the signal more slowly
    assert dm.linear_betas(T)[0].item() == pytest.approx(1e-4) and dm.linear_betas(T)[-1].item() == pytest.approx(0.02)


def test_q_sample_mean_and_variance_match_the_closed_form():
    abar = dm.alpha_bars(dm.make_betas("linear", 100))
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((200_000, 1), 1.5)
    t = torch.full((200_000,), 40, dtype=torch.long)
    xt = dm.q_sample(x0, t, torch.randn(x0.shape, generator=g), abar)
    a = abar[40].item()
    assert xt.mean().item() == pytest.approx(math.sqrt(a) * 1.5, abs=0.01)
    assert xt.var().item() == pytest.approx(1 - a, abs=0.01)
    # ... and matches running the chain x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) e step by step
    betas = dm.make_betas("linear", 100)
    x = torch.full((200_000, 1), 1.5)
    for s in range(41):
        x = (1 - betas[s]).sqrt() * x + betas[s].sqrt() * torch.randn(x.shape, generator=g)
    assert x.mean().item() == pytest.approx(xt.mean().item(), abs=0.01)
    assert x.var().item() == pytest.approx(xt.var().item(), abs=0.01)


def test_q_sample_per_example_steps_and_errors():
    abar = dm.alpha_bars(dm.make_betas("cosine", 10))
    x0, noise = torch.ones(3, 1, 2, 2), torch.zeros(3, 1, 2, 2)
    xt = dm.q_sample(x0, torch.tensor([0, 5, 9]), noise, abar)
    assert torch.allclose(xt[:, 0, 0, 0], abar[[0, 5, 9]].sqrt())
    with pytest.raises(ValueError, match=r"t must be int64 of shape \(3,\)"):
        dm.q_sample(x0, torch.tensor([0, 1]), noise, abar)
    with pytest.raises(ValueError, match=r"t must be in \[0, 9\], got 0..10"):
        dm.q_sample(x0, torch.tensor([0, 1, 10]), noise, abar)
    with pytest.raises(ValueError, match="same shape"):
        dm.q_sample(x0, torch.tensor([0, 1, 2]), torch.zeros(3, 4), abar)


def test_ddpm_step_matches_the_epsilon_form_and_the_posterior_variance():
    betas = dm.make_betas("linear", 50)
    abar = dm.alpha_bars(betas)
    g = torch.Generator().manual_seed(1)
    x_t, eps, z = (torch.randn(4, 3, generator=g) for _ in range(3))
    t = 20
    sched = dm.NoiseSchedule(betas)
    out = dm.ddpm_step(x_t, t, eps, sched, noise=z)
    mean = (x_t - betas[t] / (1 - abar[t]).sqrt() * eps) / (1 - betas[t]).sqrt()
    var = betas[t] * (1 - abar[t - 1]) / (1 - abar[t])
    assert torch.allclose(out, mean + var.sqrt() * z, atol=1e-5)
    # t = 0: the mean, which is the predicted x0, and no noise needed
    x0 = dm.ddpm_step(x_t, 0, eps, sched)
    assert torch.allclose(x0, (x_t - (1 - abar[0]).sqrt() * eps) / abar[0].sqrt(), atol=1e-5)
    with pytest.raises(ValueError, match="needs noise"):
        dm.ddpm_step(x_t, 5, eps, sched)
    with pytest.raises(ValueError, match=r"t must be an int step in \[0, 49\], got 50"):
        dm.ddpm_step(x_t, 50, eps, sched, noise=z)
    with pytest.raises(TypeError, match="takes a NoiseSchedule.*could be betas or abar"):
        dm.ddpm_step(x_t, 5, eps, betas, noise=z)


def test_ddim_step_with_the_true_noise_recovers_the_data():
    """If the denoiser were perfect (eps = the noise that was added), one DDIM jump lands on x0 exactly,
    and a jump to any earlier step lands on q_sample of the same noise there."""
    sched = dm.NoiseSchedule(dm.make_betas("cosine", 100))
    abar = sched.abar
    g = torch.Generator().manual_seed(2)
    x0, noise = torch.rand(5, 2, generator=g), torch.randn(5, 2, generator=g)
    xt = dm.q_sample(x0, torch.full((5,), 80, dtype=torch.long), noise, abar)
    assert torch.allclose(dm.ddim_step(xt, 80, -1, noise, sched), x0, atol=1e-4)
    mid = dm.ddim_step(xt, 80, 30, noise, sched)
    assert torch.allclose(mid, dm.q_sample(x0, torch.full((5,), 30, dtype=torch.long), noise, abar), atol=1e-4)
    with pytest.raises(ValueError, match=r"t_prev must be an int in \[-1, t - 1\]"):
        dm.ddim_step(xt, 30, 30, noise, sched)
    with pytest.raises(ValueError, match="eta > 0 needs noise"):
        dm.ddim_step(xt, 80, 30, noise, sched, eta=1.0)
    with pytest.raises(TypeError, match="takes a NoiseSchedule"):
        dm.ddim_step(xt, 80, 30, noise, abar)


@pytest.mark.parametrize("kind", dm.SCHEDULES)
def test_noise_schedule_holds_the_float64_coefficients_in_float32(kind):
    betas = dm.make_betas(kind, 1000)
    sched = dm.NoiseSchedule(betas)
    b = betas.double()
    abar = torch.cumprod(1 - b, 0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    want = {"abar": abar, "abar_prev": prev, "sqrt_one_minus_abar": (1 - abar).sqrt(),
            "coef_x0": prev.sqrt() * b / (1 - abar), "coef_xt": (1 - b).sqrt() * (1 - prev) / (1 - abar),
            "posterior_std": (b * (1 - prev) / (1 - abar)).sqrt()}
    for name, value in want.items():
        got = getattr(sched, name)
        assert got.dtype == torch.float32 and got.shape == (1000,)
        torch.testing.assert_close(got.double(), value, rtol=1e-6, atol=0, msg=name)   # float32 rounding only
    # computed in float64: 1 - abar at t = 0 is beta_0 itself, not the float32 difference 1 - 0.9999...
    assert sched.sqrt_one_minus_abar[0].item() == pytest.approx(math.sqrt(b[0].item()), rel=1e-6)
    m = dm.Diffusion((2,), timesteps=50)
    assert not any("abar" in k or "coef" in k for k in m.state_dict())               # rebuilt, not saved
    assert m.abar is m.noise_schedule.abar and m.betas.shape == (50,)
    with pytest.raises(ValueError, match="betas must be a 1-D tensor"):
        dm.NoiseSchedule(torch.tensor([0.5, 1.5]))


def test_sampler_chain_matches_the_per_step_float64_formulas():
    """The whole DDPM chain (ddpm_step on the precomputed schedule) against DDPM's formulas evaluated in
    float64 at every step, with a fixed stand-in network; and DDIM-10 likewise."""
    class Shrink(torch.nn.Module):                   # eps_theta(x_t, t) = 0.3 x_t: smooth, deterministic
        def forward(self, x, t, labels=None):
            return 0.3 * x
    T = 100
    m = dm.Diffusion((2,), timesteps=T, schedule="linear", clip=3.0)
    m.net = Shrink()
    x_T = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    got = m.sample(64, x_T=x_T, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)                 # the sampler's draws, one (64, 2) per step t > 0
    b = dm.linear_betas(T).double()
    abar = torch.cumprod(1 - b, 0)
    x = x_T.double()
    for t in range(T - 1, -1, -1):
        a_t, a_prev = abar[t], (abar[t - 1] if t else torch.tensor(1.0, dtype=torch.float64))
        x0 = ((x - (1 - a_t).sqrt() * 0.3 * x) / a_t.sqrt()).clamp(-3, 3)
        mean = a_prev.sqrt() * b[t] / (1 - a_t) * x0 + (1 - b[t]).sqrt() * (1 - a_prev) / (1 - a_t) * x
        x = mean + (b[t] * (1 - a_prev) / (1 - a_t)).sqrt() * torch.randn(64, 2, generator=g).double() if t else mean
    torch.testing.assert_close(got.double(), x, rtol=1e-4, atol=1e-5)

    got = m.sample(64, steps=10, sampler="ddim", x_T=x_T)
    ts = dm.ddim_timesteps(T, 10)
    x = x_T.double()
    for i, t in enumerate(ts):
        a_t = abar[t]
        a_prev = abar[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, dtype=torch.float64)
        x0 = ((x - (1 - a_t).sqrt() * 0.3 * x) / a_t.sqrt()).clamp(-3, 3)
        eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    torch.testing.assert_close(got.double(), x, rtol=1e-4, atol=1e-5)


def test_ddim_with_eta_one_over_all_steps_is_ddpm():
    betas = dm.make_betas("linear", 30)
    abar = dm.alpha_bars(betas)
    g = torch.Generator().manual_seed(3)
    x_t, eps, z = (torch.randn(6, 2, generator=g) for _ in range(3))
    sched = dm.NoiseSchedule(betas)
    assert torch.allclose(dm.ddim_step(x_t, 12, 11, eps, sched, eta=1.0, noise=z),
                          dm.ddpm_step(x_t, 12, eps, sched, noise=z), atol=1e-5)


def test_ddim_timesteps_span_the_chain_and_bad_step_counts_are_named():
    assert dm.ddim_timesteps(1000, 5) == [999, 749, 500, 250, 0]
    assert dm.ddim_timesteps(1000, 1) == [999]
    assert dm.ddim_timesteps(10, 10) == list(range(9, -1, -1))
    for bad in (0, -3, 1001, 2.5, True):
        with pytest.raises(ValueError, match=r"steps must be an int in \[1, 1000\]"):
            dm.ddim_timesteps(1000, bad)
    with pytest.raises(ValueError, match="timesteps must be an int >= 2"):
        dm.make_betas("cosine", 1)
    with pytest.raises(ValueError, match="schedule must be one of"):
        dm.make_betas("sigmoid", 10)


def test_guided_eps():
    c, u = torch.tensor([2.0]), torch.tensor([1.0])
    assert dm.guided_eps(c, u, 0.0).item() == 1.0 and dm.guided_eps(c, u, 1.0).item() == 2.0
    assert dm.guided_eps(c, u, 3.0).item() == 4.0          # extrapolates past the conditional prediction


@pytest.mark.parametrize("shape,arch", [((2,), "mlp"), ((1, 8, 8), "unet"), ((1, 8, 8), "mlp"), ((1, 28, 28), "unet")])
def test_shapes_and_ranges(shape, arch):
    torch.manual_seed(0)
    m = dm.Diffusion(shape, timesteps=20, arch=arch, hidden=16, depth=1, width=8)
    assert m.loss(torch.rand(4, *shape)).dim() == 0
    x = m.sample(3, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, *shape)
    if len(shape) == 3:
        assert 0 <= x.min() and x.max() <= 1
    x, traj, ts = m.sample(3, steps=5, sampler="ddim", return_trajectory=True)
    assert traj.shape == (6, 3, *shape) and ts == [19, 14, 10, 5, 0]


def test_ddim_eta0_is_deterministic_for_a_fixed_seed_and_ddpm_is_seeded():
    torch.manual_seed(0)
    m = dm.Diffusion((1, 8, 8), timesteps=50, arch="unet", width=8)
    a = m.sample(4, steps=10, sampler="ddim", generator=torch.Generator().manual_seed(7))
    b = m.sample(4, steps=10, sampler="ddim", generator=torch.Generator().manual_seed(7))
    c = m.sample(4, steps=10, sampler="ddim", generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    x_T = torch.randn(4, 1, 8, 8)                           # eta = 0: the sample is a function of x_T alone
    assert torch.equal(m.sample(4, steps=10, sampler="ddim", x_T=x_T, generator=torch.Generator().manual_seed(1)),
                       m.sample(4, steps=10, sampler="ddim", x_T=x_T, generator=torch.Generator().manual_seed(2)))
    p = m.sample(2, generator=torch.Generator().manual_seed(3))
    assert torch.equal(p, m.sample(2, generator=torch.Generator().manual_seed(3)))


def test_conditional_model_guidance_and_label_errors():
    torch.manual_seed(0)
    m = dm.Diffusion((1, 8, 8), timesteps=20, arch="unet", width=8, num_classes=10)
    labels = torch.tensor([3, 3, 7])
    g = lambda: torch.Generator().manual_seed(0)
    cond = m.sample(3, steps=4, sampler="ddim", labels=labels, generator=g())
    unc = m.sample(3, steps=4, sampler="ddim", guidance=0.0, generator=g())
    assert not torch.equal(cond, unc)
    assert m.loss(torch.rand(5, 1, 8, 8), torch.arange(5)).dim() == 0
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) int64, got \(2,\)"):
        m.sample(3, labels=torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\], got 3..10"):
        m.sample(3, labels=torch.tensor([3, 4, 10]))
    with pytest.raises(ValueError, match="labels of shape"):
        m.loss(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="guidance must be >= 0"):
        m.sample(3, guidance=-1.0)
    with pytest.raises(ValueError, match="unconditional"):
        dm.Diffusion((2,), timesteps=10).sample(2, labels=torch.tensor([0, 1]))


def test_bad_input_is_a_clear_error():
    m = dm.Diffusion((2,), timesteps=10, hidden=8, depth=1)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\) float, got \(4, 3\)"):
        m.loss(torch.randn(4, 3))
    with pytest.raises(ValueError, match="runs all T = 10 steps, got steps=5"):
        m.sample(2, steps=5)
    with pytest.raises(ValueError, match=r"steps must be an int in \[1, 10\].*got 11"):
        m.sample(2, steps=11, sampler="ddim")
    with pytest.raises(ValueError, match="sampler must be one of"):
        m.sample(2, sampler="euler")
    with pytest.raises(ValueError, match="n must be a positive int"):
        m.sample(0)
    with pytest.raises(ValueError, match=r"x_T must have shape \(2, 2\)"):
        m.sample(2, x_T=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="arch must be one of"):
        dm.Diffusion((2,), arch="transformer")
    with pytest.raises(ValueError, match="even side"):
        dm.Diffusion((1, 7, 7), arch="unet")


def test_training_learns_a_shifted_gaussian():
    """A few hundred steps on N((3, -1), 0.5²): the samples' mean moves from 0 to the data's mean."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    m = dm.Diffusion((2,), timesteps=100, hidden=64, depth=2, data_scale=2.0, clip=3.0)
    X = torch.randn(4000, 2, generator=g) * 0.5 + torch.tensor([3.0, -1.0])
    hist = recipe.train_model(m, X, None, steps=600, seconds=None, lr=3e-3, batch_size=256, ema=0.99, generator=g,
                          progress=False)
    assert len(hist.steps) == 600 and hist.loss[-1] < hist.loss[0]
    for kw in ({}, dict(steps=20, sampler="ddim")):            # the full chain, and 20 DDIM steps
        x = m.sample(1000, generator=g, **kw)
        assert torch.allclose(x.mean(0), torch.tensor([3.0, -1.0]), atol=0.25), (kw, x.mean(0))
        assert torch.allclose(x.std(0), torch.tensor([0.5, 0.5]), atol=0.2), (kw, x.std(0))


class _Constant(torch.nn.Module):
    """A stand-in network that always answers `out`, to test what the model makes of its answer."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def forward(self, x, t, labels=None):
        return self.out


@pytest.mark.parametrize("t", [0, 500, 999])
def test_v_prediction_converts_to_the_true_noise(t):
    """A network that predicts v = sqrt(abar) eps - sqrt(1 - abar) x0 exactly yields the true eps."""
    g = torch.Generator().manual_seed(0)
    m = dm.Diffusion((2,), prediction="v")
    x0, noise = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
    a = m.abar[t]
    x_t = dm.q_sample(x0, torch.full((5,), t), noise, m.abar)
    m.net = _Constant(a.sqrt() * noise - (1 - a).sqrt() * x0)
    torch.testing.assert_close(m.eps(x_t, t, None, 1.0), noise, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match=r"prediction must be one of \('eps', 'v'\), got 'x0'"):
        dm.Diffusion((2,), prediction="x0")


def test_v_prediction_loss_is_zero_for_the_true_v_and_eps_loss_is_not():
    """The v loss compares the network's answer with sqrt(abar_t) eps - sqrt(1 - abar_t) x0 at the drawn t."""
    x0 = torch.ones(64, 2)
    for prediction in ("eps", "v"):
        m = dm.Diffusion((2,), timesteps=10, prediction=prediction)
        g = torch.Generator().manual_seed(1)                     # replay the loss's own draws
        t = torch.randint(0, 10, (64,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        a = m.abar[t][:, None]
        m.net = _Constant(a.sqrt() * noise - (1 - a).sqrt() * x0)
        loss = m.loss(x0, generator=torch.Generator().manual_seed(1))
        assert (loss.item() < 1e-10) == (prediction == "v"), (prediction, loss.item())


def test_ddim_without_a_clip_amplifies_the_first_step_error():
    """At step T-1 of the cosine schedule abar is ~1e-5: x0_hat divides the network's error by sqrt(abar),
    and a long first DDIM jump keeps it. Clipping x0_hat to a box around the data removes it."""
    sched = dm.NoiseSchedule(dm.cosine_betas(100))
    abar = sched.abar
    x_t, err = torch.zeros(1, 2), torch.full((1, 2), 0.01)     # eps off by 0.01 at the noisiest step
    wild = dm.ddim_step(x_t, 99, 94, err, sched)
    tame = dm.ddim_step(x_t, 99, 94, err, sched, clip=1.0)
    assert wild.abs().max() > 0.1 and tame.abs().max() < 0.2 and abar[-1] < 1e-4


def test_ema_tracks_the_weights():
    lin = torch.nn.Linear(1, 1, bias=False)
    ema = train.EMA(lin, decay=0.5)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    start = ema.shadow["weight"].clone()
    for _ in range(30):
        ema.update(lin)
    ema.copy_to(lin)
    assert lin.weight.item() == pytest.approx(1.0, abs=1e-6) and not torch.equal(start, lin.weight)


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    m = dm.Diffusion((1, 8, 8), timesteps=20, arch="unet", width=8, num_classes=10, schedule="linear")
    cfg = dict(data_shape=[1, 8, 8], timesteps=20, arch="unet", width=8, num_classes=10, schedule="linear")
    checkpoints.save(tmp_path / "d.pt", m, cfg)
    back = checkpoints.load(tmp_path / "d.pt", dm.build)
    assert torch.equal(back.betas, m.betas)
    g = lambda: torch.Generator().manual_seed(0)
    assert torch.equal(back.sample(2, steps=3, sampler="ddim", generator=g()),
                       m.eval().sample(2, steps=3, sampler="ddim", generator=g()))


def test_cli_train_and_sample_digits(tmp_path, capsys):
    ckpt = tmp_path / "diff.pt"
    assert cli.main(["train", "diffusion", "--dataset", "digits", "--steps", "5", "--out", str(ckpt),
                     "--option", "conditional=true", "--option", "width=8", "--option", "timesteps=50"]) == 0
    printed = capsys.readouterr().out
    assert "frechet_distance_vs_test_ddim50" in printed and "class_accuracy_ddim50" in printed
    meta = checkpoints.read(ckpt)["meta"]
    assert meta["family"] == "diffusion" and meta["dataset"] == "digits" and meta["steps"] == 5
    out = tmp_path / "s.npz"
    assert cli.main(["sample", str(ckpt), "--n", "6", "--out", str(out), "--option", "label=7",
                     "--option", "steps=5", "--option", "guidance=2"]) == 0
    arrays = np.load(out)
    assert arrays["images"].shape == (6, 1, 8, 8) and arrays["images"].dtype == np.float32
    assert 0 <= arrays["images"].min() and arrays["images"].max() <= 1 and (arrays["labels"] == 7).all()
    with pytest.raises(SystemExit, match="unknown diffusion sampling option"):
        cli.main(["sample", str(ckpt), "--n", "2", "--option", "temperature=2"])


def test_cli_train_toy_and_bad_options(tmp_path, capsys):
    ckpt = tmp_path / "grid.pt"
    assert cli.main(["train", "diffusion", "--dataset", "grid25", "--steps", "5", "--out", str(ckpt),
                     "--option", "timesteps=50"]) == 0
    assert "modes_covered" in capsys.readouterr().out
    out = tmp_path / "p.npz"
    assert cli.main(["sample", str(ckpt), "--n", "8", "--out", str(out)]) == 0   # full DDPM chain
    assert np.load(out)["x"].shape == (8, 2)
    with pytest.raises(SystemExit, match="unknown diffusion option"):
        cli.main(["train", "diffusion", "--dataset", "digits", "--steps", "2", "--out", str(ckpt), "--option", "beta=2"])
    with pytest.raises(SystemExit, match="trains on"):
        cli.main(["train", "diffusion", "--dataset", "names", "--steps", "2", "--out", str(ckpt)])


def test_v_prediction_gives_x0_directly_with_float32_error_small_at_the_last_step():
    """At t = T-1 of the cosine schedule sqrt(abar) ~ 5e-5. x0 = sqrt(abar) x_t - sqrt(1 - abar) v is exact to
    float32 rounding; going v -> eps -> x0 divides the rounding error of eps by sqrt(abar)."""
    T = 1000
    m = dm.Diffusion((1, 8, 8), timesteps=T, schedule="cosine", arch="unet", width=8, prediction="v")
    g = torch.Generator().manual_seed(0)
    x_t, v = torch.randn(64, 1, 8, 8, generator=g), torch.randn(64, 1, 8, 8, generator=g)
    m.net = _Constant(v)
    t = T - 1
    abar = torch.cumprod(1 - m.betas.double(), 0)[t]
    want = abar.sqrt() * x_t.double() - (1 - abar).sqrt() * v.double()             # float64 reference
    eps, x0 = m.predict(x_t, t, None, 1.0)
    direct = (x0.double() - want).abs().max().item()
    s = m.noise_schedule                                                              # the old route, float32
    via_eps = ((x_t - s.sqrt_one_minus_abar[t] * eps) / s.sqrt_abar[t]).double()
    detour = (via_eps - want).abs().max().item()
    assert s.sqrt_abar[t].item() < 1e-4
    assert direct < 1e-6, direct
    assert detour > 100 * direct, (detour, direct)
    torch.testing.assert_close(eps.double(), (1 - abar).sqrt() * x_t.double() + abar.sqrt() * v.double(),
                               rtol=1e-6, atol=1e-6)


def test_a_one_step_ddim_chain_from_pure_noise_lands_on_the_v_models_x0():
    """A v network that is right about x0 everywhere: one DDIM jump from t = T-1 returns that x0 to float32
    precision (through eps it would be off by ~1e-3 there)."""
    T = 1000
    m = dm.Diffusion((1, 8, 8), timesteps=T, schedule="cosine", arch="unet", width=8, prediction="v")
    target = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(3)) * 1.6 - 0.8   # inside the clip
    s = m.noise_schedule

    class KnowsX0(torch.nn.Module):                 # v = (sqrt(abar) x_t - x0) / sqrt(1 - abar)
        def forward(self, x, t, labels=None):
            a, b = s.sqrt_abar[t].view(-1, 1, 1, 1), s.sqrt_one_minus_abar[t].view(-1, 1, 1, 1)
            return ((a.double() * x.double() - target.double()) / b.double()).float()

    m.net = KnowsX0()
    out = m.sample(16, steps=1, sampler="ddim", generator=torch.Generator().manual_seed(4))   # (16, 1, 8, 8)
    assert (out - (target + 1) / 2).abs().max().item() < 1e-6
