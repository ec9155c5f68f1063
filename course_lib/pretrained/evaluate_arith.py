"""The recorded figures of the zoo's arithmetic GPTs (notebook 13): exact match by length, or practice items.

Same contract as course_lib.pretrained.evaluate (the package adds it to EVALUATORS under "gpt:arithmetic").
Answer models ("task" plain, reversed or scratchpad in the checkpoint meta): "full" = exact match on N_FULL sums
of 3-, 4- and 5-digit operands (greedy, seeded); "check" = exact match on N_CHECK 3-digit sums. The practice
generator: "full" = shares of right keys and requested difficulty before verification over N_ITEMS items per
code d1c0..d3c3 (temperature 1, seeded); "check" = the same on 20 items of d3c2.
"""
from __future__ import annotations

import torch

from .evaluate import _rec

N_FULL, N_CHECK, N_ITEMS = 1000, 200, 50


@torch.no_grad()
def _arith(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.education import practice
    from course_lib.recipes import arithmetic as ra
    tok, task = ra.tokenizer(), meta.get("task")
    if task == "practice":
        codes = practice.training_codes() if kind == "full" else [(3, 2)]
        n = N_ITEMS if kind == "full" else 20
        items = [it for i, (d, c) in enumerate(codes)
                 for it in ra.generate_items(model, tok, d, c, n, temperature=1.0, seed=i)]
        a = practice.audit(items)
        how = f"{n} items per code {', '.join(f'd{d}c{c}' for d, c in codes)}, temperature 1, seeded; before verification"
        return {"key_right": _rec(a["key_right"], "answer key right (solver), " + how),
                "difficulty_match": _rec(a["difficulty_match"], "digits and carries as requested, " + how)}
    lengths, n = ((3, 4, 5), N_FULL) if kind == "full" else ((3,), N_CHECK)
    return {f"exact_{d}digit": _rec(ra.accuracy(model, tok, task, digits=d, n=n)["exact"],
                                   f"exact match (steps and answer) on {n} sums of two {d}-digit numbers, greedy, "
                                   f"seed {1234 + d}") for d in lengths}


ARITH = {"gpt:arithmetic": _arith}
