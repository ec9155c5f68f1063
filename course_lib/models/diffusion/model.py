"""Diffusion: a denoiser plus its noise schedule, with the training loss and the samplers."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.diffusion.denoisers import MLPDenoiser, UNet
from course_lib.models.diffusion.schedule import NoiseSchedule, _check_timesteps, make_betas
from course_lib.models.diffusion.space import DataSpace
from course_lib.models.diffusion.steps import _per_example, ddim_step, ddim_timesteps, ddpm_step, guided_eps, q_sample
from course_lib.models.inputs import Configured, check_data_shape, check_n, eval_mode, rand, randint, randn

ARCHS = ("mlp", "unet")
SAMPLERS = ("ddpm", "ddim")
PREDICTIONS = ("eps", "v")


class Diffusion(DataSpace, Configured, nn.Module):
    """A denoiser plus its noise schedule: `loss(x0)` to train, `sample(n, ...)` to generate.

    data_shape: (D,) for points (arch "mlp") or (C, H, W) for images in [0, 1] (arch "unet" or "mlp").
    num_classes > 0: label-conditional, trained with the label dropped with probability p_uncond so the
    same network also predicts the unconditional noise (classifier-free guidance).
    data_scale: points are divided by it inside the model (so the data have about unit spread).
    prediction: "eps" (the network predicts the noise) or "v" (see the module docstring).
    clip: while sampling, every predicted x0 is clamped to [-clip, clip] (model units; images default to 1,
    their range). With the cosine schedule the first step starts where abar is ~0, so x0_hat divides by
    ~sqrt(0): without a clamp a few-step DDIM chain amplifies the network's error there.
    """

    KIND = "diffusion model"

    def __init__(self, data_shape=(2,), timesteps: int = 1000, schedule: str = "cosine", arch: str = "mlp",
                 hidden: int = 128, depth: int = 3, width: int = 32, num_classes: int = 0,
                 p_uncond: float = 0.1, data_scale: float = 1.0, clip: float | None = None, prediction: str = "eps"):
        super().__init__()
        data_shape = check_data_shape(data_shape, arch, ARCHS, conv=("unet", 2))   # the U-Net halves the side once
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        if not 0 <= p_uncond < 1:
            raise ValueError(f"p_uncond must be in [0, 1), got {p_uncond}")
        if not data_scale > 0:
            raise ValueError(f"data_scale must be > 0, got {data_scale}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {clip}")
        self.data_shape, self.timesteps, self.num_classes = data_shape, _check_timesteps(timesteps), num_classes
        self.config = dict(data_shape=list(data_shape), timesteps=timesteps, schedule=schedule, arch=arch, hidden=hidden,
                           depth=depth, width=width, num_classes=num_classes, p_uncond=p_uncond,
                           data_scale=data_scale, clip=clip, prediction=prediction)
        self.schedule, self.p_uncond, self.data_scale, self.prediction = schedule, p_uncond, data_scale, prediction
        self.images = len(data_shape) == 3
        self.clip = clip if clip is not None else (1.0 if self.images else None)   # images: [-1, 1]
        self.noise_schedule = NoiseSchedule(make_betas(schedule, timesteps))  # buffers rebuilt from the config
        if arch == "unet":
            self.net = UNet(data_shape[0], width, num_classes)
        else:
            self.net = MLPDenoiser(math.prod(data_shape), hidden, depth, num_classes)

    @property
    def betas(self) -> torch.Tensor:
        return self.noise_schedule.betas                                         # (T,)

    @property
    def abar(self) -> torch.Tensor:
        return self.noise_schedule.abar                                          # (T,)

    def _device(self) -> torch.device:
        return self.betas.device

    # ------------------------------------------------------------------ training
    def loss(self, x0: torch.Tensor, labels: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """The simple DDPM loss: E_{t, eps} ||eps - eps_theta(x_t, t)||², t uniform, a scalar (mean over all);
        with prediction "v" the target is v_t = sqrt(abar_t) eps - sqrt(1 - abar_t) x0 instead.

        x0: a batch in data units (B, *data_shape); labels (B,) for a conditional model, each replaced by
        the null label with probability p_uncond.
        """
        x0 = self.to_model(self._check_x(x0))
        b, dev = x0.shape[0], x0.device
        labels = self._check_labels(labels, b)
        t = randint(0, self.timesteps, (b,), generator=generator, device=dev)                   # (B,)
        noise = randn(x0.shape, generator=generator, device=dev)                                 # (B, ...)
        if labels is not None and self.p_uncond > 0:
            drop = rand(b, generator=generator, device=dev) < self.p_uncond
            labels = torch.where(drop, self.num_classes, labels)
        x_t = q_sample(x0, t, noise, self.abar)
        if self.prediction == "v":                       # v = sqrt(abar) eps - sqrt(1 - abar) x0
            a = _per_example(self.abar, t, x0)
            target = a.sqrt() * noise - (1 - a).sqrt() * x0
        else:
            target = noise
        return F.mse_loss(self.net(x_t, t, labels), target)

    # ------------------------------------------------------------------ sampling
    def predict(self, x_t: torch.Tensor, t: int, labels: torch.Tensor | None,
                guidance: float) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(eps, x0_hat) at step t for a batch x_t (model space), guided. x0_hat is None for an eps model
        (the steps compute it); a v model gives it directly, x0_hat = sqrt(abar) x_t - sqrt(1 - abar) v."""
        tt = torch.full((x_t.shape[0],), t, dtype=torch.long, device=x_t.device)
        if labels is None:
            out = self.net(x_t, tt, self.null_labels(x_t.shape[0]))
        elif guidance == 1.0:
            out = self.net(x_t, tt, labels)
        else:
            both = self.net(torch.cat([x_t, x_t]), torch.cat([tt, tt]),            # one batched call
                            torch.cat([labels, self.null_labels(x_t.shape[0])]))
            out = guided_eps(*both.chunk(2), guidance)    # linear, so guiding v guides eps alike
        if self.prediction == "eps":
            return out, None
        s = self.noise_schedule                          # v: both from (x_t, v), no division by sqrt(abar)
        eps = s.sqrt_one_minus_abar[t] * x_t + s.sqrt_abar[t] * out
        return eps, s.sqrt_abar[t] * x_t - s.sqrt_one_minus_abar[t] * out

    def eps(self, x_t: torch.Tensor, t: int, labels: torch.Tensor | None, guidance: float) -> torch.Tensor:
        """The (guided) noise prediction at step t for a batch x_t (model space)."""
        return self.predict(x_t, t, labels, guidance)[0]

    @eval_mode
    def sample(self, n: int, *, steps: int | None = None, sampler: str = "ddpm", eta: float = 0.0,
               guidance: float = 1.0, labels: torch.Tensor | None = None,
               generator: torch.Generator | None = None, x_T: torch.Tensor | None = None,
               return_trajectory: bool = False):
        """n samples (n, *data_shape) in data units (images in [0, 1]).

        sampler="ddpm": the full chain of T steps (steps must be None or T).
        sampler="ddim": `steps` evenly spaced steps (default 50), eta = 0 deterministic given x_T.
        Conditional models: labels (n,) (default 0, 1, 2, ... in turn) and the guidance scale s
        (1 = plain conditional, 0 = unconditional via the null label, > 1 guided).
        x_T: start from this noise (n, *data_shape) instead of drawing it.
        return_trajectory: also return the states x_t (in data units, unclamped) before every step and
        the final sample: a tensor (steps + 1, n, *data_shape), and the step indices (list).
        """
        check_n(n)
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        T = self.timesteps
        if sampler == "ddpm" and steps not in (None, T):
            raise ValueError(f"the DDPM sampler runs all T = {T} steps, got steps={steps!r}; "
                             "use sampler='ddim' for fewer steps")
        ts = list(range(T - 1, -1, -1)) if sampler == "ddpm" else ddim_timesteps(T, 50 if steps is None else steps)
        labels = self.sampling_labels(labels, n, guidance)
        dev = self._device()
        noise = lambda: randn((n, *self.data_shape), generator=generator, device=dev)      # (n, *data_shape)
        x = self.start_noise(n, x_T, generator)
        states = [x] if return_trajectory else None
        for i, t in enumerate(ts):
            eps, x0 = self.predict(x, t, labels, guidance)
            if sampler == "ddpm":
                x = ddpm_step(x, t, eps, self.noise_schedule, noise=noise() if t > 0 else None, clip=self.clip,
                              x0=x0)
            else:
                t_prev = ts[i + 1] if i + 1 < len(ts) else -1
                x = ddim_step(x, t, t_prev, eps, self.noise_schedule, eta=eta,
                              noise=noise() if eta > 0 else None, clip=self.clip, x0=x0)
            if return_trajectory:
                states.append(x)
        out = self.from_model(x)
        if return_trajectory:
            return out, torch.stack([self.from_model(s, clamp=False) for s in states]), ts
        return out


build = Diffusion.from_config   # the name checkpoints and scripts written before the protocol use
