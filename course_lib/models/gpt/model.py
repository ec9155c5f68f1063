"""The GPT itself: embeddings, a stack of blocks, a head; training loss, generation, sampling, likelihood."""
from __future__ import annotations

import math
from dataclasses import asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.gpt.layers import Block, GPTConfig, KVCache
from course_lib.models.inputs import check_labels, check_n, device_of, eval_mode, multinomial


class GPT(nn.Module):
    """Token + position embeddings, n_layer pre-norm blocks, a final LayerNorm and a linear head."""

    def __init__(self, cfg: GPTConfig | None = None, **kwargs):
        super().__init__()
        if cfg is None:
            cfg = GPTConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a GPTConfig or keyword arguments, not both")
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd) if cfg.pos == "learned" else None  # RoPE: in attn
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = cfg.norm_layer()
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():           # GPT-2: scale the layers that write into the
            if name.endswith(".proj.weight"):             # residual stream (attn.proj, mlp.proj) by depth
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def configure_optimizer(self, lr: float, weight_decay: float = 0.1, betas=(0.9, 0.99)) -> torch.optim.AdamW:
        """AdamW that decays only the matrices (linear weights, embeddings), as nanoGPT does: biases and
        LayerNorm gains/shifts are 1-D, and pulling a LayerNorm gain towards 0 only shrinks its output."""
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=betas)

    def _check_ids(self, idx, start: int, values: bool = True) -> None:
        """Shape and length always; the id range (which reads the values: a device sync) when `values`."""
        cfg = self.config
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
            got = f"{tuple(idx.shape)} {idx.dtype}" if isinstance(idx, torch.Tensor) else type(idx).__name__
            raise ValueError(f"idx must be an int64 tensor of shape (B, T), got {got}")
        if idx.size(1) == 0 or start + idx.size(1) > cfg.block_size:
            raise ValueError(f"sequence length must be 1..{cfg.block_size - start} (block_size "
                             f"{cfg.block_size}, {start} cached), got {idx.size(1)}")
        if not values:
            return
        lo, hi = (int(v) for v in torch.aminmax(idx))
        if lo < 0 or hi >= cfg.vocab_size:
            raise ValueError(f"token ids must be in [0, {cfg.vocab_size - 1}], got ids from {lo} to {hi}")

    def forward(self, idx, targets=None, cache: KVCache | None = None, check_ids: bool = True):
        """idx (B, T) int64 -> (logits (B, T, V), loss or None). With a cache, idx are the NEW tokens.
        check_ids=False skips the id-range check (generate checks the prompt once; its own tokens are valid)."""
        start = cache.length if cache is not None else 0
        if cache is not None and cache.capacity is None:
            cache.capacity = self.config.block_size
        self._check_ids(idx, start, values=check_ids)
        B, T = idx.shape
        pos = torch.arange(start, start + T, device=idx.device)                # (T,)
        x = self.tok_emb(idx)                                                  # (B, T, C)
        x = self.drop(x + self.pos_emb(pos) if self.pos_emb is not None else x)
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        if cache is not None:
            cache.length += T                                  # every layer has stored its keys/values
        logits = self.head(self.ln_f(x))                                        # (B, T, V)
        loss = None
        if targets is not None:
            if targets.shape != idx.shape:
                raise ValueError(f"targets must have the shape of idx {tuple(idx.shape)}, got {tuple(targets.shape)}")
            loss = F.cross_entropy(logits.view(B * T, -1), targets.reshape(B * T), ignore_index=-1)
        return logits, loss

    @eval_mode
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, use_cache: bool = True, generator=None):
        """Extend idx (B, T) by max_new_tokens sampled tokens -> (B, T + max_new_tokens).

        temperature 0 means greedy (argmax). The model sees at most block_size tokens. Without a cache
        every step re-runs the last block_size tokens. With the cache each step runs one token; when the
        cache is full it restarts from the last block_size // 2 tokens (learned positions cannot slide),
        so past block_size the two paths condition on slightly different windows. Up to block_size
        tokens in total they give identical logits.
        """
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be a non-negative int, got {max_new_tokens!r}")
        self._check_ids(idx[:, -self.config.block_size:] if isinstance(idx, torch.Tensor) and idx.dim() == 2
                        else idx, 0)                       # bad ids fail here, before any work
        bs = self.config.block_size
        cache, fresh = None, None
        for _ in range(max_new_tokens):
            if not use_cache:
                logits, _ = self(idx[:, -bs:], check_ids=False)
            else:
                if cache is None:                                  # first step: the whole prompt
                    cache, fresh = KVCache(self.config.n_layer), idx[:, -bs:]
                elif cache.length >= bs:                           # full: restart from a half window
                    cache.length, fresh = 0, idx[:, -max(1, bs // 2):]                    # (same buffers)
                logits, _ = self(fresh, cache=cache, check_ids=False)
            nxt = sample_next(logits[:, -1, :], temperature, top_k, top_p, generator)   # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
            fresh = nxt
        return idx

    def sample(self, n: int, *, labels=None, generator=None, n_tokens: int | None = None, start: int = 0,
               temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
        """n token sequences (n, n_tokens) int64 on the model's device (default n_tokens: block_size), each
        generated after the single token id `start` (0: the first symbol, a newline for the course's
        character tokenizer). The protocol's sampler; `generate` continues a prompt of your own.
        A GPT is unconditional: labels must be None."""
        check_n(n)
        check_labels(labels, n, 0, "GPT")
        n_tokens = self.config.block_size if n_tokens is None else n_tokens
        prompt = torch.full((n, 1), start, dtype=torch.long, device=device_of(self))          # (n, 1)
        return self.generate(prompt, n_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                             generator=generator)[:, 1:]                                     # (n, n_tokens)

    @eval_mode
    def nll(self, ids: torch.Tensor, *, batch_size: int = 32, max_batches: int = 50) -> float:
        """Mean next-token negative log-likelihood in nats per token (the validation loss) over consecutive,
        non-overlapping windows of the 1-D id tensor `ids`: deterministic, the same windows every call, so
        numbers compare across runs. Per character: divide by characters per token."""
        T = self.config.block_size
        n = min((len(ids) - 1) // T, batch_size * max_batches)
        if n < 1:
            raise ValueError(f"need more than block_size + 1 = {T + 1} ids to evaluate, got {len(ids)}")
        x, y = ids[: n * T].view(n, T), ids[1: n * T + 1].view(n, T)                        # (n, T) each
        total = 0.0
        for i in range(0, n, batch_size):
            _, loss = self(x[i:i + batch_size], y[i:i + batch_size])
            total += loss.item() * len(x[i:i + batch_size])
        return total / n

    @classmethod
    def from_config(cls, config) -> "GPT":
        """Build from a plain dict of GPTConfig's fields (as checkpoints store it) or a GPTConfig."""
        return cls(config if isinstance(config, GPTConfig) else GPTConfig(**config))

    def config_dict(self) -> dict:
        return asdict(self.config)

    @classmethod
    def from_checkpoint(cls, path) -> "GPT":
        """A GPT (eval mode) from a checkpoint file, through course_lib.checkpoints (its mismatch messages)."""
        from course_lib import checkpoints
        return checkpoints.load(path, cls.from_config)


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator=None) -> torch.Tensor:
    """logits (B, V) -> next ids (B, 1). temperature 0: argmax; top_k: keep the k likeliest;
    top_p (nucleus): keep the smallest set of likeliest tokens whose probability adds up to >= top_p."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        if not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]   # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = F.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        drop = cum - F.softmax(sorted_logits, dim=-1) >= top_p    # mass BEFORE this token already enough
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = F.softmax(logits, dim=-1)
    return multinomial(probs, 1, generator=generator)
