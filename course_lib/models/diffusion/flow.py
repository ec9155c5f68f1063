"""Flow matching (Lipman et al. 2023; rectified flow, Liu et al. 2023): the training objective of today's
image generators (Stable Diffusion 3, Flux), beside DDPM and with the same networks.

Draw a data point x0 and noise z, and walk the straight line between them:

    x_t = (1 - t) x0 + t z,   t in [0, 1]          (t = 0 data, t = 1 noise)

Along it the velocity is constant, dx_t/dt = z - x0. A network v_theta(x_t, t) trained by least squares to
predict it (the conditional flow-matching loss) learns the *average* velocity of all lines through x_t,
which defines an ODE dx/dt = v_theta(x, t) carrying N(0, I) at t = 1 to the data at t = 0. Sampling
integrates it backwards from noise: Euler's method, x <- x + (t_next - t) v, one network call a step
(Heun's method: two calls, second order). No noise schedule, no variance: the one design choice left
is the time grid.

The link to diffusion: DDPM's x_t = sqrt(abar) x0 + sqrt(1 - abar) eps is a *curved* path between the same
two end points, and deterministic DDIM follows the probability-flow ODE of that path. Flow matching picks
the straight one, so fewer Euler steps go astray; v-prediction (notebook 07) is the same idea in DDPM's
coordinates. The network's time input is 1000 t, so the step embeddings of the DDPM networks fit as they are.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.diffusion.denoisers import MLPDenoiser, UNet
from course_lib.models.diffusion.space import DataSpace
from course_lib.models.diffusion.steps import guided_eps
from course_lib.models.inputs import Configured, check_data_shape, check_n, device_of, eval_mode, rand, randn

ARCHS = ("mlp", "unet")
SOLVERS = ("euler", "heun")
TIME_SCALE = 1000.0                                    # network time input = 1000 t, as DDPM's step index


class FlowMatching(DataSpace, Configured, nn.Module):
    """A velocity network plus the straight noise-to-data paths: `loss(x0)` to train, `sample(n)` to
    generate. Arguments as Diffusion's (data_shape, arch, hidden, depth, width, num_classes, p_uncond,
    data_scale), without a noise schedule. Images come out clamped to [0, 1], as Diffusion's do."""

    KIND = "flow-matching model"

    def __init__(self, data_shape=(2,), arch: str = "mlp", hidden: int = 128, depth: int = 3, width: int = 32,
                 num_classes: int = 0, p_uncond: float = 0.1, data_scale: float = 1.0):
        super().__init__()
        data_shape = check_data_shape(data_shape, arch, ARCHS, conv=("unet", 2))
        if not 0 <= p_uncond < 1:
            raise ValueError(f"p_uncond must be in [0, 1), got {p_uncond}")
        if not data_scale > 0:
            raise ValueError(f"data_scale must be > 0, got {data_scale}")
        self.config = dict(data_shape=list(data_shape), arch=arch, hidden=hidden, depth=depth, width=width,
                           num_classes=num_classes, p_uncond=p_uncond, data_scale=data_scale)
        self.data_shape, self.num_classes, self.p_uncond, self.data_scale = data_shape, num_classes, p_uncond, data_scale
        self.images = len(data_shape) == 3
        self.net = UNet(data_shape[0], width, num_classes) if arch == "unet" else \
            MLPDenoiser(math.prod(data_shape), hidden, depth, num_classes)

    def _device(self) -> torch.device:
        return device_of(self)

    def loss(self, x0: torch.Tensor, labels: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """E_{t, z} || (z - x0) - v_theta((1 - t) x0 + t z, t) ||², t ~ U(0, 1): a scalar (mean over all).
        x0: data units (B, *data_shape); labels (B,) dropped to the null label with probability p_uncond."""
        x0 = self.to_model(self._check_x(x0))
        b, dev = x0.shape[0], x0.device
        labels = self._check_labels(labels, b)
        t = rand(b, generator=generator, device=dev)                                       # (B,)
        z = randn(x0.shape, generator=generator, device=dev)                               # (B, ...)
        if labels is not None and self.p_uncond > 0:
            drop = rand(b, generator=generator, device=dev) < self.p_uncond
            labels = torch.where(drop, self.num_classes, labels)
        tt = t.view(b, *([1] * (x0.dim() - 1)))                                            # (B, 1, ...)
        x_t = (1 - tt) * x0 + tt * z                                                       # on the line
        return F.mse_loss(self.net(x_t, t * TIME_SCALE, labels), z - x0)

    def velocity(self, x: torch.Tensor, t: float, labels: torch.Tensor | None, guidance: float) -> torch.Tensor:
        """v_theta(x, t) for a batch x (model space), guided like DDPM's noise (the estimate is linear)."""
        tt = torch.full((x.shape[0],), t * TIME_SCALE, device=x.device)
        if labels is None:
            return self.net(x, tt, self.null_labels(x.shape[0]))
        if guidance == 1.0:
            return self.net(x, tt, labels)
        both = self.net(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([labels, self.null_labels(x.shape[0])]))
        return guided_eps(*both.chunk(2), guidance)

    @eval_mode
    def sample(self, n: int, *, steps: int = 25, solver: str = "euler", guidance: float = 1.0,
               labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
               x_T: torch.Tensor | None = None, return_trajectory: bool = False):
        """n samples (n, *data_shape) in data units, integrating dx/dt = v from t = 1 to 0 in `steps`
        equal steps. solver "euler" (steps network calls) or "heun" (2 steps - 1 calls: an Euler guess,
        then the average of the slopes at both ends; the last step is Euler). Labels and guidance as in
        Diffusion.sample; x_T: start from this noise; return_trajectory: also the states (steps + 1, n, ...)
        and the times."""
        check_n(n)
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        labels = self.sampling_labels(labels, n, guidance)
        x = self.start_noise(n, x_T, generator)                                            # (n, ...) at t = 1
        times = torch.linspace(1.0, 0.0, steps + 1).tolist()
        states = [x] if return_trajectory else None
        for t, t_next in zip(times[:-1], times[1:]):
            v = self.velocity(x, t, labels, guidance)
            x_next = x + (t_next - t) * v                                                  # Euler
            if solver == "heun" and t_next > 0:
                v_next = self.velocity(x_next, t_next, labels, guidance)
                x_next = x + (t_next - t) * (v + v_next) / 2                               # trapezoid
            x = x_next
            if return_trajectory:
                states.append(x)
        out = self.from_model(x)
        if return_trajectory:
            return out, torch.stack([self.from_model(s, clamp=False) for s in states]), times
        return out
