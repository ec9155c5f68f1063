"""Images with captions written from their attributes, so every caption is true of its image.

A captioned set keeps the attributes themselves (integer labels, one tensor per attribute) beside the
captions: a retrieval hit or a zero-shot answer is then checked against the truth, not against a string.
Captions come from a small grammar: templates with slots ("a {size} {colour} {shape} {position}") and a
few phrasings per attribute value ("small" or "little"). Phrasings are drawn from a seeded generator, so
the same seed gives the same captions; `phrasing=None` gives the one canonical caption of a combination
(first template, first phrasing), which is what queries and zero-shot class prompts use.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from course_lib.tokenizers import split_words


_SLOT = re.compile(r"\{(\w+)(?::(\w+))?\}")  # {attr} or {attr:variant}


@dataclass(frozen=True)
class CaptionGrammar:
    """Templates and phrasings; `values[attr]` names each integer value of an attribute.

    templates: strings with {attr} slots; every template must mention every attribute. A slot may name a
               variant, {relation:inverse}, whose phrasings are under phrases["relation:inverse"] (so
               "A left of B" can also be written "B right of A").
    phrases:   slot -> one tuple of phrasings per value of its attribute (a phrasing may be several words).
    """

    values: dict[str, tuple[str, ...]]
    phrases: dict[str, tuple[tuple[str, ...], ...]]
    templates: tuple[str, ...]

    def __post_init__(self):
        for t in self.templates:
            slots = [m.group(0)[1:-1] for m in _SLOT.finditer(t)]
            missing = set(self.values) - {s.split(":")[0] for s in slots}
            unknown = [s for s in slots if s not in self.phrases]
            if missing or unknown:
                raise ValueError(f"template {t!r} must mention every attribute {sorted(self.values)} through "
                                 f"known slots {sorted(self.phrases)}; missing {sorted(missing)}, unknown {unknown}")
        for slot, per_value in self.phrases.items():
            names = self.values[slot.split(":")[0]]
            if len(per_value) != len(names) or not all(per_value):
                raise ValueError(f"slot {slot!r} needs at least one phrasing for each of its values {names}")

    def words(self) -> list[str]:
        """Every word this grammar can write, sorted: the vocabulary of a word tokenizer."""
        text = " ".join(_SLOT.sub(" ", t) for t in self.templates) + " " + " ".join(
            p for per_value in self.phrases.values() for options in per_value for p in options)
        return sorted(set(split_words(text)))

    def caption(self, attrs: dict[str, int], rng: np.random.Generator | None = None) -> str:
        """One caption of one combination; rng None: the canonical phrasing."""
        def pick(options):
            return options[0] if rng is None else options[rng.integers(len(options))]

        def fill(m):
            slot = m.group(0)[1:-1]
            return pick(self.phrases[slot][int(attrs[slot.split(":")[0]])])
        text = " ".join(_SLOT.sub(fill, pick(self.templates)).split())
        return text.replace(" ,", ",")

    def captions(self, attributes: dict[str, torch.Tensor], seed: int | None = 0) -> list[str]:
        """A caption per row of the attribute tensors (each (N,) int64); seed None: canonical phrasings."""
        rng = None if seed is None else np.random.default_rng(seed)
        cols = {a: attributes[a].tolist() for a in self.values}
        n = len(next(iter(cols.values())))
        return [self.caption({a: cols[a][i] for a in cols}, rng) for i in range(n)]

    def combinations(self) -> list[dict[str, int]]:
        """Every combination of attribute values, in a fixed order (for zero-shot class prompts)."""
        names = list(self.values)
        ranges = [range(len(self.values[a])) for a in names]
        return [dict(zip(names, combo)) for combo in itertools.product(*ranges)]


@dataclass
class CaptionedData:
    """Images, one caption each, and the attributes the captions were written from.

    images:     (N, C, H, W) float32 in [0, 1]
    captions:   N strings
    attributes: attribute name -> (N,) int64 (value v of attribute a is called grammar.values[a][v])
    """

    images: torch.Tensor
    captions: list[str]
    attributes: dict[str, torch.Tensor]
    grammar: CaptionGrammar
    name: str
    notes: dict = field(default_factory=dict)   # e.g. the thresholds an attribute was bucketed with

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def labels(self) -> torch.Tensor:
        """The first attribute (the digit, the shape) as (N,) int64, for code that wants one label."""
        return next(iter(self.attributes.values()))

    def words(self) -> list[str]:
        return self.grammar.words()

    def recaption(self, seed: int | None) -> list[str]:
        """The same attributes in other phrasings (a fresh draw per seed; None: canonical)."""
        return self.grammar.captions(self.attributes, seed)

    def combination_ids(self) -> torch.Tensor:
        """(N,) int64: one id per distinct combination of attribute values (equal ids = same caption truth)."""
        sizes = [len(v) for v in self.grammar.values.values()]
        ids = torch.zeros(len(self), dtype=torch.long)
        for attr, size in zip(self.grammar.values, sizes):
            ids = ids * size + self.attributes[attr]
        return ids

    def __repr__(self) -> str:
        attrs = ", ".join(f"{a}: {len(v)}" for a, v in self.grammar.values.items())
        return f"CaptionedData(name={self.name!r}, images={tuple(self.images.shape)}, attributes={{{attrs}}})"


def check_count(n, what: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int (number of images), got {n!r}")
    return n


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return seed
