"""The recorded figures of the zoo's data-to-text model (notebook 10): weekly stock reports from records.

Same contract as course_lib.pretrained.evaluate (the package adds DATA_TO_TEXT to EVALUATORS). "full": for
each format (report, headline, post, script) one text per held-out record (the last 20% of weeks, 356
records), sampled with constrained decoding as benchmarks/creative_d2t.py found best, and scored by
course_lib.reports: the share of texts with a factual error, and distinct-2. "check": 40 held-out reports
(a count of texts with an error and distinct-2) beside one continuous figure, the held-out loss of 64
reference texts (teacher forcing), which moves when the weights move, so a stale file fails.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .evaluate import SEED, _rec

TEMPERATURE = 0.8


@lru_cache(maxsize=2)
def _records(split: str):
    from course_lib import data
    return tuple(data.load("stocks", split=split))


@torch.no_grad()
def _data_to_text(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.recipes import data_to_text as d2t
    from course_lib.reports import FORMATS, distinct_n, error_summary
    run = d2t.run_from_checkpoint(model, meta)
    held = list(_records("test"))
    n_loss = 356 if kind == "full" else 64
    pairs = d2t.make_pairs(held, delex=run.delex, per_record=1, seed=SEED)
    on = (f"{len(held)} held-out records (stocks test split: weeks from {held[0].week})" if kind == "full"
          else f"the first 40 held-out records (stocks test split, weeks from {held[0].week})")
    sampling = f"constrained decoding, temperature {TEMPERATURE}, seed {SEED}"
    out = {}
    formats = FORMATS if kind == "full" else ("report",)
    recs = held if kind == "full" else held[:40]
    for fmt in formats:
        texts = d2t.generate(run, recs, fmt, seed=SEED, temperature=TEMPERATURE, constrained=True)
        s = error_summary(texts, recs)
        if kind == "full":
            out[f"error_pct_{fmt}"] = _rec(100 * s["error_rate"], f"% of {fmt}s with at least one error found by "
                                           f"course_lib.reports.check; one {fmt} for each of {on}; {sampling}", 2)
        else:
            out[f"error_texts_{fmt}"] = _rec(int(s["with_errors"]), f"{fmt}s with at least one error (course_lib."
                                             f"reports.check) among one for each of {on}; {sampling}", abs_tol=0)
        out[f"distinct_2_{fmt}"] = _rec(distinct_n(texts, 2), f"distinct word bigrams / all bigrams over the same "
                                        f"{fmt}s (numbers included)")
    loss = d2t.heldout_loss(run, pairs, max_pairs=n_loss)
    out["heldout_loss_nats_per_token"] = _rec(loss, f"mean next-token loss on the text tokens (record given) of the "
                                              f"generator's reference texts for the first {n_loss} held-out records "
                                              f"(formats drawn as in training, seed {SEED}); teacher forcing")
    return out


DATA_TO_TEXT = {"data_to_text": _data_to_text}
