"""Tokenizers turn text into integer ids a model can index with, and back again.

CharTokenizer is the simplest useful one: one id per character. The name models of the course (bigram,
MLP) use `from_words`, which reserves id 0 for a boundary character "." that marks both the start and
the end of a word, so "emma" is modelled as ".emma." and a model learns when a name ends.
BPETokenizer (byte-level byte-pair encoding, notebook 05) learns merges of frequent adjacent tokens.
WordTokenizer maps the closed vocabulary of generated captions (course_lib.data's captioned sets) to ids.
SmilesTokenizer splits molecules written as SMILES into atoms, bonds and ring labels (notebook 11).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _save_json(path, payload: dict) -> Path:
    """Write a tokenizer file atomically: temp file, then rename, so a crash leaves no half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _load_json(path, cls):
    """Read a file written by cls.save, with an error naming the file and what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no tokenizer file at {path}")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("type") != cls.__name__:
            raise ValueError(f"type is {payload.get('type')!r}")
        return cls._from_payload(payload)
    except (ValueError, KeyError, AttributeError, TypeError) as err:
        raise ValueError(f"{path} is not a {cls.__name__} file written by {cls.__name__}.save ({err})") from None


def _look_up(ids, table: dict) -> list:
    """[table[i] for i in ids], ids a list of ints or a 1-D tensor/array, each checked to be a known id."""
    if hasattr(ids, "tolist"):  # torch tensor or numpy array
        ids = ids.tolist()
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or i not in table:
            raise ValueError(f"ids must be ints in [0, {len(table) - 1}], got {i!r}")
    return [table[i] for i in ids]


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
        return "".join(_look_up(ids, self.itos))

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
        return _save_json(path, {"type": "CharTokenizer", "chars": [self.itos[i] for i in range(self.vocab_size)],
                                 "boundary": self.boundary})

    @classmethod
    def load(cls, path) -> "CharTokenizer":
        """Read a tokenizer written by `save`."""
        return _load_json(path, cls)

    @classmethod
    def _from_payload(cls, payload: dict) -> "CharTokenizer":
        return cls(payload["chars"], boundary=payload.get("boundary"))


def check_words(words) -> list[str]:
    """A non-empty list of strings (the word-level models' input), or a clear error."""
    if isinstance(words, str) or not all(isinstance(w, str) for w in words):
        raise TypeError("words must be a list of strings, e.g. ['emma', 'olivia']")
    words = list(words)
    if not words:
        raise ValueError("words must contain at least one word, got an empty list")
    return words


# ---- byte-pair encoding ---------------------------------------------------------------------------
# Byte-level BPE (the GPT-2 idea, minus its byte-to-unicode table): start from the 256 byte values, so
# any string can be encoded, then repeatedly merge the most frequent adjacent pair into a new token.
# Text is first split into chunks (a word with its leading space, a run of digits, punctuation,
# whitespace) and merges never cross a chunk border, so "the" and " the" are learned as units but
# "e t" across a word gap is not. Counting pairs per distinct chunk (times its frequency) keeps
# training on a few hundred thousand characters to seconds in plain Python.
import re as _re
from collections import Counter as _Counter

_CHUNK = _re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")


def get_pair_counts(ids, counts: dict | None = None, weight: int = 1) -> dict:
    """How often each adjacent pair occurs in `ids`: [1, 2, 1, 2] -> {(1, 2): 2, (2, 1): 1}."""
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge_pair(ids, pair: tuple, new_id: int) -> list[int]:
    """One BPE merge step: every non-overlapping occurrence of `pair`, left to right, becomes `new_id`.

    >>> merge_pair([1, 2, 3, 1, 2], (1, 2), 9)
    [9, 3, 9]
    """
    out, i, a, b = [], 0, pair[0], pair[1]
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    """Byte-level byte-pair encoding: ids 0-255 are bytes, id 256 + k is the k-th learned merge.

    >>> tok = BPETokenizer.train("low lower lowest " * 20, vocab_size=260)
    >>> tok.decode(tok.encode("lowest slower")) == "lowest slower"
    True
    """

    def __init__(self, merges=()):
        merges = [tuple(int(x) for x in m) for m in merges]
        self.merges: dict[tuple[int, int], int] = {}  # (a, b) -> new id, in the order learned
        self.vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
        for k, (a, b) in enumerate(merges):
            new_id = 256 + k
            if a not in self.vocab or b not in self.vocab:
                raise ValueError(f"merge {k} ({a}, {b}) uses an id not defined before it")
            self.merges[(a, b)] = new_id
            self.vocab[new_id] = self.vocab[a] + self.vocab[b]
        self._cache: dict[str, list[int]] = {}

    # ---- training -------------------------------------------------------------------------------
    @classmethod
    def train(cls, text: str, vocab_size: int, verbose: bool = False) -> "BPETokenizer":
        """Learn vocab_size - 256 merges from `text` (stops early if no pair occurs twice)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"vocab_size must be an int >= 256 (the byte alphabet), got {vocab_size!r}")
        chunks = _Counter(_CHUNK.findall(text))                       # distinct chunk -> frequency
        words = [(list(c.encode("utf-8")), n) for c, n in chunks.items()]
        merges = []
        for k in range(vocab_size - 256):
            counts: dict = {}
            for ids, n in words:
                get_pair_counts(ids, counts, n)
            if not counts:
                break
            # Most frequent pair; ties broken by the smaller pair so training is deterministic.
            pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
            if counts[pair] < 2:
                break
            new_id = 256 + k
            words = [(merge_pair(ids, pair, new_id) if len(ids) > 1 else ids, n) for ids, n in words]
            merges.append(pair)
            if verbose:
                tok = cls(merges)
                print(f"merge {k + 1}: {tok.vocab[pair[0]]!r} + {tok.vocab[pair[1]]!r} -> "
                      f"{tok.vocab[new_id]!r} ({counts[pair]} times)")
        return cls(merges)

    # ---- use ------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return self.vocab_size

    def _encode_chunk(self, chunk: str) -> list[int]:
        """Apply the merges to one chunk, always the earliest-learned merge first (as in training)."""
        ids = list(chunk.encode("utf-8"))
        while len(ids) > 1:
            pairs = set(zip(ids, ids[1:]))
            pair = min(pairs, key=lambda p: self.merges.get(p, float("inf")))
            if pair not in self.merges:
                break
            ids = merge_pair(ids, pair, self.merges[pair])
        return ids

    def encode(self, text: str) -> list[int]:
        """str -> ids. Any string works (unknown characters fall back to their UTF-8 bytes)."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        out = []
        for chunk in _CHUNK.findall(text):
            ids = self._cache.get(chunk)
            if ids is None:
                ids = self._encode_chunk(chunk)
                if len(self._cache) < 100_000:
                    self._cache[chunk] = ids
            out.extend(ids)
        return out

    def decode(self, ids) -> str:
        """ids -> str (a 1-D tensor/array works too). Invalid UTF-8 from a sampled id sequence is shown
        as U+FFFD rather than raising, since a model may emit half a multi-byte character."""
        return b"".join(_look_up(ids, self.vocab)).decode("utf-8", errors="replace")

    def token_str(self, i: int) -> str:
        """A readable form of one token, e.g. ' the' (for tables and plots)."""
        return self.vocab[i].decode("utf-8", errors="replace")

    def __eq__(self, other) -> bool:
        return isinstance(other, BPETokenizer) and self.merges == other.merges

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)})"

    # ---- persistence ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the merges (the whole tokenizer) as JSON, atomically."""
        return _save_json(path, {"type": "BPETokenizer", "merges": [list(p) for p in self.merges]})

    @classmethod
    def load(cls, path) -> "BPETokenizer":
        """Read a tokenizer written by `save`."""
        return _load_json(path, cls)

    @classmethod
    def _from_payload(cls, payload: dict) -> "BPETokenizer":
        return cls(payload["merges"])


class WordDigitTokenizer:
    """A closed vocabulary of words (" rose"), single digits (" 5", "5") and marks, from training texts.

    >>> tok = WordDigitTokenizer.from_texts(["AAPL rose 2.3%"])
    >>> [tok.itos[i] for i in tok.encode("AAPL rose 3.2%")]
    ['AAPL', ' rose', ' 3', '.', '2', '%']
    """
    PATTERN = _re.compile(r" ?[A-Za-z]+| ?\d| ?[^\sA-Za-z\d]|[\x1d\x1e]|\n| +")

    def __init__(self, tokens):
        self.itos = dict(enumerate(sorted(set(tokens))))
        self.stoi = {t: i for i, t in self.itos.items()}

    @classmethod
    def split(cls, text: str) -> list[str]:
        parts = cls.PATTERN.findall(text)
        if "".join(parts) != text:
            raise ValueError(f"text has characters the tokenizer cannot split: {text!r}")
        return parts

    @classmethod
    def from_texts(cls, texts) -> "WordDigitTokenizer":
        """Every token of the texts, plus every digit with and without a space (any number can be written)."""
        tokens = {t for text in texts for t in cls.split(text)}
        return cls(tokens | {d for i in range(10) for d in (str(i), f" {i}")})

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[t] for t in self.split(text)]
        except KeyError as err:
            raise ValueError(f"token {err.args[0]!r} is not in the vocabulary ({self.vocab_size} tokens)") from None

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids)


class SmilesTokenizer:
    """SMILES split the field's way (the regular expression of Schwaller et al. 2019, used by MOSES): a
    bracket atom ("[nH]", "[N+]", "[O-]") and a two-letter element (Cl, Br) are one token each, every other
    character one token. Three special tokens come first: <pad> (id 0, after the end), <bos> (id 1, where
    every sample starts) and <eos> (id 2, where a sample stops), so a model learns how long a molecule is.

    >>> tok = SmilesTokenizer.from_smiles(["CCl", "c1cc[nH]c1"])
    >>> tok.split("c1cc[nH]c1Cl")
    ['c', '1', 'c', 'c', '[nH]', 'c', '1', 'Cl']
    >>> tok.decode(tok.encode("CCl", bos=True, eos=True))
    'CCl'
    """
    PATTERN = _re.compile(r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])")
    SPECIALS = ("<pad>", "<bos>", "<eos>")
    PAD, BOS, EOS = 0, 1, 2

    def __init__(self, tokens):
        tokens = sorted(set(tokens) - set(self.SPECIALS))
        self.itos = dict(enumerate(list(self.SPECIALS) + tokens))
        self.stoi = {t: i for i, t in self.itos.items()}

    @classmethod
    def split(cls, smiles: str) -> list[str]:
        """SMILES -> its tokens; a character the pattern cannot place is a ValueError naming it."""
        if not isinstance(smiles, str):
            raise TypeError(f"expected a SMILES str, got {type(smiles).__name__}")
        parts = cls.PATTERN.findall(smiles)
        if "".join(parts) != smiles:
            pos = next((i for i, (a, b) in enumerate(zip("".join(parts), smiles)) if a != b), len("".join(parts)))
            raise ValueError(f"SMILES {smiles!r} has a character no SMILES token matches at position {pos}: "
                             f"{smiles[pos]!r}")
        return parts

    @classmethod
    def from_smiles(cls, smiles) -> "SmilesTokenizer":
        """The specials, then every token of the SMILES, sorted, plus the ring-closure digits 1-9 (a random
        spelling of a training molecule may need more ring labels open at once than its canonical one)."""
        if isinstance(smiles, str):
            raise TypeError("smiles must be a list of SMILES strings, got a single str (wrap it in a list)")
        tokens = {t for s in smiles for t in cls.split(s)}
        return cls(tokens | set("123456789"))

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, smiles: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        """SMILES -> ids, with <bos> in front and <eos> at the end when asked; an unknown token is a ValueError."""
        try:
            ids = [self.stoi[t] for t in self.split(smiles)]
        except KeyError as err:
            raise ValueError(f"SMILES token {err.args[0]!r} is not in the vocabulary ({self.vocab_size} tokens)") from None
        return [self.BOS] * bos + ids + [self.EOS] * eos

    def decode(self, ids) -> str:
        """ids -> SMILES: a leading <bos> is skipped and the text ends at the first <eos> or <pad>
        (a 1-D tensor/array works too)."""
        out = []
        for t in _look_up(ids, self.itos):
            if t in ("<eos>", "<pad>"):
                break
            if t != "<bos>":
                out.append(t)
        return "".join(out)

    def __eq__(self, other) -> bool:
        return isinstance(other, SmilesTokenizer) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"SmilesTokenizer(vocab_size={self.vocab_size})"

    def save(self, path) -> Path:
        """Write the vocabulary as JSON, atomically."""
        return _save_json(path, {"type": "SmilesTokenizer", "tokens": [self.itos[i] for i in range(3, self.vocab_size)]})

    @classmethod
    def load(cls, path) -> "SmilesTokenizer":
        return _load_json(path, cls)

    @classmethod
    def _from_payload(cls, payload: dict) -> "SmilesTokenizer":
        return cls(payload["tokens"])


def tokenizer_from_meta(meta: dict):
    """Rebuild the tokenizer a GPT checkpoint was trained with (stored as plain lists in its meta by
    `genai-course train gpt`: {"type": "char", "chars": [...]} or {"type": "bpe", "merges": [...]}; by
    `genai-course train data_to_text`: {"type": "word_digit", "tokens": [...]}; by recipes.smiles:
    {"type": "smiles", "tokens": [...]})."""
    tok = meta.get("tokenizer") or {}
    if tok.get("type") == "char":
        return CharTokenizer(tok["chars"])
    if tok.get("type") == "bpe":
        return BPETokenizer(tok["merges"])
    if tok.get("type") == "word_digit":                      # data-to-text (course_lib.recipes.data_to_text)
        return WordDigitTokenizer(tok["tokens"])
    if tok.get("type") == "smiles":                          # molecules (course_lib.recipes.smiles)
        return SmilesTokenizer(tok["tokens"])
    raise ValueError(f"checkpoint meta has no usable tokenizer (expected type 'char', 'bpe', 'word_digit' or 'smiles'), "
                     f"got {tok!r}")


# ---- words ----------------------------------------------------------------------------------------
def split_words(text: str) -> list[str]:
    """Lower-case words and single punctuation marks: "A red circle." -> ['a', 'red', 'circle', '.']."""
    return _re.findall(r"[a-z0-9]+|[^\sa-z0-9]", text.lower())


class WordTokenizer:
    """One id per word of a closed vocabulary (captions written by a grammar); id 0 is padding.

    Text is lower-cased and split into words and single punctuation marks, as the caption grammars of
    course_lib.data write them. A word outside the vocabulary is an error naming it: a caption model
    has never seen it, and silently dropping it would change what the caption says.

    >>> tok = WordTokenizer(["a", "red", "circle"])
    >>> tok.encode("A red circle")
    [1, 3, 2]
    >>> tok.batch(["a circle", "a red circle"]).tolist()
    [[1, 2, 0], [1, 3, 2]]
    """

    PAD = "<pad>"

    def __init__(self, words):
        if isinstance(words, str):
            raise TypeError("words must be a list of words, got a single str (wrap it in a list)")
        words = sorted(set(words))
        bad = [w for w in words if not isinstance(w, str) or split_words(w) != [w]]
        if bad or not words:
            raise ValueError(f"words must be a non-empty list of lower-case words or single punctuation "
                             f"marks, got {bad[:5] if bad else 'none'}")
        self.itos: dict[int, str] = dict(enumerate([self.PAD] + words))
        self.stoi: dict[str, int] = {w: i for i, w in self.itos.items()}

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return self.vocab_size

    @property
    def words(self) -> list[str]:
        """The vocabulary without the padding token (what `WordTokenizer(words)` was given, sorted)."""
        return [self.itos[i] for i in range(1, self.vocab_size)]

    def encode(self, text: str) -> list[int]:
        """"a red circle" -> [ids]; an empty text or an unknown word is an error."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        words = split_words(text)
        if not words:
            raise ValueError(f"the text is empty ({text!r}): a caption needs at least one word")
        unknown = [w for w in words if w not in self.stoi]
        if unknown:
            import difflib
            close = difflib.get_close_matches(unknown[0], self.words, n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise ValueError(f"word {unknown[0]!r} in {text!r} is not in the vocabulary{hint}; "
                             f"the {self.vocab_size - 1} known words are: {' '.join(self.words)}")
        return [self.stoi[w] for w in words]

    def batch(self, texts, length: int | None = None):
        """Encode texts into one (B, T) int64 tensor, right-padded with 0; T = the longest, or `length`."""
        import torch
        if isinstance(texts, str):
            raise TypeError("batch expects a list of texts, got a single str (wrap it in a list)")
        ids = [self.encode(t) for t in texts]
        if not ids:
            raise ValueError("batch expects at least one text, got none")
        T = max(map(len, ids)) if length is None else length
        too_long = [t for t, i in zip(texts, ids) if len(i) > T]
        if too_long:
            raise ValueError(f"text {too_long[0]!r} has {len(self.encode(too_long[0]))} words, "
                             f"more than the {T} allowed")
        out = torch.zeros(len(ids), T, dtype=torch.long)                  # (B, T) padding everywhere
        for row, i in enumerate(ids):
            out[row, :len(i)] = torch.tensor(i)
        return out

    def decode(self, ids) -> str:
        """[ids] -> "a red circle" (padding dropped; punctuation written as the grammars write it)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or i not in self.itos:
                raise ValueError(f"ids must be ints in [0, {self.vocab_size - 1}], got {i!r}")
        return " ".join(self.itos[i] for i in ids if i != 0).replace(" ,", ",")

    def __eq__(self, other) -> bool:
        return isinstance(other, WordTokenizer) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={self.vocab_size})"

    def save(self, path) -> Path:
        """Write the vocabulary as JSON, atomically."""
        return _save_json(path, {"type": "WordTokenizer", "words": self.words})

    @classmethod
    def load(cls, path) -> "WordTokenizer":
        """Read a tokenizer written by `save`."""
        return _load_json(path, cls)

    @classmethod
    def _from_payload(cls, payload: dict) -> "WordTokenizer":
        return cls(payload["words"])
