"""Cross-attention, the layer through which a latent image reads its caption (Rombach et al. 2022, sec. 3.3).

Queries come from the image tokens, keys and values from the caption's token embeddings:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V,   Q = x W_q (B, N, C),  K = c W_k,  V = c W_v (B, T, C)

so each of the N latent positions takes a weighted mean of the T words' values. Padding words get a score
of -inf before the softmax: they receive weight exactly 0, so how much padding a caption has changes
nothing. With context = x and no mask the same layer is self-attention.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


class CrossAttention(nn.Module):
    """Multi-head attention of x (B, N, dim) over a context (B, T, context_dim), padding masked."""

    def __init__(self, dim: int, context_dim: int, n_head: int = 4):
        super().__init__()
        if dim % n_head:
            raise ValueError(f"dim ({dim}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(context_dim, dim, bias=False)
        self.v = nn.Linear(context_dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor, keep: torch.Tensor | None = None,
                return_weights: bool = False):
        """x (B, N, C), context (B, T, D), keep (B, T) bool (True = a real word) -> (B, N, C)
        (and the attention weights (B, nh, N, T) when return_weights)."""
        B, N, C = x.shape
        T, nh = context.shape[1], self.n_head
        if context.shape[0] != B:
            raise ValueError(f"x and context need the same batch size, got {B} and {context.shape[0]}")
        q = self.q(x).view(B, N, nh, C // nh).transpose(1, 2)                 # (B, nh, N, hs)
        k = self.k(context).view(B, T, nh, C // nh).transpose(1, 2)           # (B, nh, T, hs)
        v = self.v(context).view(B, T, nh, C // nh).transpose(1, 2)           # (B, nh, T, hs)
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // nh)                 # (B, nh, N, T)
        if keep is not None:
            if tuple(keep.shape) != (B, T) or not keep.any(1).all():
                raise ValueError(f"keep must be (B, T) = ({B}, {T}) bool with a real word in every row")
            scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        weights = scores.softmax(-1)                                          # (B, nh, N, T), rows sum to 1
        y = (weights @ v).transpose(1, 2).reshape(B, N, C)                    # (B, N, C)
        out = self.proj(y)
        return (out, weights) if return_weights else out
