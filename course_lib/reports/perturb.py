"""Change exactly one fact of a text: a number, a direction word, a ticker or a date.

A checker is only worth something if it catches a single wrong fact; `perturb` makes such texts from
correct ones (the tests run it on many seeds; the notebook shows what the checker says about them).
"""
from __future__ import annotations

import datetime as dt
import random
import re

from course_lib.data.stocks import NAMES, TICKERS
from course_lib.reports.checker import DATE, DOWN, FLAT, KNOWN, NUMBER, UP

OPPOSITE = {"rose": "fell", "rise": "fall", "rises": "falls", "gained": "lost", "gain": "loss", "gains": "slips",
            "climbed": "slipped", "climbs": "drops", "advanced": "declined", "advances": "declines",
            "rallied": "slid", "rallies": "slides", "jumped": "dropped", "jump": "slide", "jumps": "drops",
            "added": "lost", "higher": "lower", "up": "down", "flat": "higher", "unchanged": "lower",
            "steady": "higher"}
OPPOSITE.update({v: k for k, v in list(OPPOSITE.items()) if v in DOWN and k in UP})
OPPOSITE.update({"eased": "rose", "retreated": "climbed", "sank": "jumped", "fall": "rise", "slip": "gain"})
assert set(OPPOSITE) >= UP | DOWN | FLAT, sorted(UP | DOWN | FLAT - set(OPPOSITE))


def _new_number(num: str, rng: random.Random, nonneg: bool) -> str:
    decimals = len(num.split(".")[1]) if "." in num else 0
    v = float(num.replace(",", ""))
    step = max(0.15 * abs(v), 20 * 10 ** -decimals)             # far outside the checker's half-unit tolerance
    delta = step * rng.uniform(1.0, 2.0) * (1 if (nonneg and v - 2 * step < 0) or rng.random() < 0.5 else -1)
    return f"{v + delta:.{decimals}f}"


def perturb(text: str, rng: random.Random | None = None) -> tuple[str, str]:
    """(changed text, what was changed): one fact replaced by a wrong one; ValueError if there is none."""
    rng = rng or random.Random(0)
    edits = []                                               # (start, end, replacement, description)
    for m in NUMBER.finditer(text):
        if DATE.search(text[max(0, m.start() - 12):m.end() + 6]) and not m.group(2) and not m.group(4):
            continue                                         # a part of a date: dates are edited whole
        new = _new_number(m.group(3), rng, nonneg=True)      # a sign is written apart
        edits.append((m.start(3), m.end(3), new, f"number {m.group(3)} -> {new}"))
    for m in re.finditer(r"[A-Za-z]+", text):
        w = m.group(0)
        if w.lower() in OPPOSITE and w.islower():
            edits.append((m.start(), m.end(), OPPOSITE[w.lower()], f"direction {w} -> {OPPOSITE[w.lower()]}"))
        elif w in KNOWN and KNOWN[w] in TICKERS:
            other = rng.choice([t for t in TICKERS if t != KNOWN[w]])
            new = other if w in TICKERS else NAMES[other]
            edits.append((m.start(), m.end(), new, f"ticker {w} -> {new}"))
    for m in re.finditer(r"\b\d{4}-\d{2}-\d{2}\b", text):
        new = (dt.date.fromisoformat(m.group(0)) + dt.timedelta(days=7 * rng.choice([-2, -1, 1, 2]))).isoformat()
        edits.append((m.start(), m.end(), new, f"date {m.group(0)} -> {new}"))
    if not edits:
        raise ValueError(f"no fact to change in {text!r}")
    start, end, new, what = rng.choice(edits)
    return text[:start] + new + text[end:], what
