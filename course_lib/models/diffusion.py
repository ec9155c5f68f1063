"""Denoising diffusion models (Ho et al. 2020): learn to undo noise, then generate by denoising noise.

The forward process adds Gaussian noise in T small steps, x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) e;
it has a closed form for any t at once (abar_t = prod_{s<=t} (1 - beta_s)):

    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)     ->  x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps

A network eps_theta(x_t, t) is trained to predict the noise eps (the "simple" loss, a mean squared error).
Sampling starts from x_T ~ N(0, I) and steps backwards:
  - DDPM: every one of the T steps, each adding a little fresh noise (ddpm_step);
  - DDIM (Song et al. 2021): any subsequence of the steps; with eta = 0 no noise at all, so the map from
    x_T to the sample is deterministic (ddim_step).
What the network predicts (`prediction`): the noise eps (DDPM), or v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0
(Salimans & Ho 2022). At the noisiest steps x_t is almost pure noise, so predicting eps is easy and says
little about the image; x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) then divides the network's error
by sqrt(abar_t) ~ 0.003. v turns into x_0 there instead, so a few-step deterministic DDIM chain starts from a
sensible guess (digits, 150 s: DDIM-25 FD 2.96 with v against 3.41 with eps; the full chain 2.56 and 2.55).
With v the samplers get x0_hat = sqrt(abar_t) x_t - sqrt(1 - abar_t) v straight from the network (and
eps = sqrt(1 - abar_t) x_t + sqrt(abar_t) v for the direction): going v -> eps -> x0 would divide by
sqrt(abar_t) ~ 5e-5 at the last step and lose ~1e-3 to float32 rounding (Diffusion.predict).
Classifier-free guidance (Ho & Salimans 2022): one network trained with the label dropped to a "null"
label 10% of the time predicts eps with and without the label; sampling extrapolates between the two,
eps = eps_null + s * (eps_label - eps_null), s > 1 trading diversity for faithfulness to the label.

Conventions: t runs over 0..T-1 and indexes the schedule's arrays (x_0 is data, "abar before step 0" is 1).
Images live in [0, 1] outside the model and in [-1, 1] inside it; 2-D points are divided by `data_scale`.

    model = Diffusion(data_shape=(2,), arch="mlp")                          # 2-D toy data
    loss = model.loss(x0)                                                   # noise-prediction MSE
    x = model.sample(1000)                                                  # full DDPM chain, (1000, 2)
    dm = Diffusion(data_shape=(1, 8, 8), arch="unet", num_classes=10)       # digits, label-conditional
    sevens = dm.sample(16, steps=25, sampler="ddim", guidance=2.0, labels=torch.full((16,), 7))
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.inputs import check_batch, check_labels
from course_lib.models.denoisers import MLPDenoiser, UNet
from course_lib.train import EMA, CosineSchedule

SCHEDULES = ("linear", "cosine")
ARCHS = ("mlp", "unet")
SAMPLERS = ("ddpm", "ddim")
PREDICTIONS = ("eps", "v")


# ---------------------------------------------------------------------- noise schedules

def _check_timesteps(timesteps) -> int:
    if isinstance(timesteps, bool) or not isinstance(timesteps, int) or timesteps < 2:
        raise ValueError(f"timesteps must be an int >= 2, got {timesteps!r}")
    return timesteps


def linear_betas(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """DDPM's schedule: beta rises linearly from 1e-4 to 0.02 over 1,000 steps; (T,) float32.

    For other T the end points are scaled by 1000 / T (Nichol & Dhariwal 2021), so abar_T stays near 0.
    """
    T = _check_timesteps(timesteps)
    scale = 1000.0 / T
    return torch.linspace(beta_start * scale, min(beta_end * scale, 0.999), T, dtype=torch.float64).float()


def cosine_betas(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule: abar(t) = cos²(((t/T + s) / (1 + s)) π/2) / abar(0); (T,) float32.

    Noise is added more gently at the start than with the linear schedule; betas are capped at 0.999.
    """
    T = _check_timesteps(timesteps)
    u = torch.arange(T + 1, dtype=torch.float64) / T                          # (T+1,) 0 .. 1
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    abar = f / f[0]                                                            # abar[0] = 1 (clean data)
    return (1 - abar[1:] / abar[:-1]).clamp(max=0.999).float()                 # beta_t = 1 - abar_t / abar_{t-1}


def make_betas(kind: str, timesteps: int) -> torch.Tensor:
    """The (T,) betas of a named schedule: "linear" or "cosine"."""
    if kind not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")
    return linear_betas(timesteps) if kind == "linear" else cosine_betas(timesteps)


def alpha_bars(betas: torch.Tensor) -> torch.Tensor:
    """abar_t = prod_{s<=t} (1 - beta_s): the share of the signal's variance left at step t; (T,)."""
    return torch.cumprod(1 - betas.double(), dim=0).float()


def snr(abar: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio abar_t / (1 - abar_t) of x_t; plotted in log scale it compares schedules."""
    return abar / (1 - abar)


class NoiseSchedule(nn.Module):
    """A T-step schedule and every per-step coefficient the samplers use, computed once in float64 (1 - abar_t
    is tiny for small t and abar_t tiny for large t) and kept as float32 buffers: `.to(device)` moves them
    with the model; they are not saved (rebuilt from the betas). Both reverse steps take this one object.

        schedule = NoiseSchedule(cosine_betas(1000))
        x_prev = ddpm_step(x_t, t, eps, schedule, noise=z)
        x_prev = ddim_step(x_t, t, t_prev, eps, schedule)
    """

    def __init__(self, betas: torch.Tensor):
        super().__init__()
        b = torch.as_tensor(betas).detach().cpu().double()                       # (T,)
        if b.dim() != 1 or len(b) < 2 or not ((b > 0) & (b < 1)).all():
            raise ValueError(f"betas must be a 1-D tensor of at least 2 values in (0, 1), got {tuple(b.shape)}")
        abar = torch.cumprod(1 - b, dim=0)                                       # (T,) abar_t
        abar_prev = torch.cat([b.new_ones(1), abar[:-1]])                        # (T,) abar_{t-1}, 1 before step 0
        coefficients = {
            "betas": b, "abar": abar, "abar_prev": abar_prev,
            "sqrt_abar": abar.sqrt(), "sqrt_one_minus_abar": (1 - abar).sqrt(),  # x_t = sqrt_abar x0 + ... eps
            # DDPM posterior q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eq. 7): mean = coef_x0 x_0 + coef_xt x_t
            "coef_x0": abar_prev.sqrt() * b / (1 - abar),
            "coef_xt": (1 - b).sqrt() * (1 - abar_prev) / (1 - abar),
            "posterior_std": (b * (1 - abar_prev) / (1 - abar)).sqrt(),
        }
        for name, value in coefficients.items():
            self.register_buffer(name, value.float(), persistent=False)

    def __len__(self) -> int:
        return len(self.betas)


def _check_schedule(schedule, who: str) -> NoiseSchedule:
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"{who} takes a NoiseSchedule (e.g. NoiseSchedule(linear_betas(T)) or model.noise_schedule), "
                        f"got {type(schedule).__name__}: a bare tensor could be betas or abar")
    return schedule


# ---------------------------------------------------------------------- the three formulas

def _per_example(a: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """a[t] for a batch of step indices t (B,), shaped (B, 1, ...) to broadcast against `like`."""
    return a.to(like.device)[t].reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """Jump straight to step t of the forward process: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise.

    x0, noise: (B, ...) same shape; t: (B,) int64 in [0, T); abar: (T,). Returns x_t (B, ...).
    """
    if x0.shape != noise.shape:
        raise ValueError(f"x0 and noise must have the same shape, got {tuple(x0.shape)} and {tuple(noise.shape)}")
    if t.dim() != 1 or t.shape[0] != x0.shape[0] or t.dtype != torch.long:
        raise ValueError(f"t must be int64 of shape ({x0.shape[0]},), one step per example, "
                         f"got {t.dtype} {tuple(t.shape)}")
    if len(t) and (t.min() < 0 or t.max() >= len(abar)):
        raise ValueError(f"t must be in [0, {len(abar) - 1}], got {t.min().item()}..{t.max().item()}")
    a = _per_example(abar, t, x0)                                              # (B, 1, ...)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, abar_t: float, clip: float | None = None) -> torch.Tensor:
    """Invert q_sample with the predicted noise: x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t),
    clamped to [-clip, clip] when clip is given (images: the data's range)."""
    x0 = (x_t - math.sqrt(1 - abar_t) * eps) / math.sqrt(abar_t)
    return x0 if clip is None else x0.clamp(-clip, clip)


def _x0_from_eps(x_t, t: int, eps, s: NoiseSchedule, clip: float | None, x0=None) -> torch.Tensor:
    if x0 is None:
        x0 = (x_t - s.sqrt_one_minus_abar[t] * eps) / s.sqrt_abar[t]
    return x0 if clip is None else x0.clamp(-clip, clip)


def ddpm_step(x_t: torch.Tensor, t: int, eps: torch.Tensor, schedule: NoiseSchedule,
              noise: torch.Tensor | None = None, clip: float | None = None,
              x0: torch.Tensor | None = None) -> torch.Tensor:
    """One reverse step x_t -> x_{t-1} of DDPM: a draw from the Gaussian posterior q(x_{t-1} | x_t, x0_hat).

    1. x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), clamped to [-clip, clip] if clip
    2. mean = sqrt(abar_{t-1}) beta_t / (1 - abar_t) x0_hat + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) x_t
       (Ho et al. 2020, eq. 7), which without clipping equals (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)
    3. x_{t-1} = mean + sigma_t noise, sigma_t² = beta_t (1 - abar_{t-1}) / (1 - abar_t); at t = 0 just the mean.
    x_t, eps, noise: (B, ...); t: an int step index; schedule: the model's NoiseSchedule.
    x0: the network's own estimate of the clean data when it has one (v-prediction), used in step 1.
    """
    s = _check_schedule(schedule, "ddpm_step")
    T = len(s)
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < T:
        raise ValueError(f"t must be an int step in [0, {T - 1}], got {t!r}")
    x0 = _x0_from_eps(x_t, t, eps, s, clip, x0)
    mean = s.coef_x0[t] * x0 + s.coef_xt[t] * x_t
    if t == 0:
        return mean
    if noise is None:
        raise ValueError("ddpm_step needs noise (same shape as x_t) for every step t > 0")
    return mean + s.posterior_std[t] * noise


def ddim_step(x_t: torch.Tensor, t: int, t_prev: int, eps: torch.Tensor, schedule: NoiseSchedule,
              eta: float = 0.0, noise: torch.Tensor | None = None, clip: float | None = None,
              x0: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM step from step t to an earlier step t_prev (t_prev = -1: to the data, abar = 1).

    1. x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)   (clamped if clip; eps is then recomputed from it)
    2. x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma²) eps + sigma noise   (Song et al. 2021, eq. 12)
       sigma = eta sqrt((1 - abar_prev) / (1 - abar_t) (1 - abar_t / abar_prev)) (eq. 16). eta = 0: deterministic;
       eta = 1 over all T steps: DDPM's posterior variance.
    schedule: the model's NoiseSchedule, as for ddpm_step; x0: the network's own estimate, as for ddpm_step.
    """
    s = _check_schedule(schedule, "ddim_step")
    T = len(s)
    if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < T:
        raise ValueError(f"t must be an int step in [0, {T - 1}], got {t!r}")
    if isinstance(t_prev, bool) or not isinstance(t_prev, int) or not -1 <= t_prev < t:
        raise ValueError(f"t_prev must be an int in [-1, t - 1] = [-1, {t - 1}], got {t_prev!r}")
    if eta < 0:
        raise ValueError(f"eta must be >= 0, got {eta}")
    x0 = _x0_from_eps(x_t, t, eps, s, clip, x0)
    if clip is not None:                          # the direction must point at the *clamped* x0_hat
        eps = (x_t - s.sqrt_abar[t] * x0) / s.sqrt_one_minus_abar[t]
    if t_prev < 0:                                # to the data: abar_prev = 1, no direction, no noise
        return x0
    sqrt_a_prev, sqrt_1m_prev = s.sqrt_abar[t_prev], s.sqrt_one_minus_abar[t_prev]
    if eta == 0:
        return sqrt_a_prev * x0 + sqrt_1m_prev * eps
    if noise is None:
        raise ValueError("ddim_step with eta > 0 needs noise (same shape as x_t)")
    a_t, a_prev = s.abar[t], s.abar[t_prev]
    sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt()
    return sqrt_a_prev * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps + sigma * noise


def guided_eps(eps_label: torch.Tensor, eps_null: torch.Tensor, guidance: float) -> torch.Tensor:
    """Classifier-free guidance: eps_null + s (eps_label - eps_null). s = 0 unconditional, 1 conditional."""
    return eps_null + guidance * (eps_label - eps_null)


def ddim_timesteps(timesteps: int, steps: int) -> list[int]:
    """`steps` step indices from T-1 down to 0, evenly spaced (both ends included, so the first step
    starts from pure noise and the last one lands on the data)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= timesteps:
        raise ValueError(f"steps must be an int in [1, {timesteps}] (the model has T = {timesteps}), got {steps!r}")
    if steps == 1:
        return [timesteps - 1]
    ts = torch.linspace(timesteps - 1, 0, steps, dtype=torch.float64).round().long().tolist()
    return list(dict.fromkeys(ts))                # rounding never repeats a step here, but be safe


# ---------------------------------------------------------------------- the model

class Diffusion(nn.Module):
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

    def __init__(self, data_shape=(2,), timesteps: int = 1000, schedule: str = "cosine", arch: str = "mlp",
                 hidden: int = 128, depth: int = 3, width: int = 32, num_classes: int = 0,
                 p_uncond: float = 0.1, data_scale: float = 1.0, clip: float | None = None, prediction: str = "eps"):
        super().__init__()
        data_shape = tuple(int(s) for s in data_shape)
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        if len(data_shape) not in (1, 3):
            raise ValueError(f"data_shape must be (D,) for points or (C, H, W) for images, got {data_shape}")
        if arch == "unet" and (len(data_shape) != 3 or data_shape[-1] % 2 or data_shape[-1] != data_shape[-2]):
            raise ValueError(f"arch='unet' needs square images with an even side, got data_shape {data_shape}")
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        if not 0 <= p_uncond < 1:
            raise ValueError(f"p_uncond must be in [0, 1), got {p_uncond}")
        if not data_scale > 0:
            raise ValueError(f"data_scale must be > 0, got {data_scale}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {clip}")
        self.data_shape, self.timesteps, self.num_classes = data_shape, _check_timesteps(timesteps), num_classes
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

    # ------------------------------------------------------------------ data <-> model space
    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.images else x / self.data_scale

    def from_model(self, x: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        if not self.images:
            return x * self.data_scale
        return ((x + 1) / 2).clamp(0, 1) if clamp else (x + 1) / 2

    def _check_x(self, x) -> torch.Tensor:
        return check_batch(x, self.data_shape, "x")

    def _check_labels(self, labels, n: int) -> torch.Tensor | None:
        return check_labels(labels, n, self.num_classes, "diffusion model")

    def _device(self) -> torch.device:
        return self.betas.device

    def null_labels(self, n: int) -> torch.Tensor | None:
        """(n,) copies of the "no label" index, or None for an unconditional model."""
        return torch.full((n,), self.num_classes, dtype=torch.long, device=self._device()) if self.num_classes else None

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
        gdev = generator.device if generator is not None else dev
        t = torch.randint(0, self.timesteps, (b,), generator=generator, device=gdev).to(dev)
        noise = torch.randn(x0.shape, generator=generator, device=gdev).to(dev)
        if labels is not None and self.p_uncond > 0:
            drop = torch.rand(b, generator=generator, device=gdev).to(dev) < self.p_uncond
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

    @torch.no_grad()
    def sample(self, n: int, steps: int | None = None, sampler: str = "ddpm", eta: float = 0.0,
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
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        T = self.timesteps
        if sampler == "ddpm" and steps not in (None, T):
            raise ValueError(f"the DDPM sampler runs all T = {T} steps, got steps={steps!r}; "
                             "use sampler='ddim' for fewer steps")
        ts = list(range(T - 1, -1, -1)) if sampler == "ddpm" else ddim_timesteps(T, 50 if steps is None else steps)
        if not guidance >= 0:
            raise ValueError(f"guidance must be >= 0, got {guidance!r}")
        dev = self._device()
        if self.num_classes and guidance > 0:
            labels = torch.arange(n, device=dev) % self.num_classes if labels is None else labels
            labels = self._check_labels(labels, n).to(dev)
        else:                                         # unconditional, or guidance 0: the label is ignored
            if labels is not None:
                self._check_labels(labels, n)
            labels = None
        gdev = generator.device if generator is not None else dev
        randn = lambda: torch.randn((n, *self.data_shape), generator=generator, device=gdev).to(dev)
        if x_T is None:
            x = randn()
        elif tuple(x_T.shape) != (n, *self.data_shape):
            raise ValueError(f"x_T must have shape ({n}, {', '.join(map(str, self.data_shape))}), got {tuple(x_T.shape)}")
        else:
            x = x_T.to(dev, torch.float32)
        was = self.training
        self.eval()
        states = [x] if return_trajectory else None
        for i, t in enumerate(ts):
            eps, x0 = self.predict(x, t, labels, guidance)
            if sampler == "ddpm":
                x = ddpm_step(x, t, eps, self.noise_schedule, noise=randn() if t > 0 else None, clip=self.clip,
                              x0=x0)
            else:
                t_prev = ts[i + 1] if i + 1 < len(ts) else -1
                x = ddim_step(x, t, t_prev, eps, self.noise_schedule, eta=eta,
                              noise=randn() if eta > 0 else None, clip=self.clip, x0=x0)
            if return_trajectory:
                states.append(x)
        self.train(was)
        out = self.from_model(x)
        if return_trajectory:
            return out, torch.stack([self.from_model(s, clamp=False) for s in states]), ts
        return out


def build(config: dict) -> Diffusion:
    """Rebuild a Diffusion model from its saved config (for checkpoints.load)."""
    return Diffusion(**config)


# ---------------------------------------------------------------------- training on a budget

def train_model(model: Diffusion, X: torch.Tensor, Y: torch.Tensor | None, *, steps: int | None,
                seconds: float | None, lr: float = 1e-3, batch_size: int = 128, ema: float = 0.0,
                generator: torch.Generator | None = None, progress: bool = True, desc: str | None = None):
    """Train on data X (N, *data_shape) [+ labels Y (N,)] with AdamW, a cosine learning-rate decay over
    the budget and (ema > 0) an exponential moving average of the weights copied in at the end.
    Returns fit's History. Used by the CLI, the benchmark and notebook 07."""
    from course_lib.train import fit
    if Y is not None and len(Y) != len(X):
        raise ValueError(f"X and Y must have the same length, got {len(X)} and {len(Y)}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    schedule = CosineSchedule(optimizer, lr, steps=steps, seconds=seconds, warmup=100)
    averaged = EMA(model, ema) if ema else None
    gen = generator if generator is not None else torch.Generator().manual_seed(0)

    def batch():
        idx = torch.randint(0, len(X), (batch_size,), generator=gen)
        return X[idx], (Y[idx] if Y is not None else None)

    hist = fit(model, lambda m, b: m.loss(b[0], b[1], generator=gen), batch, optimizer=optimizer, steps=steps,
               seconds=seconds, progress=progress, desc=desc or "diffusion",
               on_step=[schedule] + ([averaged] if averaged is not None else []))
    if averaged is not None:
        averaged.copy_to(model)
    return hist
