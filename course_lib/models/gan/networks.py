"""The generator, the discriminator (PacGAN packing, projection for labels, optional spectral norm) and
GAN, which holds both and samples."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from course_lib.models.inputs import (Configured, check_data_shape, check_labels, check_n, device_of, eval_mode,
                                     randint, randn)

LATENT_MODE_STD = 0.2  # spread of each centre of the mixture latent (latent_modes > 0), centres ~ N(0, 2^2 I)
ARCHS = ("mlp", "conv")


def _mlp(n_in: int, hidden: int, n_out: int, depth: int, act, batchnorm: bool = False) -> nn.Sequential:
    """`depth` hidden layers of width `hidden` with activation `act()` (after BatchNorm if asked), then a linear
    output layer."""
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), *([nn.BatchNorm1d(hidden)] if batchnorm else []), act()]
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, n_out))


class Generator(nn.Module):
    """z (B, latent_dim) [+ label] -> x (B, *data_shape). MLP for any shape; "conv" (DCGAN style) for images.

    Images come out through a sigmoid, in [0, 1] like course_lib's image data; 2-D points are unbounded.
    mapping > 0: StyleGAN's mapping network (Karras et al. 2019), `mapping` LeakyReLU layers turning z into an
    intermediate latent w that the synthesis network reads; a running mean of w (w_avg, decay 0.995 in
    training) is the centre that truncation pulls towards.
    """

    def __init__(self, data_shape, latent_dim: int = 8, hidden: int = 128, depth: int = 3, arch: str = "mlp",
                 num_classes: int = 0, data_scale: float = 1.0, batchnorm: bool = False, mapping: int = 0):
        super().__init__()
        self.mapping = _mlp(latent_dim, latent_dim, latent_dim, mapping - 1, lambda: nn.LeakyReLU(0.2)) \
            if mapping else None                                  # mapping layers in all: mapping - 1 hidden + 1
        self.register_buffer("w_avg", torch.zeros(latent_dim) if mapping else None)
        self.data_shape, self.latent_dim, self.arch = tuple(data_shape), latent_dim, arch
        self.data_scale = data_scale                              # points: the net works in units of data_scale
        self.images = len(self.data_shape) == 3
        self.label_emb = nn.Embedding(num_classes, latent_dim) if num_classes else None
        d_out = math.prod(self.data_shape)
        if arch == "mlp":
            self.net = _mlp(latent_dim, hidden, d_out, depth, nn.ReLU, batchnorm)
        else:  # DCGAN: project to (C, s/4, s/4), then two stride-2 transposed convolutions double the size twice
            c, size = self.data_shape[0], self.data_shape[-1]
            self.s0 = size // 4                                   # 8 -> 2, 28 -> 7
            self.net = nn.Sequential(
                nn.Linear(latent_dim, hidden * self.s0 * self.s0), nn.ReLU(),
                nn.Unflatten(1, (hidden, self.s0, self.s0)),                              # (B, h, s/4, s/4)
                nn.ConvTranspose2d(hidden, hidden // 2, 4, 2, 1), nn.BatchNorm2d(hidden // 2), nn.ReLU(),
                nn.ConvTranspose2d(hidden // 2, c, 4, 2, 1))                              # (B, c, s, s)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, truncation: float = 1.0) -> torch.Tensor:
        """Truncation psi < 1 trades variety for typical samples: w_avg + psi (w - w_avg) with a mapping
        network, psi z (towards the prior's mean) without."""
        if self.mapping is None and truncation != 1.0:
            z = truncation * z
        if self.label_emb is not None:
            if labels is None:
                raise ValueError("this generator is conditional: pass labels (B,) int64")
            z = z + self.label_emb(labels)                        # (B, latent) the label shifts the noise
        if self.mapping is not None:
            z = self.mapping(z)                                   # (B, latent) w
            if self.training:
                with torch.no_grad():
                    self.w_avg.lerp_(z.mean(dim=0), 0.005)
            if truncation != 1.0:
                z = self.w_avg + truncation * (z - self.w_avg)
        x = self.net(z).reshape(z.shape[0], *self.data_shape)     # (B, *data_shape)
        return torch.sigmoid(x) if self.images else x * self.data_scale


class Discriminator(nn.Module):
    """x (B, *data_shape) [+ label] -> one logit per example (B,) (per pack of `pack` examples with PacGAN).

    Conditional: a projection discriminator (Miyato & Koyama 2018), logit = psi(h) + <embed(y), h>,
    so a sample is judged real only if it looks real *and* matches its label.
    """

    def __init__(self, data_shape, hidden: int = 128, depth: int = 3, arch: str = "mlp", num_classes: int = 0,
                 pack: int = 1, data_scale: float = 1.0, spectral_norm: bool = False):
        super().__init__()
        self.data_shape, self.pack, self.data_scale = tuple(data_shape), pack, data_scale
        d_in = math.prod(self.data_shape) * pack
        if arch == "mlp":  # LeakyReLU keeps a gradient for the generator everywhere
            self.features = nn.Sequential(nn.Flatten(), *_mlp(d_in, hidden, hidden, depth - 1, lambda: nn.LeakyReLU(0.2)),
                                          nn.LeakyReLU(0.2))
        else:
            c, size = self.data_shape[0], self.data_shape[-1]
            s = size // 4
            self.features = nn.Sequential(                                                 # (B, c*pack, s, s)
                nn.Conv2d(c * pack, hidden // 2, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(hidden // 2, hidden, 4, 2, 1), nn.LeakyReLU(0.2),                # (B, h, s/4, s/4)
                nn.Flatten(), nn.Linear(hidden * s * s, hidden), nn.LeakyReLU(0.2))        # (B, h)
        self.out = nn.Linear(hidden, 1)
        self.label_emb = nn.Embedding(num_classes, hidden) if num_classes else None
        if spectral_norm:  # Miyato et al. 2018: each weight W used as W / sigma_max(W), so every layer is 1-Lipschitz
            for m in [*self.features, self.out]:
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        b = x.shape[0]
        if len(self.data_shape) == 1:
            x = x / self.data_scale                                              # points in units of data_scale
        if b % self.pack:
            raise ValueError(f"batch size must be a multiple of pack={self.pack}, got {b}")
        if self.pack > 1:  # PacGAN: pack consecutive examples side by side (along features / channels)
            x = x.reshape(b // self.pack, self.pack * x.shape[1], *x.shape[2:])  # (B/pack, pack*C, ...)
        h = self.features(x)                                                     # (B/pack, h)
        logit = self.out(h).squeeze(1)                                           # (B/pack,)
        if self.label_emb is not None:
            if labels is None:
                raise ValueError("this discriminator is conditional: pass labels (B,) int64")
            if self.pack > 1:
                raise ValueError("conditional discriminators do not support pack > 1")
            logit = logit + (self.label_emb(labels) * h).sum(dim=1)
        return logit


class GAN(Configured, nn.Module):
    """Generator + discriminator in one module (one checkpoint); `sample(n)` draws from the generator.

    d_hidden: D's width (default: hidden). pack: PacGAN. data_scale: 2-D points live in units of it inside G
    and D. spectral_norm: every D weight W used as W / sigma_max(W). g_batchnorm: BatchNorm in the MLP G.
    latent_modes: K > 0 draws z from p(z) = (1/K) sum_k N(z; mu_k, 0.2^2 I) with fixed centres
    mu_k ~ N(0, 2^2 I) (DeLiGAN learns them; fixed ones do here); 0 = the usual z ~ N(0, I).
    mapping: layers of StyleGAN's mapping network z -> w in G (0: none); sample(..., truncation=psi).
    """

    def __init__(self, data_shape=(2,), latent_dim: int = 8, hidden: int = 128, depth: int = 3, arch: str = "mlp",
                 num_classes: int = 0, pack: int = 1, d_hidden: int | None = None, data_scale: float = 1.0,
                 spectral_norm: bool = False, g_batchnorm: bool = False,
                 latent_modes: int = 0, mapping: int = 0):
        super().__init__()
        data_shape = check_data_shape(data_shape, arch, ARCHS, conv=("conv", 4))   # two stride-2 layers
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        if not data_scale > 0 or (data_scale != 1.0 and len(data_shape) == 3):
            raise ValueError(f"data_scale must be > 0, and 1 for images (they live in [0, 1]), got {data_scale}")
        self.data_shape, self.latent_dim, self.num_classes = data_shape, latent_dim, num_classes
        if latent_modes < 0:
            raise ValueError(f"latent_modes must be >= 0 (0 = one Gaussian), got {latent_modes}")
        self.latent_modes = latent_modes
        if isinstance(mapping, bool) or not isinstance(mapping, int) or mapping < 0:
            raise ValueError(f"mapping must be an int >= 0 (layers of the mapping network, 0 = none), got {mapping!r}")
        self.config = dict(data_shape=list(data_shape), latent_dim=latent_dim, hidden=hidden, depth=depth, arch=arch,
                           num_classes=num_classes, pack=pack, d_hidden=d_hidden, data_scale=data_scale,
                           spectral_norm=spectral_norm, g_batchnorm=g_batchnorm, latent_modes=latent_modes)
        if mapping:                                          # only then, so older checkpoints' configs still match
            self.config["mapping"] = mapping
        # mixture latent: K fixed centres mu_k ~ N(0, 2^2 I) (seeded with torch's RNG; saved in checkpoints)
        self.register_buffer("latent_means", torch.randn(latent_modes, latent_dim) * 2.0 if latent_modes else None)
        self.G = Generator(data_shape, latent_dim, hidden, depth, arch, num_classes, data_scale, g_batchnorm, mapping)
        self.D = Discriminator(data_shape, d_hidden or hidden, depth, arch, num_classes, pack, data_scale, spectral_norm)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), or mu_k + 0.2 eps with k uniform over the K centres: (n, latent_dim)."""
        z = randn((n, self.latent_dim), generator=generator, device=device_of(self))
        if self.latent_means is None:
            return z                                                            # (n, latent_dim)
        k = randint(0, self.latent_modes, (n,), generator=generator, device=z.device)  # (n,) a centre each
        return self.latent_means[k] + LATENT_MODE_STD * z                       # (n, latent_dim)

    @eval_mode
    def sample(self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
               z: torch.Tensor | None = None, truncation: float = 1.0) -> torch.Tensor:
        """n samples (n, *data_shape); labels (n,) for a conditional GAN (default: 0, 1, 2, ... in turn).
        truncation psi in (0, 1]: the truncation trick (see Generator). In eval mode, so a BatchNorm
        generator uses its running statistics. A GAN has no likelihood."""
        check_n(n)
        if not 0 < truncation <= 1:
            raise ValueError(f"truncation must be in (0, 1], got {truncation!r}")
        if truncation != 1.0 and self.latent_modes and self.G.mapping is None:
            raise ValueError("truncation pulls z towards the prior's mean, which a mixture latent (latent_modes > 0) "
                             "does not have: use mapping > 0 or latent_modes=0")
        z = self.noise(n, generator) if z is None else z.to(device_of(self))
        if self.num_classes and labels is None:
            labels = torch.arange(n, device=z.device) % self.num_classes
        labels = check_labels(labels, n, self.num_classes, "GAN")
        return self.G(z, None if labels is None else labels.to(z.device), truncation)


build = GAN.from_config   # the name checkpoints and scripts written before the protocol use
