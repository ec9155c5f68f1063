"""Benchmark the tutor's feedback and adaptation (issue 20 items 3-4) -> benchmarks/results/education_tutor.json.

Feedback: course_lib.education.bugs.buggy_bank(N_BANK, seed 0) (eight bugs in turn, sums of 1-4 digits each);
the tutor (course_lib.education.feedback.diagnose, reference = the exact solver's steps) locates the first
wrong step and names a misconception, scored against the set of bugs consistent with the clean work. Run with
no slips (exact bugs) and with a careless slip on top in 20% and 100% of the solutions. Then the same with the
scratchpad model's own steps as the reference (checked by the solver first; refused when wrong), on sums of up
to 3 digits (its training range) and up to 4.
Adaptation: difficulties calibrated by Elo on a random-practice cohort (100 simulated learners x 60 items,
seed 1); then N_LEARNERS simulated learners (seed 0, paired across orders) under adaptive (Elo, 75% target),
random and fixed order; items to mastery, mean and 95% bootstrap interval, for both simulated learner kinds.

    python benchmarks/education_tutor.py                  # under a minute
    COURSE_FAST=1 python benchmarks/education_tutor.py    # smoke run, nothing written
"""
from __future__ import annotations

from course_lib import bench, config
from course_lib.education import arithmetic, bugs, feedback, learner

N_BANK, N_LEARNERS = 4000, 400


def feedback_rows(n: int) -> list[dict]:
    rows = []
    for slip in (0.0, 0.2, 1.0):
        bank = bugs.buggy_bank(n, seed=0, slip=slip)
        located = named = 0
        for r in bank:
            d = feedback.diagnose(r["x"], r["y"], r["steps"], r["answer"])
            truth = bugs.consistent_bugs(r["x"], r["y"], r["clean_steps"], r["clean_answer"])
            located += d.first_wrong == feedback.first_wrong_step(r["x"], r["y"], r["steps"], r["answer"])
            named += d.bug in truth
        for what, hits, target in (("first wrong step located", located, 0.95), ("misconception named", named, 0.90)):
            rate = hits / len(bank)
            rows.append({"measure": what, "slips": f"{slip:.0%} of solutions", "n": len(bank),
                         "rate": round(rate, 4), "target": f">= {target:.0%}" if slip <= 0.2 else "- (stress)",
                         "met": ("yes" if rate >= target else "NOT met") if slip <= 0.2 else "-"})
    return rows


def model_reference_rows(n: int) -> list[dict]:
    """The tutor marking against the scratchpad model's own steps (zoo arith-scratchpad, greedy), each first
    checked by the solver (feedback.check_reference): a wrong reference is refused, never marked against."""
    from course_lib import pretrained
    from course_lib.recipes import arithmetic as ra
    model, tok = pretrained.load("arith-scratchpad", device="cpu"), ra.tokenizer()
    rows = []
    for max_digits in (3, 4):
        bank = bugs.buggy_bank(n, seed=0, max_digits=max_digits)
        prompts = [arithmetic.format_example(r["x"], r["y"], "scratchpad")[0] for r in bank]
        written = ra.answer(model, tok, prompts)
        usable = located = 0
        for r, text in zip(bank, written):
            ref = arithmetic.read_steps(text)
            if ref is None or not feedback.check_reference(r["x"], r["y"], ref):
                continue                                    # refused: the tutor says it cannot mark this one
            usable += 1
            d = feedback.diagnose(r["x"], r["y"], r["steps"], r["answer"], reference=ref)
            located += d.first_wrong == feedback.first_wrong_step(r["x"], r["y"], r["steps"], r["answer"])
        rows.append({"measure": "first wrong step located, model's scratchpad as reference (refused when wrong)",
                     "slips": f"none; sums of 1-{max_digits} digits", "n": len(bank),
                     "rate": round(located / len(bank), 4), "reference_verified": round(usable / len(bank), 4),
                     "target": ">= 95%" if max_digits == 3 else "- (beyond training)",
                     "met": ("yes" if located / len(bank) >= 0.95 else "NOT met") if max_digits == 3 else "-"})
    return rows


def adaptation_rows(n: int) -> list[dict]:
    rows = []
    for kind in ("level", "skills"):
        diff = learner.calibrate(learner.random_cohort(100, 60, seed=1, kind=kind))
        res = learner.compare_orders(diff, n_learners=n, seed=0, kind=kind)
        for name, v in res.items():
            m, lo, hi = learner.mean_interval(v)
            rows.append({"learners": kind, "order": name, "n": n, "items_to_mastery": round(m, 1),
                         "ci95": [round(lo, 1), round(hi, 1)], "never_mastered_400": float((v > 400).mean())})
        m, lo, hi = learner.mean_interval(res["random"] - res["adaptive (Elo)"])
        main = kind == "level"
        rows.append({"learners": kind, "order": "random minus adaptive (paired)", "n": n,
                     "items_to_mastery": round(m, 1), "ci95": [round(lo, 1), round(hi, 1)],
                     "target": "> 0 with the interval above 0" if main else "- (sensitivity)",
                     "met": ("yes" if lo > 0 else "NOT met") if main else "-"})
    return rows


def main() -> int:
    fast = config.is_fast()
    rows = (feedback_rows(200 if fast else N_BANK) + model_reference_rows(100 if fast else 1000)
            + adaptation_rows(30 if fast else N_LEARNERS))
    for r in rows:
        print(r)
    return bench.record("education_tutor", title="Education tutor: feedback on buggy worked solutions and adaptive "
                        "practice with simulated learners (not real students)",
                        command="python benchmarks/education_tutor.py", rows=rows,
                        notes=["Locating uses the exact solver's steps as reference, so it is exact by construction; "
                               "slips test how the misconception naming degrades.",
                               "Model reference rows: the zoo's arith-scratchpad writes its own scratchpad for each sum "
                               "(greedy); the solver checks it first and the tutor refuses to mark against a wrong one, "
                               "so the located rate is the share of solutions the model-backed tutor can mark.",
                               "'level' learners: skill grows most at the right level (main); 'skills' learners: four "
                               "discrete skills, one new thing at a time (sensitivity check, adaptive loses there)."])


if __name__ == "__main__":
    raise SystemExit(main())
