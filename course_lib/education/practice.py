"""Practice items written by a model from a difficulty control code, verified by the exact solver before release.

The control code says how hard an item should be: ``"d3c2:"`` asks for a sum whose longer operand has 3 digits
and that carries in 2 columns; the model writes the item and its answer key, ``"358+67=425"``. A generated
exercise with a wrong answer key is the tutor's worst bug (a child marked wrong for a right answer), so every
item is checked (key against the solver, difficulty against the code) and only verified items are released;
the audit counts both BEFORE verification so the generator's own quality is on record.

    model, tok, hist = recipes.arithmetic.train_practice_gpt(seconds=150)          # training and sampling live
    items = recipes.arithmetic.generate_items(model, tok, digits=3, carries=2, n=100)  # in the recipe
    audit(items)                                                     # shares before verification, released
    release(items)                                                   # only the verified ones

Measured (benchmarks/education.py: 5,000 steps, about 120 s on one thread; 100 items per code d1c0..d3c3 at
temperature 1): before verification 54.0% of the 900 keys were right and 82.7% of the items had the requested
difficulty; 486 items were released, every one verified. The keys go wrong mostly on 3-digit items: the key is
written most significant digit first, the order the plain-format model also found hard.
"""
from __future__ import annotations

import numpy as np

from . import arithmetic as ar

MAX_TRAIN_DIGITS = 3


def check_difficulty(digits, carries) -> tuple[int, int]:
    """(digits, carries) if some sum can have them, else a ValueError a student understands."""
    for name, v in (("digits", digits), ("carries", carries)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be a whole number, got {type(v).__name__} {v!r}")
    if digits < 1:
        raise ValueError(f"a sum needs numbers with at least 1 digit, asked for digits={digits}")
    if not 0 <= carries <= digits:
        raise ValueError(f"a sum of {digits}-digit numbers has {digits} columns, so it can carry in 0 to "
                         f"{digits} of them; asked for carries={carries}")
    return digits, carries


def control_code(digits: int, carries: int) -> str:
    """The prompt that asks for an item: ``control_code(3, 2) == "d3c2:"``."""
    digits, carries = check_difficulty(digits, carries)
    return f"d{digits}c{carries}:"


def item_text(x: int, y: int) -> str:
    """An item as the model writes it: ``"358+67=425"`` (sum, then its answer key)."""
    return f"{x}+{y}={ar.solve(x, y)}"


def sample_item(rng: np.random.Generator, digits: int, carries: int, max_tries: int = 10_000) -> tuple[int, int]:
    """A random (x, y) of the requested difficulty by rejection: the longer operand has `digits` digits, the
    other 1..digits (either order). Every feasible code is accepted often enough (all carries: about 1 in 10
    at 3 digits)."""
    check_difficulty(digits, carries)
    for _ in range(max_tries):
        a = ar.random_number(rng, digits)
        b = ar.random_number(rng, int(rng.integers(1, digits + 1)))
        if ar.difficulty(a, b) == (digits, carries):
            return (a, b) if rng.random() < 0.5 else (b, a)
    raise RuntimeError(f"no item with digits={digits}, carries={carries} found in {max_tries} draws")


def training_codes(max_digits: int = MAX_TRAIN_DIGITS) -> list[tuple[int, int]]:
    """Every feasible (digits, carries) up to max_digits: the codes the generator is trained on."""
    return [(d, c) for d in range(1, max_digits + 1) for c in range(d + 1)]


def parse_item(text: str) -> tuple[int, int, int] | None:
    """``"358+67=425"`` -> (358, 67, 425); None when the text is not a sum with a whole-number key."""
    if not isinstance(text, str) or text.count("=") != 1:
        return None
    left, key = text.split("=")
    try:
        x, y = ar.parse_sum(left)
    except ValueError:
        return None
    return (x, y, int(key)) if key.isdigit() and key.isascii() else None


def check_item(text: str, digits: int, carries: int) -> dict:
    """One written item against the request: readable, key right (solver), difficulty as asked, verified (all)."""
    parsed = parse_item(text)
    row = {"text": text, "requested": (digits, carries), "readable": parsed is not None, "key_right": False,
           "difficulty": None, "difficulty_match": False}
    if parsed is not None:
        x, y, key = parsed
        row.update(key_right=key == ar.solve(x, y), difficulty=ar.difficulty(x, y))
        row["difficulty_match"] = row["difficulty"] == (digits, carries)
    row["verified"] = row["key_right"] and row["difficulty_match"]
    return row


def release(items: list[dict]) -> list[dict]:
    """Only the verified items: the ones a learner may see."""
    return [it for it in items if it["verified"]]


def audit(items: list[dict]) -> dict:
    """Shares BEFORE verification (readable, key right, difficulty as requested, both) and what is released."""
    if not items:
        raise ValueError("audit needs at least one generated item, got none")
    n = len(items)
    released = release(items)
    return {"n": n, "readable": sum(i["readable"] for i in items) / n,
            "key_right": sum(i["key_right"] for i in items) / n,
            "difficulty_match": sum(i["difficulty_match"] for i in items) / n,
            "verified_before": len(released) / n, "released": len(released),
            "released_verified": (sum(_recheck(i) for i in released) / len(released)) if released else float("nan")}


def _recheck(item: dict) -> bool:
    """An independent second check of a released item: the verifier on its text, the difficulty recomputed."""
    x, y, key = parse_item(item["text"])
    return ar.verify(f"{x}+{y}=", str(key), "plain") and ar.difficulty(x, y) == tuple(item["requested"])
