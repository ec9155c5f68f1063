"""Value-at-risk and expected shortfall from scenarios, and the backtests a regulator runs on them.

Sign convention: VaR and ES are POSITIVE LOSSES. At confidence c (e.g. 0.99) VaR_c is the loss exceeded
with probability 1 - c: VaR = -quantile_{1-c}(returns); ES is the mean loss beyond it. An EXCEPTION is a
day whose realised loss exceeds that day's VaR (return < -VaR).

Kupiec (1995), proportion of failures: x exceptions in n days, expected rate p = 1 - c, observed pi = x/n,
    LR_pof = -2 [ log((1-p)^(n-x) p^x) - log((1-pi)^(n-x) pi^x) ]  ~ chi2(1).
Christoffersen (1998), independence: n_ij = days in state i followed by state j (1 = exception),
pi_01 = n01/(n00+n01), pi_11 = n11/(n10+n11), pi = (n01+n11)/(n00+n01+n10+n11),
    LR_ind = -2 [ log L(pi) - log L(pi_01, pi_11) ]  ~ chi2(1);   LR_cc = LR_pof + LR_ind ~ chi2(2).
0 log 0 is taken as 0 (a likelihood term with no observations), so zero exceptions are fine.
Basel traffic light on 250 days at 99%: green 0-4 exceptions, yellow 5-9, red 10 or more.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import chi2


def check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number in (0, 1) such as 0.99, got {confidence!r}")
    return float(confidence)


def _finite(x, what: str, ndim: int) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != ndim or a.size == 0:
        raise ValueError(f"{what} must be a non-empty {ndim}-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contains NaN or inf (first at flat index {int(np.flatnonzero(~np.isfinite(a.ravel()))[0])})")
    return a


def var_es(scenarios, confidence: float = 0.99) -> tuple[float, float]:
    """(VaR, ES) as positive losses from scenario returns (n,): VaR = -q_{1-c}, ES = mean of -r where r <= -VaR."""
    c = check_confidence(confidence)
    r = _finite(scenarios, "scenarios", 1)
    q = np.quantile(r, 1 - c)
    return float(-q), float(-r[r <= q].mean())


def var_es_rows(scenarios, confidence: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    """var_es for each row of (days, n) scenarios -> (VaR (days,), ES (days,))."""
    c = check_confidence(confidence)
    r = _finite(scenarios, "scenarios", 2)
    q = np.quantile(r, 1 - c, axis=1)                                     # (days,)
    tail = np.where(r <= q[:, None], r, np.nan)
    return -q, -np.nanmean(tail, axis=1)


def exceptions(returns, var) -> np.ndarray:
    """Boolean (days,): the realised loss exceeded the VaR (return < -VaR)."""
    r, v = _finite(returns, "returns", 1), _finite(var, "var", 1)
    if r.shape != v.shape:
        raise ValueError(f"returns and var must have the same length, got {r.size} and {v.size}")
    return r < -v


def _xlogy(x, y) -> float:
    return float(x * np.log(y)) if x > 0 else 0.0                        # 0 log 0 = 0


def _hits(hits) -> np.ndarray:
    h = np.asarray(hits)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"exceptions must be a non-empty 1-D sequence of 0/1, got shape {h.shape}")
    if not np.isin(h, (0, 1)).all():
        raise ValueError("exceptions must be 0/1 or booleans (1 = the loss exceeded the VaR)")
    return h.astype(int)


def kupiec(hits, confidence: float = 0.99) -> dict:
    """Kupiec's proportion-of-failures test -> {"n", "x", "rate", "lr", "p_value"}."""
    p = 1 - check_confidence(confidence)
    h = _hits(hits)
    n, x = h.size, int(h.sum())
    pi = x / n
    ll_null = _xlogy(n - x, 1 - p) + _xlogy(x, p)
    ll_alt = _xlogy(n - x, 1 - pi) + _xlogy(x, pi)
    lr = max(-2 * (ll_null - ll_alt), 0.0)
    return {"n": n, "x": x, "rate": pi, "lr": lr, "p_value": float(chi2.sf(lr, 1))}


def christoffersen(hits, confidence: float = 0.99) -> dict:
    """Christoffersen's independence test and the conditional-coverage sum ->
    {"n00", "n01", "n10", "n11", "lr_ind", "p_ind", "lr_cc", "p_cc"}."""
    h = _hits(hits)
    if h.size < 2:
        raise ValueError(f"the independence test needs at least 2 days, got {h.size}")
    prev, nxt = h[:-1], h[1:]
    n00, n01 = int(((prev == 0) & (nxt == 0)).sum()), int(((prev == 0) & (nxt == 1)).sum())
    n10, n11 = int(((prev == 1) & (nxt == 0)).sum()), int(((prev == 1) & (nxt == 1)).sum())
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    ll_null = _xlogy(n00 + n10, 1 - pi) + _xlogy(n01 + n11, pi)
    ll_alt = _xlogy(n00, 1 - pi01) + _xlogy(n01, pi01) + _xlogy(n10, 1 - pi11) + _xlogy(n11, pi11)
    lr_ind = max(-2 * (ll_null - ll_alt), 0.0)
    lr_cc = kupiec(h, confidence)["lr"] + lr_ind
    return {"n00": n00, "n01": n01, "n10": n10, "n11": n11, "lr_ind": lr_ind, "p_ind": float(chi2.sf(lr_ind, 1)),
            "lr_cc": lr_cc, "p_cc": float(chi2.sf(lr_cc, 2))}


def basel_zone(n_exceptions: int, days: int = 250) -> str:
    """The Basel traffic light for a 99% VaR over 250 days: "green" (0-4), "yellow" (5-9), "red" (10+)."""
    if days != 250:
        raise ValueError(f"the Basel zones are defined for 250 days, got {days}")
    if isinstance(n_exceptions, bool) or not isinstance(n_exceptions, (int, np.integer)) or n_exceptions < 0:
        raise ValueError(f"n_exceptions must be a non-negative int, got {n_exceptions!r}")
    return "green" if n_exceptions <= 4 else "yellow" if n_exceptions <= 9 else "red"


def backtest(returns, var, confidence: float = 0.99) -> dict:
    """Exceptions, Kupiec and Christoffersen for a VaR series against realised returns (both (days,))."""
    h = exceptions(returns, var)
    k, c = kupiec(h, confidence), christoffersen(h, confidence)
    return {"exceptions": k["x"], "days": k["n"], "rate": k["rate"], "kupiec_lr": k["lr"], "kupiec_p": k["p_value"],
            "christoffersen_lr": c["lr_ind"], "christoffersen_p": c["p_ind"], "cc_lr": c["lr_cc"], "cc_p": c["p_cc"]}


def power_kupiec(n_days: int, true_rate: float, confidence: float = 0.99, level: float = 0.05) -> float:
    """Probability that Kupiec's test rejects at `level` when exceptions really occur at `true_rate`:
    the exact binomial sum over the exception counts x whose LR exceeds the chi2(1) critical value."""
    from scipy.stats import binom
    check_confidence(confidence)
    if not 0 < true_rate < 1:
        raise ValueError(f"true_rate must be in (0, 1), got {true_rate}")
    crit = chi2.isf(level, 1)
    xs = np.arange(n_days + 1)
    reject = np.array([kupiec(np.r_[np.ones(x, int), np.zeros(n_days - x, int)], confidence)["lr"] > crit
                       for x in xs])
    return float(binom.pmf(xs[reject], n_days, true_rate).sum())
