"""A small GPT (decoder-only transformer), in the spirit of Karpathy's minGPT/nanoGPT.

The bigram and MLP models of notebooks 01-02 see a fixed, short context. A transformer lets every
position look at *all* earlier positions through self-attention: each token emits a query, a key and a
value; the softmax of query.key scores (scaled by 1/sqrt(head size), with future positions masked
out) weights the values. Stack attention + MLP blocks with residual connections and pre-LayerNorm,
add token and position embeddings in front and a linear head at the end, and you have a GPT.
Notebook 05 builds each piece by hand and checks it against this file; notebook 06 trains it.

    cfg = GPTConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128)
    model = GPT(cfg)
    logits, loss = model(idx, targets)                      # (B, T, V), scalar
    out = model.generate(prompt_ids, 200, temperature=0.8, top_k=40)   # uses a KV cache

Generation with a KV cache: the keys and values of past positions never change (they only depend on
earlier tokens), so instead of re-running the whole context for every new token, each layer keeps them
and the model runs only the newest token. Same numbers, far less work.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

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


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig | None = None, **kwargs):
        super().__init__()
        if cfg is None:
            cfg = GPTConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a GPTConfig or keyword arguments, not both")
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
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
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))                   # (B, T, C)
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

    @torch.no_grad()
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
        was_training = self.training
        self.eval()
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
        self.train(was_training)
        return idx

    @classmethod
    def from_checkpoint(cls, ckpt) -> "GPT":
        """A GPT (eval mode) from a checkpoint path or the dict of checkpoints.read(path)."""
        from course_lib import checkpoints
        if not isinstance(ckpt, dict):
            return checkpoints.load(ckpt, lambda c: cls(GPTConfig(**c)))
        model = cls(GPTConfig(**ckpt["config"]))
        model.load_state_dict(ckpt["state_dict"])
        return model.eval()

    def config_dict(self) -> dict:
        return asdict(self.config)


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
    return torch.multinomial(probs, 1, generator=generator)


# ---- data helpers --------------------------------------------------------------------------------------
def random_batches(ids: torch.Tensor, block_size: int, batch_size: int, generator=None):
    """A callable () -> (x, y): random windows of a 1-D id tensor, y = x shifted by one token."""
    if ids.dim() != 1 or len(ids) <= block_size:
        raise ValueError(f"ids must be a 1-D tensor longer than block_size {block_size}, got {tuple(ids.shape)}")

    def batch():
        start = torch.randint(0, len(ids) - block_size, (batch_size,), generator=generator)   # (B,)
        offsets = start[:, None] + torch.arange(block_size + 1)                                # (B, T+1)
        chunk = ids[offsets]
        return chunk[:, :-1], chunk[:, 1:]                                                     # (B, T) x 2
    return batch


@torch.no_grad()
def evaluate_loss(model: GPT, ids: torch.Tensor, batch_size: int = 32, max_batches: int = 50) -> float:
    """Mean next-token loss (nats per token) over consecutive, non-overlapping windows of `ids`
    (deterministic: the same windows every call, so numbers are comparable across runs)."""
    T = model.config.block_size
    n = min((len(ids) - 1) // T, batch_size * max_batches)
    if n < 1:
        raise ValueError(f"need more than block_size + 1 = {T + 1} ids to evaluate, got {len(ids)}")
    x = ids[: n * T].view(n, T)
    y = ids[1: n * T + 1].view(n, T)
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, n, batch_size):
        _, loss = model(x[i:i + batch_size], y[i:i + batch_size])
        total += loss.item() * len(x[i:i + batch_size])
    model.train(was_training)
    return total / n


def tokenizer_from_meta(meta: dict):
    """Rebuild the tokenizer a checkpoint was trained with (stored as plain lists in its meta)."""
    from course_lib.tokenizers import BPETokenizer, CharTokenizer
    tok = meta.get("tokenizer") or {}
    if tok.get("type") == "char":
        return CharTokenizer(tok["chars"])
    if tok.get("type") == "bpe":
        return BPETokenizer(tok["merges"])
    raise ValueError(f"checkpoint meta has no usable tokenizer (expected type 'char' or 'bpe'), got {tok!r}")
