"""The pieces today's open models (Llama, Mistral, Qwen) use in place of GPT-2's: RMSNorm, rotary position
embeddings (RoPE) and the SwiGLU feed-forward. Grouped-query attention lives in layers.py with attention.

Each is an option of GPTConfig (norm="rms", pos="rope", mlp="swiglu", n_kv_head); the defaults stay GPT-2's.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    """x / rms(x) * g: LayerNorm without the mean subtraction and the shift (Zhang & Sennrich 2019).
    One reduction instead of two, no bias; at scale it trains as well as LayerNorm."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):                                                     # (..., C)
        rms = x.pow(2).mean(dim=-1, keepdim=True).add(self.eps).sqrt()        # (..., 1)
        return x / rms * self.weight


def rope_angles(head_size: int, n_positions: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin (n_positions, head_size // 2) of the angles pos * base^(-2i / head_size) (Su et al. 2021).
    Pair i of a query or key turns at frequency theta_i: fast pairs tell near positions apart, slow ones far."""
    if head_size % 2:
        raise ValueError(f"RoPE needs an even head size (n_embd / n_head), got {head_size}")
    theta = base ** (-torch.arange(0, head_size, 2, dtype=torch.float64) / head_size)   # (hs/2,)
    angles = torch.arange(n_positions, dtype=torch.float64)[:, None] * theta            # (P, hs/2)
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_i, x_{i + hs/2}) of x (B, nh, T, hs) by its position's angle; cos, sin (T, hs/2).

    A rotation keeps lengths, and q_m . k_n after rotating by m and n depends only on m - n: attention
    sees relative positions, and no position table is learned."""
    x1, x2 = x.chunk(2, dim=-1)                                               # 2 x (B, nh, T, hs/2)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)      # (B, nh, T, hs)


def swiglu_hidden(n_embd: int) -> int:
    """Hidden width that gives SwiGLU's three matrices the parameters of GELU's two at 4x (8/3 n_embd),
    rounded up to a multiple of 8."""
    return -(-8 * n_embd // 3 // 8) * 8


class SwiGLU(nn.Module):
    """proj(silu(x W_gate) * (x W_up)) (Shazeer 2020): a gated feed-forward, one product more than GELU's."""

    def __init__(self, n_embd: int, dropout: float = 0.0):
        super().__init__()
        h = swiglu_hidden(n_embd)
        self.fc = nn.Linear(n_embd, 2 * h, bias=False)      # gate and up in one matmul
        self.proj = nn.Linear(h, n_embd, bias=False)        # writes into the residual stream
        self.drop = nn.Dropout(dropout)

    def forward(self, x):                                                     # (B, T, C)
        gate, up = self.fc(x).chunk(2, dim=-1)                                # 2 x (B, T, h)
        return self.drop(self.proj(F.silu(gate) * up))                        # (B, T, C)
