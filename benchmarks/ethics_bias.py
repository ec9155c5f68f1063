"""Bias amplification, measured (issue 21 item 1; writes benchmarks/results/ethics_bias.json).

Names: the course's character MLP (course_lib.ethics.amplification.train_name_model: context 3, 200 hidden,
AdamW 3e-3 cosine, batch 256, NAME_STEPS steps, seed 0) is trained on N_MIX census first names drawn in
proportion to their 1990 population frequency ("population" mix, 51% female), on a mix with male names weighted
3x (74% male) and on a mix reweighted to 50/50 (the reweighting mitigation). Each model samples N_NAMES names at
every temperature in TEMPERATURES (seeded); a name in neither census list is "unknown" and stays in the
denominator. Reported: each group's share, the majority group's amplification (generated / training share)
with a Wilson 95% interval, the same among recognised names only, and the majority share at temperature 0.5
minus at 1.0 with Newcombe's 95% interval.

Digits: class RARE is cut to 2% of the 8x8 training digits (rare_class.rare_digits); a VAE, a GAN and a
diffusion model (recipe defaults, IMAGE_STEPS steps each) sample N_IMAGES images, the course classifier judges
them, and the rare class's share (Wilson 95%) is compared with the share the classifier judges in the training
set itself. Mitigations: diffusion trained on the set with the rare images repeated to 10% (reweighting), and
conditional models sampled with every class equally (balanced conditional sampling; diffusion also at guidance 2).

    python benchmarks/ethics_bias.py                  # about 6 minutes of one quiet CPU core
    COURSE_FAST=1 python benchmarks/ethics_bias.py    # smoke run: seconds, nothing written
"""
from __future__ import annotations

import os
import sys
import time

import torch

from course_lib import bench, config
from course_lib.ethics import amplification as am
from course_lib.ethics import rare_class as rc
from course_lib.metrics import classify_digits

N_MIX = 30000
NAME_STEPS = 10000
N_NAMES = 5000
TEMPERATURES = (0.5, 0.75, 1.0, 1.5)
RARE, RARE_SHARE = 3, 0.02
IMAGE_STEPS = {"vae": 2000, "gan": 2000, "diffusion": 2000}
N_IMAGES = 2000


def load() -> float:
    return round(os.getloadavg()[0], 1)


def fmt(ci) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def name_rows(fast: bool) -> list[dict]:
    steps, n = (200, 300) if fast else (NAME_STEPS, N_NAMES)
    base = am.name_shares(am.name_mix(N_MIX, seed=0))
    mixes = {"population": None, "male names x3": {am.MALE: 3.0},
             "reweighted to 50/50 (mitigation)": am.balancing_weights(base)}
    rows = []
    for mix_name, weights in mixes.items():
        words = am.name_mix(N_MIX, seed=0, group_weights=weights)
        train = am.name_shares(words)
        t0 = time.perf_counter()
        model, hist = am.train_name_model(words, steps=steps, seed=0)
        trained = {"train_steps": len(hist.steps), "train_s": round(time.perf_counter() - t0, 1), "load_avg_1min": load()}
        sweep = am.temperature_sweep(model, train, TEMPERATURES, n=n, seed=0)
        major = sweep[0]["majority"]
        for r in sweep:
            c = r["counts"]
            known = c[am.FEMALE] + c[am.MALE]
            k_ratio, k_lo, k_hi = am.amplification_ci(c[major], known, train[major] / (1 - train[am.UNKNOWN]))
            row = {"part": "names", "mix": mix_name, "temperature": r["temperature"],
                   "train_female": round(train[am.FEMALE], 4), "train_male": round(train[am.MALE], 4),
                   "gen_female": round(r["shares"][am.FEMALE], 4), "gen_male": round(r["shares"][am.MALE], 4),
                   "gen_unknown": round(r["shares"][am.UNKNOWN], 4), "majority": major,
                   "amplification": round(r["amplification"], 3), "ci95": fmt(r["ci95"]),
                   "amplification_among_known": round(k_ratio, 3), "ci95_known": fmt((k_lo, k_hi)),
                   "zhao_amplification": round(am.zhao_amplification(r["shares"], train), 4),
                   "distinct_names": r["distinct"], "n": n, **trained}
            rows.append(row)
            print(row, flush=True)
        by_t = {r["temperature"]: r for r in sweep}
        if 0.5 in by_t and 1.0 in by_t:
            c05, c10 = by_t[0.5]["counts"], by_t[1.0]["counts"]
            d, lo, hi = am.share_difference_ci(c05[major], n, c10[major], n)
            row = {"part": "names", "mix": mix_name, "temperature": "0.5 minus 1.0", "majority": major,
                   "measure": f"{major} share at T=0.5 minus at T=1.0", "value": round(d, 4), "ci95": fmt((lo, hi)),
                   "amplification_0.5_over_1.0": round(by_t[0.5]["amplification"] / by_t[1.0]["amplification"], 3),
                   "n": n, **trained, "target": "measured with a 95% interval", "met": "yes"}
            rows.append(row)
            print(row, flush=True)
    return rows


def image_rows(fast: bool) -> list[dict]:
    n = 200 if fast else N_IMAGES
    X, Y = rc.rare_digits(RARE, RARE_SHARE, seed=0)
    ref = rc.judged_shares(X)[RARE].item()                     # what the classifier sees in training
    nominal = (Y == RARE).float().mean().item()
    # reweighting: the rare images repeated so the class makes 10% of the rows the model is fed
    rare_idx = torch.nonzero(Y == RARE).flatten()
    reps = max(1, round(0.1 * (len(Y) - len(rare_idx)) / 0.9 / len(rare_idx)))
    idx_rw = torch.cat([torch.nonzero(Y != RARE).flatten(), rare_idx.repeat(reps)])
    runs = [(f, "unconditional", X, None, False, 1.0) for f in rc.FAMILIES]
    runs += [("diffusion", f"reweighted: rare images x{reps} (mitigation)", X[idx_rw], None, False, 1.0),
             ("gan", "conditional, balanced labels (mitigation)", X, Y, True, 1.0),
             ("diffusion", "conditional, balanced labels (mitigation)", X, Y, True, 1.0),
             ("diffusion", "conditional, balanced labels, guidance 2 (mitigation)", X, Y, True, 2.0)]
    rows, cache = [], {}
    for family, setting, Xt, Yt, balanced, guidance in runs:
        steps = 30 if fast else IMAGE_STEPS[family]
        key = (family, Yt is not None, len(Xt))
        t0 = time.perf_counter()
        if key not in cache:
            cache[key] = rc.train_family(family, Xt, Yt, steps=steps, seed=0)
        train_s = round(time.perf_counter() - t0, 1)
        model = cache[key]
        t0 = time.perf_counter()
        pred = classify_digits(rc.sample_family(model, n, seed=1, balanced=balanced, guidance=guidance))
        shares = am.class_shares(pred, 10)
        k = round(shares[RARE].item() * n)
        lo, hi = am.wilson(k, n)
        row = {"part": "digits", "family": family, "setting": setting, "rare_class": RARE,
               "train_share_nominal": round(nominal, 4), "train_share_judged": round(ref, 4),
               "gen_share": round(k / n, 4), "ci95": fmt((lo, hi)),
               "amplification_vs_judged": round(k / n / ref, 3), "ci95_amplification": fmt((lo / ref, hi / ref)),
               "largest_class_share": round(shares.max().item(), 4), "n": n,
               # balanced runs ask for class RARE in every tenth sample: how many of those look like one?
               "rare_asked_judged_rare": round((pred[torch.arange(n) % 10 == RARE] == RARE).float().mean().item(), 3)
               if balanced else "", "train_steps": steps,
               "train_s": train_s, "sample_s": round(time.perf_counter() - t0, 1), "load_avg_1min": load()}
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    rows = name_rows(fast) + image_rows(fast)
    notes = [
        f"Names: {N_MIX} draws from the census lists (names package, 1990), population frequency = percentage within "
        "a sex x that sex's share of the 1990 population (48.7% male); a name in both lists belongs to the sex in which "
        "more people bear it. Unknown = generated names in neither list, counted in the denominator of every share.",
        "amplification = generated share / training share of the training majority; amplification_among_known divides "
        "by recognised names only (a model that invents names is not counted as fair for it). zhao_amplification = "
        "mean (generated - training share) over the groups the training set favours (Zhao et al. 2017).",
        f"Digits: class {RARE} cut to {RARE_SHARE:.0%} of the 1,437 training digits (seeded), models trained "
        f"{IMAGE_STEPS} steps with the recipes' digits defaults, seed 0, 1 CPU thread, {N_IMAGES} samples judged by "
        "the course's 8x8 classifier. The judged training share is the reference (the classifier errs a little).",
        "Seconds are under the load shown: the 2-core machine was shared with other jobs.",
    ]
    command = " ".join(["python benchmarks/ethics_bias.py", *sys.argv[1:]])
    return bench.record("ethics_bias", title="Bias amplification: census names across temperatures, a 2% digit class "
                        "across model families, and mitigations (issue 21)", command=command, rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
