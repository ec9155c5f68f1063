"""Deepfake detection on 8x8 digits: can a small detector tell the course's generated digits from real ones?

Real digits have 17 grey levels (0, 1/16, ..., 1); a generator writes continuous values. A detector could
win on that alone, which says nothing about the generator, so every image (real or fake) is first
`quantise`d to the real grey levels. Two detectors, each outputting a logit for "fake":
  - `CNNDetector`: a small convolutional network on the pixels (Wang et al. 2020: CNN-generated images are,
    for now, easy to spot by a CNN trained on one generator);
  - `SpectralDetector`: logistic regression on the log-magnitude of the image's 2-D DCT (Frank et al. 2020:
    upsampling leaves regular artefacts in the spectrum; `mean_spectrum` shows them).
`evaluate` reports accuracy on reals and fakes separately (with Wilson intervals); `cross_generator` trains
on one generator and tests on every one (detectors generalise poorly); `arms_race` fine-tunes a GAN
against a frozen detector, retrains the detector, and repeats.

    real_tr, real_te = data.load("digits").images, data.load("digits", split="test").images
    fakes = {g: sample_fakes(g, 1797, seed=0) for g in GENERATORS}         # quantised, (1797, 1, 8, 8) each
    det = train_detector(real_tr, fakes["gan"][:1437], kind="cnn", steps=300, seed=0)
    evaluate(det, real_te, fakes["gan"][1437:])                            # Accuracy(real=.., fake=.., ...)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.gan import discriminator_loss, generator_loss_nonsaturating
from course_lib.metrics.intervals import wilson

LEVELS = 17                               # grey levels of scikit-learn's digits
KINDS = ("cnn", "spectral")
# name -> (zoo model, how it is sampled). VAE: codes from its fitted latent mixture, mean pixels (its best
# samples); diffusion: DDIM with 25 steps, eta 0 (the 1,000-step chain costs 40x more); flow: 25 Euler steps.
GENERATORS = {"gan": ("digits-gan", {}), "vae": ("digits-vae", {"pixels": "mean"}),
              "diffusion": ("digits-diffusion", {"sampler": "ddim", "steps": 25}), "flow": ("digits-flow", {"steps": 25})}


def check_images(x, what: str = "images") -> torch.Tensor:
    """x must be a non-empty float tensor (N, 1, H, W) with values in [0, 1]."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"{what} must be a float tensor (N, 1, H, W), got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}".rstrip())
    if x.dim() != 4 or x.shape[1] != 1 or x.shape[0] == 0:
        raise ValueError(f"{what} must have shape (N, 1, H, W) with N >= 1, got {tuple(x.shape)}")
    if x.min() < -1e-6 or x.max() > 1 + 1e-6:
        raise ValueError(f"{what} must lie in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]")
    return x


def quantise(x: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """Round [0, 1] images to `levels` evenly spaced grey levels (the real data's), so that no detector wins
    on continuous pixel values alone. Straight-through: the forward pass rounds, the gradient passes as if
    it did not (so a generator can be fine-tuned through it)."""
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an int >= 2, got {levels!r}")
    x = x.clamp(0, 1)
    return x + (torch.round(x * (levels - 1)) / (levels - 1) - x).detach()


@torch.no_grad()
def sample_fakes(name: str, n: int, *, seed: int = 0, model=None, batch: int = 500) -> torch.Tensor:
    """n quantised samples (n, 1, 8, 8) on the CPU from a generator of GENERATORS (the zoo's model, or `model`
    of that family), drawn in batches with torch.Generator seeded by `seed`."""
    if name not in GENERATORS:
        raise ValueError(f"generator must be one of {sorted(GENERATORS)}, got {name!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    from course_lib import pretrained
    zoo_name, kw = GENERATORS[name]
    model = pretrained.load(zoo_name) if model is None else model
    g, out = torch.Generator().manual_seed(seed), []
    mixture = pretrained.latent_mixture(zoo_name) if name == "vae" else None
    for start in range(0, n, batch):
        m = min(batch, n - start)
        extra = {"z": mixture.sample(m, generator=g)} if mixture is not None else {}
        out.append(model.sample(m, generator=g, **kw, **extra).float().cpu())
    return quantise(torch.cat(out))                                       # (n, 1, 8, 8)


# ------------------------------------------------------------------ the frequency view (Frank et al. 2020)

def dct_matrix(size: int) -> torch.Tensor:
    """The orthonormal DCT-II basis C (size, size): row k is sqrt(2/N) cos(pi (2n + 1) k / 2N), row 0 scaled
    by 1/sqrt(2); C x C^T is the 2-D DCT of an N x N image and C^T y C inverts it."""
    n = torch.arange(size, dtype=torch.float64)
    c = torch.cos(math.pi * (2 * n[None, :] + 1) * n[:, None] / (2 * size)) * math.sqrt(2 / size)  # (k, n)
    c[0] /= math.sqrt(2)
    return c.float()


def dct2(x: torch.Tensor) -> torch.Tensor:
    """2-D DCT of images (N, 1, H, W) -> (N, H, W); coefficient [0, 0] is the mean times H (for H = W)."""
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(x.shape)}")
    ch, cw = dct_matrix(x.shape[2]).to(x), dct_matrix(x.shape[3]).to(x)
    return ch @ x[:, 0] @ cw.T                                            # (N, H, W)


def log_spectrum(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """log(|DCT| + eps) of each image, flattened: (N, 1, H, W) -> (N, H*W), the spectral detector's input."""
    return torch.log(dct2(x).abs() + eps).flatten(1)


def mean_spectrum(x: torch.Tensor) -> torch.Tensor:
    """The average log |DCT| of a set of images (H, W): plot real against fake to see where they differ."""
    x = check_images(x)
    return log_spectrum(x).mean(0).reshape(x.shape[2], x.shape[3])


# ------------------------------------------------------------------ the two detectors

class CNNDetector(nn.Module):
    """conv3x3(16) -> ReLU -> conv3x3 stride 2 (32) -> ReLU -> Linear: (B, 1, H, W) -> (B,) logit "fake"."""

    def __init__(self, image_size: int = 8, width: int = 16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),   # (B, 2w, H/2, W/2)
                                 nn.Flatten(), nn.Linear(2 * width * ((image_size + 1) // 2) ** 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(2 * x - 1).squeeze(1)                             # (B,)


class SpectralDetector(nn.Module):
    """Logistic regression on the standardised log |DCT| (mean and sd set from the training images)."""

    def __init__(self, image_size: int = 8):
        super().__init__()
        d = image_size * image_size
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("std", torch.ones(d))
        self.linear = nn.Linear(d, 1)

    def fit_scaler(self, x: torch.Tensor) -> None:
        f = log_spectrum(x)
        self.mean.copy_(f.mean(0))
        self.std.copy_(f.std(0).clamp_min(1e-3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear((log_spectrum(x) - self.mean) / self.std).squeeze(1)   # (B,)


def make_detector(kind: str, image_size: int = 8) -> nn.Module:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return CNNDetector(image_size) if kind == "cnn" else SpectralDetector(image_size)


def train_detector(real: torch.Tensor, fake: torch.Tensor, *, kind: str = "cnn", steps: int = 300, batch: int = 128,
                   lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0, detector: nn.Module | None = None,
                   freeze_scaler: bool = False) -> nn.Module:
    """Train a detector (logit > 0 means "fake") with binary cross-entropy on balanced batches: half real,
    half fake each step. detector: continue training this one (kind is then ignored); freeze_scaler keeps a
    spectral detector's standardisation (fitted once on its first data). Returns it in eval mode, on the CPU."""
    real, fake = check_images(real, "real"), check_images(fake, "fake")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real and fake images must have the same shape, got {tuple(real.shape[1:])} and "
                         f"{tuple(fake.shape[1:])}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    torch.manual_seed(seed)                                               # the initial weights
    det = make_detector(kind, real.shape[2]) if detector is None else detector
    if isinstance(det, SpectralDetector) and not freeze_scaler:
        det.fit_scaler(torch.cat([real, fake]))
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(det.parameters(), lr=lr, weight_decay=weight_decay)
    half = batch // 2
    target = torch.cat([torch.zeros(half), torch.ones(half)])             # 0 = real, 1 = fake
    det.train()
    for _ in range(steps):
        xb = torch.cat([real[torch.randint(len(real), (half,), generator=g)],
                        fake[torch.randint(len(fake), (half,), generator=g)]])  # (2 half, 1, H, W)
        loss = F.binary_cross_entropy_with_logits(det(xb), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return det.eval()


@torch.no_grad()
def fake_probability(detector: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The detector's probability that each image is fake: (N, 1, H, W) -> (N,)."""
    detector.eval()
    return torch.sigmoid(detector(check_images(x)))


@dataclass(frozen=True)
class Accuracy:
    """A detector's accuracy at threshold 0.5, on reals and on fakes separately, and their mean (balanced)."""
    real: float            # share of real images called real
    fake: float            # share of fake images called fake
    balanced: float        # (real + fake) / 2: 0.5 is chance, whatever the mix
    n_real: int
    n_fake: int
    real_ci: tuple         # 95% Wilson intervals
    fake_ci: tuple
    balanced_ci: tuple     # Wilson on all correct calls: an interval for `balanced` when n_real == n_fake


def evaluate(detector: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> Accuracy:
    """Accuracy of a detector on a set of real and a set of fake images (threshold 0.5 on the probability)."""
    k_real = int((fake_probability(detector, check_images(real, "real")) < 0.5).sum())
    k_fake = int((fake_probability(detector, check_images(fake, "fake")) >= 0.5).sum())
    n_real, n_fake = len(real), len(fake)
    return Accuracy(k_real / n_real, k_fake / n_fake, (k_real / n_real + k_fake / n_fake) / 2, n_real, n_fake,
                    wilson(k_real, n_real), wilson(k_fake, n_fake), wilson(k_real + k_fake, n_real + n_fake))


def cross_generator(detectors: dict, real: torch.Tensor, fakes: dict, *, field: str = "balanced"):
    """One Accuracy field (default the balanced accuracy; "balanced_ci" for its Wilson intervals) of each
    detector (rows: the generator it was trained on) on held-out reals plus each generator's held-out fakes
    (columns): a pandas DataFrame. The diagonal is the usual, flattering figure."""
    import pandas as pd
    if not detectors or not fakes:
        raise ValueError(f"need at least one detector and one set of fakes, got {len(detectors)} and {len(fakes)}")
    if field not in Accuracy.__dataclass_fields__:
        raise ValueError(f"field must be one of {list(Accuracy.__dataclass_fields__)}, got {field!r}")
    rows = {tr: {te: getattr(evaluate(det, real, x), field) for te, x in fakes.items()} for tr, det in detectors.items()}
    return pd.DataFrame(rows).T.rename_axis(index="trained on", columns="tested on")


# ------------------------------------------------------------------ the arms race with a GAN

def evade(gan, detector: nn.Module, real: torch.Tensor, *, steps: int = 200, weight: float = 1.0, batch: int = 64,
          lr: float = 2e-4, seed: int = 0) -> None:
    """Fine-tune a GAN in place against a frozen detector: its usual game (its own discriminator keeps
    learning) plus `weight` x -log(1 - p_fake) of the detector on the quantised fakes (straight-through)."""
    from course_lib.models.inputs import device_of
    real = check_images(real, "real")
    if batch % gan.D.pack:
        raise ValueError(f"batch must be a multiple of the discriminator's pack ({gan.D.pack}), got {batch}")
    detector.eval().requires_grad_(False)
    dev = device_of(gan)
    g = torch.Generator().manual_seed(seed)
    opt_g = torch.optim.Adam(gan.G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(gan.D.parameters(), lr=lr, betas=(0.5, 0.999))
    gan.train()
    for _ in range(steps):
        xr = real[torch.randint(len(real), (batch,), generator=g)].to(dev)     # (B, 1, 8, 8)
        z = gan.noise(batch, generator=g)                                     # (B, latent_dim)
        fake = gan.G(z)                                                        # (B, 1, 8, 8) in [0, 1]
        d_loss = discriminator_loss(gan.D(xr), gan.D(fake.detach()))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        evasion = F.softplus(detector(quantise(fake).cpu())).mean()           # -log(1 - p_fake)
        g_loss = generator_loss_nonsaturating(gan.D(fake)) + weight * evasion
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    gan.eval()
    detector.requires_grad_(True)


def arms_race(gan, real_train: torch.Tensor, real_test: torch.Tensor, *, rounds: int = 3, g_steps: int = 200,
              d_steps: int = 300, weight: float = 1.0, n: int = 1437, seed: int = 0) -> list[dict]:
    """Train a CNN detector on the GAN's fakes, then `rounds` times: fine-tune the GAN against it (`evade`),
    measure the old detector on the new fakes, retrain the detector on them (warm start), measure again.
    The GAN is changed in place. Rows per round: the detector's fake and balanced accuracy before and after
    retraining, the quality cost as the zoo reports it (fd_ratio: FD of the n training fakes to the held-out
    reals over FD of the real training digits to them) and the retrained detector's accuracy on round 0's
    fakes (does it still catch the old generator?)."""
    from course_lib import metrics
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"rounds must be an int >= 0, got {rounds!r}")
    m = len(real_test)
    fd_real = metrics.digit_frechet_distance(real_train, real_test)
    fd_ratio = lambda x: round(metrics.digit_frechet_distance(x, real_test) / fd_real, 3)
    fakes = lambda r: (sample_fakes("gan", n, seed=seed + 100 * r, model=gan),
                       sample_fakes("gan", m, seed=seed + 100 * r + 1, model=gan))
    tr0, te0 = fakes(0)
    det = train_detector(real_train, tr0, kind="cnn", steps=d_steps, seed=seed)
    acc = evaluate(det, real_test, te0)
    rows = [dict(round=0, fake_acc_before=None, balanced_before=None, fake_acc_after=round(acc.fake, 3),
                 balanced_after=round(acc.balanced, 3), fd_ratio=fd_ratio(tr0),
                 balanced_on_round0_fakes=round(acc.balanced, 3))]
    for r in range(1, rounds + 1):
        evade(gan, det, real_train, steps=g_steps, weight=weight, seed=seed + r)
        tr, te = fakes(r)
        before = evaluate(det, real_test, te)
        det = train_detector(real_train, tr, steps=d_steps, seed=seed + r, detector=det)
        after = evaluate(det, real_test, te)
        rows.append(dict(round=r, fake_acc_before=round(before.fake, 3), balanced_before=round(before.balanced, 3),
                         fake_acc_after=round(after.fake, 3), balanced_after=round(after.balanced, 3),
                         fd_ratio=fd_ratio(tr),
                         balanced_on_round0_fakes=round(evaluate(det, real_test, te0).balanced, 3)))
    return rows
