"""Flow matching: the loss is minimised by the true velocity of the straight paths, the ODE samplers carry
noise to the data when given that velocity, and guidance, seeds and bad input behave as in Diffusion."""
import pytest
import torch

from course_lib.models.diffusion import FlowMatching
from course_lib.models.diffusion.flow import TIME_SCALE

MU, S = 2.0, 0.5                                       # data N(MU, S^2) in one dimension


class ExactVelocity(torch.nn.Module):
    """E[z - x0 | x_t] for x0 ~ N(MU, S^2), z ~ N(0, 1), x_t = (1 - t) x0 + t z: linear in x_t."""

    def forward(self, x, t_scaled, labels=None):
        t = (t_scaled / TIME_SCALE).view(-1, 1)
        mean, var = (1 - t) * MU, (1 - t) ** 2 * S ** 2 + t ** 2
        return -MU + (t - (1 - t) * S ** 2) / var * (x - mean)


def gaussian_model() -> FlowMatching:
    model = FlowMatching(data_shape=(1,), hidden=8, depth=1)
    model.net = ExactVelocity()
    return model


def test_the_true_velocity_minimises_the_loss():
    model, x0 = gaussian_model(), MU + S * torch.randn(20000, 1, generator=torch.Generator().manual_seed(0))
    loss = lambda: model.loss(x0, generator=torch.Generator().manual_seed(1)).item()   # noqa: E731
    best = loss()
    for wrong in (lambda v: v + 0.1, lambda v: 1.1 * v, lambda v: 0.9 * v):
        exact = ExactVelocity()
        model.net = type("Wrong", (torch.nn.Module,), {"forward": lambda self, *a, w=wrong: w(exact(*a))})()
        assert loss() > best + 1e-3
        model.net = ExactVelocity()


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_with_the_true_velocity_the_samplers_reach_the_data_distribution(solver):
    x = gaussian_model().sample(20000, steps=100, solver=solver, generator=torch.Generator().manual_seed(0))
    assert abs(x.mean().item() - MU) < 0.02 and abs(x.std().item() - S) < 0.02


def test_heun_is_more_accurate_than_euler_at_few_steps():
    gen = lambda: torch.Generator().manual_seed(0)                                  # noqa: E731
    err = {s: abs(gaussian_model().sample(20000, steps=4, solver=s, generator=gen()).std().item() - S)
           for s in ("euler", "heun")}
    assert err["heun"] < err["euler"] / 2, err


def test_a_single_point_is_reached_exactly_in_one_euler_step():
    c = torch.tensor([[0.7, -1.2]])

    class ToPoint(torch.nn.Module):                    # data = one point c: v(x, t) = (x - c) / t
        def forward(self, x, t_scaled, labels=None):
            return (x - c) / (t_scaled / TIME_SCALE).view(-1, 1)

    model = FlowMatching(data_shape=(2,))
    model.net = ToPoint()
    assert torch.allclose(model.sample(5, steps=1, generator=torch.Generator().manual_seed(0)), c.expand(5, 2), atol=1e-6)


def test_guidance_zero_is_unconditional_one_conditional_and_seeds_repeat():
    torch.manual_seed(0)
    m = FlowMatching(data_shape=(1, 8, 8), arch="unet", width=8, num_classes=3)
    labels, g = torch.tensor([0, 1, 2]), lambda: torch.Generator().manual_seed(5)   # noqa: E731
    x = torch.randn(3, 1, 8, 8)
    assert torch.allclose(m.velocity(x, 0.5, labels, 0.0), m.velocity(x, 0.5, None, 1.0), atol=1e-5)
    assert torch.allclose(m.velocity(x, 0.5, labels, 1.0), m.net(x, torch.full((3,), 500.0), labels))
    s3 = m.velocity(x, 0.5, labels, 3.0)
    assert torch.allclose(s3, m.velocity(x, 0.5, None, 1.0) + 3 * (m.velocity(x, 0.5, labels, 1.0)
                                                                   - m.velocity(x, 0.5, None, 1.0)), atol=1e-5)
    a, b = m.sample(3, steps=3, labels=labels, generator=g()), m.sample(3, steps=3, labels=labels, generator=g())
    assert torch.equal(a, b) and a.shape == (3, 1, 8, 8) and 0 <= a.min() and a.max() <= 1
    out, states, times = m.sample(3, steps=3, generator=g(), return_trajectory=True)
    assert states.shape == (4, 3, 1, 8, 8) and times[0] == 1.0 and times[-1] == 0.0


def test_bad_input_names_what_was_expected():
    m = FlowMatching(data_shape=(2,))
    with pytest.raises(ValueError, match="solver must be one of"):
        m.sample(2, solver="rk4")
    with pytest.raises(ValueError, match="steps must be a positive int"):
        m.sample(2, steps=0)
    with pytest.raises(ValueError, match="guidance must be >= 0"):
        m.sample(2, guidance=-1.0)
    with pytest.raises(ValueError, match="unconditional"):
        m.sample(2, labels=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        m.loss(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="x_T must have shape"):
        m.sample(2, x_T=torch.zeros(3, 2))


def test_cli_trains_and_samples_flow_matching(tmp_path):
    import numpy as np

    from course_lib import checkpoints, cli
    ckpt = tmp_path / "flow.pt"
    assert cli.main(["train", "flow", "--dataset", "ring8", "--steps", "20", "--out", str(ckpt),
                     "--option", "hidden=16", "--option", "depth=1"]) == 0
    assert checkpoints.read(ckpt)["meta"]["family"] == "flow"
    out = tmp_path / "s.npz"
    assert cli.main(["sample", str(ckpt), "--n", "50", "--out", str(out), "--option", "steps=3",
                     "--option", "solver=euler"]) == 0
    assert np.load(out)["x"].shape == (50, 2)
    with pytest.raises(SystemExit, match="solver must be one of"):
        cli.main(["sample", str(ckpt), "--n", "2", "--option", "solver=rk4"])
    with pytest.raises(SystemExit, match="unknown flow option"):
        cli.main(["train", "flow", "--dataset", "ring8", "--steps", "1", "--out", str(tmp_path / "x.pt"),
                  "--option", "schedule=cosine"])
    assert not (tmp_path / "x.pt").exists()
