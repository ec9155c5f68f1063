"""A character-level MLP language model (Bengio et al. 2003, as in Karpathy's makemore).

The bigram model sees one previous character. Counting with more context fails fast: three characters
of context means 27**3 = 19,683 table rows for a few tens of thousands of examples, most never seen.
The MLP shares statistics instead: every character gets a small learned vector (an embedding), the
vectors of the last `context` characters are concatenated and a hidden layer turns them into logits
over the next character. Characters that behave alike (vowels, say) end up with similar vectors, so
what is learned about one helps the others. Notebook 02 builds this from scratch, then imports it here.

    tok = CharTokenizer.from_words(train_words)
    model = CharMLP(tok, context=3, n_embd=10, n_hidden=200)
    X, Y = build_dataset(train_words, tok, context=3)      # (N, 3) int64, (N,) int64
    loss = F.cross_entropy(model(X), Y)
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.models.inputs import check_labels, check_n, device_of, eval_mode, multinomial
from course_lib.tokenizers import CharTokenizer, check_words


def _check_tokenizer(tokenizer) -> None:
    if not isinstance(tokenizer, CharTokenizer) or tokenizer.boundary is None:
        raise TypeError("tokenizer must be a CharTokenizer with a boundary character, built with "
                        f"CharTokenizer.from_words(words); got {tokenizer!r}")


def build_dataset(words, tokenizer: CharTokenizer, context: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (previous `context` characters -> next character) pair of every word.

    A word is padded on the left with the boundary character and ends with it, so "emma" with
    context 3 gives  ... -> e,  ..e -> m,  .em -> m,  emm -> a,  mma -> .  (5 examples, the end included).
    Returns X (N, context) int64 and Y (N,) int64, N = sum of (len(word) + 1).
    """
    _check_tokenizer(tokenizer)
    if isinstance(context, bool) or not isinstance(context, int) or context < 1:
        raise ValueError(f"context must be a positive int, got {context!r}")
    b = tokenizer.stoi[tokenizer.boundary]
    X, Y = [], []
    for w in check_words(words):
        window = [b] * context                         # the start: only boundary characters
        for i in tokenizer.encode(w) + [b]:            # every letter, then the end token
            X.append(window)
            Y.append(i)
            window = window[1:] + [i]                  # slide the window one character on
    return torch.tensor(X, dtype=torch.long), torch.tensor(Y, dtype=torch.long)  # (N, ctx), (N,)


class CharMLP(nn.Module):
    """embedding -> concat -> Linear -> LayerNorm -> tanh -> dropout -> Linear -> logits."""

    def __init__(self, tokenizer: CharTokenizer, context: int = 3, n_embd: int = 10,
                 n_hidden: int = 200, dropout: float = 0.1):
        super().__init__()
        _check_tokenizer(tokenizer)
        for name, v in (("context", context), ("n_embd", n_embd), ("n_hidden", n_hidden)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.tokenizer = tokenizer
        V = tokenizer.vocab_size
        # Everything needed to rebuild the model (checkpoints.save(path, model, model.config_dict())).
        self.config = dict(chars="".join(tokenizer.itos[i] for i in range(V)), boundary=tokenizer.boundary,
                           context=context, n_embd=n_embd, n_hidden=n_hidden, dropout=dropout)
        self.wte = nn.Embedding(V, n_embd)                   # one n_embd vector per character
        self.fc = nn.Linear(context * n_embd, n_hidden)      # all context vectors -> hidden
        # LayerNorm keeps each example's hidden pre-activations at mean 0, std 1 (then a learned scale
        # and shift), so tanh neither saturates nor stays linear; unlike BatchNorm it acts the same in
        # training and sampling, one example at a time.
        self.ln = nn.LayerNorm(n_hidden)
        self.drop = nn.Dropout(dropout)                      # regularises: the names set is small
        self.head = nn.Linear(n_hidden, V)                   # hidden -> a score for each next char
        with torch.no_grad():
            self.head.weight.mul_(0.1)   # near-uniform predictions at the start: loss ~ ln V, not more
            self.head.bias.zero_()

    @classmethod
    def from_config(cls, config: dict) -> "CharMLP":
        """Rebuild from `model.config_dict()` (e.g. checkpoints.load(path, CharMLP.from_config))."""
        config = dict(config)
        tok = CharTokenizer(config.pop("chars"), boundary=config.pop("boundary"))
        return cls(tok, **config)

    def config_dict(self) -> dict:
        return dict(self.config)

    @property
    def context(self) -> int:
        return self.config["context"]

    def _check_idx(self, idx) -> None:
        ctx, V = self.context, self.tokenizer.vocab_size
        if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long or idx.dim() != 2 \
                or idx.shape[1] != ctx:
            got = (f"{tuple(idx.shape)} {idx.dtype}" if isinstance(idx, torch.Tensor)
                   else type(idx).__name__)
            raise ValueError(f"idx must be an int64 tensor of shape (B, {ctx}) (build it with "
                             f"build_dataset), got {got}")
        if idx.numel() and (idx.min() < 0 or idx.max() >= V):
            raise ValueError(f"idx values must be character ids in [0, {V - 1}], "
                             f"got values from {idx.min().item()} to {idx.max().item()}")

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx (B, context) int64 character ids -> logits (B, V) for the next character."""
        self._check_idx(idx)
        B = idx.shape[0]
        x = self.wte(idx)                          # (B, ctx, n_embd)
        x = x.view(B, -1)                          # (B, ctx * n_embd) the vectors side by side
        h = torch.tanh(self.ln(self.fc(x)))        # (B, n_hidden)
        return self.head(self.drop(h))             # (B, V)

    @eval_mode
    def nll(self, words) -> float:
        """Mean negative log-likelihood per predicted character in nats, the end token included
        (same convention as BigramModel.nll, so the two numbers compare directly). Dropout is off."""
        X, Y = build_dataset(words, self.tokenizer, self.context)
        device = device_of(self)
        total, chunk = 0.0, 65536                  # chunks keep memory flat on long word lists
        for i in range(0, len(X), chunk):
            logits = self(X[i:i + chunk].to(device))                                  # (b, V)
            total += F.cross_entropy(logits, Y[i:i + chunk].to(device), reduction="sum").item()
        return total / len(X)

    def log_prob(self, word: str) -> float:
        """ln p(word + end token) in nats (sum over its characters)."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        return -self.nll([word]) * (len(word) + 1)

    @eval_mode
    def sample(self, n: int, *, labels=None, generator: torch.Generator | None = None, temperature: float = 1.0,
               max_len: int = 50) -> list[str]:
        """Draw `n` words in parallel, one character at a time, each from softmax(logits / temperature).
        temperature < 1: safer, more common names; > 1: more varied, more nonsense. Unconditional: no labels."""
        check_n(n)
        check_labels(labels, n, 0, "CharMLP")
        if not isinstance(temperature, (int, float)) or not temperature > 0 or math.isinf(temperature):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        device = device_of(self)
        b = self.tokenizer.stoi[self.tokenizer.boundary]
        window = torch.full((n, self.context), b, dtype=torch.long, device=device)  # (n, ctx)
        out = torch.full((n, max_len), b, dtype=torch.long)                         # (n, max_len)
        done = torch.zeros(n, dtype=torch.bool)                                     # (n,)
        for t in range(max_len):
            probs = F.softmax(self(window) / temperature, dim=-1)                   # (n, V)
            nxt = multinomial(probs, 1, generator=generator).squeeze(1)              # (n,) on the model's device
            out[:, t] = torch.where(done, b, nxt.cpu())
            done |= nxt.cpu() == b
            if done.all():
                break
            window = torch.cat([window[:, 1:], nxt[:, None]], dim=1)               # (n, ctx)
        return [self.tokenizer.decode(row).split(self.tokenizer.boundary)[0] for row in out]
