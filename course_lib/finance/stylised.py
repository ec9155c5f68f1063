"""The stylised facts of asset returns (Cont 2001), each with a block-bootstrap 95% interval.

A scenario generator is only as good as the facts it reproduces: heavy tails (Hill tail index, kurtosis),
no linear predictability (raw-return autocorrelation near 0), volatility clustering (absolute returns
autocorrelated for weeks), assets moving together (cross-correlation) and the leverage effect (a fall
today raises tomorrow's volatility: corr(r_t, |r_{t+k}|) < 0).

Intervals: a circular moving-block bootstrap with blocks of BLOCK = 20 trading days (about a month). Days
are not independent (volatility clusters), so resampling single days would destroy the clustering and
make the intervals of the autocorrelations far too narrow; a block as long as the largest lag we measure
(20) keeps the dependence the statistics look at, while 795 held-out days still give about 40 blocks.

    facts = stylised_facts(returns)           # returns: (T,) portfolio or (T, A) assets -> dict of floats
    table = with_intervals(returns, seed=0)   # {name: (estimate, low, high)}
"""
from __future__ import annotations

import numpy as np

BLOCK = 20                 # bootstrap block length in days (see the module docstring)
TAIL_SHARE = 0.05          # Hill estimator: the largest 5% of losses
LAGS = 20                  # autocorrelation lags 1..20
LEVERAGE_LAGS = 10         # leverage: corr(r_t, |r_{t+k}|), k = 1..10


def _series(x, what: str = "returns", min_len: int = 30) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{what} must be 1-D (days,), got shape {a.shape}")
    if a.size < min_len:
        raise ValueError(f"{what} needs at least {min_len} days, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contains NaN or inf at day {int(np.flatnonzero(~np.isfinite(a))[0])}")
    return a


def hill_tail_index(returns, tail_share: float = TAIL_SHARE) -> float:
    """Hill's estimator of the tail index alpha of LOSSES (-returns): with the k = tail_share * T largest
    losses X_(1) >= ... >= X_(k) and the threshold X_(k+1), 1/alpha = mean_i log(X_(i) / X_(k+1)).
    Smaller alpha = heavier tail (Gaussian: alpha -> infinity; equity returns: about 3). k trades bias for
    variance: on 200,000 Student-t(3) draws the top 0.5% gives about 3.0, the default top 5% about 2.5 (the
    body of the t is not a power law yet); we keep 5% because 795 held-out days have only about 40 such losses."""
    x = -_series(returns)
    if not 0 < tail_share < 0.5:
        raise ValueError(f"tail_share must be in (0, 0.5), got {tail_share}")
    k = max(int(tail_share * x.size), 5)
    top = np.sort(x)[::-1][:k + 1]                                    # (k+1,) largest losses, descending
    if top[k] <= 0:
        raise ValueError(f"the Hill estimator needs {k + 1} positive losses; the series has too few losses")
    return float(1.0 / np.mean(np.log(top[:k] / top[k])))


def kurtosis(returns) -> float:
    """Pearson kurtosis E[(r - mean)^4] / var^2 (3 for a Gaussian; more = heavier tails)."""
    r = _series(returns)
    c = r - r.mean()
    return float(np.mean(c ** 4) / np.mean(c ** 2) ** 2)


def autocorrelation(x, lags: int = LAGS) -> np.ndarray:
    """Sample autocorrelation at lags 1..lags: sum_t c_t c_{t+k} / sum_t c_t^2 with c = x - mean -> (lags,)."""
    x = _series(x)
    if not 1 <= lags < x.size:
        raise ValueError(f"lags must be in 1..{x.size - 1} (shorter than the series), got {lags}")
    c = x - x.mean()
    den = np.dot(c, c)
    if den == 0:
        raise ValueError("the series is constant: its autocorrelation is undefined (0/0); "
                         "expected returns that vary")
    return np.array([np.dot(c[:-k], c[k:]) / den for k in range(1, lags + 1)])


def leverage(returns, lags: int = LEVERAGE_LAGS) -> np.ndarray:
    """corr(r_t, |r_{t+k}|) for k = 1..lags -> (lags,); negative: falls precede higher volatility."""
    r = _series(returns)
    if not 1 <= lags < r.size - 2:
        raise ValueError(f"lags must be in 1..{r.size - 3}, got {lags}")
    a = np.abs(r)
    return np.array([np.corrcoef(r[:-k], a[k:])[0, 1] for k in range(1, lags + 1)])


def cross_correlation(returns) -> float:
    """Mean pairwise correlation of the assets' returns; returns (T, A) with A >= 2."""
    r = np.asarray(returns, dtype=float)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(f"cross-correlation needs (days, assets) with at least 2 assets, got shape {r.shape}")
    c = np.corrcoef(r.T)
    return float(c[np.triu_indices(r.shape[1], 1)].mean())


def stylised_facts(returns, assets=None) -> dict:
    """The figures compared across generators: tail index, kurtosis, abs-ACF lag 1 and mean over lags 1-20,
    raw ACF lag 1, leverage (mean over lags 1-10), and the cross-correlation when `assets` (T, A) is given.
    returns: (T,) portfolio returns."""
    r = _series(returns)
    acf_abs = autocorrelation(np.abs(r))
    out = {"tail_index": hill_tail_index(r), "kurtosis": kurtosis(r), "abs_acf_1": float(acf_abs[0]),
           "abs_acf_mean_1_20": float(acf_abs.mean()), "raw_acf_1": float(autocorrelation(r, 1)[0]),
           "leverage_mean_1_10": float(leverage(r).mean())}
    if assets is not None:
        out["cross_corr"] = cross_correlation(assets)
    return out


def block_bootstrap_indices(n: int, n_boot: int, block: int = BLOCK, seed: int = 0) -> np.ndarray:
    """Circular moving-block bootstrap: n_boot index series of length n, each made of blocks of `block`
    consecutive days starting at uniform random days (wrapping round the end) -> (n_boot, n) int."""
    if not 1 <= block <= n:
        raise ValueError(f"block must be in 1..{n} (the series length), got {block}")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block)
    starts = rng.integers(0, n, size=(n_boot, n_blocks))                       # (B, n_blocks)
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n            # (B, n_blocks, block)
    return idx.reshape(n_boot, -1)[:, :n]


def with_intervals(returns, assets=None, n_boot: int = 500, block: int = BLOCK, level: float = 0.95,
                   seed: int = 0) -> dict:
    """{fact: (estimate, low, high)}: the estimate on the data and the percentile interval of `level`
    over n_boot block-bootstrap resamples (portfolio and assets resampled on the same days)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    r = _series(returns)
    a = None if assets is None else np.asarray(assets, dtype=float)
    if a is not None and a.shape[0] != r.size:
        raise ValueError(f"assets must have the {r.size} days of returns, got shape {a.shape}")
    point = stylised_facts(r, a)
    draws = {k: [] for k in point}
    for idx in block_bootstrap_indices(r.size, n_boot, block, seed):
        for k, v in stylised_facts(r[idx], None if a is None else a[idx]).items():
            draws[k].append(v)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return {k: (point[k], *map(float, np.percentile(draws[k], q))) for k in point}
