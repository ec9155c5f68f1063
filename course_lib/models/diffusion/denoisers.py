"""The noise-predicting networks eps_theta(x_t, t [, label]) of course_lib.models.diffusion.

Both take the noisy input, the step index t and (conditional models) a label, and return a tensor shaped
like the input: the noise they think was added. The step and the label enter through one embedding
vector that every block adds to its features.
  - MLPDenoiser: residual MLP for 2-D points (and, as a baseline, flattened images);
  - UNet: a two-level convolutional U-Net for images.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of integer steps, as in the Transformer's positions: (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * freqs[None, :]                              # (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)                     # (B, dim)


class Conditioning(nn.Module):
    """(t, label) -> one embedding vector: sinusoidal time features through an MLP, plus a label embedding
    with an extra "null" row (index num_classes) used when the label is dropped (classifier-free guidance)."""

    def __init__(self, dim: int, num_classes: int = 0):
        super().__init__()
        self.dim = dim
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.label = nn.Embedding(num_classes + 1, dim) if num_classes else None

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        emb = self.time(timestep_embedding(t, self.dim))                      # (B, dim)
        return emb if self.label is None else emb + self.label(labels)


class MLPDenoiser(nn.Module):
    """eps_theta for vectors: x (B, D) and the conditioning embedding -> predicted noise (B, D).

    Residual MLP: each block adds Linear(SiLU(Linear(SiLU(h) + emb))) to its input.
    """

    def __init__(self, dim: int, hidden: int = 128, depth: int = 3, num_classes: int = 0):
        super().__init__()
        self.cond = Conditioning(hidden, num_classes)
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(nn.ModuleList([nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)])
                                    for _ in range(depth))
        self.out = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.cond(t, labels)                                            # (B, h)
        h = self.inp(x.flatten(1))                                            # (B, h)
        for lin1, lin2 in self.blocks:
            h = h + lin2(F.silu(lin1(F.silu(h) + emb)))                       # (B, h)
        return self.out(F.silu(h)).reshape(x.shape)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm and SiLU; the conditioning embedding is added in between.
    (B, c_in, H, W), (B, e) -> (B, c_out, H, W), with a 1x1 convolution on the skip path if c_in != c_out."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(min(8, c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(min(8, c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))                                 # (B, c_out, H, W)
        h = h + self.emb(emb)[:, :, None, None]                               # every pixel hears (t, label)
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """A two-level U-Net: (B, C, S, S) at full size and at half size, with a skip connection across.

        x -> conv -> Res(w) ---------------------------------- concat -> Res(w) -> conv -> eps
                        \\-> down (stride 2) -> Res(2w) -> Res(2w) -> up /
    Every ResBlock receives the (time [+ label]) embedding. S must be even (8 -> 4, 28 -> 14).
    """

    def __init__(self, channels: int = 1, width: int = 32, num_classes: int = 0):
        super().__init__()
        e = 4 * width
        self.cond = Conditioning(e, num_classes)
        self.inp = nn.Conv2d(channels, width, 3, padding=1)
        self.enc = ResBlock(width, width, e)
        self.down = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)      # (B, 2w, S/2, S/2)
        self.mid1, self.mid2 = ResBlock(2 * width, 2 * width, e), ResBlock(2 * width, 2 * width, e)
        self.up = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)  # (B, w, S, S)
        self.dec = ResBlock(2 * width, width, e)                             # after concatenating the skip
        self.out = nn.Sequential(nn.GroupNorm(min(8, width), width), nn.SiLU(), nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.cond(t, labels)                                            # (B, e)
        h0 = self.enc(self.inp(x), emb)                                       # (B, w, S, S)
        h = self.mid2(self.mid1(self.down(h0), emb), emb)                     # (B, 2w, S/2, S/2)
        h = self.dec(torch.cat([self.up(h), h0], dim=1), emb)                 # (B, w, S, S)
        return self.out(h)                                                    # (B, C, S, S)
