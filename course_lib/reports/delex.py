"""Delexicalisation: a text with placeholders (<CLOSE>, <TICKER>, ...) instead of the record's values.

A small language model copies digits badly: asked to write "closed at $5.72" it may write "$5.27". If it
writes "closed at $<CLOSE>" instead, a filler puts in the record's own value, formatted one fixed way,
and no number can be wrong (Wiseman et al. 2017 measure exactly these copy errors). The model still
chooses the words, so direction ("rose"/"fell") and comparisons stay its job.
"""
from __future__ import annotations

import datetime as dt
import re

from course_lib.data.stocks import NAMES, WeekRecord, record_from_dict


def _weektext(week: str) -> str:
    d = dt.date.fromisoformat(week)
    return f"{d:%B} {d.day}, {d.year}"


# placeholder -> how the record's value is written (one fixed format each)
PLACEHOLDERS = {
    "<TICKER>": lambda r: r.ticker,
    "<NAME>": lambda r: NAMES[r.ticker],
    "<WEEK>": lambda r: r.week,
    "<WEEKTEXT>": lambda r: _weektext(r.week),
    "<OPEN>": lambda r: f"{r.open:.2f}",
    "<CLOSE>": lambda r: f"{r.close:.2f}",
    "<HIGH>": lambda r: f"{r.high:.2f}",
    "<LOW>": lambda r: f"{r.low:.2f}",
    "<CHANGE>": lambda r: f"{abs(r.change_pct):.1f}",
    "<SCHANGE>": lambda r: f"{r.change_pct:+.1f}",
    "<BEST>": lambda r: r.best,
    "<WORST>": lambda r: r.worst,
    "<BESTNAME>": lambda r: NAMES[r.best],
    "<WORSTNAME>": lambda r: NAMES[r.worst],
}
_ANY = re.compile(r"<[A-Z]+>")


def fill(template: str, rec: WeekRecord | dict) -> str:
    """Put the record's values into every placeholder. An unknown placeholder is a ValueError."""
    r = rec if isinstance(rec, WeekRecord) else record_from_dict(rec)
    unknown = sorted(set(_ANY.findall(template)) - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"unknown placeholder(s) {unknown}; expected some of {sorted(PLACEHOLDERS)}")
    return _ANY.sub(lambda m: PLACEHOLDERS[m.group(0)](r), template)


def delexicalise(text: str, rec: WeekRecord | dict) -> str:
    """The reverse of fill: every written form of a record value becomes its placeholder (longest forms
    first, whole words only). fill(delexicalise(t, r), r) == t for texts written in fill's formats."""
    r = rec if isinstance(rec, WeekRecord) else record_from_dict(rec)
    forms = sorted(((PLACEHOLDERS[p](r), p) for p in PLACEHOLDERS), key=lambda fp: -len(fp[0]))
    out, i = [], 0
    while i < len(text):
        for value, p in forms:
            j = i + len(value)
            if text.startswith(value, i) and (i == 0 or not text[i - 1].isalnum() or not value[0].isalnum()) \
                    and (j == len(text) or not text[j].isalnum() or not value[-1].isalnum()) \
                    and not (value[-1].isdigit() and j < len(text) - 1 and text[j] == "." and text[j + 1].isdigit()):
                out.append(p)
                i = j
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
