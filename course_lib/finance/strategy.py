"""A moving-average crossover rule, stress-tested on generated markets.

The rule (long or flat): hold the asset on day t+1 when its fast moving average (FAST = 20 days) of
prices is above the slow one (SLOW = 100 days) at the close of day t, else hold cash (return 0). Deciding
on day t's close and earning day t+1's return keeps the rule from peeking. We report its total
log-return and its maximum drawdown (the largest fall of the strategy's wealth from a previous peak, as a
positive fraction), on the held-out prices and on each generator's price paths.

    prices = prices_from_returns(paths, start=100.0)     # (n_paths, horizon + 1)
    res = run_crossover(prices)                          # {"total_return": (n_paths,), "max_drawdown": (n_paths,)}
"""
from __future__ import annotations

import numpy as np

FAST, SLOW = 20, 100


def prices_from_returns(log_returns, start: float = 1.0) -> np.ndarray:
    """(..., T) log-returns -> (..., T + 1) prices starting at `start`."""
    r = np.asarray(log_returns, dtype=float)
    if not np.all(np.isfinite(r)):
        raise ValueError("log_returns contain NaN or inf")
    z = np.zeros(r.shape[:-1] + (1,))
    return start * np.exp(np.concatenate([z, np.cumsum(r, -1)], -1))


def _prices(prices, slow: int) -> np.ndarray:
    p = np.asarray(prices, dtype=float)
    p2 = p[None] if p.ndim == 1 else p
    if p2.ndim != 2:
        raise ValueError(f"prices must be (days,) or (paths, days), got shape {p.shape}")
    if not np.all(np.isfinite(p2)):
        raise ValueError("prices contain NaN or inf (a gap?): fill or drop the day before running the rule")
    if (p2 <= 0).any():
        raise ValueError(f"prices must be positive, got a minimum of {p2.min()}")
    if p2.shape[1] <= slow + 1:
        raise ValueError(f"the slow window ({slow} days) must be shorter than the series: need more than "
                         f"{slow + 1} prices, got {p2.shape[1]}")
    return p2


def moving_average(prices, window: int) -> np.ndarray:
    """Trailing mean of the last `window` prices along the last axis -> (..., days - window + 1)."""
    c = np.cumsum(np.asarray(prices, dtype=float), -1)
    c = np.concatenate([np.zeros(c.shape[:-1] + (1,)), c], -1)
    return (c[..., window:] - c[..., :-window]) / window


def max_drawdown(wealth) -> np.ndarray:
    """Largest fall from a running peak, as a positive fraction: max_t (1 - W_t / max_{s<=t} W_s) -> (...)."""
    w = np.asarray(wealth, dtype=float)
    return (1 - w / np.maximum.accumulate(w, axis=-1)).max(-1)


def run_crossover(prices, fast: int = FAST, slow: int = SLOW) -> dict:
    """Run the long-or-flat crossover on (days,) or (paths, days) prices, trading from day `slow` on ->
    {"total_return": (paths,), "max_drawdown": (paths,), "time_in_market": (paths,)}."""
    if not 1 <= fast < slow:
        raise ValueError(f"need 1 <= fast < slow, got fast={fast}, slow={slow}")
    p = _prices(prices, slow)                                           # (P, T)
    ma_f = moving_average(p, fast)[:, slow - fast:]                     # (P, T - slow + 1), aligned at day slow-1..
    ma_s = moving_average(p, slow)
    long = (ma_f > ma_s)[:, :-1]                                        # decided at close of day t (t = slow-1..T-2)
    r = np.diff(np.log(p), axis=-1)[:, slow - 1:]                       # return of day t+1
    strat = np.where(long, r, 0.0)                                      # (P, T - slow)
    wealth = np.exp(np.concatenate([np.zeros((p.shape[0], 1)), np.cumsum(strat, -1)], -1))
    return {"total_return": strat.sum(-1), "max_drawdown": max_drawdown(wealth), "time_in_market": long.mean(-1)}
