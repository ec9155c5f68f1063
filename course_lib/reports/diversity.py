"""distinct-n (Li et al. 2016): the share of a corpus's word n-grams that are different from each other.

A generator that always writes the same sentence frame scores low even when its numbers vary; one that
phrases facts many ways scores high. Compare corpora of the same size (the score falls as a corpus grows).
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+|\$?\d[\d.,]*%?|<[A-Z]+>|[^\sA-Za-z\d]")


def words(text: str) -> list[str]:
    """Lower-cased words, numbers (with their $ or %) and punctuation marks, in order."""
    return [w.lower() for w in _WORD.findall(text)]


def distinct_n(texts, n: int = 2) -> float:
    """Distinct n-grams / all n-grams over all texts (n-grams do not cross texts); 0.0 when there are none."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, got one string (wrap it in a list)")
    seen, total = set(), 0
    for t in texts:
        w = words(t)
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0
