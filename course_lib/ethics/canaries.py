"""Canaries: measure how much a language model memorised, in bits (Carlini et al. 2019, "The secret sharer").

The format is fixed first, so that exposure is defined: a canary is one line
    "the secret code is 4 8 1 5 9 2"
whose secret is 6 digits drawn uniformly: a randomness space R of 10**6 candidates. The model's
log-perplexity of a candidate line (its negative log-likelihood in bits, given a newline before it)
ranks all candidates; exposure = log2 |R| - log2 rank(canary) (rank 1 = likeliest: the full log2 |R| ≈ 19.9
bits, and the secret can be read off by search). An unseen canary has an expected exposure of about 1.4 bits.

Ranking all 10**6 candidates is too slow for a notebook, so `exposure` uses the paper's sampling estimate:
score m candidates drawn uniformly from R (with replacement), estimate the fraction f of R that is at least
as likely as the canary, and report -log2 f. With m samples the sampled estimate saturates at log2(m + 1)
when the canary beats every sample; `exposure` then also gives the paper's extrapolation (Section 4.3.2):
a skew-normal fitted to the sampled log-perplexities, exposure = -log2 CDF(canary's log-perplexity).
"""
from __future__ import annotations

import math
import random

import torch
import torch.nn.functional as F

PREFIX = "the secret code is "
N_DIGITS = 6
SPACE = 10 ** N_DIGITS                              # |R|: the randomness space of a secret


def canary_line(secret) -> str:
    """The canary for a secret: an int in [0, 10**6) or a 6-digit string ('481592' or '4 8 1 5 9 2')."""
    if isinstance(secret, bool):
        raise TypeError(f"secret must be an int or a string of {N_DIGITS} digits, got {secret!r}")
    if isinstance(secret, int):
        if not 0 <= secret < SPACE:
            raise ValueError(f"secret must be in [0, {SPACE}), got {secret}")
        digits = f"{secret:0{N_DIGITS}d}"
    elif isinstance(secret, str):
        digits = secret.replace(" ", "")
        if len(digits) != N_DIGITS or not digits.isdigit() or not digits.isascii():
            raise ValueError(f"secret must be {N_DIGITS} digits 0-9, got {secret!r}")
    else:
        raise TypeError(f"secret must be an int or a string of {N_DIGITS} digits, got {type(secret).__name__}")
    return PREFIX + " ".join(digits)


def random_secrets(n: int, *, seed: int = 0) -> list[int]:
    """n distinct secrets drawn uniformly from R (seeded)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= SPACE:
        raise ValueError(f"n must be an int in 1..{SPACE}, got {n!r}")
    return random.Random(seed).sample(range(SPACE), n)


def check_encodable(text: str, tokenizer) -> list[int]:
    """The tokenizer's ids of text, or a ValueError naming the characters it cannot encode."""
    chars = getattr(tokenizer, "stoi", None)
    if chars is not None:
        missing = sorted(set(text) - set(chars))
        if missing:
            raise ValueError(f"the canary {text!r} has characters outside the tokenizer: {missing}; "
                             f"expected only characters of its vocabulary ({len(chars)} characters)")
    try:
        return tokenizer.encode(text)
    except (ValueError, KeyError) as err:
        raise ValueError(f"the canary {text!r} cannot be encoded by the tokenizer: {err}") from None


def plant(lines: list[str], canaries: dict[str, int], *, seed: int = 0) -> list[str]:
    """The training lines with each canary line inserted `repetitions` times at random places (seeded);
    canaries = {canary_line: repetitions}. Repetitions 0 are allowed (a control canary never seen)."""
    if isinstance(lines, str):
        raise TypeError("lines must be a list of strings (one line each), got one string: split it first")
    rng = random.Random(seed)
    out = list(lines)
    for text, k in canaries.items():
        if "\n" in text:
            raise ValueError(f"a canary is one line, got a newline in {text!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"repetitions must be an int >= 0, got {k!r} for {text!r}")
        for _ in range(k):
            out.insert(rng.randrange(len(out) + 1), text)
    return out


def deduplicate(lines: list[str]) -> list[str]:
    """The lines with exact repeats removed (first occurrence kept, order kept): the first mitigation.
    A canary planted k times is then seen once, so its exposure falls to that of a 1-repetition canary;
    near-duplicates (a changed comma) survive exact deduplication."""
    if isinstance(lines, str):
        raise TypeError("lines must be a list of strings (one line each), got one string: split it first")
    return list(dict.fromkeys(lines))


@torch.no_grad()
def log_perplexity(model, tokenizer, texts: list[str], *, batch_size: int = 1024) -> torch.Tensor:
    """(len(texts),) negative log2-likelihood in bits of each line given a newline before it. Lines of one
    length (candidates of one format) batch together. The model reads at most block_size tokens."""
    model.eval()
    device = next(model.parameters()).device
    nl = tokenizer.encode("\n")
    rows = [nl + check_encodable(t, tokenizer) for t in texts]
    T = model.config.block_size
    if any(len(r) - 1 > T for r in rows):
        raise ValueError(f"a line is longer than the model's block_size {T}")
    out = torch.empty(len(rows))
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        L = max(len(r) for r in chunk)
        ids = torch.zeros(len(chunk), L, dtype=torch.long)
        tgt = torch.full((len(chunk), L - 1), -1, dtype=torch.long)
        for j, r in enumerate(chunk):
            ids[j, : len(r)] = torch.tensor(r)
            tgt[j, : len(r) - 1] = torch.tensor(r[1:])
        logits, _ = model(ids[:, :-1].to(device))                                   # (B, L-1, V)
        nll = F.cross_entropy(logits.transpose(1, 2), tgt.to(device), ignore_index=-1, reduction="none")
        out[i:i + len(chunk)] = (nll.sum(1) / math.log(2)).cpu()                     # nats -> bits
    return out


def exposure(model, tokenizer, secret, *, samples: int = 2000, seed: int = 0) -> dict:
    """Exposure of the canary with this secret, estimated from `samples` random candidates.

    Returns {"secret", "log_perplexity" (bits), "rank_in_sample" (1 + candidates strictly likelier; ties,
    within 1e-4 bits, count one half in the fraction),
    "exposure" (sampled: -log2 of the estimated fraction of R at least as likely, at most log2(samples + 1)),
    "exposure_extrapolated" (skew-normal fit, can exceed the sampled cap; capped at log2 |R|),
    "max_exposure" (log2 |R|)}."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 10:
        raise ValueError(f"samples must be an int >= 10, got {samples!r}")
    line = canary_line(secret)
    gen = random.Random(seed)
    cands = [canary_line(gen.randrange(SPACE)) for _ in range(samples)]
    lp = log_perplexity(model, tokenizer, [line] + cands)
    own, others = float(lp[0]), lp[1:]
    close = (others - own).abs() <= 1e-4                # equal up to float noise: a tie counts one half
    better = int((others < own).logical_and(~close).sum())
    frac = (better + 0.5 * int(close.sum()) + 1) / (samples + 1)   # the canary counts itself: never 0
    return {"secret": " ".join(line[len(PREFIX):].split()), "log_perplexity": own,
            "rank_in_sample": better + 1, "exposure": -math.log2(frac),
            "exposure_extrapolated": _extrapolated(own, others, -math.log2(frac)), "max_exposure": math.log2(SPACE)}


def _extrapolated(own: float, others: torch.Tensor, sampled: float) -> float:
    """-log2 P(a random candidate's log-perplexity <= own) under a skew-normal fit (Carlini et al. 2019).
    Candidates without spread (a model indifferent to the digits) cannot be fitted: the sampled estimate."""
    from scipy import stats
    if float(others.std()) < 1e-6:
        return sampled
    try:
        a, loc, scale = stats.skewnorm.fit(others.double().numpy())
    except stats.FitError:
        return sampled
    log_cdf = float(stats.skewnorm.logcdf(own, a, loc, scale))
    return min(-log_cdf / math.log(2), math.log2(SPACE))


@torch.no_grad()
def greedy_completion(model, tokenizer, prompt: str, n_chars: int) -> str:
    """The model's greedy (argmax) continuation of prompt, read after a newline: n_chars tokens."""
    model.eval()
    ids = torch.tensor([tokenizer.encode("\n") + check_encodable(prompt, tokenizer)], dtype=torch.long)
    out = model.generate(ids.to(next(model.parameters()).device), n_chars, temperature=0.0)
    return tokenizer.decode(out[0, ids.size(1):].tolist())


def extract_secret(model, tokenizer) -> str:
    """The digits the model writes after the prefix 'the secret code is ' when decoding greedily
    ('4 8 1 5 9 2' form). A canary is extractable when this equals its secret."""
    return greedy_completion(model, tokenizer, PREFIX, 2 * N_DIGITS - 1)


def longest_common_substring(text: str, corpus: str) -> int:
    """Length of the longest substring of `text` that occurs verbatim in `corpus` (binary search on the
    length: a substring that occurs has every shorter piece occurring too)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if any(text[i:i + mid] in corpus for i in range(len(text) - mid + 1)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def verbatim_extraction(model, tokenizer, lines: list[str], corpus: str, *, prefix_chars: int = 20,
                        n_chars: int = 40) -> list[int]:
    """For each line (at least prefix_chars long): prompt with its first prefix_chars characters, decode
    n_chars greedily, and return the longest common substring of the continuation with `corpus` (the
    training text). Compare training lines against held-out lines: the gap is what was memorised."""
    out = []
    for line in lines:
        if len(line) < prefix_chars:
            raise ValueError(f"each line needs at least prefix_chars={prefix_chars} characters, got {line!r}")
        cont = greedy_completion(model, tokenizer, line[:prefix_chars], n_chars)
        out.append(longest_common_substring(cont, corpus))
    return out


def likeliest_secrets(model, tokenizer, k: int = 10) -> list[str]:
    """The k secrets the model finds likeliest after the prefix, by beam search over the 6 digits (width k,
    each partial line scored by its exact log-perplexity): the attacker's k guesses. With several canaries
    planted behind one prefix, greedy decoding finds only the likeliest; a canary is extractable within
    k guesses when its secret is in this list."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise ValueError(f"k must be an int in 1..1000, got {k!r}")
    beams = [""]
    for _ in range(N_DIGITS):
        cands = [b + d for b in beams for d in "0123456789"]
        lp = log_perplexity(model, tokenizer, [PREFIX + " ".join(c) for c in cands])
        beams = [cands[i] for i in torch.argsort(lp, stable=True)[:k].tolist()]
    return [" ".join(b) for b in beams]
