"""Benchmark market-scenario generators (issue 26 items 2-5) and write benchmarks/results/finance_scenarios.json.

Data: data.load("stock-returns"): AAPL, IBM, MSFT daily log-returns, train 2000-2009 (2,474 days), test
2010 - March 2013 (795 days); the portfolio is equal-weight, rebalanced daily. Generators
(course_lib.finance.scenarios): gaussian, bootstrap (20-day blocks), garch and gjr (arch, per asset, CCC),
and the course GPT over quantised returns (course_lib.recipes.returns, trained here: 600 steps, seed 0, one
thread, about 20 s). For each generator:
  - stylised facts (course_lib.finance.stylised) of N_PATHS paths as long as the test years, each generator
    conditioned on the training years; the figure is the median over the paths; the held-out years' own
    figures come with 95% block-bootstrap intervals (20-day blocks, 500 resamples);
  - the rolling 1-day 99% VaR over the test years from N_SCEN scenarios a day, conditioned on every day
    before (gaussian, bootstrap, garch, gjr refitted every 21 days on the expanding window; the GPT trained
    once), backtested with Kupiec and Christoffersen (course_lib.finance.backtest);
  - a 20/100-day moving-average crossover on each asset's price paths: median return and drawdown.

    python benchmarks/finance_scenarios.py                 # about 2 minutes
    COURSE_FAST=1 python benchmarks/finance_scenarios.py   # smoke run: seconds, nothing written
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch

from course_lib import bench, config, data
from course_lib.finance import backtest, scenarios, strategy, stylised
from course_lib.recipes.returns import train_returns_gpt

N_PATHS, N_SCEN, REFIT, GPT_STEPS = 20, 500, 21, 600
FACTS = ("tail_index", "kurtosis", "abs_acf_1", "raw_acf_1", "cross_corr", "leverage_mean_1_10")


def path_facts(paths: np.ndarray) -> dict:
    """Median over paths (P, T, A) of each stylised fact of the portfolio (cross_corr of the assets)."""
    per = [stylised.stylised_facts(scenarios.portfolio(p), p) for p in paths]
    return {k: float(np.median([f[k] for f in per])) for k in FACTS}


def crossover(paths: np.ndarray) -> dict:
    """Median total log-return and max drawdown of the crossover over paths x assets (P, T, A)."""
    prices = strategy.prices_from_returns(np.moveaxis(paths, 2, 1).reshape(-1, paths.shape[1]), 100.0)
    res = strategy.run_crossover(prices)
    return {"ma_return_median": float(np.median(res["total_return"])),
            "ma_drawdown_median": float(np.median(res["max_drawdown"]))}


def main() -> int:
    fast = config.is_fast()
    torch.set_num_threads(1)
    n_paths, n_scen = (4, 100) if fast else (N_PATHS, N_SCEN)
    train, test = data.load("stock-returns", split="train"), data.load("stock-returns", split="test")
    if fast:
        test = test.iloc[:150]
    tr, te = train.values, test.values
    every = np.r_[tr, te]
    port = scenarios.portfolio(te)
    held = stylised.with_intervals(port, te, n_boot=100 if fast else 500, seed=0)
    t0 = time.perf_counter()
    model, q, hist = train_returns_gpt(tr, steps=30 if fast else GPT_STEPS, seed=0)
    gpt_s = time.perf_counter() - t0
    gens = {name: scenarios.make(name) for name in ("gaussian", "bootstrap", "garch", "gjr")}
    gens["gpt"] = scenarios.GPTGenerator(model, q)
    rows = [{"generator": "held-out 2010-2013", **{k: round(held[k][0], 4) for k in FACTS},
             **{f"{k}_95": f"[{held[k][1]:.3f}, {held[k][2]:.3f}]" for k in ("tail_index", "abs_acf_1")}}]
    realised = crossover(te[None])
    rows[0].update({k: round(v, 4) for k, v in realised.items()})
    inside = {}
    for name, gen in gens.items():
        t0 = time.perf_counter()
        gen.fit(tr)
        paths = gen.sample(tr, len(te), n_paths, seed=1)                  # (P, T_test, 3)
        facts = path_facts(paths)
        scen = scenarios.rolling_scenarios(gen, every, len(tr), n_paths=n_scen, refit_every=REFIT, seed=2)
        var, es = backtest.var_es_rows(scen, 0.99)
        bt = backtest.backtest(port, var, 0.99)
        inside[name] = {k: held[k][1] <= facts[k] <= held[k][2] for k in ("tail_index", "abs_acf_1")}
        rows.append({"generator": name, **{k: round(v, 4) for k, v in facts.items()},
                     "tail_in_95": "yes" if inside[name]["tail_index"] else "no",
                     "abs_acf_1_in_95": "yes" if inside[name]["abs_acf_1"] else "no",
                     **{k: round(v, 4) for k, v in crossover(paths).items()},
                     "var99_mean": round(float(var.mean()), 4), "es99_mean": round(float(es.mean()), 4),
                     "exceptions": bt["exceptions"], "days": bt["days"], "kupiec_p": round(bt["kupiec_p"], 4),
                     "christoffersen_p": round(bt["christoffersen_p"], 4), "seconds": round(time.perf_counter() - t0, 1)})
        print(rows[-1], flush=True)
    g, gs = rows[-1], inside
    targets = [
        ("GPT tail index and abs-ACF lag 1 inside the held-out 95% intervals",
         gs["gpt"]["tail_index"] and gs["gpt"]["abs_acf_1"]),
        ("Gaussian outside both intervals", not gs["gaussian"]["tail_index"] and not gs["gaussian"]["abs_acf_1"]),
        ("GPT rolling 1-day 99% VaR passes Kupiec at 5%", g["kupiec_p"] > 0.05),
        ("GPT rolling 1-day 99% VaR passes Christoffersen at 5%", g["christoffersen_p"] > 0.05)]
    for text, ok in targets:
        rows.append({"generator": "target", "target": text, "met": "yes" if ok else "NOT met"})
        print(f"{text}: {'met' if ok else 'NOT met'}")
    notes = [f"GPT: {len(hist.steps)} steps in {gpt_s:.0f} s (one thread, shared 2-core machine: times are noisy), "
             f"final training loss {hist.loss[-1]:.3f} nats/token.",
             "Stylised facts of a generator: median over its paths (each as long as the test years, conditioned on "
             "the training years); tail_index: Hill on the top 5% of portfolio losses; abs_acf_1 / raw_acf_1: "
             "lag-1 autocorrelation of absolute / raw portfolio returns; cross_corr: mean pairwise correlation of "
             "the assets; leverage: mean corr(r_t, |r_t+k|), k = 1..10.",
             "VaR: rolling 1-day 99% of the equal-weight portfolio, positive loss; exceptions out of `days` "
             "held-out days (expected 1%); p-values of Kupiec (POF) and Christoffersen (independence).",
             "History of the GPT row: the first run of this benchmark (same day) decoded a sampled day asset by "
             "asset (a training return from each asset's bin); its tail index was 3.58, just outside the held-out "
             "interval [2.18, 3.57], so that target was NOT met. The decoder now draws a whole training day with the "
             "same three bins when one exists, chosen because per-asset draws lowered the cross-asset correlation "
             "of the paths (0.37 against 0.43 in the training years; 0.41 with whole days); the target was seen "
             "missed before this change, so read its 'met' with that in mind.",
             "ma_*: a 20/100-day moving-average crossover (long or flat) on each asset's price path: median total "
             "log-return and maximum drawdown; the held-out row is what it realised on 2010-2013."]
    return bench.record("finance_scenarios", title="Market scenarios on AAPL/IBM/MSFT: stylised facts, rolling 99% "
                        "VaR backtests and a crossover stress test per generator (train 2000-2009, test 2010-2013)",
                        command="python benchmarks/finance_scenarios.py", rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
