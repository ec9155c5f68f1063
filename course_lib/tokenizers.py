"""Tokenizers turn text into integer ids a model can index with, and back again.

CharTokenizer is the simplest useful one: one id per character. The name models of the course (bigram,
MLP) use `from_words`, which reserves id 0 for a boundary character "." that marks both the start and
the end of a word, so "emma" is modelled as ".emma." and a model learns when a name ends.
(A byte-pair tokenizer comes later in the course.)
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


class CharTokenizer:
    """One id per character; ids follow the order of `chars`.

    >>> tok = CharTokenizer.from_words(["ab", "ba"])
    >>> tok.itos
    {0: '.', 1: 'a', 2: 'b'}
    >>> tok.encode(".ab.")
    [0, 1, 2, 0]
    """

    def __init__(self, chars, boundary: str | None = None):
        chars = list(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"chars must be single characters, got {bad[:5]!r}")
        if len(set(chars)) != len(chars):
            dupes = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"chars must be unique, got duplicates {dupes!r}")
        if not chars:
            raise ValueError("chars must contain at least one character, got none")
        if boundary is not None and boundary not in chars:
            raise ValueError(f"boundary {boundary!r} must be one of chars, got chars={''.join(chars)!r}")
        self.boundary = boundary  # None, or the start/end marker (id 0 when built by from_words)
        self.itos: dict[int, str] = dict(enumerate(chars))
        self.stoi: dict[str, int] = {c: i for i, c in self.itos.items()}

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        """Every distinct character of `text`, sorted (so the ids do not depend on text order)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return cls(sorted(set(text)))

    @classmethod
    def from_words(cls, words, boundary: str = ".") -> "CharTokenizer":
        """Boundary character first (id 0), then every letter used in `words`, sorted."""
        if isinstance(words, str):
            raise TypeError("words must be a list of strings, got a single str (wrap it in a list)")
        words = list(words)
        if not all(isinstance(w, str) for w in words):
            raise TypeError("words must be a list of strings")
        letters = set("".join(words))
        if boundary in letters:
            raise ValueError(f"boundary {boundary!r} appears inside the words; choose another boundary")
        return cls([boundary] + sorted(letters), boundary=boundary)

    # ---- use ------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """"abc" -> [ids]; a character outside the vocabulary is an error, never silently dropped."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        try:
            return [self.stoi[c] for c in text]
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary "
                             f"{''.join(self.itos.values())!r}") from None

    def decode(self, ids) -> str:
        """[ids] -> "abc". Accepts a list of ints or a 1-D tensor/array."""
        if hasattr(ids, "tolist"):  # torch tensor or numpy array
            ids = ids.tolist()
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or i not in self.itos:
                raise ValueError(f"ids must be ints in [0, {self.vocab_size - 1}], got {i!r}")
            out.append(self.itos[i])
        return "".join(out)

    def __len__(self) -> int:
        return self.vocab_size

    def __eq__(self, other) -> bool:
        return (isinstance(other, CharTokenizer) and self.itos == other.itos
                and self.boundary == other.boundary)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, chars={''.join(self.itos.values())!r})"

    # ---- persistence ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the vocabulary as JSON, atomically (a crash never leaves a half-written file)."""
        path = Path(path)
        payload = {"type": "CharTokenizer", "chars": [self.itos[i] for i in range(self.vocab_size)],
                   "boundary": self.boundary}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path) -> "CharTokenizer":
        """Read a tokenizer written by `save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no tokenizer file at {path}")
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("type") != "CharTokenizer":
                raise ValueError(f"type is {payload.get('type')!r}")
            return cls(payload["chars"], boundary=payload.get("boundary"))
        except (ValueError, KeyError, AttributeError) as err:
            raise ValueError(f"{path} is not a CharTokenizer file written by CharTokenizer.save "
                             f"({err})") from None


def check_words(words) -> list[str]:
    """A non-empty list of strings (the word-level models' input), or a clear error."""
    if isinstance(words, str) or not all(isinstance(w, str) for w in words):
        raise TypeError("words must be a list of strings, e.g. ['emma', 'olivia']")
    words = list(words)
    if not words:
        raise ValueError("words must contain at least one word, got an empty list")
    return words
