"""Benchmark the arithmetic tutor's models (issue 20 items 1, 2, 5) and write benchmarks/results/education.json.

Three RoPE GPTs (course_lib.recipes.arithmetic, 2 layers, 4 heads, 64 wide, batch 64, fresh random 1-3-digit
sums every step, loss on the target only) learn addition in the plain, reversed and scratchpad formats; a fourth
(course_lib.education.practice) learns to write an item "358+67=425" after a control code "d3c2:". Each trains
STEPS[its name] steps on one CPU thread, seed 0 (at most about 150 s each on a quiet core of the 2-core machine; the seconds and
the load are recorded). Greedy decoding. Exact match (steps and answer, character for character) on N_EVAL
sums whose operands both have 3 digits (in distribution), 4 and 5 digits (longer than any training sum), with
Wilson 95% intervals. The practice generator writes N_ITEMS items for each of the 9 feasible codes up to 3
digits at temperature 1 (seeded); the shares of right keys and requested difficulty are counted BEFORE the
solver verifies them, then only verified items are released and re-checked.

    python benchmarks/education.py                   # about 11 minutes on 1 thread
    python benchmarks/education.py --save DIR        # also keep the four trained models as checkpoints in DIR
    COURSE_FAST=1 python benchmarks/education.py     # smoke run: seconds, nothing written
"""
from __future__ import annotations

import os
import sys
import time

import torch

from course_lib import bench, checkpoints, config
from course_lib.education import arithmetic as ar
from course_lib.education import practice as pr
from course_lib.recipes import arithmetic as ra

STEPS = {"plain": 6900, "reversed": 6000, "scratchpad": 2500, "practice": 5000}   # <= ~150 s each here
N_EVAL = 1000
N_ITEMS = 100
LENGTHS = (3, 4, 5)


def load() -> float:
    return round(os.getloadavg()[0], 1)


def save(model, hist, out_dir, name: str, **meta) -> None:
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        checkpoints.save(os.path.join(out_dir, f"{name}.pt"), model, model.config_dict(), family="gpt",
                         dataset="arithmetic", steps=len(hist.steps), seconds=round(hist.seconds, 1), **meta)


def format_rows(fast: bool, out_dir) -> list[dict]:
    rows = []
    n = 50 if fast else N_EVAL
    for fmt in ar.FORMATS:
        model, tok, hist = ra.train_arith_gpt(fmt, steps=60 if fast else STEPS[fmt], seed=0)
        trained = {"train_steps": len(hist.steps), "train_s": round(hist.seconds, 1), "load_avg_1min": load()}
        save(model, hist, out_dir, f"arith-{fmt}", format=fmt)
        for d in LENGTHS:
            t0 = time.perf_counter()
            acc = ra.accuracy(model, tok, fmt, digits=d, n=n)
            row = {"model": f"{fmt} GPT", "measure": f"exact match, {d}-digit + {d}-digit"
                   + (" (in distribution)" if d == 3 else " (longer than training)"),
                   "value": round(acc["exact"], 4), "ci95": f"[{acc['exact_lo']:.3f}, {acc['exact_hi']:.3f}]",
                   "answer_right": round(acc["answer_right"], 4), "n": n, **trained,
                   "eval_s": round(time.perf_counter() - t0, 1)}
            if fmt == "scratchpad" and d == 3:
                row["target"], row["met"] = ">= 0.99", "yes" if acc["exact"] >= 0.99 else "NOT met"
            else:
                row["target"], row["met"] = "reported with a 95% interval", "yes"
            rows.append(row)
            print(row, flush=True)
    return rows


def practice_rows(fast: bool, out_dir) -> list[dict]:
    n = 10 if fast else N_ITEMS
    model, tok, hist = ra.train_practice_gpt(steps=60 if fast else STEPS["practice"], seed=0)
    save(model, hist, out_dir, "arith-practice")
    trained = {"train_steps": len(hist.steps), "train_s": round(hist.seconds, 1), "load_avg_1min": load()}
    items = []
    for i, (d, c) in enumerate(pr.training_codes()):
        items += ra.generate_items(model, tok, d, c, n, temperature=1.0, seed=i)
    audit = pr.audit(items)
    k = lambda share: ra.wilson(round(share * audit["n"]), audit["n"])              # noqa: E731
    rows = []
    for measure, share in (("answer key right, before verification", audit["key_right"]),
                           ("difficulty as requested, before verification", audit["difficulty_match"]),
                           ("both (verified), before verification", audit["verified_before"])):
        lo, hi = k(share)
        rows.append({"model": "practice GPT", "measure": measure, "value": round(share, 4),
                     "ci95": f"[{lo:.3f}, {hi:.3f}]", "n": audit["n"], **trained, "target": "reported", "met": "yes"})
    rows.append({"model": "practice GPT", "measure": f"released items verified ({audit['released']} released)",
                 "value": audit["released_verified"], "n": audit["released"], **trained, "target": "1.0",
                 "met": "yes" if audit["released_verified"] == 1.0 else "NOT met"})
    for r in rows:
        print(r, flush=True)
    return rows


def main() -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    out_dir = sys.argv[sys.argv.index("--save") + 1] if "--save" in sys.argv else None
    rows = format_rows(fast, out_dir) + practice_rows(fast, out_dir)
    if fast:
        return 0
    notes = [
        f"Models: course GPT, pos='rope', 2 layers, 4 heads, 64 wide, context 128, AdamW 3e-3, 100 warm-up steps, "
        f"cosine to 10%, batch 64 fresh random sums, steps " + ", ".join(f"{k} {v}" for k, v in STEPS.items()) + ", seed 0, 1 CPU thread (train_s under the load shown; "
        "the 2-core machine was shared).",
        "Training sums: each operand 1-3 digits (length uniform, then the number uniform). Test sums: both operands "
        f"exactly 3, 4 or 5 digits, {N_EVAL} each, seeded. Exact match = course_lib.education.arithmetic.verify "
        "(every step and the answer); answer_right = the final number alone.",
        f"Practice: {N_ITEMS} items for each of the 9 codes d1c0..d3c3 at temperature 1; before verification the "
        "shares are of all items written (unreadable ones count as wrong); released = verified by the solver "
        "(key and difficulty), then re-checked independently.",
    ]
    command = " ".join(["python benchmarks/education.py", *sys.argv[1:]])
    return bench.record("education", title="Arithmetic tutor: three answer formats, length generalisation, "
                        "practice at a target difficulty (issue 20)", command=command, rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
