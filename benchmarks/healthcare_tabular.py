"""Benchmark synthetic patients (issue 19 items 4-6) and write benchmarks/results/healthcare_tabular.json.

Data: data.load("flchain"), train 5,511 / test 2,363 rows (stratified on death, seed 0; course_lib.data.flchain).
Each synthesizer is fitted on the training split within the same budget (at most SECONDS, one CPU thread,
seed 0) and draws as many rows as the training split has (seed 0); each table is then judged by
course_lib.tabular.evaluate (fidelity, TSTR vs TRTR with HistGradientBoostingClassifier, DCR and the
distance membership attack, held-out = the test split). Models:
  - course VAE: TabularVAE, VAE_STEPS steps (or SECONDS, whichever first), batch 256, AdamW 2e-3 cosine;
  - Gaussian copula (numpy, no iterations) and the memoriser (exact copies, and copies + 0.1 std noise);
  - CTGAN (the `ctgan` package, Business Source License): OPTIONAL, only if installed; CTGAN_EPOCHS epochs
    at its default sizes (batch 500, pac 10), chosen to fit the same SECONDS on this machine.
Anomaly detection (item 6): data.load("breast_cancer"), a TabularVAE on the benign training rows
(ANOMALY_STEPS steps) scored by -ELBO, against logistic regression with labels; AUC for malignant.

    python benchmarks/healthcare_tabular.py                  # about 4 minutes
    COURSE_FAST=1 python benchmarks/healthcare_tabular.py    # smoke run: seconds, nothing written
"""
from __future__ import annotations

import os
import sys
import time
import warnings

import torch

from course_lib import bench, config, data
from course_lib.data.breast_cancer import schema as breast_cancer_schema
from course_lib.data.flchain import SCHEMA
from course_lib.tabular import evaluate
from course_lib.tabular.anomaly import compare_with_supervised
from course_lib.tabular.synthesizers import GaussianCopula, Memoriser, VAESynthesizer

SECONDS = 120.0
VAE_STEPS = 12000
CTGAN_EPOCHS = 100
ANOMALY_STEPS = 2000


def load() -> float:
    return round(os.getloadavg()[0], 1)


class CTGANAdapter:
    """ctgan's CTGAN behind fit/sample(n, seed), imported only here (never a course dependency)."""

    def __init__(self, epochs: int):
        from ctgan import CTGAN
        self.model = CTGAN(epochs=epochs, enable_gpu=False)
        self.epochs = epochs

    def fit(self, frame):
        self.model.set_random_state(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.fit(frame, discrete_columns=list(SCHEMA.categorical))
        return self

    def sample(self, n, seed=0):
        self.model.set_random_state(seed)
        return self.model.sample(n)[list(SCHEMA.columns)].astype(self.dtypes)


def synthesizers(fast: bool) -> list[tuple[str, str, object]]:
    """(name, budget as said in the table, synthesizer or an "absent" reason)."""
    steps = 100 if fast else VAE_STEPS
    out = [("course VAE (TabularVAE)", f"{steps} steps or {SECONDS:.0f} s",
            VAESynthesizer(SCHEMA, steps=steps, seconds=SECONDS, seed=0)),
           ("Gaussian copula", "one pass (no iterations)", GaussianCopula(SCHEMA)),
           ("memoriser (exact copies)", "none", Memoriser(SCHEMA)),
           ("memoriser (copies + 0.1 std noise)", "none", Memoriser(SCHEMA, noise=0.1))]
    epochs = 1 if fast else CTGAN_EPOCHS
    try:
        ctgan = CTGANAdapter(epochs)
    except ImportError:
        ctgan = "not installed (pip install ctgan: Business Source License, optional comparison)"
    out.append(("CTGAN (ctgan package, optional)", f"{epochs} epochs", ctgan))
    return out


def evaluate_one(name: str, budget: str, syn, train, test) -> dict:
    if isinstance(syn, str):
        return {"model": name, "budget": budget, "status": syn}
    if isinstance(syn, CTGANAdapter):
        syn.dtypes = dict(train.dtypes)
    torch.manual_seed(0)
    start = time.perf_counter()
    syn.fit(train)
    fit_s = time.perf_counter() - start
    load_fit = load()
    fake = syn.sample(len(train), seed=0)
    fid = evaluate.fidelity(train, fake, SCHEMA)
    use = evaluate.utility(train, test, fake, SCHEMA)
    priv = evaluate.privacy(train, test, fake, SCHEMA)
    row = {"model": name, "budget": budget, "fit_s": round(fit_s, 1)}
    if getattr(syn, "history", None) is not None:
        row.update(steps=len(syn.history.steps), stopped_by=syn.history.stopped_by,
                   final_loss=round(syn.history.loss[-1], 3))
    row.update({"ks_mean": round(fid["ks_mean"], 3), "ks_max": round(fid["ks_max"], 3),
                "tv_mean": round(fid["tv_mean"], 3), "tv_max": round(fid["tv_max"], 3),
                "assoc_diff": round(fid["assoc_diff"], 3),
                "trtr_auc": round(use["trtr_auc"], 3), "tstr_auc": round(use["tstr_auc"], 3),
                "gap": round(use["gap"], 3),
                "dcr_median": round(priv["dcr_synthetic_median"], 3),
                "holdout_dcr_median": round(priv["dcr_holdout_median"], 3),
                "closer_than_holdout_p5": round(priv["share_closer_than_holdout_p5"], 3),
                "exact_copies": round(priv["exact_copies"], 3), "mia_auc": round(priv["mia_auc"], 3),
                "load_avg_1min": load_fit})
    print(row, flush=True)
    return row


def target_rows(rows: list[dict]) -> list[dict]:
    by = {r["model"]: r for r in rows if "tstr_auc" in r}
    vae, cop, mem = by["course VAE (TabularVAE)"], by["Gaussian copula"], by["memoriser (exact copies)"]
    yes = lambda ok: "yes" if ok else "no"                                              # noqa: E731
    return [
        {"model": "target: course VAE TSTR vs TRTR", "value": f"{vae['tstr_auc']} vs {vae['trtr_auc']} "
         f"(gap {vae['gap']})", "target": "gap <= 0.03", "met": yes(vae["gap"] <= 0.03)},
        {"model": "target: course VAE membership-inference AUC", "value": str(vae["mia_auc"]),
         "target": "<= 0.6", "met": yes(vae["mia_auc"] <= 0.6)},
        {"model": "target: course VAE TSTR vs copula TSTR", "value": f"{vae['tstr_auc']} vs {cop['tstr_auc']}",
         "target": ">= copula", "met": yes(vae["tstr_auc"] >= cop["tstr_auc"])},
        {"model": "target: memoriser high fidelity, failing privacy",
         "value": f"ks_max {mem['ks_max']}, tv_max {mem['tv_max']}, mia_auc {mem['mia_auc']}, "
                  f"closer_than_holdout_p5 {mem['closer_than_holdout_p5']}",
         "target": "ks/tv ~0 and mia_auc > 0.6", "met": yes(mem["ks_max"] <= 0.01 and mem["tv_max"] <= 0.01
                                                            and mem["mia_auc"] > 0.6)},
    ]


def anomaly_row(fast: bool) -> dict:
    train, test = data.load("breast_cancer"), data.load("breast_cancer", split="test")
    r = compare_with_supervised(train, test, breast_cancer_schema(), "benign", steps=100 if fast else ANOMALY_STEPS)
    row = {"model": "anomaly: TabularVAE on benign only (-ELBO) vs logistic regression with labels",
           "value": f"AUC {r['generative_auc']:.3f} vs {r['supervised_auc']:.3f}",
           "generative_auc": round(r["generative_auc"], 3), "supervised_auc": round(r["supervised_auc"], 3),
           "steps": r["steps"], "fit_s": round(r["train_s"], 1), "test_rows": r["test_rows"],
           "test_malignant": r["test_anomalies"], "load_avg_1min": load()}
    print(row, flush=True)
    return row


def main() -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    train, test = data.load("flchain"), data.load("flchain", split="test")
    rows = [evaluate_one(name, budget, syn, train, test) for name, budget, syn in synthesizers(fast)]
    rows += target_rows(rows) + [anomaly_row(fast)]
    if fast:
        return 0
    notes = [
        f"Data: flchain (scikit-survival), train {len(train):,} / test {len(test):,} rows, death in 27.5%; chapter "
        "(leaks death) and futime dropped, creatinine missing -> indicator + training median (course_lib.data.flchain).",
        f"Budgets, 1 CPU thread, seed 0: course VAE {VAE_STEPS} steps capped at {SECONDS:.0f} s (batch 256, latent 8, "
        f"2 x 128 MLPs, AdamW 2e-3 cosine); CTGAN {CTGAN_EPOCHS} epochs (11 steps of batch 500 each, default sizes), "
        f"picked to fit {SECONDS:.0f} s here; the copula and the memoriser have no training loop. Every model "
        "samples as many rows as the training split (seed 0).",
        "Fidelity: ks = Kolmogorov-Smirnov statistic per numeric column, tv = total variation per categorical column "
        "(mean and max over columns); assoc_diff = mean |Pearson R_real - R_syn| over pairs of encoded columns of "
        "different variables (standardized numeric, one-hot categories; course_lib.tabular.evaluate).",
        "Utility: HistGradientBoostingClassifier(random_state=0) trained on real train (TRTR) or synthetic (TSTR), "
        "ROC AUC for death on the real test split.",
        "Privacy (heuristics, not guarantees; only differentially private training gives a bound): DCR = distance "
        "from each row to its closest real training row (standardized one-hot encoding fitted on train); "
        "closer_than_holdout_p5 = share of synthetic rows closer than the 5th percentile of the test rows' DCR "
        "(~0.05 = no closer than fresh patients); mia_auc = distance membership attack, 2,363 members vs 2,363 "
        "test rows, scored by minus the distance to the nearest synthetic row (0.5 = nothing learnt).",
        "Anomaly: Wisconsin breast cancer (scikit-learn), stratified 70/30 seed 0; the detector never sees a "
        "malignant case nor a label; logistic regression (standardized, labels) is the supervised reference.",
        "fit_s is wall time under the load shown (load_avg_1min above 2 means other jobs shared the 2 cores): "
        "compare steps, not seconds.",
    ]
    return bench.record("healthcare_tabular", title="Synthetic patients: fidelity, utility, privacy; anomaly detection "
                        "(issue 19 items 4-6)", command=" ".join(["python benchmarks/healthcare_tabular.py", *sys.argv[1:]]),
                        rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
