"""Pitch sequences of tunes read by music21's ABC tokenizer, and novelty as the longest run shared with a corpus.

music21 builds a full score in about 0.01-0.2 s a tune; its ABC tokenizer alone (abcFormat.ABCHandler),
which already resolves the key signature and accidentals into pitch names, costs about 1 ms. That is
cheap enough to read all 8,500 Essen tunes once (seconds) and keep the result on disk, so novelty against
the whole training set never parses a score.

Novelty (precisely): the longest run of consecutive notes of a tune whose MIDI pitches equal a run of
consecutive notes of some corpus tune. Pitches only: durations and rests are ignored (rests are dropped
before runs are formed, so a run may span a rest); no transposition (the same melody a tone higher is
a different run). Runs are compared through 64-bit polynomial hashes of each n-gram, one sorted array
per length n, built once per corpus and length; a hash collision could only lengthen a run (chance
about 1e-13 per lookup).
"""
from __future__ import annotations

import contextlib
import io
from functools import lru_cache

import numpy as np

_BASE = np.uint64(0x9E3779B97F4A7C15)     # odd 64-bit multiplier of the rolling hash


@lru_cache(maxsize=512)
def _midi(name: str) -> int | None:
    """MIDI number of a music21 pitch name; None for a name music21 itself refuses (e.g. "B-n4" from "_=B")."""
    from music21 import pitch
    try:
        return int(pitch.Pitch(name).midi)
    except Exception:
        return None


def pitch_sequence(abc: str) -> list[int]:
    """MIDI pitches of the notes of one ABC tune (header + body), in order, read with music21's ABC tokenizer
    (key signature and accidentals applied by music21). Rests, chords and notes whose pitch music21 cannot
    name (garbled accidentals in generated text) are skipped; text the tokenizer refuses has no notes."""
    from course_lib.music.checks import require_music21
    require_music21()
    from music21 import abcFormat
    handler = abcFormat.ABCHandler()
    try:
        with contextlib.redirect_stderr(io.StringIO()):          # music21 warns on unreadable notes
            handler.process(abc)
    except Exception:                                            # garbled text the tokenizer refuses
        return []
    out = []
    for tok in handler.tokens:
        if type(tok) is abcFormat.ABCNote and not tok.isRest and getattr(tok, "pitchName", None):
            midi = _midi(tok.pitchName)
            if midi is not None:
                out.append(midi)
    return out


def ngram_hashes(seq, n: int) -> np.ndarray:
    """Hashes of every run of n consecutive values of seq -> (len(seq) - n + 1,) uint64 (empty if shorter)."""
    a = np.asarray(seq, dtype=np.uint64)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if len(a) < n:
        return np.zeros(0, dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(a, n)                 # (L - n + 1, n)
    powers = _BASE ** np.arange(n - 1, -1, -1, dtype=np.uint64)              # (n,) wraps mod 2**64
    with np.errstate(over="ignore"):
        return (windows * powers).sum(axis=1, dtype=np.uint64) + np.uint64(n)   # (L - n + 1,)


class NgramIndex:
    """Hashed n-gram sets of a corpus of pitch sequences: `longest_shared_run(seq)` in milliseconds."""

    def __init__(self, sequences, max_n: int = 64):
        self.sequences = [np.asarray(s, dtype=np.int64) for s in sequences]
        self.max_n = max_n
        self._sets: dict[int, np.ndarray] = {}

    def _set(self, n: int) -> np.ndarray:
        if n not in self._sets:
            parts = [ngram_hashes(s, n) for s in self.sequences if len(s) >= n]
            self._sets[n] = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
        return self._sets[n]

    def shares(self, seq, n: int) -> bool:
        """True when some run of n consecutive pitches of seq occurs in a corpus sequence."""
        h = ngram_hashes(seq, n)
        if not len(h):
            return False
        table = self._set(n)
        pos = np.searchsorted(table, h).clip(max=max(len(table) - 1, 0))
        return bool(len(table) and (table[pos] == h).any())

    def longest_shared_run(self, seq) -> int:
        """Length of the longest run of seq found in the corpus (0 if no single pitch is shared), capped at
        max_n. Binary search: sharing a run of n implies sharing one of every shorter length."""
        lo, hi = 0, min(len(seq), self.max_n)          # invariant: a run of lo is shared; none longer than hi
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.shares(seq, mid):
                lo = mid
            else:
                hi = mid - 1
        return lo
