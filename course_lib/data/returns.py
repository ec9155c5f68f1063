"""Daily log-returns of three stocks for market scenarios and value-at-risk (notebook 12).

Prices are bokeh-sampledata's daily ADJUSTED closes (Quandl WIKI, public domain, March 2000 to March 2013;
course_lib.data.stocks reads them). AAPL, IBM and MSFT are the three tickers that cover the whole span.
A day is kept when all three traded; a day one ticker misses (none in the shipped file, but a gap is
possible in other price tables) is dropped for all three, so the next return of every ticker spans the
gap (we count such gaps in `prices_to_returns(..., report=...)` rather than invent a price).

The split is by time: train on 2000-2009, test on 2010 to March 2013 (no test day is seen in training).
The course's portfolio holds the three with equal weights, rebalanced daily: its simple return is the mean
of the three simple returns (`portfolio_returns`).

    train = data.load("stock-returns", split="train")   # DataFrame, index: dates, columns AAPL IBM MSFT
    port = portfolio_returns(train)                     # pandas Series of daily portfolio log-returns
"""
from __future__ import annotations

import datetime as dt

import numpy as np

TICKERS = ("AAPL", "IBM", "MSFT")
TRAIN_END = dt.date(2009, 12, 31)          # train: up to and including this day; test: after it
SPLITS = ("train", "test", "all")


def validate_prices(prices) -> None:
    """Raise a ValueError naming the ticker and the date of any missing (NaN) or non-positive price.
    prices: a DataFrame indexed by date, one column per ticker."""
    import pandas as pd
    if not isinstance(prices, pd.DataFrame):
        raise TypeError(f"prices must be a pandas DataFrame (dates x tickers), got {type(prices).__name__}")
    if len(prices) < 2:
        raise ValueError(f"prices need at least 2 days to make a return, got {len(prices)}")
    for t in prices.columns:
        col = prices[t].to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            raise ValueError(f"price of {t} is missing (NaN) on {prices.index[bad[0]]} ({bad.size} day(s) in all): "
                             "drop the day for every ticker or fill it before computing returns")
        bad = np.flatnonzero(col <= 0)
        if bad.size:
            raise ValueError(f"price of {t} must be positive, got {col[bad[0]]} on {prices.index[bad[0]]}")


def daily_prices(tickers=TICKERS):
    """DataFrame of adjusted closes on the days ALL tickers traded (dates ascending); the number of days
    dropped because one ticker was missing is in `.attrs["dropped_days"]`."""
    import pandas as pd
    from .stocks import daily_adjusted_closes
    rows = daily_adjusted_closes(tickers)
    frame = pd.DataFrame({t: pd.Series(dict(r)) for t, r in rows.items()}).sort_index()
    full = frame.dropna()
    full.attrs["dropped_days"] = len(frame) - len(full)
    full.index = pd.to_datetime(full.index)
    full.index.name = "date"
    return full


def prices_to_returns(prices):
    """Daily log-returns log(P_t / P_{t-1}) (DataFrame, one row fewer), after validate_prices."""
    validate_prices(prices)
    return np.log(prices).diff().iloc[1:]


def portfolio_returns(returns, weights=None):
    """Log-return of a portfolio rebalanced daily to `weights` (default equal): log(sum_i w_i exp(r_i)).
    returns: DataFrame or (T, A) array of asset log-returns -> Series or (T,) array."""
    r = np.asarray(returns, dtype=float)
    if r.ndim != 2:
        raise ValueError(f"returns must be 2-D (days, assets), got shape {r.shape}")
    w = np.full(r.shape[1], 1.0 / r.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (r.shape[1],) or not np.isclose(w.sum(), 1.0):
        raise ValueError(f"weights must be {r.shape[1]} numbers summing to 1, got {weights!r}")
    out = np.log(np.exp(r) @ w)                                        # (T,)
    if hasattr(returns, "index"):
        import pandas as pd
        return pd.Series(out, index=returns.index, name="portfolio")
    return out


def load_stock_returns(split: str = "train"):
    """`data.load("stock-returns", split=...)`: daily log-returns of AAPL, IBM, MSFT (DataFrame indexed by
    date). train: 2000-03-02 to 2009-12-31; test: 2010-01-04 to 2013-03-01; all: both."""
    r = prices_to_returns(daily_prices())
    if split == "all":
        return r
    cut = np.datetime64(TRAIN_END)
    return r[r.index <= cut] if split == "train" else r[r.index > cut]


def _register() -> None:
    from .registry import DatasetInfo, register
    register(DatasetInfo("stock-returns", "table", "daily log-returns of AAPL, IBM and MSFT from ADJUSTED closes, "
                         "days where all three traded; split by time", "public domain (Quandl WIKI prices via "
                         "bokeh-sampledata)", "bundled: bokeh-sampledata",
                         "3,269 days x 3 tickers (Mar 2000 - Mar 2013); train 2000-2009, test 2010 - Mar 2013",
                         SPLITS), load_stock_returns)


_register()
