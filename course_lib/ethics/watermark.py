"""The green-list watermark of Kirchenbauer et al. (2023) for a token-level language model.

Before each token is sampled, a keyed hash of the previous `context` tokens seeds a split of the vocabulary
into a green list (a fraction gamma of it) and the rest; green logits get a bonus delta, so watermarked text
holds more green tokens than chance. Anyone with the key can count them: among T scored tokens, G green,

    z = (G - gamma*T) / sqrt(T * gamma * (1 - gamma))          (Kirchenbauer et al. 2023, eq. 2)

is about N(0, 1) for text written without the key. Two cautions make the nominal threshold (z > 2.33 for a
1% false-positive rate) untrustworthy: human text repeats (context, token) pairs, so its green counts are
not independent, and a short text's z is far from normal. So the threshold is **calibrated** on held-out
human text (`calibrate`) and the false-positive rate is then measured on other human text.

Why at least two characters of context for a character-level model: one character gives only vocab_size
green lists, one per preceding character, which an attacker can learn from a handful of outputs, and which
reuse the same few lists all through a text. `context=1` is allowed, to show this. Measured for key 42 on
held-out plays (benchmarks/ethics_watermark.py): the nominal z > 2.326 flags 2.7% of human 100-character texts
with context 2 (0.85% with 1, 1.05% with 3): the key's particular lists matter, hence the calibration.

    wm = Watermark(key=42, gamma=0.25, delta=2.0)              # key: an int (the secret)
    out = generate(model, prompt_ids, 100, wm, generator=g)   # (B, T0 + 100), watermarked continuation
    det = detect(out[0, T0 - wm.context:], wm, threshold=4.0) # scores the 100 new tokens
    det.z, det.verdict                                        # e.g. 6.1, "watermarked"
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.models.gpt.layers import KVCache
from course_lib.models.gpt.model import sample_next

TOO_SHORT = "too short to decide"


# ---------------------------------------------------------------------------------- the keyed green lists
def _splitmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a fixed, well-mixing map of uint64 arrays (no global random state involved)."""
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def check_key(key) -> int:
    """The watermark key must be an int (bool is not): a float or str key would silently hash differently."""
    if not isinstance(key, (int, np.integer)) or isinstance(key, (bool, np.bool_)):
        raise TypeError(f"the watermark key must be an int, got {type(key).__name__} ({key!r})")
    return int(key)


@dataclass(frozen=True)
class Watermark:
    """The secret and the knobs: key (int), gamma (green fraction), delta (logit bonus), context (tokens hashed)."""

    key: int
    gamma: float = 0.25
    delta: float = 2.0
    context: int = 2

    def __post_init__(self):
        check_key(self.key)
        if not 0 < self.gamma < 1:
            raise ValueError(f"gamma (the green fraction) must be in (0, 1), got {self.gamma!r}")
        if not self.delta >= 0:
            raise ValueError(f"delta (the logit bonus) must be >= 0, got {self.delta!r}")
        if not isinstance(self.context, int) or self.context < 1:
            raise ValueError(f"context (previous tokens hashed) must be an int >= 1, got {self.context!r}")

    def n_green(self, vocab_size: int) -> int:
        """Green tokens per list: round(gamma * V), kept in 1..V-1 (the z-test uses n_green / V)."""
        return min(max(1, round(self.gamma * vocab_size)), vocab_size - 1)


def green_mask(contexts, wm: Watermark, vocab_size: int) -> torch.Tensor:
    """contexts (N, context) int64 previous tokens -> (N, V) bool, True for the green tokens.

    seed = hash(key, previous tokens); each token gets the score hash(seed + token id); the n_green tokens with
    the lowest scores are green (an exact fraction, as the paper's random permutation gives)."""
    ctx = torch.as_tensor(contexts)
    if ctx.dim() != 2 or ctx.size(1) != wm.context:
        raise ValueError(f"contexts must have shape (N, {wm.context}), got {tuple(ctx.shape)}")
    c = ctx.cpu().numpy().astype(np.uint64)                                     # (N, h)
    seed = np.full(len(c), _splitmix64(np.array([wm.key % 2**64], dtype=np.uint64))[0], dtype=np.uint64)
    for j in range(c.shape[1]):
        seed = _splitmix64(seed ^ c[:, j])                                      # (N,)
    with np.errstate(over="ignore"):
        scores = _splitmix64(seed[:, None] + np.arange(vocab_size, dtype=np.uint64)[None, :])   # (N, V)
    rank = np.argsort(np.argsort(scores, axis=1, kind="stable"), axis=1, kind="stable")
    return torch.from_numpy(rank < wm.n_green(vocab_size)).to(ctx.device)


# ---------------------------------------------------------------------------------- sampling with the bonus
@torch.no_grad()
def generate(model, idx: torch.Tensor, n_new: int, wm: Watermark | None = None, *, temperature: float = 1.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Extend idx (B, T0) by n_new tokens -> (B, T0 + n_new), adding wm.delta to the green logits at each step.

    The model's own KV-cache loop (GPT.generate) with one extra line; wm=None or delta=0 gives the very same
    draws as model.generate for the same generator. The prompt needs at least wm.context tokens."""
    if not isinstance(n_new, int) or n_new < 0:
        raise ValueError(f"n_new must be a non-negative int, got {n_new!r}")
    if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype != torch.long:
        raise ValueError(f"idx must be an int64 tensor (B, T0), got {getattr(idx, 'shape', type(idx).__name__)}")
    if wm is not None and idx.size(1) < wm.context:
        raise ValueError(f"the prompt needs at least context={wm.context} tokens to seed the green list, "
                         f"got {idx.size(1)}")
    V, bs = model.config.vocab_size, model.config.block_size
    model._check_ids(idx[:, -bs:], 0)                              # bad prompt ids fail here, before any work
    was_training = model.training
    model.eval()
    cache, fresh = KVCache(model.config.n_layer), idx[:, -bs:]
    try:
        for _ in range(n_new):
            if cache.length >= bs:                                  # full: restart from a half window
                cache.length, fresh = 0, idx[:, -max(1, bs // 2):]
            logits, _ = model(fresh, cache=cache, check_ids=False)
            logits = logits[:, -1, :]                                                   # (B, V)
            if wm is not None and wm.delta:
                logits = logits + wm.delta * green_mask(idx[:, -wm.context:], wm, V).to(logits.dtype)
            fresh = sample_next(logits, temperature, generator=generator)               # (B, 1)
            idx = torch.cat([idx, fresh], dim=1)
    finally:
        model.train(was_training)
    return idx


# ---------------------------------------------------------------------------------- detection
@dataclass(frozen=True)
class Detection:
    """A detector's answer. z is None (and watermarked None) when the text is too short to decide."""

    z: float | None
    green: int
    scored: int
    watermarked: bool | None
    verdict: str            # "watermarked" | "no watermark found" | "too short to decide"


def green_hits(ids, wm: Watermark, vocab_size: int, unique: bool = False) -> torch.Tensor:
    """ids (L,) -> (L - context,) bool: is each token after the first `context` in its context's green list.
    unique=True keeps only the first occurrence of each (context, token) pair (Kirchenbauer et al. 2023b:
    a repeated pair carries no new evidence)."""
    ids = torch.as_tensor(ids).long().cpu()
    h = wm.context
    if ids.dim() != 1:
        raise ValueError(f"ids must be one sequence (L,), got shape {tuple(ids.shape)}")
    if len(ids) <= h:
        return torch.zeros(0, dtype=torch.bool)
    if int(ids.min()) < 0 or int(ids.max()) >= vocab_size:
        raise ValueError(f"token ids must be in [0, {vocab_size - 1}], got {int(ids.min())}..{int(ids.max())}")
    ctx = ids.unfold(0, h, 1)[:-1]                                              # (L-h, h)
    hits = green_mask(ctx, wm, vocab_size).gather(1, ids[h:, None])[:, 0]       # (L-h,)
    if unique:
        code = torch.cat([ctx, ids[h:, None]], 1).numpy()                       # (L-h, h+1)
        _, first = np.unique(code, axis=0, return_index=True)
        hits = hits[torch.from_numpy(np.sort(first))]
    return hits


def z_score(green: int, scored: int, gamma: float) -> float:
    """(G - gamma*T) / sqrt(T*gamma*(1-gamma)): how many standard deviations above chance the green count is."""
    return (green - gamma * scored) / (scored * gamma * (1 - gamma)) ** 0.5


def detect(ids, wm: Watermark, *, vocab_size: int = 80, threshold: float = 4.0, min_tokens: int = 16,
           unique: bool = False) -> Detection:
    """Count green tokens in ids (L,) (the first wm.context are context only) and test z > threshold.

    Fewer than min_tokens scored tokens: Detection(z=None, verdict="too short to decide"), never a verdict.
    The threshold should come from `calibrate` on human text; 4.0 is the paper's conservative default."""
    hits = green_hits(ids, wm, vocab_size, unique)
    T, G = len(hits), int(hits.sum())
    if T < max(1, min_tokens):
        return Detection(None, G, T, None, TOO_SHORT)
    z = z_score(G, T, wm.n_green(vocab_size) / vocab_size)
    return Detection(z, G, T, z > threshold, "watermarked" if z > threshold else "no watermark found")


def detect_text(text: str, wm: Watermark, tokenizer, **kwargs) -> Detection:
    """detect() on a string, encoded with the model's tokenizer (a character outside it: ValueError)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    bad = sorted({c for c in text if c not in tokenizer.stoi})
    if bad:
        raise ValueError(f"characters {bad!r} are not in the tokenizer's vocabulary "
                         f"{''.join(tokenizer.itos.values())!r}: this detector cannot score them")
    return detect(torch.tensor(tokenizer.encode(text)), wm, vocab_size=tokenizer.vocab_size, **kwargs)


def z_scores(batch, wm: Watermark, vocab_size: int, unique: bool = False) -> np.ndarray:
    """batch (B, L) -> (B,) z of each row (first wm.context tokens are context only); NaN when nothing is scored."""
    gamma = wm.n_green(vocab_size) / vocab_size
    out = []
    for row in torch.as_tensor(batch):
        hits = green_hits(row, wm, vocab_size, unique)
        out.append(z_score(int(hits.sum()), len(hits), gamma) if len(hits) else float("nan"))
    return np.array(out)


def calibrate(human_z, fpr: float = 0.01) -> float:
    """The threshold that flags a share `fpr` of human texts: the (1 - fpr) empirical quantile of their z
    (the 'higher' order statistic, so at most fpr of the calibration set lies above it)."""
    z = np.asarray(human_z, dtype=float)
    z = z[np.isfinite(z)]
    if len(z) == 0:
        raise ValueError("calibrate needs at least one finite human z-score, got none")
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr!r}")
    return float(np.quantile(z, 1 - fpr, method="higher"))


# ---------------------------------------------------------------------------------- attacks and costs
def replace_tokens(batch, share: float, vocab_size: int, generator: torch.Generator | None = None,
                   start: int = 0) -> torch.Tensor:
    """A paraphrase in miniature: each token at position >= start is replaced, with probability `share`, by a
    different token drawn uniformly from the vocabulary. batch (B, L) -> (B, L) (a new tensor)."""
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1], got {share!r}")
    x = torch.as_tensor(batch).clone()
    hit = torch.rand(x.shape, generator=generator) < share
    hit[:, :start] = False
    shift = torch.randint(1, vocab_size, x.shape, generator=generator)          # never the same token
    x[hit] = (x[hit] + shift[hit]) % vocab_size
    return x


@torch.no_grad()
def next_token_logprobs(model, ids: torch.Tensor) -> torch.Tensor:
    """ids (B, L) -> (B, L-1, V) log-probabilities of each next token under the model, from windows of
    block_size tokens sliding by half a block (every token after the first half-block sees at least half a
    block of context; the first ones see what there is)."""
    bs, L = model.config.block_size, ids.size(1)
    half = max(1, bs // 2)
    out = torch.empty(ids.size(0), L - 1, model.config.vocab_size)
    was_training = model.training
    model.eval()
    try:
        start = 0
        while True:
            win = ids[:, start:start + bs]                                       # (B, <=bs)
            logp = F.log_softmax(model(win)[0][:, :-1].float(), dim=-1).cpu()    # (B, w-1, V)
            keep = 0 if start == 0 else half - 1                                # targets already covered
            out[:, start + keep: start + win.size(1) - 1] = logp[:, keep:]
            if start + bs >= L:
                return out
            start += half
    finally:
        model.train(was_training)


def token_nll(model, ids: torch.Tensor) -> torch.Tensor:
    """ids (B, L) -> (B, L-1) nats of each next token under the model."""
    return -next_token_logprobs(model, ids).gather(2, ids[:, 1:, None].cpu())[..., 0]


def token_entropy(model, ids: torch.Tensor) -> torch.Tensor:
    """ids (B, L) -> (B, L-1) the model's entropy (nats) before each next token: how much room a watermark has."""
    logp = next_token_logprobs(model, ids)
    return -(logp.exp() * logp).sum(-1)


def perplexity(model, ids: torch.Tensor, start: int) -> float:
    """exp(mean nats) of the tokens at positions >= start of ids (B, L) under the model (e.g. the
    continuation after a prompt of `start` tokens)."""
    return float(torch.exp(token_nll(model, ids)[:, start - 1:].mean()))
