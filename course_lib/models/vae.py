"""Variational autoencoder (Kingma & Welling 2014) and its conditional variant, as MLPs on small images.

A VAE is a latent-variable model p(x) = ∫ p(x|z) p(z) dz with a standard-normal prior p(z) and a neural
decoder p(x|z). The integral is intractable, so an encoder q(z|x) = N(mu(x), diag sigma²(x)) is trained
with the decoder to maximise the evidence lower bound (ELBO):

    log p(x) >= ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))

The expectation is estimated with one reparameterised sample z = mu + sigma * eps, eps ~ N(0, I), so
gradients flow into mu and sigma; the KL of two Gaussians has a closed form. `nll(x, k=...)` gives the
tighter importance-weighted bound (Burda et al. 2016) used to report a test NLL, in nats per image.

Decoder likelihood, picked to match the data (the pixels are discrete, so the NLL is a real probability):
  - "categorical": each pixel is one of `levels` grey values (17 for sklearn's 8x8 digits, values 0..16),
    the decoder outputs `levels` logits per pixel (as in Tomczak's intro_dgm).
  - "bernoulli": each pixel is black/white; images are binarised at 0.5 (used for 28x28 MNIST, where 256
    categories per pixel would make the output layer huge). Its NLL is for the *binarised* images.

    model = VAE(image_size=8, levels=17)                 # categorical likelihood over 17 grey levels
    loss = model.loss(x)                                 # mean negative ELBO per image, nats
    x_new = model.sample(64)                             # (64, 1, 8, 8) expected pixel values in [0, 1]
    nats = model.nll(x, k=100)                           # (B,) importance-weighted NLL bound, nats per image
    cvae = ConditionalVAE(image_size=8, levels=17)       # same, but encoder and decoder also see the label
    sevens = cvae.sample(16, labels=torch.full((16,), 7))
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.inputs import (Configured, check_batch, check_labels, check_n, device_of, eval_mode, multinomial,
                                     rand, randn)
from course_lib.models.latent_mixture import LatentMixture  # noqa: F401  (the VAE's ex-post prior, notebook 03)

LIKELIHOODS = ("categorical", "bernoulli")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per example, summed over latent dims: (B, D) -> (B,).

    Closed form per dimension: 0.5 * (mu² + sigma² - 1 - log sigma²). Zero exactly when mu = 0, sigma = 1.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample of q(z|x) that gradients can flow through."""
    eps = randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def _mlp(n_in: int, hidden: int, n_out: int, depth: int, dropout: float = 0.0) -> nn.Sequential:
    """`depth` hidden layers of width `hidden` with GELU (+ dropout, against overfitting small data),
    then a linear output layer."""
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.GELU()] + ([nn.Dropout(dropout)] if dropout else [])
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, n_out))


class VAE(Configured, nn.Module):
    """MLP encoder q(z|x), MLP decoder p(x|z), standard-normal prior p(z). num_classes > 0 conditions on labels."""

    def __init__(self, image_size: int = 8, levels: int = 17, latent_dim: int = 16, hidden: int = 256,
                 depth: int = 2, likelihood: str = "categorical", num_classes: int = 0, dropout: float = 0.0):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if likelihood == "categorical" and not 2 <= levels <= 64:
            raise ValueError(f"a categorical likelihood needs 2..64 grey levels, got levels={levels} "
                             f"(for 256-level MNIST use likelihood='bernoulli')")
        self.config = dict(image_size=image_size, levels=levels, latent_dim=latent_dim, hidden=hidden,
                           depth=depth, likelihood=likelihood, num_classes=num_classes, dropout=dropout)
        self.image_size, self.levels, self.latent_dim = image_size, levels, latent_dim
        self.likelihood, self.num_classes = likelihood, num_classes
        P = image_size * image_size                                 # pixels per image
        self.out_per_pixel = levels if likelihood == "categorical" else 1
        self.encoder = _mlp(P + num_classes, hidden, 2 * latent_dim, depth, dropout)               # -> (mu, logvar)
        self.decoder = _mlp(latent_dim + num_classes, hidden, P * self.out_per_pixel, depth, dropout)

    @classmethod
    def from_config(cls, config: dict) -> "VAE":
        """VAE.from_config builds a ConditionalVAE when the config has num_classes > 0 (as checkpoints store)."""
        target = ConditionalVAE if cls is VAE and config.get("num_classes", 0) > 0 else cls
        return super(VAE, target).from_config(config)

    # ------------------------------------------------------------------ checks and conversions
    def _check_x(self, x) -> torch.Tensor:
        return check_batch(x, (1, self.image_size, self.image_size), "images")

    def _onehot(self, labels, n: int) -> torch.Tensor | None:
        """Labels (n,) int64 -> one-hot (n, num_classes); None for an unconditional model."""
        labels = check_labels(labels, n, self.num_classes, "VAE")
        return None if labels is None else F.one_hot(labels, self.num_classes).float()

    def _cat(self, a: torch.Tensor, onehot) -> torch.Tensor:
        return a if onehot is None else torch.cat([a, onehot.to(a.device)], dim=-1)

    def targets(self, x: torch.Tensor) -> torch.Tensor:
        """What the likelihood scores: integer grey levels (categorical) or 0/1 pixels (bernoulli)."""
        if self.likelihood == "categorical":
            return torch.round(x * (self.levels - 1)).long().clamp(0, self.levels - 1)   # (B, 1, S, S)
        return (x >= 0.5).float()                                                         # (B, 1, S, S)

    # ------------------------------------------------------------------ the model
    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 1, S, S) -> mu (B, D), logvar (B, D) of q(z|x[, labels])."""
        x = self._check_x(x)
        h = self._cat(x.flatten(1), self._onehot(labels, x.shape[0]))             # (B, P [+ C])
        mu, logvar = self.encoder(h).chunk(2, dim=-1)                              # (B, D), (B, D)
        return mu, logvar.clamp(-12.0, 8.0)                                        # keep exp() finite

    @eval_mode
    def codes(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior means mu(x) (B, D), in eval mode: where the encoder puts each image."""
        return self.encode(x, labels)[0]

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, D) -> logits: (B, levels, S, S) for categorical, (B, 1, S, S) for bernoulli."""
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.latent_dim:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {got}")
        S = self.image_size
        out = self.decoder(self._cat(z, self._onehot(labels, z.shape[0])))        # (B, P * out_per_pixel)
        return out.view(-1, self.out_per_pixel, S, S)          # pixel-major layout: (B, K, S, S)

    def log_likelihood(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """log p(x|z) in nats per image, summed over pixels: (B,). logits from decode() (may be (k*B, ...))."""
        t = self.targets(x)
        if self.likelihood == "categorical":
            nll = F.cross_entropy(logits, t.squeeze(1), reduction="none")          # (B, S, S)
        else:
            nll = F.binary_cross_entropy_with_logits(logits, t, reduction="none")  # (B, 1, S, S)
        return -nll.flatten(1).sum(dim=1)                                          # (B,)

    def mean_image(self, logits: torch.Tensor) -> torch.Tensor:
        """Expected pixel value in [0, 1] under the decoder: (B, K, S, S) logits -> (B, 1, S, S)."""
        if self.likelihood == "categorical":
            grey = torch.linspace(0, 1, self.levels, device=logits.device).view(1, -1, 1, 1)
            return (logits.softmax(dim=1) * grey).sum(dim=1, keepdim=True)
        return torch.sigmoid(logits)

    def elbo_terms(self, x: torch.Tensor, labels: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction log-likelihood (B,), KL (B,)) with one reparameterised sample, in nats."""
        mu, logvar = self.encode(x, labels)
        z = reparameterize(mu, logvar, generator)                                  # (B, D)
        return self.log_likelihood(x, self.decode(z, labels)), gaussian_kl(mu, logvar)

    def elbo(self, x: torch.Tensor, labels: torch.Tensor | None = None, beta: float = 1.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """ELBO per image in nats (B,) = E_q[log p(x|z)] - beta * KL; beta = 1 is the true bound."""
        rec, kl = self.elbo_terms(x, labels, generator)
        return rec - beta * kl

    def loss(self, x: torch.Tensor, labels: torch.Tensor | None = None, beta: float = 1.0, k: int = 1) -> torch.Tensor:
        """Training loss, a scalar in nats per image.

        k = 1: the negative beta-ELBO, -(E_q[log p(x|z)] - beta * KL).
        k > 1: the negative IWAE bound with k samples, plus (beta - 1) * KL, so beta weighs the KL the
        same way for every k: loss(beta=b) - loss(beta=1) = (b - 1) * KL(q(z|x) || p(z)) at the same draw.
        """
        if k == 1:
            return -self.elbo(x, labels, beta).mean()
        logw, kl = self._log_iw_weights(x, labels, k, with_kl=True)               # (k, B), (B,)
        iwae = logw.logsumexp(0) - math.log(k)                                     # (B,)
        return (-iwae + (beta - 1.0) * kl).mean()

    def _log_iw_weights(self, x, labels, k: int, generator=None, with_kl: bool = False):
        """log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x) for k samples z_i ~ q: (k, B).
        with_kl: also the closed-form KL(q(z|x) || p(z)) (B,) from the same encoder pass."""
        mu, logvar = self.encode(x, labels)                                        # (B, D)
        B, D = mu.shape
        eps = randn((k, B, D), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps                                     # (k, B, D)
        labels_k = None if labels is None else labels.repeat(k)                    # (k*B,)
        logits = self.decode(z.reshape(k * B, D), labels_k)                        # (k*B, K, S, S)
        log_px = self.log_likelihood(x.repeat(k, 1, 1, 1), logits).view(k, B)      # (k, B)
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)                 # (k, B)
        log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)      # (k, B)
        logw = log_px + log_pz - log_qz
        return (logw, gaussian_kl(mu, logvar)) if with_kl else logw

    @eval_mode
    def nll(self, x: torch.Tensor, *, labels: torch.Tensor | None = None, k: int = 100,
            generator: torch.Generator | None = None, chunk: int = 64) -> torch.Tensor:
        """Negative log-likelihood in nats per image (B,), the importance-weighted bound with k samples:
        -log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x). It is an upper bound on -log p(x) that falls
        towards it as k grows (k = 1: the negative ELBO). Images go through in chunks so memory stays flat
        for large k. Bits per dimension: course_lib.metrics.bits_per_dim(nll, S * S)."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int (number of importance samples), got {k!r}")
        x = self._check_x(x)
        self._onehot(labels, x.shape[0])                                           # validate labels once
        out = []
        for i in range(0, x.shape[0], chunk):
            li = None if labels is None else labels[i:i + chunk]
            logw = self._log_iw_weights(x[i:i + chunk], li, k, generator)          # (k, b)
            out.append(-(logw.logsumexp(0) - math.log(k)))
        return torch.cat(out)                                                      # (B,)

    @eval_mode
    def sample(self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
               pixels: str = "mean", temperature: float = 1.0, z: torch.Tensor | None = None) -> torch.Tensor:
        """n new images (n, 1, S, S) in [0, 1]: z ~ N(0, temperature² I), then decode.

        z: decode these codes (n, D) instead, e.g. from LatentMixture.sample (better samples, same decoder).

        pixels="mean": the decoder's expected pixel values (smooth, what papers show);
        pixels="mode": each pixel's most likely value (crisper: no averaging over grey levels);
        pixels="sample": draw every pixel from p(x|z) (the model's real samples, grainier).
        """
        check_n(n)
        if pixels not in ("mean", "mode", "sample"):
            raise ValueError(f"pixels must be 'mean', 'mode' or 'sample', got {pixels!r}")
        device = device_of(self)
        if z is None:
            z = temperature * randn((n, self.latent_dim), generator=generator, device=device)
        elif tuple(z.shape) != (n, self.latent_dim):
            raise ValueError(f"z must have shape ({n}, {self.latent_dim}), got {tuple(z.shape)}")
        logits = self.decode(z.to(device), labels)                                 # (n, K, S, S)
        if pixels == "mean":
            return self.mean_image(logits)
        if pixels == "mode":
            if self.likelihood == "categorical":
                return logits.argmax(dim=1, keepdim=True).float() / (self.levels - 1)   # (n, 1, S, S)
            return (logits > 0).float()
        if self.likelihood == "categorical":
            probs = logits.permute(0, 2, 3, 1).reshape(-1, self.levels).softmax(-1)    # (n*S*S, levels)
            idx = multinomial(probs, 1, generator=generator).view(n, 1, self.image_size, self.image_size)
            return idx.float() / (self.levels - 1)
        return (rand(logits.shape, generator=generator, device=device) < torch.sigmoid(logits)).float()


class ConditionalVAE(VAE):
    """A VAE whose encoder and decoder also see the one-hot label: sample(n, labels=...) draws that digit."""

    def __init__(self, image_size: int = 8, levels: int = 17, latent_dim: int = 16, hidden: int = 256,
                 depth: int = 2, likelihood: str = "categorical", num_classes: int = 10, dropout: float = 0.0):
        if num_classes < 1:
            raise ValueError(f"a ConditionalVAE needs num_classes >= 1, got {num_classes}")
        super().__init__(image_size, levels, latent_dim, hidden, depth, likelihood, num_classes, dropout)


build = VAE.from_config   # the name checkpoints and scripts written before the protocol use
