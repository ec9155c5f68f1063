"""Market scenarios (notebook 12): the stylised facts on series with known properties, the VaR backtests on
known exception sequences, the generators' common interface, the crossover rule, the returns data."""
import numpy as np
import pandas as pd
import pytest

from course_lib import data
from course_lib.data import returns as dret
from course_lib.finance import backtest as bt
from course_lib.finance import scenarios as sc
from course_lib.finance import strategy as st
from course_lib.finance import stylised as sf


def simulate_garch(n, seed=0, omega=0.05, alpha=0.1, gamma=0.0, beta=0.85):
    """Percent returns of a (GJR-)GARCH(1,1) with Gaussian shocks: planted clustering (and leverage)."""
    rng = np.random.default_rng(seed)
    e, s2 = np.zeros(n), omega / (1 - alpha - gamma / 2 - beta)
    prev = 0.0
    for t in range(n):
        s2 = omega + (alpha + gamma * (prev < 0)) * prev ** 2 + beta * s2
        prev = e[t] = np.sqrt(s2) * rng.standard_normal()
    return e / 100


# ----------------------------------------------------------------------------- stylised facts

def test_a_gaussian_sample_has_kurtosis_3_and_no_volatility_clustering():
    r = np.random.default_rng(0).standard_normal(20000)
    assert sf.kurtosis(r) == pytest.approx(3.0, abs=0.1)
    assert np.abs(sf.autocorrelation(np.abs(r))).max() < 0.03
    assert np.abs(sf.autocorrelation(r)).max() < 0.03


def test_the_hill_index_of_a_student_t3_sample_is_near_3_and_heavier_than_a_gaussian():
    rng = np.random.default_rng(1)
    t3 = rng.standard_t(3, 200000)
    assert sf.hill_tail_index(t3, tail_share=0.005) == pytest.approx(3.0, abs=0.3)
    assert 2.0 < sf.hill_tail_index(t3) < 3.0                  # the top 5%: biased low (the docstring says so)
    assert sf.hill_tail_index(rng.standard_normal(200000)) > 4.5


def test_planted_clustering_shows_in_the_absolute_autocorrelation():
    facts = sf.stylised_facts(simulate_garch(5000))
    assert facts["abs_acf_1"] > 0.1 and facts["abs_acf_mean_1_20"] > 0.05
    assert abs(facts["raw_acf_1"]) < 0.05


def test_planted_leverage_gives_a_negative_leverage_correlation():
    lev = sf.leverage(simulate_garch(20000, seed=2, alpha=0.02, gamma=0.15, beta=0.88))
    assert lev.mean() < -0.03 and lev[0] < 0
    assert abs(sf.leverage(simulate_garch(20000, seed=2)).mean()) < 0.03      # no gamma: no leverage


def test_block_bootstrap_intervals_cover_the_estimate_and_keep_blocks():
    idx = sf.block_bootstrap_indices(100, 3, block=20, seed=0)
    assert idx.shape == (3, 100) and np.all((np.diff(idx[:, :20], axis=1) % 100) == 1)
    r = simulate_garch(1500, seed=3)
    a = 0.003 * np.random.default_rng(3).standard_normal((1500, 2)) + r[:, None]
    table = sf.with_intervals(r, a, n_boot=60, seed=0)
    for name, (est, lo, hi) in table.items():
        assert lo <= hi, name
    assert table["cross_corr"][1] > 0.2


@pytest.mark.parametrize("bad, match", [(np.ones((5, 2)), "1-D"), (np.ones(10), "at least 30"),
                                        (np.r_[np.ones(40), np.nan], "NaN")])
def test_stylised_facts_refuse_bad_series(bad, match):
    with pytest.raises(ValueError, match=match):
        sf.kurtosis(bad)


def test_lags_longer_than_the_series_are_refused():
    with pytest.raises(ValueError, match="lags must be"):
        sf.autocorrelation(np.arange(40.0), lags=40)


def test_a_constant_series_has_no_autocorrelation():
    with pytest.raises(ValueError, match="constant"):
        sf.autocorrelation(np.full(50, 0.01))


# ----------------------------------------------------------------------------- backtests

def test_kupiec_at_exactly_the_expected_rate_gives_lr_0_and_p_1():
    hits = np.zeros(1000, int)
    hits[::100] = 1                                                     # 10 exceptions in 1,000 days at 99%
    k = bt.kupiec(hits, 0.99)
    assert k["x"] == 10 and k["lr"] == pytest.approx(0.0, abs=1e-9) and k["p_value"] == pytest.approx(1.0)


def test_kupiec_matches_the_formula_and_rejects_too_many_exceptions():
    hits = np.r_[np.ones(8, int), np.zeros(242, int)]
    n, x, p = 250, 8, 0.01
    pi = x / n
    lr = -2 * ((n - x) * np.log(1 - p) + x * np.log(p) - (n - x) * np.log(1 - pi) - x * np.log(pi))
    k = bt.kupiec(hits, 0.99)
    assert k["lr"] == pytest.approx(lr) and k["p_value"] < 0.01


def test_zero_exceptions_give_finite_statistics():
    k, c = bt.kupiec(np.zeros(250, int)), bt.christoffersen(np.zeros(250, int))
    assert k["lr"] == pytest.approx(-2 * 250 * np.log(0.99)) and 0 < k["p_value"] < 1
    assert c["lr_ind"] == 0 and c["p_ind"] == 1 and np.isfinite(c["lr_cc"])


def test_clustered_exceptions_fail_independence_and_spread_ones_pass():
    clustered = np.zeros(1000, int)
    clustered[500:510] = 1
    spread = np.zeros(1000, int)
    spread[::100] = 1
    assert bt.christoffersen(clustered)["p_ind"] < 0.001
    assert bt.christoffersen(spread)["p_ind"] > 0.5
    assert bt.kupiec(clustered)["lr"] == pytest.approx(bt.kupiec(spread)["lr"])    # same count: same POF


def test_var_and_es_are_positive_losses_from_scenarios():
    r = np.linspace(-0.10, 0.09, 20)                                   # 20 equally spaced returns
    var, es = bt.var_es(r, 0.9)
    assert var == pytest.approx(-np.quantile(r, 0.1)) and var > 0 and es >= var
    v_rows, e_rows = bt.var_es_rows(np.stack([r, 2 * r]), 0.9)
    assert v_rows == pytest.approx([var, 2 * var]) and e_rows == pytest.approx([es, 2 * es])
    assert bt.exceptions(np.array([-0.2, 0.0]), np.array([0.1, 0.1])).tolist() == [True, False]


@pytest.mark.parametrize("n, zone", [(0, "green"), (4, "green"), (5, "yellow"), (9, "yellow"), (10, "red")])
def test_basel_zones(n, zone):
    assert bt.basel_zone(n) == zone


def test_a_short_backtest_has_little_power():
    assert bt.power_kupiec(79, 0.02) < 0.3 < bt.power_kupiec(2500, 0.02)


@pytest.mark.parametrize("c", [0, 1, 1.5, -0.1, "0.99"])
def test_confidence_outside_0_1_is_refused(c):
    with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\)"):
        bt.var_es(np.ones(10), c)


def test_empty_or_nan_series_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        bt.var_es(np.array([]), 0.99)
    with pytest.raises(ValueError, match="NaN"):
        bt.exceptions(np.array([0.0, np.nan]), np.array([0.1, 0.1]))
    with pytest.raises(ValueError, match="0/1"):
        bt.kupiec(np.array([0, 2, 1]))


# ----------------------------------------------------------------------------- generators

@pytest.fixture(scope="module")
def toy_returns():
    rng = np.random.default_rng(0)
    return np.stack([simulate_garch(800, seed=s) for s in range(3)], 1) + 0.002 * rng.standard_normal((800, 3))


@pytest.mark.parametrize("name", ["gaussian", "bootstrap", "garch", "gjr"])
def test_every_generator_samples_paths_of_the_common_shape(name, toy_returns):
    g = sc.make(name).fit(toy_returns[:600])
    paths = g.sample(toy_returns[:700], horizon=5, n_paths=40, seed=1)
    assert paths.shape == (40, 5, 3) and np.isfinite(paths).all()
    assert np.array_equal(paths, g.sample(toy_returns[:700], 5, 40, seed=1))           # seeded
    one = sc.rolling_scenarios(sc.make(name), toy_returns, start=700, n_paths=30, refit_every=50)
    assert one.shape == (100, 30)


class LastDay(sc.Generator):
    """Scenarios = the last day of the history it is given: shows which days a forecast saw."""
    name, refits = "last-day", True

    def _fit(self, r):
        self.fitted_on = len(r)

    def _sample(self, h, horizon, n_paths, rng):
        return np.broadcast_to(h[-1], (n_paths, horizon, h.shape[1])).copy()


def test_a_rolling_forecast_never_sees_its_own_day(toy_returns):
    gen = LastDay()
    s = sc.rolling_scenarios(gen, toy_returns, start=700, n_paths=3, refit_every=25)
    assert s.shape == (100, 3)
    assert s[:, 0] == pytest.approx(sc.portfolio(toy_returns[699:799]))       # day d's scenario: day d - 1
    assert gen.fitted_on == 775                                               # last refit: expanding window to 775


def test_garch_forecasts_more_risk_after_a_turbulent_week(toy_returns):
    g = sc.make("garch").fit(toy_returns[:600])
    calm = np.r_[toy_returns[:600], np.zeros((5, 3))]
    wild = np.r_[toy_returns[:600], np.tile([[-0.06, 0.05, -0.07]], (5, 1))]
    v_calm = bt.var_es(sc.portfolio(g.sample(calm, 1, 4000)[:, 0]))[0]
    v_wild = bt.var_es(sc.portfolio(g.sample(wild, 1, 4000)[:, 0]))[0]
    assert v_wild > 1.5 * v_calm


def test_generators_refuse_gaps_and_wrong_shapes(toy_returns):
    g = sc.make("gaussian").fit(toy_returns)
    bad = toy_returns[:100].copy()
    bad[50, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf on day 50"):
        g.sample(bad, 1, 10)
    with pytest.raises(ValueError, match="3 asset columns"):
        g.sample(toy_returns[:, :2], 1, 10)
    with pytest.raises(ValueError, match="unknown generator"):
        sc.make("quantgan")
    with pytest.raises(ValueError, match="longer than the training series"):
        sc.BlockBootstrap(block=1000).fit(toy_returns)


def test_the_portfolio_is_equal_weight_daily_rebalanced():
    r = np.log(np.array([[1.10, 0.90, 1.0]]))
    assert sc.portfolio(r)[0] == pytest.approx(0.0)
    assert dret.portfolio_returns(r)[0] == pytest.approx(0.0)


def test_the_returns_gpt_trains_and_samples_conditioned_paths(toy_returns):
    from course_lib.recipes.returns import Quantiser, sample_paths, train_returns_gpt
    model, q, hist = train_returns_gpt(toy_returns, steps=3, window=5, n_bins=8, n_embd=16, n_head=2, n_layer=1)
    assert model.config.block_size == 18 and q.vocab_size == 24 and len(hist.loss) == 3
    tokens = q.encode(toy_returns[:4])
    assert tokens.shape == (12,) and set(tokens[1::3] // 8) == {1}                       # IBM's ids in its range
    bins = q.bins(toy_returns)
    back = q.decode(bins, np.random.default_rng(0))
    assert np.array_equal(q.bins(back), bins)                                           # decoded into its own bin
    rows = {tuple(r) for r in toy_returns}
    assert all(tuple(r) in rows for r in back)                   # every training combination: a whole training day
    single = q.decode(bins, np.random.default_rng(0), joint=False)
    assert np.array_equal(q.bins(single), bins) and not all(tuple(r) in rows for r in single)
    paths = sample_paths(model, q, toy_returns[:50], horizon=3, n_paths=7, seed=0)
    assert paths.shape == (7, 3, 3) and np.isin(paths[:, :, 0], toy_returns[:, 0]).all()
    gen = sc.GPTGenerator(model, q)
    assert gen.sample_days(toy_returns, [40, 41], 5).shape == (2, 5, 3)
    assert Quantiser.from_meta({"quantiser": q.to_meta()}).edges == pytest.approx(q.edges)
    with pytest.raises(ValueError, match="conditions on the last 5 days"):
        sample_paths(model, q, toy_returns[:3], 1, 2)


# ----------------------------------------------------------------------------- the crossover rule

def test_crossover_on_a_steady_rise_stays_long_and_on_a_fall_stays_flat():
    up = np.exp(np.linspace(0, 0.5, 300))
    res = st.run_crossover(up)
    assert res["time_in_market"][0] == 1.0 and res["max_drawdown"][0] == pytest.approx(0.0)
    assert res["total_return"][0] == pytest.approx(np.log(up[-1] / up[99]))
    down = st.run_crossover(up[::-1])
    assert down["total_return"][0] == 0.0 and down["time_in_market"][0] == 0.0


def test_max_drawdown_of_a_known_path():
    assert st.max_drawdown(np.array([1.0, 2.0, 1.0, 1.5, 0.5, 3.0])) == pytest.approx(0.75)
    assert st.prices_from_returns(np.log([[2.0, 0.5]]), 10.0)[0] == pytest.approx([10.0, 20.0, 10.0])


@pytest.mark.parametrize("prices, match", [(np.ones(50), "shorter than the series"),
                                           (np.r_[np.ones(150), -1.0], "positive"),
                                           (np.r_[np.ones(150), np.nan], "NaN")])
def test_crossover_refuses_bad_prices(prices, match):
    with pytest.raises(ValueError, match=match):
        st.run_crossover(prices)


# ----------------------------------------------------------------------------- data

def test_stock_returns_split_by_time():
    train, test = data.load("stock-returns", split="train"), data.load("stock-returns", split="test")
    assert list(train.columns) == ["AAPL", "IBM", "MSFT"] and list(test.columns) == ["AAPL", "IBM", "MSFT"]
    assert train.index.max() < pd.Timestamp("2010-01-01") <= test.index.min()
    assert len(train) > 2000 and len(test) > 700 and np.isfinite(train.values).all()


def test_validate_prices_names_ticker_and_date():
    idx = pd.to_datetime(["2001-01-02", "2001-01-03", "2001-01-04"])
    with pytest.raises(ValueError, match=r"IBM must be positive, got 0.0 on 2001-01-03"):
        dret.prices_to_returns(pd.DataFrame({"AAPL": [1.0, 2, 3], "IBM": [1.0, 0, 3]}, index=idx))
    with pytest.raises(ValueError, match=r"AAPL is missing \(NaN\) on 2001-01-04"):
        dret.validate_prices(pd.DataFrame({"AAPL": [1.0, 2, np.nan], "IBM": [1.0, 2, 3]}, index=idx))
