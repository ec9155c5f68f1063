"""Generative adversarial networks (Goodfellow et al. 2014): a generator against a discriminator.

The generator G maps noise z ~ N(0, I) to a sample x = G(z); the discriminator D(x) outputs a logit
saying "real" (high) or "fake" (low). They play a two-player game:

    min_G max_D  E_data[log sigmoid(D(x))] + E_z[log(1 - sigmoid(D(G(z))))]

Losses here all take the discriminator's *logits* (numerically safe via softplus):
  - discriminator_loss:           -E[log s(D(x))] - E[log(1 - s(D(G(z))))]  (binary cross-entropy)
  - generator_loss_minimax:        E[log(1 - s(D(G(z))))]   saturates: no gradient when D wins early
  - generator_loss_nonsaturating: -E[log s(D(G(z)))]         same fixed point, strong gradient early
  - critic_loss / generator_loss_wgan + gradient_penalty: WGAN-GP (Gulrajani et al. 2017), where D is a
    "critic" estimating the Wasserstein-1 distance and the penalty keeps it (about) 1-Lipschitz.

Diversity fix: PacGAN (Lin et al. 2018) lets D judge `pack` samples at once, concatenated, so a
generator that repeats itself is easy to spot.

Other fixes, all off by default in the classes (on in recipes.gan.DEFAULTS where they won, benchmarks/gan.py):
  - latent_modes=K: z from a mixture of K Gaussians instead of one (DeLiGAN, Gurumurthy et al. 2017).
    A continuous G maps one connected blob of z onto a connected set, so between two data modes it must
    leave a "bridge" of bad samples; K well-separated blobs can go to separate modes with nothing between.
  - g_batchnorm, data_scale (2-D points divided by it inside both networks, as in the diffusion module).
  - r1_penalty (Mescheder et al. 2018), spectral_norm of D (Miyato et al. 2018), translate (DiffAugment,
    Zhao et al. 2020) and an EMA of G's weights: options of GANTrainer / GAN.

    model = GAN(data_shape=(2,), latent_dim=8, hidden=128, pack=4)    # 2-D toy data
    trainer = GANTrainer(model, loss="nonsaturating")                  # owns both Adam optimizers
    history = fit(model, None, batches, step_fn=trainer, seconds=30)   # course_lib.train.fit
    x = model.sample(1000)                                             # (1000, 2)
    cgan = GAN(data_shape=(1, 8, 8), arch="conv", num_classes=10)      # images, conditional on the digit
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.inputs import check_batch, check_labels
from course_lib.train import EMA, CosineSchedule

LOSSES = ("minimax", "nonsaturating", "wgan-gp")
LATENT_MODE_STD = 0.2  # spread of each centre of the mixture latent (latent_modes > 0), centres ~ N(0, 2^2 I)
ARCHS = ("mlp", "conv")


# ---------------------------------------------------------------------- losses (on logits)

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy: real labelled 1, fake labelled 0. -log s(r) = softplus(-r); -log(1-s(f)) = softplus(f)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original game's generator term, minimised: E[log(1 - s(D(G(z))))] = -E[softplus(f)].
    Its gradient s(f) vanishes when D confidently rejects the fakes (f << 0), i.e. early in training."""
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log s(D(G(z)))] = E[softplus(-f)]: gradient 1 - s(f) is largest exactly when the fakes are rejected."""
    return F.softplus(-fake_logits).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN critic: maximise E[D(real)] - E[D(fake)], i.e. minimise its negative (add the gradient penalty)."""
    return fake_scores.mean() - real_scores.mean()


def generator_loss_wgan(fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN generator: raise the critic's score of the fakes."""
    return -fake_scores.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None = None,
                     eps: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = eps * real + (1 - eps) * fake, eps ~ U(0, 1) per example.

    critic: callable x -> (B,) scores (or (x, labels) -> scores when labels are given).
    real, fake: (B, ...) same shape. eps: optional (B,) fixed interpolation weights (for tests).
    Known case: a linear critic D(x) = w.x has gradient w everywhere, so the penalty is (||w|| - 1)^2.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    b = real.shape[0]
    if eps is None:
        eps = torch.rand(b, generator=generator, device=real.device, dtype=real.dtype)
    eps = eps.reshape(b, *([1] * (real.dim() - 1)))                     # (B, 1, ...) broadcast over features
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat) if labels is None else critic(x_hat, labels)  # (B,)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, ...) d score_i / d x_hat_i
    norms = grad.reshape(b, -1).norm(dim=1)                              # (B,)
    return ((norms - 1) ** 2).mean()


def r1_penalty(discriminator, real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E_data[||grad_x D(x)||^2], the squared gradient norm on *real* data only.

    Added to D's loss as (gamma / 2) * R1. At the equilibrium (G = data) the ideal D is flat, so its gradient
    on real points should be zero; penalising it stops D from building steep walls around each real mode,
    which is what makes plain GAN training oscillate instead of converge.
    discriminator: callable x -> (B,) logits (or (x, labels) -> logits). real: (B, ...).
    Known case: a linear D(x) = w.x has gradient w everywhere, so R1 = ||w||^2.
    """
    x = real.detach().requires_grad_(True)                               # (B, ...)
    logits = discriminator(x) if labels is None else discriminator(x, labels)  # (B,) or (B/pack,)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)    # (B, ...) d logit / d x
    return grad.reshape(grad.shape[0], -1).pow(2).sum(dim=1).mean()


def translate(x: torch.Tensor, shift: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """DiffAugment-style translation (Zhao et al. 2020): move each image by a random (dy, dx) in
    [-shift, shift]^2 pixels, filling with zeros. Differentiable (a gather), so it can be applied to the
    generator's fakes as well as the real images; D then never sees the 1,437 digits at one fixed position.
    x: (B, C, H, W) -> (B, C, H, W).
    """
    if x.dim() != 4:
        raise ValueError(f"translate needs images (B, C, H, W), got shape {tuple(x.shape)}")
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))                      # (B, C, H+2s, W+2s)
    off = torch.randint(0, 2 * shift + 1, (2, b), generator=generator).to(x.device)  # (2, B) crop corners
    rows = (off[0][:, None] + torch.arange(h, device=x.device))[:, None, :, None]   # (B, 1, H, 1)
    cols = (off[1][:, None] + torch.arange(w, device=x.device))[:, None, None, :]   # (B, 1, 1, W)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[bi, ci, rows, cols]                                    # (B, C, H, W)


# ---------------------------------------------------------------------- networks

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
    """

    def __init__(self, data_shape, latent_dim: int = 8, hidden: int = 128, depth: int = 3, arch: str = "mlp",
                 num_classes: int = 0, data_scale: float = 1.0, batchnorm: bool = False):
        super().__init__()
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

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.label_emb is not None:
            if labels is None:
                raise ValueError("this generator is conditional: pass labels (B,) int64")
            z = z + self.label_emb(labels)                        # (B, latent) the label shifts the noise
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


class GAN(nn.Module):
    """Generator + discriminator in one module (one checkpoint); `sample(n)` draws from the generator.

    d_hidden: D's width (default: hidden). pack: PacGAN. data_scale: 2-D points live in units of it inside G
    and D. spectral_norm: every D weight W used as W / sigma_max(W). g_batchnorm: BatchNorm in the MLP G.
    latent_modes: K > 0 draws z from p(z) = (1/K) sum_k N(z; mu_k, 0.2^2 I) with fixed centres
    mu_k ~ N(0, 2^2 I) (DeLiGAN learns them; fixed ones do here); 0 = the usual z ~ N(0, I).
    """

    def __init__(self, data_shape=(2,), latent_dim: int = 8, hidden: int = 128, depth: int = 3, arch: str = "mlp",
                 num_classes: int = 0, pack: int = 1, d_hidden: int | None = None, data_scale: float = 1.0,
                 spectral_norm: bool = False, g_batchnorm: bool = False,
                 latent_modes: int = 0):
        super().__init__()
        data_shape = tuple(int(s) for s in data_shape)
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        if len(data_shape) not in (1, 3):
            raise ValueError(f"data_shape must be (D,) for points or (C, H, W) for images, got {data_shape}")
        if arch == "conv" and (len(data_shape) != 3 or data_shape[-1] % 4 or data_shape[-1] != data_shape[-2]):
            raise ValueError(f"arch='conv' needs square images with a side divisible by 4, got {data_shape}")
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        if not data_scale > 0 or (data_scale != 1.0 and len(data_shape) == 3):
            raise ValueError(f"data_scale must be > 0, and 1 for images (they live in [0, 1]), got {data_scale}")
        self.data_shape, self.latent_dim, self.num_classes = data_shape, latent_dim, num_classes
        if latent_modes < 0:
            raise ValueError(f"latent_modes must be >= 0 (0 = one Gaussian), got {latent_modes}")
        self.latent_modes = latent_modes
        # mixture latent: K fixed centres mu_k ~ N(0, 2^2 I) (seeded with torch's RNG; saved in checkpoints)
        self.register_buffer("latent_means", torch.randn(latent_modes, latent_dim) * 2.0 if latent_modes else None)
        self.G = Generator(data_shape, latent_dim, hidden, depth, arch, num_classes, data_scale, g_batchnorm)
        self.D = Discriminator(data_shape, d_hidden or hidden, depth, arch, num_classes, pack, data_scale, spectral_norm)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), or mu_k + 0.2 eps with k uniform over the K centres: (n, latent_dim)."""
        z = torch.randn(n, self.latent_dim, generator=generator, device=self.G.net[0].weight.device)
        if self.latent_means is None:
            return z                                                            # (n, latent_dim)
        k = torch.randint(0, self.latent_modes, (n,), generator=generator).to(z.device)  # (n,) a centre each
        return self.latent_means[k] + LATENT_MODE_STD * z                       # (n, latent_dim)

    @torch.no_grad()
    def sample(self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
               z: torch.Tensor | None = None) -> torch.Tensor:
        """n samples (n, *data_shape); labels (n,) for a conditional GAN (default: 0, 1, 2, ... in turn)."""
        was = self.G.training
        self.G.eval()                                           # BatchNorm uses its running statistics
        z = self.noise(n, generator) if z is None else z
        if self.num_classes and labels is None:
            labels = torch.arange(n, device=z.device) % self.num_classes
        x = self.G(z, check_labels(labels, n, self.num_classes, "GAN"))
        self.G.train(was)
        return x


def build(config: dict) -> GAN:
    """Rebuild a GAN from its saved config (for checkpoints.load)."""
    return GAN(**config)


# ---------------------------------------------------------------------- one training step

class GANTrainer:
    """One call = one training step on one batch; pass it to course_lib.train.fit as step_fn.

    loss: "minimax" | "nonsaturating" | "wgan-gp". The discriminator is updated first (n_critic times on
    the same real batch with fresh fakes), then the generator once. Returns the losses as floats.
    batch: x (B, *data_shape), or (x, labels) for a conditional GAN.
    lr / d_lr: generator / discriminator learning rates (Adam, betas (0.5, 0.999); (0, 0.9) for WGAN-GP).
    decay_steps / decay_seconds: optional budget for a cosine learning-rate decay (pass fit's budget).
    r1: gamma of the R1 penalty, D's loss + (gamma / 2) E_data[||grad_x D(x)||^2] (0 = off).
    augment: translate real and fake images by up to this many pixels before D sees them (0 = off).
    ema: decay of an exponential moving average of G's weights, loaded by apply_ema() (0 = off).
    """

    def __init__(self, model: GAN, loss: str = "nonsaturating", lr: float = 2e-4, d_lr: float | None = None,
                 betas=(0.5, 0.999), n_critic: int = 1, gp_weight: float = 10.0,
                 generator: torch.Generator | None = None, decay_steps: int | None = None,
                 decay_seconds: float | None = None, r1: float = 0.0, augment: int = 0, ema: float = 0.0):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if r1 < 0:
            raise ValueError(f"r1 (the weight gamma of the R1 penalty) must be >= 0, got {r1}")
        if augment and len(model.data_shape) != 3:
            raise ValueError("augment (random translation) is for images; 2-D points have no pixels to move")
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0 = off), got {ema}")
        self.model, self.loss, self.n_critic, self.gp_weight, self.gen = model, loss, n_critic, gp_weight, generator
        self.r1, self.augment = r1, int(augment)
        # EMA of G's weights (Karras et al. 2018; Yazici et al. 2019): averages out G's oscillation around the
        # equilibrium. Kept here; apply_ema() copies it into the model at the end of training.
        self.ema_g = EMA(model.G, ema) if ema else None
        if loss == "wgan-gp":
            betas = (0.0, 0.9)  # WGAN-GP paper: no momentum in the first moment
        self.opt_g = torch.optim.Adam(model.G.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(model.D.parameters(), lr=d_lr or lr, betas=betas)
        # Cosine decay to 5% over fit's budget: the small late steps settle samples precisely onto the modes.
        self.schedule = (CosineSchedule([self.opt_g, self.opt_d], [lr, d_lr or lr], steps=decay_steps,
                                        seconds=decay_seconds)
                         if decay_steps is not None or decay_seconds is not None else None)

    def _split(self, batch):
        if isinstance(batch, (tuple, list)):
            x, y = batch
        else:
            x, y = batch, None
        check_batch(x, self.model.data_shape, "batch")
        if self.model.num_classes and y is None:
            raise ValueError("a conditional GAN needs batches (x, labels)")
        y = check_labels(y if self.model.num_classes else None, len(x), self.model.num_classes, "GAN")
        return x, y

    def __call__(self, batch) -> dict:
        G, D = self.model.G, self.model.D
        x, y = self._split(batch)
        b = x.shape[0]
        aug = (lambda t: translate(t, self.augment, self.gen)) if self.augment else (lambda t: t)
        for _ in range(self.n_critic):                           # --- discriminator / critic
            with torch.no_grad():
                fake = G(self.model.noise(b, self.gen), y)       # (B, *data_shape), no gradient into G
            real_in, fake_in = aug(x), aug(fake)
            real_out, fake_out = D(real_in, y), D(fake_in, y)
            if self.loss == "wgan-gp":
                gp = gradient_penalty(D, real_in, fake_in, labels=y, generator=self.gen)
                d_loss = critic_loss(real_out, fake_out) + self.gp_weight * gp
            else:
                d_loss = discriminator_loss(real_out, fake_out)
            if self.r1:
                r1 = r1_penalty(D, real_in, labels=y)
                d_loss = d_loss + 0.5 * self.r1 * r1
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        fake_out = D(aug(G(self.model.noise(b, self.gen), y)), y)  # --- generator; D's grads are discarded
        g_loss = {"minimax": generator_loss_minimax, "nonsaturating": generator_loss_nonsaturating,
                  "wgan-gp": generator_loss_wgan}[self.loss](fake_out)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.ema_g is not None:
            self.ema_g.update(self.model.G)
        if self.schedule is not None:
            self.schedule.step()                                 # the rates of the next step
        out = {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
        if self.loss == "wgan-gp":
            out["gp"] = gp.item()
        if self.r1:
            out["r1"] = r1.item()
        return out

    def apply_ema(self) -> None:
        """Load the averaged generator weights into model.G (call once, after training); no-op without ema."""
        if self.ema_g is not None:
            self.ema_g.copy_to(self.model.G)
