"""The pieces of a GPT: its config, attention written out, the KV cache and the transformer block."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.gpt.modern import RMSNorm, SwiGLU, apply_rope, rope_angles


@dataclass
class GPTConfig:
    vocab_size: int = 65        # number of token ids
    block_size: int = 64        # longest context the model sees (learned position embeddings)
    n_layer: int = 4            # transformer blocks
    n_head: int = 4             # attention heads per block
    n_embd: int = 128           # width of the residual stream (divisible by n_head)
    dropout: float = 0.0        # dropout on attention weights and residual branches
    flash: bool = True          # use torch's fused attention (same maths as `attention` below, faster)
    # Options of today's open models (modern.py); the defaults are GPT-2's.
    norm: str = "layer"         # "layer" (LayerNorm) or "rms" (RMSNorm)
    pos: str = "learned"        # "learned" position table or "rope" (rotary, relative positions)
    mlp: str = "gelu"           # "gelu" (4x wide) or "swiglu" (gated, same parameter count)
    n_kv_head: int | None = None  # grouped-query attention: heads of keys/values (None: n_head, plain MHA)

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        for name, allowed in (("norm", ("layer", "rms")), ("pos", ("learned", "rope")), ("mlp", ("gelu", "swiglu"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        kv = self.kv_heads
        if isinstance(kv, bool) or not isinstance(kv, int) or kv < 1 or self.n_head % kv:
            raise ValueError(f"n_kv_head must be a positive int dividing n_head ({self.n_head}), got "
                             f"{self.n_kv_head!r}")
        if self.pos == "rope" and (self.n_embd // self.n_head) % 2:
            raise ValueError(f"pos='rope' needs an even head size, got n_embd / n_head = {self.n_embd // self.n_head}")

    @property
    def kv_heads(self) -> int:
        return self.n_head if self.n_kv_head is None else self.n_kv_head

    def norm_layer(self) -> nn.Module:
        return RMSNorm(self.n_embd) if self.norm == "rms" else nn.LayerNorm(self.n_embd)


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
    """Multi-head causal self-attention. With n_kv_head < n_head (grouped-query attention) each group of
    n_head / n_kv_head query heads shares one key/value head: the KV cache shrinks by that factor.
    With pos="rope" queries and keys are rotated by their absolute position before the dot product."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head, self.n_kv, self.flash, self.dropout = cfg.n_head, cfg.kv_heads, cfg.flash, cfg.dropout
        self.hs = cfg.n_embd // cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, cfg.n_embd + 2 * self.n_kv * self.hs)   # q, k, v in one matmul
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.resid_drop = nn.Dropout(cfg.dropout)
        if cfg.pos == "rope":                          # not in the state_dict: a function of the config
            cos, sin = rope_angles(self.hs, cfg.block_size)                   # 2 x (block_size, hs/2)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        else:
            self.rope_cos = self.rope_sin = None

    def forward(self, x, cache: KVCache | None = None, layer: int = 0):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split([C, self.n_kv * self.hs, self.n_kv * self.hs], dim=2)
        q = q.view(B, T, self.n_head, self.hs).transpose(1, 2)                # (B, nh, T, hs)
        k, v = (t.view(B, T, self.n_kv, self.hs).transpose(1, 2) for t in (k, v))  # (B, nkv, T, hs)
        if self.rope_cos is not None:                  # rotate by absolute position: start = cached length
            start = cache.length if cache is not None else 0
            cos, sin = self.rope_cos[start:start + T], self.rope_sin[start:start + T]   # (T, hs/2)
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:                                 # the stored past, then these T
            k, v = cache.append(layer, k, v)                                  # (B, nkv, Tk, hs)
        if self.n_kv != self.n_head:                          # each kv head serves a group of query heads
            k, v = (t.repeat_interleave(self.n_head // self.n_kv, dim=1) for t in (k, v))  # (B, nh, Tk, hs)
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
        self.ln1, self.ln2 = cfg.norm_layer(), cfg.norm_layer()
        self.attn = CausalSelfAttention(cfg)
        self.mlp = SwiGLU(cfg.n_embd, cfg.dropout) if cfg.mlp == "swiglu" else MLP(cfg)

    def forward(self, x, cache=None, layer=0):
        x = x + self.attn(self.ln1(x), cache, layer)      # tokens talk to each other
        return x + self.mlp(self.ln2(x))                   # each token thinks on its own
