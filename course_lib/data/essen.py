"""The Essen folk songs (music21's corpus, ABC text), split by song family so no variant leaks across splits.

music21 ships the Essen collection as 31 ABC files (corpus/essenFolksong/*.abc, 8,514 tunes). The corpus
holds variants of the same songs (catalogue numbers E0001A, E0001B, ... and re-used melodies under other
titles), so a random split would put one variant in training and its sibling in the test set, and a
model that copies would look creative. The split rule (`family_groups`), deterministic:

  1. tunes whose catalogue number (first N: field) has the same stem, the number without its trailing
     variant letters ("E0001D" -> "E0001"), are one family;
  2. tunes whose first OPENING_NOTES notes have the same interval sequence (pitch steps in semitones, so
     a transposed copy matches) are one family; a tune with fewer notes (but at least 4) uses all of them;
  3. families are the connected groups of 1 and 2 (union-find); each goes whole to train, val or test by a
     hash of its first member's ref: 80% / 10% / 10% of families.

Tunes whose header is not a prompt the course's models can take (M: none, "FREI4/4", key H or Es: about
230) are dropped before splitting. Pitch sequences come from music21's ABC tokenizer (course_lib.music.notes)
and are cached in config.data_dir()/"music" (a few seconds the first time, instant afterwards).

Licence: music21 distributes the files by permission of Ewa Dahlig-Turek (EsAC) and Seymour Schlien (ABC
encoding) for non-commercial use within music21; its corpus/essenFolksong/license.txt says the legal
status of the database is unclear, as the data was entered by many people.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache

from .bundled import package_file
from .registry import DatasetInfo, check_split, register

OPENING_NOTES = 12
SPLITS = ("train", "val", "test", "all")
LICENSE = ("non-commercial use within music21 (permission of E. Dahlig-Turek/EsAC and S. Schlien); legal status "
           "of the Essen database unclear (music21 corpus/essenFolksong/license.txt)")


def corpus_files():
    """The 31 Essen ABC files inside the installed music21, sorted by name."""
    return sorted(package_file("music21", "corpus/essenFolksong", "'genai-course[apps]'").glob("*.abc"))


@lru_cache(maxsize=None)
def all_tunes() -> tuple:
    """Every Essen tune with a valid prompt header, as Tune objects, in file then X: order."""
    from course_lib.music.abc import split_tunes, tune_from_fields
    out = []
    for path in corpus_files():
        for raw in split_tunes(path.read_text(encoding="utf-8", errors="replace"), source=path.stem):
            try:
                out.append(tune_from_fields(raw))
            except ValueError:
                continue                       # M: none, free meter, key H/Es: not a prompt we can give
    return tuple(out)


def _cache_path():
    from course_lib import config
    import music21
    digest = hashlib.sha1()
    for path in corpus_files():
        digest.update(path.name.encode() + path.read_bytes())
    return config.data_dir() / "music" / f"essen_pitches_m21-{music21.__version__}_{digest.hexdigest()[:12]}.json"


@lru_cache(maxsize=None)
def pitch_sequences() -> dict:
    """{tune ref: MIDI pitches} for every tune of all_tunes(), read once with music21's tokenizer and cached
    on disk (written atomically: a temporary file, then a rename)."""
    from course_lib.music.notes import pitch_sequence
    path = _cache_path()
    if path.is_file():
        return json.loads(path.read_text())
    seqs = {t.ref: pitch_sequence(t.text) for t in all_tunes()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(seqs))
    os.replace(tmp, path)
    return seqs


def catalogue_stem(number: str) -> str | None:
    """"E0001D" -> "E0001"; None for an N: field that is not a catalogue number."""
    m = re.fullmatch(r"([A-Z]+\d+)[A-Z]*", number.strip())
    return m.group(1) if m else None


def family_groups(tunes, sequences: dict) -> dict:
    """{tune ref: family id (the smallest ref in its family)} by rules 1 and 2 of the module docstring."""
    parent = {t.ref: t.ref for t in tunes}

    def find(r):
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_seen: dict = {}
    for t in tunes:
        keys = []
        stem = catalogue_stem(t.number)
        if stem:
            keys.append(("catalogue", stem))
        seq = sequences[t.ref][:OPENING_NOTES]
        if len(seq) >= 4:
            keys.append(("opening", tuple(b - a for a, b in zip(seq, seq[1:]))))
        for key in keys:
            if key in first_seen:
                union(first_seen[key], t.ref)
            else:
                first_seen[key] = t.ref
    return {t.ref: find(t.ref) for t in tunes}


def split_of(family: str) -> str:
    """train / val / test for a family id, from a hash (the same on every machine): 80/10/10."""
    u = int(hashlib.sha1(family.encode()).hexdigest()[:8], 16) / 16**8
    return "train" if u < 0.8 else "val" if u < 0.9 else "test"


@lru_cache(maxsize=None)
def _split_refs() -> dict:
    tunes = all_tunes()
    families = family_groups(tunes, pitch_sequences())
    return {t.ref: split_of(families[t.ref]) for t in tunes}


def load_essen(split: str = "train") -> list:
    """Essen tunes of one split (list of course_lib.music.abc.Tune), split by song family (module docstring)."""
    check_split("essen", split, SPLITS)
    where = _split_refs()
    return [t for t in all_tunes() if split == "all" or where[t.ref] == split]


register(DatasetInfo("essen", "music", "Essen folk songs in ABC (music21 corpus), split by song family",
                     LICENSE, "bundled: music21", "about 8,300 tunes (80/10/10 by family)", SPLITS), load_essen)
