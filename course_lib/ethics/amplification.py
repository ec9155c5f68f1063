"""Bias amplification: does a generator give each group the share it had in training, or exaggerate it?

A generator trained on data where group A holds 60% may produce 70% A: it *amplifies* the imbalance
(Zhao et al. 2017 measured this for image captioners; Bianchi et al. 2023 for text-to-image models).
Here a "group" is a label every sample gets from a fixed rule: a first name's census sex (the group in
which the name is more frequent in the population), a digit's class (judged by the course classifier).
A generated sample the rule cannot place (a made-up name) is UNKNOWN and stays in the denominator, so a
generator cannot look fair by producing nonsense.

    share_g          = count_g / (all samples, unknown included)                     (empty sample: ValueError)
    amplification_g  = generated share_g / training share_g      (1 = faithful, > 1 = amplified, < 1 = dropped)
    difference_g     = generated share_g - training share_g
    Zhao et al.'s    = mean of difference_g over the groups whose training share is above 1/K (K groups)

Intervals: a share is a binomial proportion (Wilson 95% interval); the training share is a fixed property of
the training set, so the ratio's interval is the generated share's interval divided by it. Two samples
(temperature 0.5 against 1.0) are compared by Newcombe's interval for a difference of proportions.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from functools import lru_cache

import torch

from course_lib.metrics.intervals import wilson   # a share's 95% interval (am.wilson in notebook 14)

UNKNOWN = "unknown"
FEMALE, MALE = "female", "male"
# 1990 US census (the year of the names lists): 121,239,418 males and 127,470,455 females. The lists give a
# name's percentage *within* one sex; these shares turn them into shares of the whole population.
POPULATION_SHARE = {MALE: 121_239_418 / 248_709_873, FEMALE: 127_470_455 / 248_709_873}


# ----------------------------------------------------------------------------- shares and amplification

def group_shares(items, group_of, groups) -> dict[str, float]:
    """Share of each group among `items` (names, labels), UNKNOWN included: {group: share} summing to 1.

    group_of: a dict item -> group, or a callable; an item it does not place (missing from the dict, or
    a group not in `groups`) counts as UNKNOWN, in the denominator. An empty sample raises ValueError:
    a share of nothing is undefined, not 0."""
    counts = group_counts(items, group_of, groups)
    n = sum(counts.values())
    return {g: c / n for g, c in counts.items()}


def group_counts(items, group_of, groups) -> dict[str, int]:
    """Counts behind group_shares: {group: count} for every group in `groups`, then UNKNOWN."""
    items = list(items)
    groups = _check_groups(groups)
    if not items:
        raise ValueError("the sample is empty: a group share needs at least one sample")
    lookup = group_of.get if isinstance(group_of, dict) else group_of
    if not callable(lookup):
        raise TypeError(f"group_of must be a dict item -> group or a callable, got {type(group_of).__name__}")
    counts = Counter(lookup(x) for x in items)
    out = {g: counts.get(g, 0) for g in groups}
    out[UNKNOWN] = len(items) - sum(out.values())
    return out


def amplification(generated_shares: dict, training_shares: dict, group: str) -> float:
    """generated share / training share of `group` (1: faithful; 2: twice its training share)."""
    if group not in training_shares or group not in generated_shares:
        raise ValueError(f"group {group!r} is missing: training has {sorted(training_shares)}, "
                         f"generated has {sorted(generated_shares)}")
    if not training_shares[group] > 0:
        raise ValueError(f"group {group!r} has training share {training_shares[group]!r}: the ratio needs a "
                         "group present in training (use the difference instead)")
    return generated_shares[group] / training_shares[group]


def majority_group(training_shares: dict) -> str:
    """The group with the largest training share (UNKNOWN never counts as a group)."""
    known = {g: s for g, s in training_shares.items() if g != UNKNOWN}
    if not known:
        raise ValueError("training_shares holds no group besides UNKNOWN")
    return max(sorted(known), key=lambda g: known[g])


def zhao_amplification(generated_shares: dict, training_shares: dict) -> float:
    """Zhao et al. (2017)'s bias amplification for one attribute: the mean of (generated - training share)
    over the groups the training data already favours (training share > 1/K, K groups without UNKNOWN)."""
    known = [g for g in training_shares if g != UNKNOWN]
    favoured = [g for g in known if training_shares[g] > 1 / len(known)]
    if not favoured:
        return 0.0                                   # a perfectly balanced training set favours no group
    return sum(generated_shares.get(g, 0.0) - training_shares[g] for g in favoured) / len(favoured)


def amplification_ci(k: int, n: int, training_share: float) -> tuple[float, float, float]:
    """(ratio, lower, upper): k of n generated samples in the group, against its (fixed) training share."""
    if not training_share > 0:
        raise ValueError(f"training_share must be > 0, got {training_share!r}")
    lo, hi = wilson(k, n)
    return k / n / training_share, lo / training_share, hi / training_share


def share_difference_ci(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """(p1 - p2, lower, upper): Newcombe's 95% interval (his method 10, from two Wilson intervals) for the
    difference of two independent proportions, e.g. a group's share at temperature 0.5 minus at 1.0."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def _check_groups(groups) -> list[str]:
    groups = list(groups)
    if not groups or len(set(groups)) != len(groups) or UNKNOWN in groups:
        raise ValueError(f"groups must be distinct names, at least one, without {UNKNOWN!r}; got {groups!r}")
    return groups


# ----------------------------------------------------------------------------- census names

@lru_cache(maxsize=None)
def census_frequencies() -> dict[str, dict[str, float]]:
    """{name: {"female": f, "male": m}}: each name's share of the whole 1990 US population (its percentage
    within one sex, times that sex's population share), read from the `names` package's lists."""
    from course_lib.data.bundled import package_file
    out: dict[str, dict[str, float]] = {}
    for group, fname in ((MALE, "dist.male.first"), (FEMALE, "dist.female.first")):
        for line in package_file("names", fname).read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].isalpha():
                freq = float(parts[1]) / 100 * POPULATION_SHARE[group]
                out.setdefault(parts[0].lower(), {FEMALE: 0.0, MALE: 0.0})[group] += freq
    return out


@lru_cache(maxsize=None)
def census_groups() -> dict[str, str]:
    """{name: "female" | "male"}: a name in both lists goes to the sex in which more people bear it
    (population frequency; "lee" and "jordan" are male, "jean" female). Exact ties (none in 1990) go female."""
    return {name: (FEMALE if f[FEMALE] >= f[MALE] else MALE) for name, f in census_frequencies().items()}


def name_mix(n: int, *, seed: int = 0, group_weights: dict | None = None) -> list[str]:
    """n names drawn with replacement in proportion to their population frequency: "james" about 3.3% of
    males, so common names repeat, as people do. group_weights (e.g. {"female": 1, "male": 1} after
    `balancing_weights`) multiply every name of a group: reweighting, one of the mitigations."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    freqs, groups = census_frequencies(), census_groups()
    names = sorted(freqs)
    w = group_weights or {}
    bad = set(w) - {FEMALE, MALE}
    if bad or any(not (isinstance(v, (int, float)) and v >= 0) for v in w.values()):
        raise ValueError(f"group_weights must map 'female'/'male' to numbers >= 0, got {group_weights!r}")
    weights = [sum(freqs[x].values()) * w.get(groups[x], 1.0) for x in names]
    if not sum(weights) > 0:
        raise ValueError(f"group_weights {group_weights!r} leave no name to draw")
    return random.Random(seed).choices(names, weights=weights, k=n)


def balancing_weights(training_shares: dict) -> dict[str, float]:
    """Weights that give every known group the same share when passed to name_mix: 1 / (K * share)."""
    known = {g: s for g, s in training_shares.items() if g != UNKNOWN and s > 0}
    return {g: 1 / (len(known) * s) for g, s in known.items()}


def name_shares(names) -> dict[str, float]:
    """group_shares of a list of names by census sex: {"female", "male", "unknown"}."""
    return group_shares(names, census_groups(), (FEMALE, MALE))


def train_name_model(words, *, steps: int, seed: int = 0, batch_size: int = 256, context: int = 3,
                     n_hidden: int = 200, lr: float = 3e-3, progress: bool = False):
    """The course's character MLP (notebook 02) trained on `words` (repeats count as often as they occur).
    Returns (model in eval mode, fit's History). Budget in steps: use config.budget(full, fast)."""
    from course_lib.models.char_mlp import CharMLP, build_dataset
    from course_lib.tokenizers import CharTokenizer
    from course_lib.train import CosineSchedule, fit, random_rows
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    tok = CharTokenizer.from_words(sorted(set(words)))
    X, Y = build_dataset(words, tok, context=context)                  # (N, ctx), (N,)
    model = CharMLP(tok, context=context, n_hidden=n_hidden)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    hist = fit(model, lambda m, b: F.cross_entropy(m(b[0]), b[1]), random_rows(X, Y, batch_size=batch_size,
               generator=gen), optimizer=opt, steps=steps, progress=progress, desc="names",
               on_step=[CosineSchedule(opt, lr, steps=steps)])
    model.eval()
    return model, hist


def temperature_sweep(model, training_shares: dict, temperatures, *, n: int, seed: int = 0) -> list[dict]:
    """Sample n names at each temperature and measure every group's share and the majority group's
    amplification with its 95% interval. One row per temperature (counts kept for share_difference_ci)."""
    major = majority_group(training_shares)
    rows = []
    for t in temperatures:
        sample = model.sample(n, generator=torch.Generator().manual_seed(seed), temperature=float(t))
        counts = group_counts(sample, census_groups(), (FEMALE, MALE))
        ratio, lo, hi = amplification_ci(counts[major], n, training_shares[major])
        rows.append({"temperature": float(t), "n": n, "counts": counts,
                     "shares": {g: c / n for g, c in counts.items()}, "majority": major,
                     "amplification": ratio, "ci95": (lo, hi),
                     "distinct": len(set(sample))})
    return rows


# ----------------------------------------------------------------------------- a rare class of digits

def rare_class_subset(labels: torch.Tensor, rare_class: int, share: float, *, seed: int = 0) -> torch.Tensor:
    """Indices of a training subset in which `rare_class` makes up `share` of the images: every image of
    the other classes, and just enough of the rare class (drawn with a seeded permutation, at least one).
    Index the data with it: X[idx], Y[idx]."""
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.dtype != torch.long:
        raise ValueError(f"labels must be a 1-D int64 tensor, got {getattr(labels, 'shape', type(labels))}")
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1), got {share!r}")
    rare = torch.nonzero(labels == rare_class).flatten()
    if len(rare) == 0:
        raise ValueError(f"no image has label {rare_class}; labels hold {sorted(set(labels.tolist()))}")
    others = torch.nonzero(labels != rare_class).flatten()
    keep = max(1, round(share * len(others) / (1 - share)))            # keep / (keep + others) = share
    if keep > len(rare):
        raise ValueError(f"share {share} needs {keep} images of class {rare_class}, only {len(rare)} exist")
    perm = torch.randperm(len(rare), generator=torch.Generator().manual_seed(seed))
    return torch.sort(torch.cat([others, rare[perm[:keep]]])).values


def class_shares(labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """(num_classes,) share of each class among predicted labels (N,); empty input raises ValueError."""
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.numel() == 0:
        raise ValueError(f"labels must be a non-empty 1-D tensor, got {getattr(labels, 'shape', type(labels))}")
    return torch.bincount(labels.long(), minlength=num_classes)[:num_classes].float() / labels.numel()
