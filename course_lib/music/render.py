"""Hear and see a tune: a piano roll (matplotlib), audio synthesised with numpy, a MIDI file via music21.

All three start from music21's reading of the ABC text (`notes_of`), so what you see and hear is what
the checks measured.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22_050


def notes_of(text: str, bpm: float = 120.0) -> list[tuple[float, float, int]]:
    """(start seconds, duration seconds, MIDI pitch) of every note of an ABC tune, read by music21;
    a quarter note lasts 60 / bpm seconds. ValueError when music21 cannot read it or finds no note."""
    from course_lib.music.checks import parse_abc, require_music21
    if bpm <= 0:
        raise ValueError(f"bpm must be positive, got {bpm!r}")
    require_music21()
    try:
        score, _ = parse_abc(text)
    except Exception as exc:
        raise ValueError(f"music21 could not parse this ABC text: {type(exc).__name__}: {exc}") from exc
    beat = 60.0 / bpm
    out = [(float(n.getOffsetInHierarchy(score)) * beat, float(n.quarterLength) * beat, int(n.pitch.midi))
           for n in score.recurse().notes if n.isNote]
    if not out:
        raise ValueError("this ABC text has no note music21 can read")
    return sorted(out)


def synthesize(text: str, bpm: float = 120.0, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """A mono float32 waveform in [-1, 1] and its sample rate: IPython.display.Audio(wave, rate=rate).

    Each note is additive synthesis, a fundamental and three overtones with amplitudes 1, 1/2, 1/4, 1/8
    (a soft, organ-like tone), under an envelope of a 10 ms linear attack and an exponential decay, cut
    with a 20 ms release at the note's end so consecutive notes do not click."""
    notes = notes_of(text, bpm)
    total = max(s + d for s, d, _ in notes) + 0.1
    wave = np.zeros(int(total * sample_rate) + 1, dtype=np.float64)                 # (S,)
    for start, dur, midi in notes:
        n = max(int(dur * sample_rate), 1)
        t = np.arange(n) / sample_rate                                              # (n,) seconds
        f0 = 440.0 * 2 ** ((midi - 69) / 12)                                        # equal temperament, A4 = 440 Hz
        tone = sum(a * np.sin(2 * np.pi * k * f0 * t) for k, a in ((1, 1), (2, .5), (3, .25), (4, .125)))
        env = np.minimum(t / 0.01, 1.0) * np.exp(-3.0 * t) * np.minimum((dur - t) / 0.02, 1.0).clip(0, 1)
        i = int(start * sample_rate)
        wave[i:i + n] += (tone * env)[: len(wave) - i]
    peak = np.abs(wave).max()
    return (wave / peak if peak > 0 else wave).astype(np.float32), sample_rate


def piano_roll(text: str, ax=None, bpm: float = 120.0, title: str | None = None):
    """Draw the tune as a piano roll (time in quarter notes across, MIDI pitch up, note names on the axis)."""
    import matplotlib.pyplot as plt
    from music21 import pitch
    notes = notes_of(text, bpm=60.0)                                       # at 60 bpm seconds = quarter notes
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.8), dpi=80, layout="constrained")
    for start, dur, midi in notes:
        ax.add_patch(plt.Rectangle((start, midi - 0.4), dur * 0.95, 0.8, color="tab:blue"))
    lo, hi = min(m for *_, m in notes), max(m for *_, m in notes)
    ax.set_xlim(0, max(s + d for s, d, _ in notes))
    ax.set_ylim(lo - 1.5, hi + 1.5)
    ticks = [m for m in range(lo - 1, hi + 2) if m % 12 in (0, 4, 7)] or [lo]    # C, E, G lines
    ax.set_yticks(ticks, [pitch.Pitch(midi=m).nameWithOctave for m in ticks])
    ax.set_xlabel("time (quarter notes)")
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def write_midi(text: str, path) -> Path:
    """Write the tune as a standard MIDI file at `path` via music21, atomically (a temporary file in the
    same folder, then a rename): a failed write leaves no half-written file. Returns the path."""
    from course_lib.music.checks import parse_abc, require_music21
    path = Path(path)
    if path.suffix.lower() not in (".mid", ".midi"):
        raise ValueError(f"a MIDI path ends in .mid or .midi, got {str(path)!r}")
    require_music21()
    try:
        score, _ = parse_abc(text)
    except Exception as exc:
        raise ValueError(f"music21 could not parse this ABC text: {type(exc).__name__}: {exc}") from exc
    if not any(n.isNote for n in score.recurse().notes):
        raise ValueError("this ABC text has no note music21 can read: nothing to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mid")
    try:
        try:
            score.write("midi", fp=str(tmp))
        except Exception:        # music21's MIDI export trips over some streams its own ABC parser builds
            _notes_only(score).write("midi", fp=str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _notes_only(score):
    """The tune's notes and rests one after another in a fresh stream: no bars, meters or keys to trip over."""
    import copy
    from music21 import stream
    plain = stream.Stream()
    for n in score.flatten().notesAndRests:
        plain.append(copy.deepcopy(n))
    return plain
