"""The modern GPT block, one piece at a time, on three seeds: does each help at the course's scale?

Issue 23 asks for a seeded comparison of the four changes today's open models make to GPT-2's block -- rotary
positions (pos=rope), RMSNorm (norm=rms), the SwiGLU feed-forward (mlp=swiglu, same parameter count) and
grouped-query attention (n_kv_head=2 of 4 heads) -- on the Shakespeare budget: 180 s of training on one thread
through `genai-course train gpt`'s recipe, validation loss in nats per character on the held-out plays.
Each variant changes one option of the course GPT (4 layers, 4 heads, 128 wide, context 64); "all four" changes
every one. A time budget, not a step budget: a slower block pays for itself in fewer steps, as it would for a
student. Differences are paired by seed (same data order and initial draws where the shapes agree).

    python benchmarks/gpt_modern.py                 # 6 variants x 3 seeds x 180 s, two runs at a time (~30 min)
    python benchmarks/gpt_modern.py --jobs 1        # one at a time (~60 min; the machine otherwise quiet)
    COURSE_FAST=1 python benchmarks/gpt_modern.py   # smoke run: 5 s each, nothing written
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from course_lib import bench, config
from course_lib.recipes import gpt as recipe

VARIANTS = {
    "GPT-2 block (course default)": {},
    "rotary positions": {"pos": "rope"},
    "RMSNorm": {"norm": "rms"},
    "SwiGLU": {"mlp": "swiglu"},
    "grouped-query attention (2 KV heads)": {"n_kv_head": 2},
    "all four": {"pos": "rope", "norm": "rms", "mlp": "swiglu", "n_kv_head": 2},
}
TARGET = 1.60          # issue 23: the best combination, 180 s on one thread


def train_one(job: tuple[str, int, float]) -> dict:
    variant, seed, seconds = job
    config.set_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        summary = recipe.cli_train(dataset="shakespeare", seconds=seconds, steps=None, seed=seed,
                                   out=Path(tmp) / "gpt.pt", options=dict(VARIANTS[variant]))
    return {"variant": variant, "seed": seed, "steps": summary["steps"], "parameters": summary["parameters"],
            "val": summary["val_loss (nats/char)"], "load": round(os.getloadavg()[0], 1)}


def summarise(runs: list[dict], seeds: list[int]) -> list[dict]:
    by = {(r["variant"], r["seed"]): r for r in runs}
    base = "GPT-2 block (course default)"
    rows = []
    for variant in VARIANTS:
        vals = [by[variant, s]["val"] for s in seeds]
        diffs = [by[variant, s]["val"] - by[base, s]["val"] for s in seeds]
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        dsd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        dmean = statistics.fmean(diffs)
        verdict = ("-" if variant == base else "helps" if dmean + 2 * dsd / len(diffs) ** 0.5 < 0
                   else "hurts" if dmean - 2 * dsd / len(diffs) ** 0.5 > 0 else "no clear difference")
        rows.append({"variant": variant, "options": ", ".join(f"{k}={v}" for k, v in VARIANTS[variant].items()) or "-",
                     "parameters": by[variant, seeds[0]]["parameters"],
                     "steps": ", ".join(str(by[variant, s]["steps"]) for s in seeds),
                     "val_by_seed": ", ".join(f"{v:.3f}" for v in vals),
                     "val_mean": round(statistics.fmean(vals), 3), "val_sd": round(sd, 3),
                     "vs_default_mean": round(dmean, 3), "vs_default_sd": round(dsd, 3), "verdict": verdict,
                     "mean_le_1.60": "yes" if statistics.fmean(vals) <= TARGET else "no",
                     "load_at_end": ", ".join(f"{by[variant, s]['load']:.1f}" for s in seeds)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, one thread each (default 2)")
    args = parser.parse_args(argv)
    seconds = config.budget(180.0, 5.0)
    jobs = [(variant, seed, seconds) for seed in args.seeds for variant in VARIANTS]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        runs = []
        for run in pool.map(train_one, jobs):
            print(run, flush=True)
            runs.append(run)
    return record(runs, args.seeds, args.jobs, seconds, sys.argv[1:] if argv is None else argv)


def record(runs: list[dict], seeds: list[int], jobs: int, seconds: float, argv: list[str]) -> int:
    config.set_threads(1)                  # what every run used (the machine line records this process's threads)
    rows = summarise(runs, seeds)
    for row in rows:
        print(row, flush=True)
    return bench.record(
        "gpt_modern", rows=rows, title="Modern GPT block (issue 23): each piece on three seeds, 180 s on one thread",
        command="python benchmarks/gpt_modern.py " + " ".join(argv),
        notes=[f"Each run: {seconds:.0f} s of training through course_lib.recipes.gpt.cli_train (the course GPT's "
               "defaults otherwise: character tokens, 4 layers, 4 heads, 128 wide, context 64, batch 32, AdamW lr 2e-3 "
               "with warm-up and cosine decay over the time budget), one thread, validation loss on the held-out plays.",
               f"{jobs} run(s) at a time on a 2-core machine that other jobs may share: load_at_end (the 1-minute load "
               "average when each run ended) and steps say how much machine each run got.",
               "vs_default: validation loss minus the default block's on the same seed (negative = better); verdict "
               "'helps'/'hurts' when the paired mean difference is more than 2 standard errors from 0.",
               f"mean_le_1.60: issue 23's target ({TARGET:.2f} nats/char) met by the mean of the seeds."])

if __name__ == "__main__":
    sys.exit(main())
