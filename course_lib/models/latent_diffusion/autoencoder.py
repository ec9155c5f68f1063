"""The autoencoder of latent diffusion: images (C, S, S) <-> latents (c, S/4, S/4).

Plain (deterministic), not KL-regularised: the latent is small (4x4x4 = 64 numbers for a 16x16 RGB scene,
4x7x7 = 196 for a 28x28 digit), so the bottleneck alone keeps it compact, and its scale, which Stable
Diffusion bounds with a small KL term and a fixed factor (0.18215), is set here by standardising each
latent channel with the mean and spread measured on the training images (`fit_stats`). The diffusion
model then sees latents of about unit variance, as its noise schedule assumes.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class AutoEncoder(nn.Module):
    def __init__(self, channels: int = 3, latent_channels: int = 4, width: int = 32):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(                                  # (B, C, S, S) in [-1, 1]
            nn.Conv2d(channels, w, 3, padding=1), nn.GELU(),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.GELU(),  # (B, 2w, S/2, S/2)
            nn.Conv2d(2 * w, 2 * w, 4, stride=2, padding=1), nn.GELU(),  # (B, 2w, S/4, S/4)
            nn.Conv2d(2 * w, latent_channels, 1))                     # (B, c, S/4, S/4)
        self.decoder = nn.Sequential(
            nn.Conv2d(latent_channels, 2 * w, 3, padding=1), nn.GELU(),
            nn.ConvTranspose2d(2 * w, 2 * w, 4, stride=2, padding=1), nn.GELU(),  # (B, 2w, S/2, S/2)
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.GELU(),      # (B, w, S, S)
            nn.Conv2d(w, channels, 3, padding=1))                                  # logits (B, C, S, S)
        self.register_buffer("mean", torch.zeros(latent_channels))      # saved: the latent's statistics
        self.register_buffer("std", torch.ones(latent_channels))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """images (B, C, S, S) in [0, 1] -> standardised latents (B, c, S/4, S/4)."""
        z = self.encoder(x * 2 - 1)
        return (z - self.mean[:, None, None]) / self.std[:, None, None]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """standardised latents (B, c, S/4, S/4) -> images (B, C, S, S) in [0, 1]."""
        return torch.sigmoid(self.decoder(z * self.std[:, None, None] + self.mean[:, None, None]))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction error: binary cross-entropy per pixel, mean (targets in [0, 1])."""
        logits = self.decoder(self.encoder(x * 2 - 1))
        return F.binary_cross_entropy_with_logits(logits, x)

    @torch.no_grad()
    def fit_stats(self, x: torch.Tensor, batch_size: int = 1000) -> None:
        """Measure each latent channel's mean and standard deviation on images x (N, C, S, S)."""
        self.mean.zero_()
        self.std.fill_(1.0)
        z = torch.cat([self.encoder(x[i:i + batch_size] * 2 - 1) for i in range(0, len(x), batch_size)])
        self.mean.copy_(z.mean((0, 2, 3)))
        self.std.copy_(z.std((0, 2, 3)).clamp(min=1e-4))
