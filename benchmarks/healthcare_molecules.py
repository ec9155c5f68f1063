"""Benchmark the SMILES GPT (issue 19 items 1-3: molecules) and write benchmarks/results/healthcare_molecules.json.

Train the course GPT on the training split of the molecules dataset (course_lib.recipes.smiles, one thread,
seed 0, 150 s), sample N_SAMPLES SMILES at one temperature, and compute every metric of
course_lib.chem.metrics against the held-out (scaffold-split test) molecules; the held-out set's own
figures and the val split's (another scaffold-disjoint set) are the reference rows. Then raise QED by
GuacaMol-style hill climbing (recipes.smiles.hill_climb) on a copy of the model, within 150 s.
Targets (issue 19): validity >= 90%, uniqueness >= 95% of valid, novelty >= 80% of unique, IntDiv1 within
0.05 of the held-out set's; goal-directed: mean QED of valid samples up by >= 0.1 with validity >= 80%.

    python benchmarks/healthcare_molecules.py                  # about 8 minutes on one thread
    COURSE_FAST=1 python benchmarks/healthcare_molecules.py    # smoke run: seconds, nothing written
"""
from __future__ import annotations

import copy
import os
import sys
import time

import torch

from course_lib import bench, config, data
from course_lib.chem import metrics
from course_lib.data.molecules import cleaning_report
from course_lib.recipes import smiles as recipe

SECONDS, N_SAMPLES, TEMPERATURE, AUGMENT = 150.0, 10_000, 0.7, False
CLIMB = dict(rounds=6, samples_per_round=500, keep_top=100, steps_per_round=40)
# What the 2026-12-02 run (5,053 steps) missed, and what was tried; rewrite after a rerun changes the figures.
MISSED = ['Missed: validity 84.1% (target 90%) and uniqueness 90.3% of valid (target 95%) at T=0.7, 10,000 samples. In 150 s (5,053 steps at load 1.0) the model is undertrained; a higher temperature trades validity for uniqueness (recipe trials on 1,000 samples: T=0.85 gave validity 78.6%, uniqueness 99.0%). An earlier run of this script with batch 64 (2,014 steps at load 3.3) gave validity 80.3%, uniqueness 93.5%, novelty 98.1%, IntDiv1 0.860, Fréchet descriptor distance 7.8 (30.8 now): batch 32 buys validity with uniqueness and property fit. 4x128, 3x96 and 2x128 models and randomized-SMILES augmentation did worse in 150 s (course_lib/recipes/smiles.py docstring). Hill climbing meets its target, but uniqueness falls to 23% by round 6: fine-tuning on its own best samples narrows the model.']


def rounded(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def load_avg() -> float:
    return round(os.getloadavg()[0], 1)


def main() -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    train, val, test = (data.load("molecules", split=s) for s in ("train", "val", "test"))
    seconds, n_samples = (3.0, 60) if fast else (SECONDS, N_SAMPLES)
    climb = dict(rounds=1, samples_per_round=30, keep_top=5, steps_per_round=2) if fast else CLIMB
    tiny = dict(n_layer=1, n_embd=32, n_head=2) if fast else {}

    model, tok, hist = recipe.train_smiles_gpt(train, seconds=seconds, seed=0, augment=AUGMENT, **tiny)
    train_info = {"train_s": round(hist.seconds, 1), "steps": len(hist.steps), "final_loss": round(hist.loss[-1], 3),
                  "load_avg_1min": load_avg()}
    print(train_info, flush=True)
    t0 = time.perf_counter()
    samples = recipe.sample_smiles(model, tok, n_samples, temperature=TEMPERATURE, seed=0)
    sample_info = {"sample_s": round(time.perf_counter() - t0, 1), "load_avg_1min_after_sampling": load_avg()}
    print(sample_info, samples[:5], flush=True)

    ref, train_ref = metrics.Reference(test, "test"), metrics.Reference(train, "train")
    t0 = time.perf_counter()
    gen = rounded(metrics.evaluate(samples, train, test, ref=ref, train_ref=train_ref))
    eval_s = round(time.perf_counter() - t0, 1)
    rows = [{"set": f"generated, T={TEMPERATURE}", **gen, **train_info, **sample_info, "evaluate_s": eval_s}]
    rows.append({"set": "held-out test (itself: snn, scaffold_sim, w1, Fréchet trivial)",
                 **rounded(metrics.evaluate(test, train, test, ref=ref, train_ref=train_ref))})
    rows.append({"set": "val split against test (a second scaffold-disjoint set)",
                 **rounded(metrics.evaluate(val, train, test, ref=ref, train_ref=train_ref))})
    for r in rows:
        print(r, flush=True)

    t0 = time.perf_counter()
    climbed = copy.deepcopy(model)
    history = recipe.hill_climb(climbed, tok, train, recipe.qed_score, seed=0, temperature=TEMPERATURE,
                                 augment=AUGMENT, **climb)
    climb_s = round(time.perf_counter() - t0, 1)
    for h in history:
        rows.append({"set": f"hill climb (QED) round {h['round']}", **rounded(h)})
        print(rows[-1], flush=True)
    first, last = history[0], history[-1]

    g, held = rows[0], rows[1]
    rows += [
        {"set": "target: validity", "value": g["validity"], "target": ">= 0.90", "met": "yes" if g["validity"] >= 0.9 else "no"},
        {"set": "target: uniqueness of valid", "value": g["uniqueness"], "target": ">= 0.95",
         "met": "yes" if g["uniqueness"] >= 0.95 else "no"},
        {"set": "target: novelty of unique", "value": g["novelty"], "target": ">= 0.80",
         "met": "yes" if g["novelty"] >= 0.8 else "no"},
        {"set": "target: IntDiv1 vs held-out", "value": f"{g['intdiv1']} vs {held['intdiv1']}", "target": "within 0.05",
         "met": "yes" if abs(g["intdiv1"] - held["intdiv1"]) <= 0.05 else "no"},
        {"set": "target: hill climb mean QED gain, validity", "value": f"{last['mean_qed'] - first['mean_qed']:+.3f}, "
         f"{last['validity']:.3f}", "target": ">= +0.1 with validity >= 0.80",
         "met": "yes" if last["mean_qed"] - first["mean_qed"] >= 0.1 and last["validity"] >= 0.8 else "no"},
    ]
    if fast:
        return bench.record("healthcare_molecules", title="", command="", rows=rows)
    report, sizes = cleaning_report()
    cfg = model.config
    notes = [
        f"Data: {report.read:,} SMILES from the RDKit wheel (NCI first_5K.smi, WEHI wehi_mols.csv), cleaned by "
        f"course_lib.chem.clean to {report.kept:,} ({', '.join(f'{k} {v}' for k, v in report.as_dict().items())}); "
        f"scaffold split train {sizes['train']:,} / val {sizes['val']:,} / test {sizes['test']:,}.",
        f"Training: course_lib.recipes.smiles.train_smiles_gpt, {seconds:.0f} s on 1 CPU thread, seed 0, "
        f"augment={AUGMENT} (canonical SMILES only), stopped by {hist.stopped_by} after {len(hist.steps)} steps; GPT "
        f"{cfg.n_layer} layers, {cfg.n_head} heads, {cfg.n_embd} wide, context {cfg.block_size} tokens, "
        f"{model.num_params():,} parameters, batch {recipe.DEFAULTS['batch_size']} molecules, a vocabulary of {tok.vocab_size} tokens.",
        f"Sampling: {n_samples:,} SMILES at temperature {TEMPERATURE} (no top-k), recipes.smiles.sample_smiles, seed 0.",
        "Metrics: course_lib.chem.metrics (definitions in its docstring, MOSES's): snn and scaffold_sim against the "
        "held-out test set, snn_train against training; IntDiv1 excludes the diagonal; the Fréchet descriptor distance "
        "is on 12 standardised RDKit descriptors, NOT the Fréchet ChemNet Distance (no installed package ships "
        "ChemNet's weights: neither fcd nor fcd_torch is installed).",
        f"Hill climbing: recipes.hill_climb on a copy of the model, score QED, {climb}, temperature {TEMPERATURE}, lr 5e-4, batch 32, "
        f"{climb_s} s in all; round 0 is the model before fine-tuning.",
        f"Timings under load: 1-minute load average {train_info['load_avg_1min']} at the end of training (2 cores "
        "shared with other jobs); steps are the comparable figure.",
        *MISSED,
    ]
    return bench.record("healthcare_molecules", title="Molecules (issue 19 items 1-3): a SMILES GPT, MOSES-style metrics, "
                        "QED hill climbing", command=" ".join(["python benchmarks/healthcare_molecules.py", *sys.argv[1:]]),
                        rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
