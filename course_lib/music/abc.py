"""ABC text: tunes split out of a file, their header fields, and the header prompt a model continues.

An ABC file holds many tunes, each starting at an `X:` line; header lines are `Letter: value` and the
body (the notes) follows the `K:` line. Reading the notes is music21's job (course_lib.music.notes and
.checks); this module only cuts text at line starts, which needs no knowledge of the notation.

The prompt a model continues is exactly three header lines, meter, unit length and key:

    M:3/4
    L:1/8
    K:G
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_FIELD = re.compile(r"^([A-Za-z]):\s*(.*?)\s*$")
# Key signatures a prompt may ask for: a tonic with an optional accidental, optionally "m" (minor).
# ABC also allows modes (Dor, Mix, ...); the Essen tunes use none, so a prompt with one is refused.
KEY_RE = re.compile(r"^([A-G])([#b]?)(m?)$")
UNIT_LENGTHS = ("1/1", "1/2", "1/4", "1/8", "1/16", "1/32")


@dataclass(frozen=True)
class Tune:
    """One tune: where it came from, the header fields a prompt uses, the title, and the body text."""

    ref: str        # "<file stem>:<X number>", unique in the corpus, e.g. "erk10:5"
    meter: str      # M: e.g. "2/4"
    unit: str       # L: e.g. "1/16"
    key: str        # K: e.g. "F", "Bb", "Dm"
    title: str      # T:
    number: str     # N: the Essen catalogue number, e.g. "E0001D" (variants share the stem "E0001")
    body: str       # the note lines after K:, newline-separated, no trailing blank line

    @property
    def prompt(self) -> str:
        """The header prompt of this tune's meter, unit and key."""
        return header_prompt(self.meter, self.key, self.unit)

    @property
    def text(self) -> str:
        """What the model reads: the header prompt, then the body, then one newline."""
        return self.prompt + self.body + "\n"


def split_tunes(text: str, source: str = "abc") -> list[dict]:
    """ABC file text -> one dict per tune: {"ref", "fields": {letter: first value}, "body"}.

    A tune starts at a line `X:<n>`; its header runs to the `K:` line (inclusive), its body to the next
    blank line or `X:` line. Text before the first `X:` (file comments) is skipped."""
    tunes, cur, in_body = [], None, False
    for line in text.splitlines():
        line = line.rstrip()
        if line.startswith("X:"):
            cur = {"ref": f"{source}:{line[2:].strip()}", "fields": {}, "body": []}
            tunes.append(cur)
            in_body = False
            continue
        if cur is None:
            continue
        if not line.strip():
            if in_body and cur["body"]:
                cur = None                  # a blank line ends the tune
            continue
        m = _FIELD.match(line)
        if not in_body and m:
            cur["fields"].setdefault(m.group(1).upper(), m.group(2))
            in_body = m.group(1).upper() == "K"
        elif in_body:
            cur["body"].append(line)
    return [dict(t, body="\n".join(t["body"])) for t in tunes]


def check_meter(meter: str) -> str:
    """A meter "N/D" with N in 1..16 and D a power of two up to 32; anything else is a ValueError."""
    m = re.fullmatch(r"\s*(\d+)/(\d+)\s*", str(meter))
    if not m or not 1 <= int(m.group(1)) <= 16 or int(m.group(2)) not in (1, 2, 4, 8, 16, 32):
        raise ValueError(f"unknown meter {meter!r}: expected N/D with N in 1..16 and D in 1, 2, 4, 8, 16, 32 "
                         f"(e.g. '3/4', '6/8')")
    return f"{int(m.group(1))}/{int(m.group(2))}"


def check_key(key: str) -> str:
    """A key signature "G", "Bb", "F#", "Dm", ...; anything else (modes, German 'H', 'Es') is a ValueError."""
    if not isinstance(key, str) or not KEY_RE.match(key.strip()):
        raise ValueError(f"unknown key {key!r}: expected a tonic A-G, an optional '#' or 'b' and an optional 'm' "
                         f"for minor (e.g. 'G', 'Bb', 'F#m')")
    return key.strip()


def check_unit(unit: str) -> str:
    """A unit note length L: one of UNIT_LENGTHS."""
    u = str(unit).strip()
    if u not in UNIT_LENGTHS:
        raise ValueError(f"unknown unit length L:{unit!r}: expected one of {', '.join(UNIT_LENGTHS)}")
    return u


def header_prompt(meter: str, key: str, unit: str = "1/8") -> str:
    """The prompt "M:<meter>\\nL:<unit>\\nK:<key>\\n", each field checked (ValueError names what is wrong)."""
    return f"M:{check_meter(meter)}\nL:{check_unit(unit)}\nK:{check_key(key)}\n"


def parse_prompt(prompt: str) -> dict:
    """A header prompt -> {"meter", "unit", "key"}; a malformed one is a ValueError saying what was expected.

    The prompt must be exactly the lines M:, L:, K: in that order, each ending in a newline."""
    if not isinstance(prompt, str):
        raise ValueError(f"a header prompt is a str like 'M:3/4\\nL:1/8\\nK:G\\n', got {type(prompt).__name__}")
    lines = prompt.split("\n")
    if lines[-1] != "" or len(lines) != 4:
        raise ValueError(f"a header prompt is three lines M:, L:, K:, each ending in a newline "
                         f"(e.g. 'M:3/4\\nL:1/8\\nK:G\\n'); got {prompt!r}")
    out = {}
    for line, (letter, name) in zip(lines[:3], (("M", "meter"), ("L", "unit"), ("K", "key"))):
        if not line.startswith(letter + ":"):
            raise ValueError(f"header prompt line {line!r} should be the {letter}: ({name}) field; "
                             f"expected 'M:...', 'L:...', 'K:...' in that order, got {prompt!r}")
        out[name] = line[2:].strip()
    check_meter(out["meter"]), check_unit(out["unit"]), check_key(out["key"])
    out["meter"] = check_meter(out["meter"])
    return out


def bar_quarters(meter: str) -> Fraction:
    """Length of one bar of `meter` in quarter notes, e.g. "6/8" -> 3."""
    n, d = check_meter(meter).split("/")
    return Fraction(4 * int(n), int(d))


def tune_from_fields(raw: dict) -> Tune:
    """A split_tunes dict -> Tune; ValueError when its header is not a valid prompt (e.g. 'M: none')."""
    f = raw["fields"]
    for letter in "MLK":
        if letter not in f:
            raise ValueError(f"tune {raw['ref']} has no {letter}: field")
    return Tune(ref=raw["ref"], meter=check_meter(f["M"]), unit=check_unit(f["L"]), key=check_key(f["K"]),
                title=f.get("T", ""), number=f.get("N", ""), body=raw["body"])
