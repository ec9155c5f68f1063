"""The recorded figures of the zoo's returns GPT (notebook 12): held-out loss and a rolling VaR backtest.

Same contract as course_lib.pretrained.evaluate (the package adds it to EVALUATORS under "gpt:stock-returns").
"full": the held-out loss on 2010 - March 2013 and the rolling 1-day 99% VaR of the equal-weight portfolio
from N_FULL (400) one-day scenarios per held-out day, conditioned on the days before it: exceptions, Kupiec
and Christoffersen p-values. "check": the held-out loss and the 99% VaR of N_CHECK (400) scenarios for the
first held-out day (seeded), which move when the weights move.
"""
from __future__ import annotations

import numpy as np
import torch

from .evaluate import SEED, _rec

N_FULL, N_CHECK = 400, 400


@torch.no_grad()
def _returns(model, entry, meta: dict, kind: str) -> dict:
    from course_lib import data
    from course_lib.finance import backtest, scenarios
    from course_lib.recipes.returns import Quantiser, heldout_loss
    q = Quantiser.from_meta(meta)
    train, test = data.load(entry.dataset, split="train"), data.load(entry.dataset, split="test")
    every = np.r_[train.values, test.values]
    out = {"heldout_loss_nats_per_token": _rec(heldout_loss(model, q, test.values), "mean next-token loss on "
           f"consecutive {meta.get('window', '?')}+1-day windows of the held-out days (2010 - Mar 2013); "
           f"log({q.n_bins}) = {np.log(q.n_bins):.4f} for any model that knows only the training quantiles")}
    gen = scenarios.GPTGenerator(model, q)
    if kind == "check":
        s = scenarios.rolling_scenarios(gen, every, len(train), n_paths=N_CHECK, seed=SEED, days=[len(train)])
        out["var99_first_test_day"] = _rec(backtest.var_es(s[0], 0.99)[0], f"1-day 99% VaR (positive loss) of the "
                                           f"equal-weight portfolio from {N_CHECK} scenarios for 2010-01-04, seed {SEED}")
        return out
    s = scenarios.rolling_scenarios(gen, every, len(train), n_paths=N_FULL, seed=SEED)
    var, _ = backtest.var_es_rows(s, 0.99)
    res = backtest.backtest(scenarios.portfolio(test.values), var, 0.99)
    how = (f"rolling 1-day 99% VaR of the equal-weight portfolio over the {len(test)} held-out days, {N_FULL} "
           f"scenarios a day conditioned on the days before, seed {SEED}")
    out["var99_exceptions"] = _rec(int(res["exceptions"]), how, abs_tol=0)
    out["kupiec_p"] = _rec(res["kupiec_p"], "Kupiec's proportion-of-failures p-value of those exceptions")
    out["christoffersen_p"] = _rec(res["christoffersen_p"], "Christoffersen's independence p-value of those exceptions")
    return out


RETURNS = {"gpt:stock-returns": _returns}
