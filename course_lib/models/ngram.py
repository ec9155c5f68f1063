"""A counted n-gram language model: the cheapest possible draft for speculative decoding.

P(next | last n-1 tokens) from add-k smoothed counts in a dense table (V^n entries: keep V^n small, e.g.
65 characters and n = 3). Its forward has the GPT's shape, idx (B, T) -> (logits (B, T, V), None), so
code that drafts with a small GPT drafts with this too. Positions with fewer than n-1 tokens before
them use the shorter context that exists (a backed-off table per order).
"""
from __future__ import annotations

import torch
import torch.nn as nn


class NGramLM(nn.Module):
    def __init__(self, vocab_size: int, n: int = 3, k: float = 0.1):
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4 or vocab_size ** n > 5e7:
            raise ValueError(f"n must be an int in 1..4 with vocab_size**n <= 5e7 (a dense table), "
                             f"got n={n!r} with vocab_size {vocab_size}")
        self.vocab_size, self.n, self.k = vocab_size, n, k
        self.context = n - 1                               # tokens it looks back: callers may pass only these
        for order in range(1, n + 1):                     # counts of (order-1 context, next): V^order
            self.register_buffer(f"counts{order}", torch.zeros(vocab_size ** order))

    @torch.no_grad()
    def fit(self, ids: torch.Tensor) -> "NGramLM":
        """Count every n-gram (and shorter) of a 1-D id tensor."""
        if ids.dim() != 1 or len(ids) < self.n:
            raise ValueError(f"ids must be a 1-D tensor of at least n={self.n} ids, got {tuple(ids.shape)}")
        V = self.vocab_size
        for order in range(1, self.n + 1):
            code = torch.zeros(len(ids) - order + 1, dtype=torch.long)
            for j in range(order):                         # base-V number of the tokens i..i+order-1
                code = code * V + ids[j:len(ids) - order + 1 + j]
            getattr(self, f"counts{order}").index_add_(0, code, torch.ones(len(code)))
        return self

    def _logp(self, order: int, ctx: torch.Tensor) -> torch.Tensor:
        """Smoothed log P(next | context code) from the order-`order` table: ctx (...) -> (..., V)."""
        rows = getattr(self, f"counts{order}").view(-1, self.vocab_size)[ctx] + self.k
        return (rows / rows.sum(-1, keepdim=True)).log()

    def forward(self, idx: torch.Tensor, targets=None):
        """idx (B, T) -> (log-probabilities (B, T, V) as logits, loss or None)."""
        B, T = idx.shape
        V = self.vocab_size
        out = torch.empty(B, T, V)
        short = max(0, min(T, self.n - 2))                  # the first positions: shorter contexts
        for t in range(short):
            ctx = torch.zeros(B, dtype=torch.long)
            for j in range(t + 1):
                ctx = ctx * V + idx[:, j]
            out[:, t] = self._logp(t + 2, ctx)
        if T > short:                                       # every later position: the full n-1 tokens
            full = T - short
            ctx = torch.zeros(B, full, dtype=torch.long)
            for j in range(self.n - 1):
                ctx = ctx * V + idx[:, j:j + full]
            out[:, short:] = self._logp(self.n, ctx)
        loss = None
        if targets is not None:
            loss = nn.functional.cross_entropy(out.view(B * T, V), targets.reshape(-1))
        return out, loss
