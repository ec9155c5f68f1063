"""The hallucination checker: every fact a text states, extracted and compared with its record.

What is extracted, sentence by sentence (sentences end at . ! ? ; : or a line break):
- dates (2005-03-07 or March 7, 2005): must be the record's week (its Monday)
- tickers and company names; an all-capitals word of 2-5 letters that is no known ticker is an error.
  A sentence about another ticker may only state a comparison (best/worst), no number or direction.
- percentages (2.3%, 2.3 percent, +2.3%): the record's weekly change; a signed one must have its sign
- prices ($5.72, 5.72): attributed to the field of the nearest cue word before them in the sentence
  (opened/started/began/from -> open; closed/ended/finished/settled/to -> close; high/highest/peak
  -> high; low/lowest -> low); a number with no cue, or any other number, is an error
- direction words (rose, gained, fell, slipped, flat, ...): must agree with the record's direction
- comparisons (best, top performer, led, strongest / worst, weakest, lagged): the sentence's one ticker
  (or the record's own, for "it") must be the week's best / worst of the four
Tolerance: a number written with d decimals must be the true value rounded to d decimals, i.e. within
half a unit of its last digit (0.005 for $5.72, 0.05 for 2.3%, 0.5 for $6).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from course_lib.data.stocks import NAMES, TICKERS, WeekRecord, record_from_dict

LIMITS = {"report": 400, "headline": 90, "post": 280, "script": 400}   # characters
KNOWN = {**{t: t for t in TICKERS}, "FB": "FB", **{n: t for t, n in NAMES.items()}, "Facebook": "FB"}
NOT_TICKERS = {"HOST", "ANALYST", "ANCHOR", "REPORTER", "NARRATOR", "EXPERT", "DATE"}
UP = {"rose", "rise", "rises", "gained", "gain", "gains", "climbed", "climbs", "advanced", "advances", "rallied",
      "rallies", "jumped", "jump", "jumps", "added", "higher", "up"}
DOWN = {"fell", "fall", "falls", "slipped", "slips", "dropped", "drops", "declined", "declines", "lost", "loss",
        "slid", "slide", "slides", "sank", "eased", "retreated", "lower", "down"}
FLAT = {"flat", "unchanged", "steady"}
CUES = {"open": ("opened", "opening", "open", "started", "start", "began", "from"),
        "close": ("closed", "closes", "closing", "close", "ended", "ending", "finished", "settled", "to"),
        "high": ("high", "highest", "peak", "peaked"),
        "low": ("low", "lowest")}
_CUE = {w: f for f, ws in CUES.items() for w in ws}
BEST = re.compile(r"\b(best|top performer|led|strongest)\b", re.I)
WORST = re.compile(r"\b(worst|weakest|lagged)\b", re.I)
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE = re.compile(rf"(?<!\d)(\d{{4}})-(\d{{2}})-(\d{{2}})(?!\d)|\b({MONTHS}) (\d{{1,2}}), (\d{{4}})\b")
NUMBER = re.compile(r"([+-]?)(\$?)(\d+(?:,\d{3})*(?:\.\d+)?)(\s*%|\s+percent\b)?")
WORD = re.compile(r"[A-Za-z]+")
SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def _close_enough(written: str, value: float) -> bool:
    decimals = len(written.split(".")[1]) if "." in written else 0
    return abs(float(written.replace(",", "")) - value) <= 0.5 * 10 ** -decimals + 1e-9


def _dates(sentence: str, r: WeekRecord, errors: list) -> str:
    def one(m):
        try:
            if m.group(1):
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            else:
                d = dt.date(int(m.group(6)), MONTHS.split("|").index(m.group(4)) + 1, int(m.group(5)))
        except ValueError:
            errors.append(f"date: {m.group(0)!r} is no date")
            return " DATE "
        if d.isoformat() != r.week:
            errors.append(f"date: {m.group(0)!r} but the record's week is {r.week}")
        return " DATE "
    return DATE.sub(one, sentence)


def _tickers(sentence: str, errors: list) -> set:
    found = set()
    for w in WORD.findall(sentence):
        if w in KNOWN:
            found.add(KNOWN[w])
        elif w.isupper() and 2 <= len(w) <= 5 and w not in NOT_TICKERS:
            errors.append(f"ticker: {w!r} is not a known ticker ({', '.join(TICKERS)})")
    return found


def _numbers(sentence: str, r: WeekRecord, errors: list) -> int:
    n = 0
    for m in NUMBER.finditer(sentence):
        sign, dollar, num, pct = m.groups()
        n += 1
        if pct:
            if not _close_enough(num, abs(r.change_pct)):
                errors.append(f"number: change {m.group(0).strip()!r} but the record's is {r.change_pct:+.2f}%")
            elif sign and round(r.change_pct, 1) != 0 and (sign == "+") != (r.change_pct > 0):
                errors.append(f"number: change {m.group(0).strip()!r} has the wrong sign ({r.change_pct:+.2f}%)")
            continue
        before = [w.lower() for w in WORD.findall(sentence[:m.start()])]
        field = next((_CUE[w] for w in reversed(before) if w in _CUE), None)
        if field is None:
            errors.append(f"number: {m.group(0).strip()!r} is not tied to any field (no cue word before it)")
        elif not _close_enough(num, getattr(r, field)):
            errors.append(f"number: {field} {m.group(0).strip()!r} but the record's {field} is {getattr(r, field):.4f}")
    return n


def _directions(sentence: str, r: WeekRecord, errors: list) -> int:
    n = 0
    for w in (w.lower() for w in WORD.findall(sentence)):
        said = "up" if w in UP else "down" if w in DOWN else "flat" if w in FLAT else None
        if said is None:
            continue
        n += 1
        if said != r.direction:
            errors.append(f"direction: {w!r} says {said} but the record's week was {r.direction} ({r.change_pct:+.2f}%)")
    return n


def _comparison(sentence: str, tickers: set, r: WeekRecord, errors: list) -> None:
    best, worst = BEST.search(sentence), WORST.search(sentence)
    if not (best or worst):
        return
    if best and worst:
        errors.append(f"comparison: one sentence claims both best and worst: {sentence!r}")
        return
    if len(tickers) > 1:
        errors.append(f"comparison: names {sorted(tickers)}, cannot tell which is meant: {sentence!r}")
        return
    who = next(iter(tickers)) if tickers else r.ticker
    truth, kind = (r.best, "best") if best else (r.worst, "worst")
    if who != truth:
        errors.append(f"comparison: says {who} was the {kind} of the four, but it was {truth}")


def check(text: str, rec: WeekRecord | dict) -> list[str]:
    """Every factual error in `text` against the record, as 'kind: message' strings ([] = all true)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    r = rec if isinstance(rec, WeekRecord) else record_from_dict(rec)
    errors: list[str] = []
    for sentence in SENTENCE.split(text):
        sentence = _dates(sentence, r, errors)
        tickers = _tickers(sentence, errors)
        others = tickers - {r.ticker}
        is_comparison = bool(BEST.search(sentence) or WORST.search(sentence))
        if others and not is_comparison:
            errors.append(f"ticker: {sorted(others)} named but the record is about {r.ticker}: {sentence!r}")
            continue
        if others:                   # a comparison about another ticker: only the comparison may be stated
            if _numbers(sentence, r, []) or _directions(sentence, r, []):
                errors.append(f"ticker: a number or direction about {sorted(others)}, which the record cannot confirm")
            _comparison(sentence, tickers, r, errors)
            continue
        _numbers(sentence, r, errors)
        _directions(sentence, r, errors)
        _comparison(sentence, tickers, r, errors)
    return errors


def error_summary(texts, records) -> dict:
    """Checks every (text, record) pair: {'n', 'with_errors', 'error_rate' (share of texts with >= 1
    error), 'errors_per_text', 'by_kind' {kind: count}, 'errors' [per-text lists]}."""
    texts, records = list(texts), list(records)
    if len(texts) != len(records):
        raise ValueError(f"need one record per text, got {len(texts)} texts and {len(records)} records")
    per = [check(t, r) for t, r in zip(texts, records)]
    kinds = Counter(e.split(":", 1)[0] for errs in per for e in errs)
    n = len(per)
    bad = sum(1 for errs in per if errs)
    return {"n": n, "with_errors": bad, "error_rate": bad / n if n else 0.0,
            "errors_per_text": sum(map(len, per)) / n if n else 0.0, "by_kind": dict(kinds), "errors": per}


def format_ok(text: str, fmt: str) -> bool:
    """Length and shape of a format: within LIMITS[fmt] characters, non-empty; a headline is one line;
    a script is 2+ lines, each 'SPEAKER: words'; a report and a post have no line breaks."""
    if fmt not in LIMITS:
        raise ValueError(f"format must be one of {tuple(LIMITS)}, got {fmt!r}")
    text = text.strip()
    if not text or len(text) > LIMITS[fmt]:
        return False
    lines = text.split("\n")
    if fmt == "script":
        return len(lines) >= 2 and all(re.match(r"^[A-Z]+: \S", ln) for ln in lines)
    return len(lines) == 1
