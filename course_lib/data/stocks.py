"""Weekly stock records for data-to-text: the facts a report is written from, and checked against.

Daily prices come from bokeh-sampledata (Quandl WIKI prices, public domain, 2000 to March 2013). We use
the ADJUSTED closes: the unadjusted ones show a split as a crash (AAPL's 2-for-1 split of 28 Feb 2005
halves its close overnight). FB is left out: it only trades from May 2012. A week (Monday to Friday) is
kept when all four tickers traded in it, so "best performer of the four" always means the same four.

    recs = weekly_records()                         # list[WeekRecord], oldest week first
    train, held = split_by_time(recs, held_out=0.2) # later weeks held out
    linearise(recs[0])                              # "ticker=AAPL | week=2004-08-23 | open=... | ..."
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

TICKERS = ("AAPL", "GOOG", "IBM", "MSFT")
NAMES = {"AAPL": "Apple", "GOOG": "Google", "IBM": "IBM", "MSFT": "Microsoft"}
FLAT_BELOW = 0.05          # |change| < 0.05% rounds to 0.0%: the week is "flat"


@dataclass(frozen=True)
class WeekRecord:
    """One ticker's week. Prices are adjusted closes in dollars; high/low are the highest and lowest
    daily (adjusted) close of the week, not intraday extremes; change_pct = 100 * (close/open - 1)."""
    ticker: str
    week: str              # ISO date of the week's Monday, e.g. "2005-03-07"
    open: float            # first adjusted close of the week
    close: float           # last adjusted close of the week
    change_pct: float
    direction: str         # "up" | "down" | "flat" (from the change rounded to 0.1%)
    high: float
    low: float
    best: str              # ticker with the largest change that week (among TICKERS)
    worst: str             # ticker with the smallest change
    rank: int              # 1 = best of the four


FIELDS = tuple(f.name for f in fields(WeekRecord))


def direction_of(change_pct: float) -> str:
    return "flat" if abs(change_pct) < FLAT_BELOW else ("up" if change_pct > 0 else "down")


def record_from_dict(d: dict) -> WeekRecord:
    """A WeekRecord from a dict with every field; a missing or wrong field is a clear ValueError."""
    if not isinstance(d, dict):
        raise TypeError(f"a record must be a dict with fields {FIELDS}, got {type(d).__name__}")
    missing = [k for k in FIELDS if k not in d or d[k] is None]
    if missing:
        raise ValueError(f"record is missing field(s) {missing}; expected all of {list(FIELDS)}, got {sorted(d)}")
    extra = sorted(set(d) - set(FIELDS))
    if extra:
        raise ValueError(f"record has unknown field(s) {extra}; expected exactly {list(FIELDS)}")
    for k in ("ticker", "best", "worst"):
        if d[k] not in TICKERS:
            raise ValueError(f"record field {k!r} must be one of {TICKERS}, got {d[k]!r}")
    if d["direction"] not in ("up", "down", "flat"):
        raise ValueError(f"record field 'direction' must be 'up', 'down' or 'flat', got {d['direction']!r}")
    try:
        dt.date.fromisoformat(d["week"])
    except (TypeError, ValueError):
        raise ValueError(f"record field 'week' must be an ISO date like '2005-03-07', got {d['week']!r}") from None
    nums = {k: float(d[k]) for k in ("open", "close", "change_pct", "high", "low")}
    return WeekRecord(ticker=d["ticker"], week=d["week"], direction=d["direction"], best=d["best"],
                      worst=d["worst"], rank=int(d["rank"]), **nums)


def linearise(rec: WeekRecord | dict, values: bool = True) -> str:
    """The record as one line for conditioning a language model. values=False drops the numbers (what a
    delexicalised model needs: it writes placeholders, the filler puts the numbers in)."""
    r = rec if isinstance(rec, WeekRecord) else record_from_dict(rec)
    parts = [f"ticker={r.ticker}", f"week={r.week}"]
    if values:
        parts += [f"open={r.open:.2f}", f"close={r.close:.2f}", f"change={r.change_pct:+.1f}%",
                  f"high={r.high:.2f}", f"low={r.low:.2f}"]
    parts += [f"dir={r.direction}", f"best={r.best}", f"worst={r.worst}", f"rank={r.rank}"]
    return " | ".join(parts)


def daily_adjusted_closes(tickers=TICKERS) -> dict[str, list[tuple[dt.date, float]]]:
    """{ticker: [(date, adjusted close), ...] oldest first} from bokeh-sampledata (any of its tickers;
    default the four of the weekly records)."""
    try:
        from bokeh_sampledata import stocks
    except ImportError as err:
        raise ImportError("the stock prices need bokeh-sampledata: pip install 'genai-course[apps]'") from err
    out = {}
    for t in tickers:
        series = getattr(stocks, t)
        rows = sorted((dt.date.fromisoformat(d), float(c)) for d, c in zip(series["date"], series["adj_close"]))
        out[t] = rows
    return out


def weekly_records(daily: dict | None = None) -> list[WeekRecord]:
    """Every (week, ticker) record, oldest week first, tickers in TICKERS order within a week."""
    daily = daily_adjusted_closes() if daily is None else daily
    weeks: dict[dt.date, dict[str, list[float]]] = {}
    for t, rows in daily.items():
        for day, close in rows:
            monday = day - dt.timedelta(days=day.weekday())
            weeks.setdefault(monday, {}).setdefault(t, []).append(close)
    recs = []
    for monday in sorted(weeks):
        w = weeks[monday]
        if any(len(w.get(t, ())) < 2 for t in TICKERS):          # need a first and a last close per ticker
            continue
        change = {t: 100.0 * (w[t][-1] / w[t][0] - 1.0) for t in TICKERS}
        order = sorted(TICKERS, key=lambda t: -change[t])
        for t in TICKERS:
            c = change[t]
            recs.append(WeekRecord(ticker=t, week=monday.isoformat(), open=w[t][0], close=w[t][-1],
                                   change_pct=c, direction=direction_of(round(c, 1)), high=max(w[t]), low=min(w[t]),
                                   best=order[0], worst=order[-1], rank=order.index(t) + 1))
    return recs


def split_by_time(recs: list[WeekRecord], held_out: float = 0.2) -> tuple[list[WeekRecord], list[WeekRecord]]:
    """(train, held-out): the last `held_out` share of WEEKS (all tickers of a week together) held out."""
    if not 0 < held_out < 1:
        raise ValueError(f"held_out must be a fraction in (0, 1), got {held_out!r}")
    weeks = sorted({r.week for r in recs})
    if len(weeks) < 2:
        raise ValueError(f"need records from at least 2 weeks to split, got {len(weeks)}")
    cut = weeks[max(1, min(len(weeks) - 1, round(len(weeks) * (1 - held_out))))]
    return [r for r in recs if r.week < cut], [r for r in recs if r.week >= cut]


def as_dict(rec: WeekRecord) -> dict:
    return asdict(rec)


# ----------------------------------------------------------------------------- the course's data registry

SPLITS = ("train", "test", "all")
HELD_OUT = 0.2


def load_stocks(split: str = "train") -> list[WeekRecord]:
    """`data.load("stocks", split=...)`: the weekly records, oldest first; "test" is the last 20% of weeks
    (split by time, so no held-out week is seen in training, not even for another ticker)."""
    recs = weekly_records()
    if split == "all":
        return recs
    train, held = split_by_time(recs, held_out=HELD_OUT)
    return train if split == "train" else held


def _register() -> None:
    from .registry import DatasetInfo, register
    register(DatasetInfo("stocks", "records", "weekly records of AAPL, GOOG, IBM and MSFT from daily ADJUSTED closes "
                         "(open, close, change, high, low, direction, best/worst of the four)",
                         "public domain (Quandl WIKI prices via bokeh-sampledata)", "bundled: bokeh-sampledata",
                         "1,784 records (446 weeks x 4 tickers, Aug 2004 - Feb 2013); test: the last 20% of weeks "
                         "(356 records, from 2011-06-20)", SPLITS), load_stocks)


_register()
