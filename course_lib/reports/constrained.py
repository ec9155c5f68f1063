"""Constrained decoding: forbid, token by token, the words that would state a false fact.

A delexicalised model can no longer get a number wrong, but it still chooses the words "rose" or
"fell" and says who was "best". Those are decisions the record already settles, so at each sampling
step we remove (logit -inf) every token that would contradict it:
- a direction word (rose, fell, flat, ...) other than the record's direction;
- a "best" cue (best, led, strongest, top) unless the current sentence names the week's best through
  its placeholder <BEST>/<BESTNAME>, or the record's ticker was the best (and no <WORST> is named);
  the same for "worst" cues; and no <WORST> placeholder in a sentence that already said "best";
- a price placeholder other than the one the sentence's last cue word asks for ("opened" -> <OPEN>,
  "high" -> <HIGH>, ...; the checker's own cue table), and none before the sentence has a cue.
The model still writes everything else; only the forbidden continuations are taken away.
"""
from __future__ import annotations

import torch

from course_lib.data.stocks import WeekRecord
from course_lib.reports.checker import _CUE, DOWN, FLAT, UP

PRICE_FIELDS = ("open", "close", "high", "low")

BEST_CUES, WORST_CUES = {"best", "led", "strongest", "top"}, {"worst", "weakest", "lagged"}
SENTENCE_END = {".", ";", ":", "!", "?", "\n"}


class FactConstraint:
    """Per-row state over a batch of records; `banned()` -> (B, V) bool, `update(ids)` after sampling."""

    def __init__(self, itos: dict[int, str], records: list[WeekRecord], placeholder_chars: dict[str, str]):
        V = len(itos)
        word = {i: t.strip().lower() for i, t in itos.items()}

        def ids(pred) -> torch.Tensor:
            return torch.tensor([pred(i) for i in range(V)], dtype=torch.bool)          # (V,)
        self.dir_words = {d: ids(lambda i, s=s: word[i] in s) for d, s in (("up", UP), ("down", DOWN), ("flat", FLAT))}
        self.best_cue = ids(lambda i: word[i] in BEST_CUES)
        self.worst_cue = ids(lambda i: word[i] in WORST_CUES)
        best_ph = {placeholder_chars[p] for p in ("<BEST>", "<BESTNAME>") if p in placeholder_chars}
        worst_ph = {placeholder_chars[p] for p in ("<WORST>", "<WORSTNAME>") if p in placeholder_chars}
        self.best_ph = ids(lambda i: itos[i].strip() in best_ph)
        self.worst_ph = ids(lambda i: itos[i].strip() in worst_ph)
        self.end = ids(lambda i: itos[i].strip() in SENTENCE_END or itos[i] == "\n")
        price_ph = {placeholder_chars.get(f"<{f.upper()}>"): f for f in PRICE_FIELDS}
        self.price_ph = {f: ids(lambda i, f=f: price_ph.get(itos[i].strip()) == f) for f in PRICE_FIELDS}
        self.cue = {f: ids(lambda i, f=f: _CUE.get(word[i]) == f) for f in PRICE_FIELDS}
        self.last_cue = torch.full((len(records),), -1)                    # (B,) index into PRICE_FIELDS
        B = len(records)
        # (B, V): the record's own direction words allowed, the others banned, for the whole text
        self.always = torch.stack([self.dir_words["up"] | self.dir_words["down"] | self.dir_words["flat"]] * B)
        for b, r in enumerate(records):
            self.always[b] &= ~self.dir_words[r.direction]
        self.is_best = torch.tensor([r.ticker == r.best for r in records])               # (B,)
        self.is_worst = torch.tensor([r.ticker == r.worst for r in records])
        self.seen = {k: torch.zeros(B, dtype=torch.bool) for k in ("best_ph", "worst_ph", "best_cue", "worst_cue")}

    def banned(self) -> torch.Tensor:
        s = self.seen
        ok_best = s["best_ph"] | (self.is_best & ~s["worst_ph"])                         # (B,)
        ok_worst = s["worst_ph"] | (self.is_worst & ~s["best_ph"])
        ban = self.always.clone()
        ban |= (~ok_best)[:, None] & self.best_cue[None] | (~ok_worst)[:, None] & self.worst_cue[None]
        ban |= s["best_cue"][:, None] & self.worst_ph[None] | s["worst_cue"][:, None] & self.best_ph[None]
        ban |= (s["best_ph"] & ~self.is_worst)[:, None] & self.worst_ph[None]          # one comparison a sentence
        ban |= (s["worst_ph"] & ~self.is_best)[:, None] & self.best_ph[None]
        for k, f in enumerate(PRICE_FIELDS):                                             # cue -> its field only
            ban |= (self.last_cue != k)[:, None] & self.price_ph[f][None]
        return ban

    def update(self, ids: torch.Tensor) -> None:
        """ids (B,) the tokens just sampled."""
        for key, table in (("best_ph", self.best_ph), ("worst_ph", self.worst_ph), ("best_cue", self.best_cue),
                           ("worst_cue", self.worst_cue)):
            self.seen[key] |= table[ids]
        for k, f in enumerate(PRICE_FIELDS):
            self.last_cue[self.cue[f][ids]] = k
        ended = self.end[ids]
        for v in self.seen.values():
            v &= ~ended
        self.last_cue[ended] = -1
