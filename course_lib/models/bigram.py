"""The bigram character model: the smallest generative model of text that still makes names.

p(".emma.") = p(e|.) p(m|e) p(m|m) p(a|m) p(.|a): each character depends only on the one before it.
Fitting is counting (the maximum-likelihood estimate of each row is its normalised counts); add-k
smoothing pretends every pair was seen k extra times so unseen pairs do not get probability 0.
Notebook 01 builds this from scratch, then imports it from here.
"""
from __future__ import annotations

import math

import torch

from course_lib.models.inputs import check_labels, check_n, multinomial
from course_lib.tokenizers import CharTokenizer, check_words


class BigramModel:
    """p(next char | current char) as a (V, V) table; row = current char, column = next char."""

    def __init__(self, tokenizer: CharTokenizer | None = None):
        self.tokenizer = tokenizer  # built from the training words by fit() when None
        self.counts: torch.Tensor | None = None  # (V, V) float32 pair counts
        self.probs: torch.Tensor | None = None  # (V, V) float32, each row sums to 1
        self.smoothing: float | None = None

    @classmethod
    def from_config(cls, config: dict) -> "BigramModel":
        """An unfitted model with the tokenizer of `config_dict()` ({"chars", "boundary"}): the table itself
        is counted from words by fit(), it has no weights to load."""
        return cls(CharTokenizer(config["chars"], boundary=config["boundary"]))

    def config_dict(self) -> dict:
        if self.tokenizer is None:
            raise RuntimeError("the model has no tokenizer yet: call model.fit(words) first")
        tok = self.tokenizer
        return {"chars": "".join(tok.itos[i] for i in range(tok.vocab_size)), "boundary": tok.boundary}

    def _pairs(self, words) -> tuple[torch.Tensor, torch.Tensor]:
        """All (current, next) id pairs of ".word." for every word: two (P,) int64 tensors."""
        b = self.tokenizer.boundary
        ids = [self.tokenizer.encode(b + w + b) for w in check_words(words)]
        a = torch.tensor([i for seq in ids for i in seq[:-1]])  # (P,) current chars
        c = torch.tensor([i for seq in ids for i in seq[1:]])  # (P,) next chars
        return a, c

    def fit(self, words, smoothing: float = 1.0) -> "BigramModel":
        """Count every pair in `words`, add `smoothing` to each cell, normalise rows."""
        if not isinstance(smoothing, (int, float)) or smoothing < 0:
            raise ValueError(f"smoothing must be a number >= 0, got {smoothing!r}")
        words = check_words(words)
        if self.tokenizer is None:
            self.tokenizer = CharTokenizer.from_words(words)
        if self.tokenizer.boundary is None:
            raise ValueError("the tokenizer needs a boundary character; build it with from_words")
        V = self.tokenizer.vocab_size
        a, c = self._pairs(words)
        self.counts = torch.bincount(a * V + c, minlength=V * V).view(V, V).float()  # (V, V)
        N = self.counts + smoothing  # (V, V)
        totals = N.sum(1, keepdim=True)  # (V, 1)
        # A row never seen with smoothing=0 has no data at all: fall back to uniform, not 0/0.
        self.probs = torch.where(totals > 0, N / totals.clamp_min(1e-30), 1.0 / V)  # (V, V)
        self.smoothing = float(smoothing)
        return self

    def _fitted(self) -> torch.Tensor:
        if self.probs is None:
            raise RuntimeError("the model is not fitted yet: call model.fit(words) first")
        return self.probs

    def log_prob(self, word: str) -> float:
        """ln p(".word."), the end token included; -inf when a pair has probability 0."""
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__}")
        probs = self._fitted()
        a, c = self._pairs([word])
        return probs[a, c].log().sum().item()

    def nll(self, words) -> float:
        """Mean negative log-likelihood per predicted character, in nats (each word adds len+1,
        the +1 being its end token). Returns inf when any pair has probability 0 (smoothing=0 and a
        pair unseen in training) -- that is what log 0 means, and why smoothing matters."""
        probs = self._fitted()
        a, c = self._pairs(words)
        return -probs[a, c].log().mean().item()

    @torch.no_grad()
    def sample(self, n: int, *, labels=None, generator: torch.Generator | None = None, temperature: float = 1.0,
               max_len: int = 50) -> list[str]:
        """Draw `n` words, all in parallel. temperature < 1 sharpens the rows (safer, less varied),
        > 1 flattens them (more varied, more nonsense); p_T(c) is proportional to p(c) ** (1/T).
        Unconditional: no labels."""
        check_n(n)
        check_labels(labels, n, 0, "bigram model")
        if not isinstance(temperature, (int, float)) or not temperature > 0 or math.isinf(temperature):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r} "
                             "(for the most likely character use a small value such as 0.01)")
        probs = torch.softmax(self._fitted().log() / temperature, dim=1)  # (V, V), zeros stay zero
        end = self.tokenizer.stoi[self.tokenizer.boundary]
        cur = torch.full((n,), end, dtype=torch.long)  # (n,) every word starts at the boundary
        out = torch.full((n, max_len), end, dtype=torch.long)  # (n, max_len)
        done = torch.zeros(n, dtype=torch.bool)  # (n,)
        for t in range(max_len):
            cur = multinomial(probs[cur], 1, generator=generator).squeeze(1)  # (n,)
            out[:, t] = torch.where(done, end, cur)
            done |= cur == end
            if done.all():
                break
        return [self.tokenizer.decode(row).split(self.tokenizer.boundary)[0] for row in out]
