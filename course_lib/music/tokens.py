"""A note-level ABC tokenizer in the style of folk-rnn: one token per note with its duration.

A character model must learn that "A3/2" is one note lasting one and a half units by counting characters;
a note-level model sees it as one symbol, so the durations it adds up to fill a bar are its own tokens.
The tokens, matched left to right (NOTE_TOKEN_RE):

  - a header field of a prompt without its newline: "M:3/4", "L:1/8", "K:G", "K:Bbm"
  - a note or rest with its accidental, octave marks and length: "A2", "B/2", "^c", "_B,3/2", "z4"
  - a bar line with the spaces around it: " | ", "|:", " :|", "|]", "||", "::"
  - anything else, one character each: "\\n", " ", "-" (a tie), ...

Decoding is joining the tokens' strings, so decode(encode(text)) == text for any text whose tokens are all
in the vocabulary (encode names the ones that are not). The other way round is not guaranteed: a model may
emit "K:B" then the note "b", which reads back as the one token "K:Bb" (header tokens belong after a newline,
where the Essen text has them; a well-trained model rarely writes them elsewhere). Unlike folk-rnn, pitch and length stay one token
(folk-rnn splits "A3/2" into "A" and "3/2"): 413 distinct notes in the Essen corpus, a small vocabulary.
"""
from __future__ import annotations

import re

NOTE_TOKEN_RE = re.compile(
    r"M:\d+/\d+|L:\d+/\d+|K:[A-G][#b]?m?"                # header field (M, L, K are not note letters)
    r"|(?:\^{1,2}|_{1,2}|=)?[A-Ga-gz][,']*\d*(?:/\d*)?"   # note or rest: accidental, letter, octave, length
    r"| ?(?:\|\]|\|\||\|:|:\||::|\|) ?"                  # bar line with its spaces
    r"|[\s\S]")                                          # any other single character


def note_tokens(text: str) -> list[str]:
    """ABC text -> its tokens (strings); "".join(note_tokens(text)) == text always."""
    return NOTE_TOKEN_RE.findall(text)


class NoteTokenizer:
    """Ids for the note-level tokens of a fixed vocabulary (sorted, so the ids do not depend on text order).

    >>> tok = NoteTokenizer.from_texts(["M:2/4\\nL:1/8\\nK:G\\nD | G2 AB |\\n"])
    >>> note_tokens("D | G2 AB |")
    ['D', ' | ', 'G2', ' ', 'A', 'B', ' |']
    """

    def __init__(self, vocab):
        vocab = sorted(set(vocab))
        if not vocab:
            raise ValueError("a NoteTokenizer needs at least one token in its vocabulary")
        self.itos = dict(enumerate(vocab))
        self.stoi = {s: i for i, s in self.itos.items()}

    @classmethod
    def from_texts(cls, texts, extra=()) -> "NoteTokenizer":
        """The vocabulary of every token in `texts`, plus the tokens in `extra`."""
        vocab = set(extra)
        for text in texts:
            vocab.update(note_tokens(text))
        return cls(vocab)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """Text -> ids; ValueError naming every token outside the vocabulary (nothing is silently dropped)."""
        toks = note_tokens(text)
        unknown = sorted({t for t in toks if t not in self.stoi})
        if unknown:
            raise ValueError(f"tokens outside this NoteTokenizer's vocabulary of {self.vocab_size}: "
                             f"{unknown[:10]!r}{' ...' if len(unknown) > 10 else ''}")
        return [self.stoi[t] for t in toks]

    def decode(self, ids) -> str:
        """Ids (list of ints or a 1-D tensor) -> text, the tokens joined."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or i not in self.itos]
        if bad:
            raise ValueError(f"ids must be ints in [0, {self.vocab_size - 1}], got {bad[0]!r}")
        return "".join(self.itos[i] for i in ids)
