"""The pieces of a GPT: its config, attention written out, the KV cache and the transformer block."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 65        # number of token ids
    block_size: int = 64        # longest context the model sees (learned position embeddings)
    n_layer: int = 4            # transformer blocks
    n_head: int = 4             # attention heads per block
    n_embd: int = 128           # width of the residual stream (divisible by n_head)
    dropout: float = 0.0        # dropout on attention weights and residual branches
    flash: bool = True          # use torch's fused attention (same maths as `attention` below, faster)

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")


def attention(q, k, v, mask=None, dropout_p: float = 0.0):
    """Scaled dot-product attention written out: softmax(q k^T / sqrt(d) + mask) v.

    q (..., Tq, d), k and v (..., Tk, d); mask: bool (Tq, Tk), True where attending is allowed.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))       # (..., Tq, Tk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = F.dropout(F.softmax(scores, dim=-1), dropout_p)      # (..., Tq, Tk), rows sum to 1
    return weights @ v                                             # (..., Tq, d)


def causal_mask(t_q: int, t_k: int, device=None) -> torch.Tensor:
    """(t_q, t_k) bool: the queries are the LAST t_q of t_k positions; each sees itself and the past."""
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(diagonal=t_k - t_q)


class KVCache:
    """Keys and values of every position seen so far, per layer, in buffers allocated once.

    Layer i's buffers are (B, nh, capacity, hs); a step with T new tokens writes rows length..length+T-1
    and attends to rows 0..length+T-1. Writing into a preallocated buffer instead of concatenating keeps
    a generation step at a handful of small operations (at this model size their overhead, not the
    arithmetic, is what a step costs). GPT.forward advances `length` once all layers have written.
    """

    def __init__(self, n_layer: int, capacity: int | None = None):   # None: the model's block_size
        self.n_layer, self.capacity, self.length = n_layer, capacity, 0
        self.keys: list = [None] * n_layer
        self.values: list = [None] * n_layer

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Store the new k, v (B, nh, T, hs) of `layer`; return all keys and values so far (B, nh, L+T, hs)."""
        L, T = self.length, k.size(2)
        if self.keys[layer] is None:                                # first call: allocate
            cap = self.capacity or L + T
            self.keys[layer] = k.new_empty(k.size(0), k.size(1), cap, k.size(3))
            self.values[layer] = v.new_empty(v.size(0), v.size(1), cap, v.size(3))
        if L + T > self.keys[layer].size(2):
            raise ValueError(f"KV cache full: {L} cached + {T} new > capacity {self.keys[layer].size(2)}")
        self.keys[layer][:, :, L:L + T] = k
        self.values[layer][:, :, L:L + T] = v
        return self.keys[layer][:, :, :L + T], self.values[layer][:, :, :L + T]


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head, self.flash, self.dropout = cfg.n_head, cfg.flash, cfg.dropout
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)      # queries, keys, values in one matmul
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cache: KVCache | None = None, layer: int = 0):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)                                # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if cache is not None:                                 # the stored past, then these T
            k, v = cache.append(layer, k, v)                                  # (B, nh, Tk, hs)
        t_k = k.size(2)
        p = self.dropout if self.training else 0.0
        if self.flash:
            if t_k == T:                                      # no past: the usual triangle
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
            elif T == 1:                                      # one new token sees every cached one: no mask
                y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
            else:                                             # new queries sit at the end
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(T, t_k, x.device),
                                                   dropout_p=p)
        else:                                                 # the same maths, written out
            y = attention(q, k, v, causal_mask(T, t_k, x.device), p)          # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)                     # heads side by side
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: widen 4x, GELU, project back to the residual stream."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.act = nn.GELU()
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)    # writes into the residual stream, like attn.proj
        self.drop = nn.Dropout(cfg.dropout)
        self._register_load_state_dict_pre_hook(self._old_names)

    def forward(self, x):
        return self.drop(self.proj(self.act(self.fc(x))))                       # (B, T, C)

    @staticmethod
    def _old_names(state_dict, prefix, *args):
        """Checkpoints written when this was an nn.Sequential name the layers mlp.0 and mlp.2."""
        for old, new in (("0.", "fc."), ("2.", "proj.")):
            for kind in ("weight", "bias"):
                if prefix + old + kind in state_dict:
                    state_dict[prefix + new + kind] = state_dict.pop(prefix + old + kind)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x, cache=None, layer=0):
        x = x + self.attn(self.ln1(x), cache, layer)      # tokens talk to each other
        return x + self.mlp(self.ln2(x))                   # each token thinks on its own
