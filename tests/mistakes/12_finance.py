"""Assignment 12: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py.

LIBRARY holds the answers that only call the course's own version (course_lib.finance); `checks.written_here`
rejects them: it sees the import of course_lib inside the function without running it."""

_LOGLIK = '''        stay = (n - x) * np.log(1 - p) if n - x > 0 else 0.0
        hit = x * np.log(p) if x > 0 else 0.0
        return stay + hit'''
_LR = "lr = -2.0 * (log_likelihood(alpha) - log_likelihood(rate))"
_P = "return lr, float(chi2.sf(lr, df=1))"
_D = "d = np.abs(r) - np.abs(r).mean()                                    # (n,) demeaned absolute returns"
_RHO = "return np.array([(d[:-k] @ d[k:]) / n / c0 for k in range(1, max_lag + 1)])   # (max_lag,)"
_PARTNER = "partner = neighbours[base, rng.integers(k, size=n_new)]             # (n_new,) one of its k nearest"
_GAP = "gap = rng.random((n_new, 1))                                        # (n_new, 1) one gap per new row"
_DIAG = "np.fill_diagonal(distances, np.inf)                                 # a row is not its own neighbour"

LIBRARY = {
    "kupiec_imports_library": {"cell": "kupiec_pof", "code": (
        "def kupiec_pof(exceptions, alpha):\n"
        "    from course_lib.finance import backtest\n"
        "    result = backtest.kupiec(exceptions, confidence=1 - alpha)\n"
        "    return result['lr'], result['p_value']"), "expect": "course_lib"},
    "acf_imports_library": {"cell": "abs_return_acf", "code": (
        "def abs_return_acf(returns, max_lag):\n"
        "    from course_lib.finance import stylised\n"
        "    return stylised.autocorrelation(np.abs(returns), lags=max_lag)"), "expect": "course_lib"},
    "smote_imports_library": {"cell": "smote_samples", "code": (
        "def smote_samples(X_minority, n_new, k, rng):\n"
        "    from course_lib.finance import rare\n"
        "    return rare.smote_interpolate(X_minority, n_new, k=k, generator=rng)"), "expect": "course_lib"},
}

MISTAKES = {
    **LIBRARY,
    # (a) kupiec_pof
    "log_of_zero_nan": {"cell": "kupiec_pof", "replace": [(_LOGLIK, "        return (n - x) * np.log(1 - p) + x * np.log(p)")],
                        "expect": "0·log 0 = 0"},
    "all_exceptions_nan": {"cell": "kupiec_pof", "replace": [(
        "stay = (n - x) * np.log(1 - p) if n - x > 0 else 0.0", "stay = (n - x) * np.log(1 - p)")],
        "expect": "every day an exception"},
    "math_log_of_zero_raises": {"cell": "kupiec_pof", "replace": [(
        "hit = x * np.log(p) if x > 0 else 0.0", "hit = x * math.log(p)"), ("    n, x = hits.size", "    import math\n    n, x = hits.size")],
        "expect": "0·log 0 = 0"},
    "exception_rate_as_statistic": {"cell": "kupiec_pof", "replace": [(_LR, "lr = rate")],
                                    "expect": "not the exception rate"},
    "ratio_upside_down": {"cell": "kupiec_pof", "replace": [(
        _LR, "lr = -2.0 * (log_likelihood(rate) - log_likelihood(alpha))"), ("lr = max(float(lr), 0.0)", "lr = float(lr)")],
        "expect": "upside down"},
    "factor_two_missing": {"cell": "kupiec_pof", "replace": [(_LR, "lr = -(log_likelihood(alpha) - log_likelihood(rate))")],
                           "expect": "factor 2"},
    "coverage_instead_of_alpha": {"cell": "kupiec_pof", "replace": [(
        _LR, "lr = -2.0 * (log_likelihood(1 - alpha) - log_likelihood(rate))")], "expect": "not the coverage 1 - alpha"},
    "p_value_from_cdf": {"cell": "kupiec_pof", "replace": [(_P, "return lr, float(chi2.cdf(lr, df=1))")], "expect": "not the cdf"},
    "two_degrees_of_freedom": {"cell": "kupiec_pof", "replace": [(_P, "return lr, float(chi2.sf(lr, df=2))")],
                               "expect": "1 degree of freedom"},
    "alpha_not_checked": {"cell": "kupiec_pof", "replace": [("    if not 0 < alpha < 1:\n        raise", "    if False:\n        raise")],
                          "expect": "outside (0, 1)"},
    "values_not_checked": {"cell": "kupiec_pof", "replace": [(
        "    if not np.isin(hits, (0.0, 1.0)).all():\n        raise", "    if False:\n        raise")], "expect": "only 0 and 1"},
    # (b) abs_return_acf
    "acf_statsmodels": {"cell": "abs_return_acf", "code": (
        "from statsmodels.tsa.stattools import acf\n\n"
        "def abs_return_acf(returns, max_lag):\n"
        "    return acf(np.abs(np.asarray(returns, dtype=float)), nlags=max_lag, fft=False)[1:]"),
        "expect": "write it yourself"},
    "raw_returns": {"cell": "abs_return_acf", "replace": [(_D, "d = r - r.mean()")], "expect": "not the raw returns"},
    "squared_returns": {"cell": "abs_return_acf", "replace": [(_D, "d = r ** 2 - (r ** 2).mean()")], "expect": "not the squared"},
    "not_demeaned": {"cell": "abs_return_acf", "replace": [(_D, "d = np.abs(r)")], "expect": "demean"},
    "divides_by_n_minus_k": {"cell": "abs_return_acf", "replace": [(_RHO, "return np.array([(d[:-k] @ d[k:]) / (n - k) / c0 for k in range(1, max_lag + 1)])")],
                             "expect": "not by n - k"},
    "returns_lag_zero": {"cell": "abs_return_acf", "replace": [(_RHO, "return np.array([1.0] + [(d[:-k] @ d[k:]) / n / c0 for k in range(1, max_lag + 1)])")],
                         "expect": "without lag 0"},
    "lags_from_zero": {"cell": "abs_return_acf", "replace": [(_RHO, "return np.array([(d[:n - k] @ d[k:]) / n / c0 for k in range(max_lag)])")],
                       "expect": "start at lag 1"},
    "lags_shifted_by_one": {"cell": "abs_return_acf", "replace": [(_RHO, "return np.array([(d[:-k] @ d[k:]) / n / c0 if k < n else 0.0 for k in range(2, max_lag + 2)])")],
        "expect": "start at lag 1"},
    "corrcoef_per_lag": {"cell": "abs_return_acf", "replace": [(
        _RHO, "return np.array([np.corrcoef(np.abs(r)[:-k], np.abs(r)[k:])[0, 1] for k in range(1, max_lag + 1)])")],
        "expect": "not a separate correlation"},
    "max_lag_not_checked": {"cell": "abs_return_acf", "replace": [(
        "    if not 1 <= max_lag < n:\n        raise", "    if False:\n        raise")], "expect": "max_lag must be from 1"},
    "constant_divides_by_zero": {"cell": "abs_return_acf", "replace": [(
        "    if c0 == 0:\n        raise", "    if False:\n        raise")], "expect": "instead of dividing by zero"},
    # (c) smote_samples
    "smote_imblearn": {"cell": "smote_samples", "code": (
        "from imblearn.over_sampling import SMOTE\n\n"
        "def smote_samples(X_minority, n_new, k, rng):\n"
        "    X = np.asarray(X_minority, dtype=float)\n"
        "    y = np.r_[np.ones(len(X)), np.zeros(len(X) + n_new)]\n"
        "    filler = np.zeros((len(X) + n_new, X.shape[1]))\n"
        "    out, _ = SMOTE(k_neighbors=k, random_state=int(rng.integers(2**31))).fit_resample(np.vstack([X, filler]), y)\n"
        "    return out[len(y):]"), "expect": "write it yourself"},
    "self_as_neighbour": {"cell": "smote_samples", "replace": [(_DIAG, "")], "expect": "not its own neighbour"},
    "random_partner": {"cell": "smote_samples", "replace": [(_PARTNER, "partner = rng.integers(m, size=n_new)")],
                       "expect": "k nearest"},
    "partner_among_all_others": {"cell": "smote_samples", "replace": [(
        _PARTNER, "partner = np.argsort(distances, axis=1)[base, rng.integers(m - 1, size=n_new)]")], "expect": "k nearest"},
    "k_plus_one_neighbours": {"cell": "smote_samples", "replace": [(
        "[:, :k]    # (m, k) the k nearest of each row", "[:, :k + 1]"), (_PARTNER, "partner = neighbours[base, rng.integers(k + 1, size=n_new)]")],
        "expect": "k nearest"},
    "gap_per_column": {"cell": "smote_samples", "replace": [(_GAP, "gap = rng.random((n_new, X.shape[1]))")],
                       "expect": "one gap per new row"},
    "gap_outside_unit_interval": {"cell": "smote_samples", "replace": [(_GAP, "gap = rng.uniform(-1, 1, size=(n_new, 1))")],
                                  "expect": "outside the segment"},
    "extrapolates_past_neighbour": {"cell": "smote_samples", "replace": [(
        "return X[base] + gap * (X[partner] - X[base])", "return X[partner] + gap * (X[partner] - X[base])")],
        "expect": "outside the segment"},
    "copies_only": {"cell": "smote_samples", "replace": [(
        "return X[base] + gap * (X[partner] - X[base])", "return X[base].copy()")], "expect": "copies only"},
    "nearest_only": {"cell": "smote_samples", "replace": [(_PARTNER, "partner = neighbours[base, 0]")],
                     "expect": "not only the nearest"},
    "global_random_state": {"cell": "smote_samples", "replace": [(_GAP, "gap = np.random.random((n_new, 1))")],
                            "expect": "draw every random number from rng"},
    "k_not_checked": {"cell": "smote_samples", "replace": [(
        "    if not 1 <= k <= m - 1:\n        raise", "    if False:\n        raise")], "expect": "only 6 neighbours"},
}

HONEST = {
    "kupiec_xlogy": {"cell": "kupiec_pof", "code": """
from scipy.special import xlogy

def kupiec_pof(exceptions, alpha):
    e = np.asarray(exceptions)
    if e.size == 0 or e.ndim != 1:
        raise ValueError("need a non-empty 1-D series of exceptions")
    if not np.all((e == 0) | (e == 1)):
        raise ValueError("exceptions must be 0 or 1")
    if alpha <= 0 or alpha >= 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    n = len(e)
    x = int(np.count_nonzero(e))
    p_hat = x / n
    log_l0 = xlogy(n - x, 1 - alpha) + xlogy(x, alpha)
    log_l1 = xlogy(n - x, 1 - p_hat) + xlogy(x, p_hat)
    lr = -2 * (log_l0 - log_l1)
    return lr, 1 - chi2.cdf(lr, 1)
"""},
    "kupiec_math_branches": {"cell": "kupiec_pof", "code": """
import math

def kupiec_pof(exceptions, alpha):
    values = list(exceptions)
    if not values:
        raise ValueError("empty exception series")
    if any(v not in (0, 1) for v in values):
        raise ValueError("exceptions must be 0/1")
    if not (0 < alpha < 1):
        raise ValueError("alpha out of range (0, 1)")
    n, x = len(values), int(sum(values))
    def ll(p):
        out = 0.0
        if x > 0:
            out += x * math.log(p)
        if x < n:
            out += (n - x) * math.log(1 - p)
        return out
    stat = 2 * (ll(x / n) - ll(alpha))
    stat = max(stat, 0.0)
    return float(stat), float(chi2.sf(stat, df=1))
"""},
    "acf_loops": {"cell": "abs_return_acf", "code": """
def abs_return_acf(returns, max_lag):
    a = [abs(float(v)) for v in returns]
    n = len(a)
    if any(v != v or v == float("inf") for v in a):
        raise ValueError("returns contain NaN or inf")
    if max_lag < 1 or max_lag > n - 1:
        raise ValueError(f"max_lag must be in 1..{n - 1}")
    mean = sum(a) / n
    c0 = sum((v - mean) ** 2 for v in a) / n
    if c0 == 0:
        raise ValueError("absolute returns are constant")
    out = []
    for k in range(1, max_lag + 1):
        ck = sum((a[t] - mean) * (a[t + k] - mean) for t in range(n - k)) / n
        out.append(ck / c0)
    return np.array(out)
"""},
    "acf_full_correlate": {"cell": "abs_return_acf", "code": """
def abs_return_acf(returns, max_lag):
    x = np.abs(np.asarray(returns, dtype=float))
    if not np.all(np.isfinite(x)):
        raise ValueError("non-finite returns")
    if not (0 < max_lag < x.size):
        raise ValueError("max_lag out of range")
    x = x - x.mean()
    full = np.correlate(x, x, mode="full")[x.size - 1:]      # lag 0, 1, ... sums
    if full[0] == 0:
        raise ValueError("constant absolute returns: variance 0")
    return full[1:max_lag + 1] / full[0]
"""},
    "smote_loop": {"cell": "smote_samples", "code": """
def smote_samples(X_minority, n_new, k, rng):
    X = np.asarray(X_minority, dtype=float)
    if X.ndim != 2:
        raise ValueError("X_minority must be 2-D")
    m = len(X)
    if k < 1 or k > m - 1:
        raise ValueError(f"k must be between 1 and {m - 1}")
    rows = []
    for _ in range(n_new):
        i = rng.integers(0, m)
        dist = np.linalg.norm(X - X[i], axis=1)
        dist[i] = np.inf
        nn = np.argsort(dist)[:k]
        j = rng.choice(nn)
        u = rng.uniform(0, 1)
        rows.append(X[i] + u * (X[j] - X[i]))
    return np.array(rows).reshape(n_new, X.shape[1])
"""},
    "smote_kdtree": {"cell": "smote_samples", "code": """
from scipy.spatial import cKDTree

def smote_samples(X_minority, n_new, k, rng):
    X = np.asarray(X_minority, dtype=float)
    if X.ndim != 2 or not (1 <= k < X.shape[0]):
        raise ValueError(f"need a 2-D array with more than k rows, got shape {X.shape} and k={k}")
    _, idx = cKDTree(X).query(X, k=k + 1)
    idx = idx.reshape(len(X), k + 1)[:, 1:]                  # drop each row itself
    base = rng.choice(len(X), size=n_new)
    nb = idx[base, rng.choice(k, size=n_new)]
    lam = rng.uniform(size=n_new)[:, None]
    return X[base] + lam * (X[nb] - X[base])
"""},
    "smote_sklearn_neighbours": {"cell": "smote_samples", "code": """
from sklearn.neighbors import NearestNeighbors

def smote_samples(X_minority, n_new, k, rng):
    X = np.asarray(X_minority, dtype=float)
    if X.ndim != 2:
        raise ValueError("2-D input expected")
    if k >= len(X) or k < 1:
        raise ValueError("k must be smaller than the number of minority rows")
    neigh = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    out = np.empty((n_new, X.shape[1]))
    for r in range(n_new):
        i = rng.integers(len(X))
        j = neigh[i, rng.integers(k)]
        out[r] = X[i] + rng.random() * (X[j] - X[i])
    return out
"""},
}
