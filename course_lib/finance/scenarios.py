"""Return-path generators behind one interface, so every generator is measured and backtested the same way.

    gen = make("garch").fit(train)                          # train: (T, A) daily log-returns (array or DataFrame)
    paths = gen.sample(history, horizon=10, n_paths=500, seed=0)   # (n_paths, horizon, A), after `history`
    var = rolling_var(gen, returns, start=len(train), confidence=0.99, refit_every=21)

Generators (all per asset, three assets, log-returns):
- "gaussian":  the textbook model: i.i.d. multivariate normal with the training mean and covariance.
- "bootstrap": historical simulation: blocks of BLOCK consecutive training days, drawn at random (keeps the
               tails, the cross-section and the short-range dependence, but not today's volatility).
- "garch" / "gjr": GARCH(1,1) and GJR-GARCH(1,1) (the leverage term gamma) fitted with `arch` PER ASSET
               on percent returns, joined by the constant correlation (CCC) of the standardised residuals;
               Gaussian innovations. Conditioned on history through the variance recursion (written out in
               `Garch._step`): sigma2_t = omega + (alpha + gamma 1[e_{t-1} < 0]) e_{t-1}^2 + beta sigma2_{t-1}.
- "gpt":       the course GPT over quantised returns (course_lib.recipes.returns), conditioned on the last W days.
"""
from __future__ import annotations

import numpy as np

BLOCK = 20


def _returns(x, what: str = "returns", n_assets: int | None = None, min_days: int = 2) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"{what} must be 2-D (days, assets), got shape {a.shape}")
    if n_assets is not None and a.shape[1] != n_assets:
        raise ValueError(f"{what} must have {n_assets} asset columns (as in training), got {a.shape[1]}")
    if a.shape[0] < min_days:
        raise ValueError(f"{what} needs at least {min_days} days, got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        row = int(np.flatnonzero(~np.isfinite(a).all(1))[0])
        raise ValueError(f"{what} contains NaN or inf on day {row}: a gap in the prices? drop the day for every asset")
    return a


def _check_counts(horizon, n_paths):
    for name, v in (("horizon", horizon), ("n_paths", n_paths)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")


class Generator:
    """The interface: fit(train) -> self; sample(history, horizon, n_paths, seed) -> (n_paths, horizon, A)."""
    name = "generator"
    refits = True          # rolling_var refits it on the expanding window (False: trained once)

    def fit(self, train):
        self.train_ = _returns(train, "train", min_days=60)
        self.n_assets = self.train_.shape[1]
        self._fit(self.train_)
        return self

    def _fit(self, r):
        raise NotImplementedError

    def sample(self, history, horizon: int, n_paths: int, seed: int = 0) -> np.ndarray:
        if not hasattr(self, "n_assets"):
            raise RuntimeError(f"{self.name}: call fit(train) before sample")
        _check_counts(horizon, n_paths)
        h = _returns(history, "history", self.n_assets, min_days=1)
        return self._sample(h, horizon, n_paths, np.random.default_rng(seed))

    def sample_days(self, returns, days, n_paths: int, seed: int = 0) -> np.ndarray:
        """One-day scenarios for each day d in `days`, conditioned on returns[:d] -> (len(days), n_paths, A)."""
        return np.stack([self.sample(returns[:d], 1, n_paths, seed + i)[:, 0] for i, d in enumerate(days)])


class Gaussian(Generator):
    name = "gaussian"

    def _fit(self, r):
        self.mean_, self.cov_ = r.mean(0), np.cov(r.T)

    def _sample(self, h, horizon, n_paths, rng):
        return rng.multivariate_normal(self.mean_, self.cov_, size=(n_paths, horizon))


class BlockBootstrap(Generator):
    name = "bootstrap"

    def __init__(self, block: int = BLOCK):
        self.block = block

    def _fit(self, r):
        if self.block > len(r):
            raise ValueError(f"block ({self.block} days) is longer than the training series ({len(r)} days)")

    def _sample(self, h, horizon, n_paths, rng):
        r = self.train_
        n_blocks = -(-horizon // self.block)
        starts = rng.integers(0, len(r) - self.block + 1, (n_paths, n_blocks))            # (P, nb)
        idx = (starts[:, :, None] + np.arange(self.block)).reshape(n_paths, -1)[:, :horizon]
        return r[idx]                                                                       # (P, horizon, A)


class Garch(Generator):
    """GARCH(1,1) (o=0) or GJR-GARCH(1,1) (o=1) per asset with constant conditional correlation."""

    def __init__(self, o: int = 0):
        self.o = o
        self.name = "gjr" if o else "garch"

    def _fit(self, r):
        from arch import arch_model
        pars = []
        for a in range(r.shape[1]):
            res = arch_model(100 * r[:, a], mean="Constant", vol="GARCH", p=1, o=self.o, q=1,
                             dist="normal").fit(disp="off")
            p = res.params
            pars.append((p["mu"], p["omega"], p["alpha[1]"], p["gamma[1]"] if self.o else 0.0, p["beta[1]"]))
        self.params_ = np.array(pars)                                  # (A, 5): mu, omega, alpha, gamma, beta
        self._state = None
        e = 100 * r - self.params_[:, 0]                               # percent residuals (T, A)
        sig2 = np.empty_like(e)
        sig2[0] = e.var(0)                                             # start: the sample variance
        for t in range(1, len(e)):
            sig2[t] = self._step(e[t - 1], sig2[t - 1])
        z = e / np.sqrt(sig2)                                          # standardised residuals (T, A)
        self.corr_ = np.corrcoef(z.T)
        self._chol = np.linalg.cholesky(self.corr_)

    def _step(self, e_prev, s2_prev):
        """One step of the variance recursion (GJR when gamma != 0): sigma2_t from e_{t-1}, sigma2_{t-1}."""
        _, omega, alpha, gamma, beta = self.params_.T
        return omega + (alpha + gamma * (e_prev < 0)) * e_prev ** 2 + beta * s2_prev

    def _next_variance(self, r):
        """Tomorrow's conditional variance (A,) after the returns r (T, A). The recursion continues from the
        previous call when r extends the series seen then, so a rolling forecast stays linear in time."""
        e = 100 * r - self.params_[:, 0]
        st = self._state
        if st is not None and len(r) >= st[0] and np.array_equal(r[st[0] - 1], st[2]):
            t0, s2 = st[0], st[1]                                       # s2: sigma2 of day t0 - 1
        else:
            t0, s2 = 1, e.var(0)
        for t in range(t0, len(r)):
            s2 = self._step(e[t - 1], s2)
        self._state = (len(r), s2, r[-1].copy())
        return self._step(e[-1], s2)

    def _sample(self, h, horizon, n_paths, rng):
        mu = self.params_[:, 0]
        s2 = np.broadcast_to(self._next_variance(h), (n_paths, self.n_assets)).copy()   # (P, A)
        out = np.empty((n_paths, horizon, self.n_assets))
        for t in range(horizon):
            z = rng.standard_normal((n_paths, self.n_assets)) @ self._chol.T
            e = np.sqrt(s2) * z
            out[:, t] = (mu + e) / 100
            s2 = self._step(e, s2)
        return out


class GPTGenerator(Generator):
    """The course GPT over quantised returns; trained once (by course_lib.recipes.returns), not refitted."""
    name = "gpt"
    refits = False

    def __init__(self, model, quantiser, temperature: float = 1.0):
        from course_lib.recipes.returns import window_of
        self.model, self.q, self.temperature = model, quantiser, temperature
        self.n_assets, self.window = quantiser.n_assets, window_of(model, quantiser.n_assets)

    def fit(self, train):
        return self                                                    # the weights are trained by the recipe

    def _sample(self, h, horizon, n_paths, rng):
        from course_lib.recipes.returns import sample_paths
        return sample_paths(self.model, self.q, h, horizon, n_paths, int(rng.integers(2 ** 31)), self.temperature)

    def sample_days(self, returns, days, n_paths: int, seed: int = 0, chunk: int = 16) -> np.ndarray:
        from course_lib.recipes.returns import sample_paths_batch
        r = _returns(returns, "returns", self.n_assets)
        days = list(days)
        out = [sample_paths_batch(self.model, self.q, [r[:d] for d in days[i:i + chunk]], 1, n_paths,
                                  seed + i, self.temperature)[:, :, 0] for i in range(0, len(days), chunk)]
        return np.concatenate(out)


GENERATORS = {"gaussian": Gaussian, "bootstrap": BlockBootstrap, "garch": lambda: Garch(0), "gjr": lambda: Garch(1)}


def make(name: str, **kwargs) -> Generator:
    """A fresh generator by name: gaussian, bootstrap, garch, gjr (the GPT: GPTGenerator(model, quantiser))."""
    if name not in GENERATORS:
        raise ValueError(f"unknown generator {name!r}; choose one of {sorted(GENERATORS)} or wrap the GPT in "
                         "GPTGenerator(model, quantiser)")
    return GENERATORS[name](**kwargs)


def portfolio(paths, weights=None) -> np.ndarray:
    """Equal-weight (or `weights`), daily rebalanced portfolio log-returns of (..., A) asset log-returns -> (...)."""
    p = np.asarray(paths, dtype=float)
    w = np.full(p.shape[-1], 1.0 / p.shape[-1]) if weights is None else np.asarray(weights, dtype=float)
    return np.log(np.exp(p) @ w)


def rolling_scenarios(gen: Generator, returns, start: int, n_paths: int = 500, refit_every: int | None = 21,
                      seed: int = 0, days=None) -> np.ndarray:
    """One-day portfolio scenarios for each day d >= start (or each d in `days`), the generator conditioned on
    returns[:d] and, when it refits, refitted every `refit_every` days on the expanding window returns[:d]
    -> (n_days, n_paths). The forecast for day d never sees day d."""
    r = _returns(returns)
    if not 60 <= start < len(r):
        raise ValueError(f"start must be in 60..{len(r) - 1} (the series has {len(r)} days), got {start}")
    days = np.arange(start, len(r)) if days is None else np.asarray(days)
    if days.min() < start or days.max() >= len(r):
        raise ValueError(f"days must lie in {start}..{len(r) - 1}")
    if not gen.refits or refit_every is None:
        if gen.refits:
            gen.fit(r[:start])
        return portfolio(gen.sample_days(r, days, n_paths, seed))
    out = []
    for lo in range(start, len(r), refit_every):
        block = days[(days >= lo) & (days < lo + refit_every)]
        if block.size == 0:
            continue
        gen.fit(r[:lo])
        out.append(portfolio(gen.sample_days(r, block, n_paths, seed + lo)))
    return np.concatenate(out)
