"""A VAE for mixed tables: one encoder, one decoder, and a likelihood head per column type.

A row x = (numeric values x_1..x_m, categorical values c_1..c_k) arrives encoded (course_lib.tabular.
encoding): numeric columns scaled to about N(0, 1), each categorical column one-hot. The decoder p(x|z)
factorises over columns given z, each column with the likelihood its type needs:

    log p(x|z) = sum_j log N(x_j; m_j(z), s_j(z)^2)          numeric heads: a mean and a log-std each
               + sum_c log softmax(l_c(z))[c value]           categorical heads: one logit per category

The outcome (death) is just one more categorical column, so the model learns the joint of features and
outcome, which is what a classifier trained on its samples (TSTR) needs. As in the image VAE (vae.py):

    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || N(0, I)),   z = mu + sigma * eps  (one sample)

    model = TabularVAE(heads=[["numeric", 1], ["numeric", 1], ["categorical", 3]])   # widths, in column order
    loss = model.loss(x)           # x (B, D) float, D = 1 + 1 + 3; mean negative ELBO, nats per row
    x_new = model.sample(100)      # (100, D): numeric values drawn from their Gaussians, categories one-hot
    score = -model.elbo(x)         # (B,) nats: an anomaly score (course_lib.tabular.anomaly)
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.inputs import Configured, check_batch, check_labels, check_n, device_of, eval_mode, multinomial, randn
from course_lib.models.vae import _mlp, gaussian_kl, reparameterize

KINDS = ("numeric", "categorical")


class TabularVAE(Configured, nn.Module):
    """heads: [kind, width] per original column in encoded order (numeric width 1, categorical width K >= 2)."""

    def __init__(self, heads, latent_dim: int = 8, hidden: int = 128, depth: int = 2, min_std: float = 0.05,
                 dropout: float = 0.0):
        super().__init__()
        heads = [[str(k), int(w)] for k, w in heads]
        for kind, width in heads:
            if kind not in KINDS or (kind == "numeric" and width != 1) or (kind == "categorical" and width < 2):
                raise ValueError(f"each head must be ['numeric', 1] or ['categorical', K >= 2], got {[kind, width]}")
        if not heads:
            raise ValueError("a TabularVAE needs at least one column head")
        self.config = dict(heads=heads, latent_dim=latent_dim, hidden=hidden, depth=depth, min_std=min_std,
                           dropout=dropout)
        self.heads, self.latent_dim, self.min_std = heads, latent_dim, min_std
        self.width = sum(w for _, w in heads)                                        # D
        starts = [sum(w for _, w in heads[:i]) for i in range(len(heads))]
        self.num_idx = [s for s, (k, _) in zip(starts, heads) if k == "numeric"]     # where numeric columns sit
        self.cat_spans = [(s, s + w) for s, (k, w) in zip(starts, heads) if k == "categorical"]
        n_out = 2 * len(self.num_idx) + sum(b - a for a, b in self.cat_spans)        # (mean, log-std) + logits
        self.encoder = _mlp(self.width, hidden, 2 * latent_dim, depth, dropout)      # -> (mu, logvar)
        self.decoder = _mlp(latent_dim, hidden, n_out, depth, dropout)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, D) -> mu (B, L), logvar (B, L) of q(z|x)."""
        x = check_batch(x, (self.width,), "encoded rows")
        mu, logvar = self.encoder(x).chunk(2, dim=-1)                                # (B, L), (B, L)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """z (B, L) -> numeric means (B, m), numeric stds (B, m), logits per categorical column [(B, K_c)]."""
        out = self.decoder(z)                                                        # (B, 2m + sum K)
        m = len(self.num_idx)
        mean, log_std = out[:, :m], out[:, m:2 * m]                                  # (B, m), (B, m)
        std = self.min_std + F.softplus(log_std)          # a floor: tied values (ages) cannot shrink it to 0
        logits, at = [], 2 * m
        for a, b in self.cat_spans:
            logits.append(out[:, at:at + b - a])                                     # (B, K_c)
            at += b - a
        return mean, std, logits

    def log_likelihood(self, x: torch.Tensor, decoded) -> torch.Tensor:
        """log p(x|z) in nats per row (B,): Gaussian log-densities of numeric values + log-probabilities
        of the observed categories."""
        mean, std, logits = decoded
        xn = x[:, self.num_idx]                                                      # (B, m)
        gauss = -0.5 * ((xn - mean) / std).pow(2) - std.log() - 0.5 * math.log(2 * math.pi)
        ll = gauss.sum(dim=1)                                                        # (B,)
        for (a, b), lg in zip(self.cat_spans, logits):
            ll = ll - F.cross_entropy(lg, x[:, a:b].argmax(dim=1), reduction="none")  # (B,)
        return ll

    def elbo(self, x: torch.Tensor, k: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
        """The ELBO in nats per row (B,), averaged over k reparameterised draws of z."""
        mu, logvar = self.encode(x)
        rec = torch.stack([self.log_likelihood(x, self.decode(reparameterize(mu, logvar, generator)))
                           for _ in range(k)]).mean(dim=0)                           # (B,)
        return rec - gaussian_kl(mu, logvar)

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean negative ELBO over the batch, nats per row: the training loss."""
        return -self.elbo(x, generator=generator).mean()

    @eval_mode
    def sample(self, n: int, *, labels=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """n encoded rows (n, D): z ~ N(0, I), numeric values ~ N(mean, std^2), each category drawn from its
        softmax and written one-hot. Decode them to a table with the TableEncoder."""
        check_labels(labels, check_n(n), 0, "TabularVAE")
        dev = device_of(self)
        mean, std, logits = self.decode(randn((n, self.latent_dim), generator=generator, device=dev))
        x = torch.zeros(n, self.width, device=dev)                                   # (n, D)
        x[:, self.num_idx] = mean + std * randn(mean.shape, generator=generator, device=dev)
        for (a, b), lg in zip(self.cat_spans, logits):
            pick = multinomial(lg.softmax(dim=1), 1, generator=generator)[:, 0]      # (n,)
            x[:, a:b] = F.one_hot(pick, b - a).float()
        return x
