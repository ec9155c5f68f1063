"""Benchmark parallel autograding (issue 24): a batch graded one by one, then with `--jobs N`; identical
scores required. Writes benchmarks/results/grading_parallel.json.

First it measures how much of the machine the sequential path leaves idle: the CPU seconds of this
process and its children (nbgrader, the kernels) over the wall-clock seconds, in cores. A value well
under the machine's core count is what parallel grading can fill.

    python benchmarks/parallel_grading.py                      # 200 submissions of 01_foundations, --jobs 2
    python benchmarks/parallel_grading.py --size 40 --jobs 4   # a quicker run, or a bigger machine
"""
from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib import bench, gradebook
from course_lib.course import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests"))
import grading_helpers  # noqa: E402  (the batch generator the tests use)

TIMEOUT, MEMORY_MB = 10, 2048


def _cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run(name: str, submissions: dict, jobs: int, workdir: Path) -> tuple[dict, dict]:
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), _cpu_seconds()
    reports = gradebook.autograde_batch(name, submissions, timeout=TIMEOUT, memory_mb=MEMORY_MB, jobs=jobs,
                                        workdir=workdir, show_progress=True)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    row = {"jobs": jobs, "submissions": len(submissions), "seconds": round(wall, 1),
           "seconds_per_submission": round(wall / len(submissions), 2), "cpu_seconds": round(cpu, 1),
           "cores_busy": round(cpu / wall, 2), "load_1min_before": round(load, 2),
           "load_1min_after": round(os.getloadavg()[0], 2)}
    return reports, row


KEYS = ("score", "code_score", "cells", "error")


def _comparable(reports: dict, course: Path) -> dict:
    """The fields both runs must agree on. Each run grades into its own course folder, which an error
    message names (e.g. a file that is not JSON): that folder is replaced by <course>."""
    return {s: {k: r[k].replace(str(course), "<course>") if k == "error" and r[k] else r[k] for k in KEYS}
            for s, r in reports.items()}


def _undeserved(reports: dict, cases: list) -> list[str]:
    """Students whose report is not what their case deserves (the check of tests/test_instructor_batch.py):
    which run, one by one or parallel, got a score wrong when the two disagree."""
    wrong = []
    for student, _, expect in cases:
        r = reports[student]
        tests = None if expect["tests"] is None else {t: r["cells"].get(t, {}).get("score") for t in expect["tests"]}
        if tests != expect["tests"] or (r["error"] is not None) != expect["error"]:
            wrong.append(student)
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="?", default="01_foundations")
    parser.add_argument("--size", type=int, default=200, help="submissions in the batch (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the parallel run (default 2)")
    args = parser.parse_args()
    source_path = next((REPO_ROOT / "solutions" / args.assignment).glob("*.ipynb"))
    release = nbformat.read(REPO_ROOT / "exercises" / args.assignment / source_path.name, as_version=4)
    source = nbformat.read(source_path, as_version=4)
    cases = grading_helpers.robustness_batch({args.assignment: (release, source)}, size=args.size)[args.assignment]
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        submissions = {}
        for student, nb, _ in cases:
            path = inbox / f"{student}.ipynb"
            path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
            submissions[student] = path
        one, seq = _run(args.assignment, submissions, 1, Path(tmp) / "one")
        print(seq)
        many, par = _run(args.assignment, submissions, args.jobs, Path(tmp) / "many")
        print(par)
        one, many = _comparable(one, Path(tmp) / "one"), _comparable(many, Path(tmp) / "many")
    differ = sorted(s for s in one if one[s] != many[s])
    speedup = round(seq["seconds"] / par["seconds"], 2)
    seq["undeserved"], par["undeserved"] = _undeserved(one, cases), _undeserved(many, cases)
    par.update(speedup=speedup, identical_scores=not differ)
    for s in differ:
        print(s, {k: (one[s][k], many[s][k]) for k in KEYS if one[s][k] != many[s][k]})
    par["differ"] = differ
    print(f"speed-up {speedup}x with --jobs {args.jobs}; scores differ for: {differ or 'nobody'}; "
          f"not the deserved score: one by one {seq['undeserved'] or 'nobody'}, "
          f"parallel {par['undeserved'] or 'nobody'}")
    bench.write_json("grading_parallel", {
        "title": f"Parallel autograding: {len(cases)} submissions of {args.assignment}, one by one vs --jobs "
                 f"{args.jobs}",
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "command": " ".join(["python benchmarks/parallel_grading.py", *sys.argv[1:]]),
        "machine": bench.machine(), "rows": [seq, par],
        "notes": [f"Target (issue 24): --jobs 2 >= 1.5x faster than sequential on 2 cores, identical scores. "
                  f"Measured {speedup}x; identical scores: {not differ}.",
                  "cores_busy = CPU seconds of the grader and all its kernels / wall seconds: what the "
                  "sequential path leaves idle is the machine's core count minus its value.",
                  "The batch is tests/grading_helpers.robustness_batch (every breakage once, including an "
                  f"infinite loop that costs the {TIMEOUT} s timeout, then correct / wrong / fails-hidden / "
                  "blank copies). Kernels: sandbox as chosen by 'auto', one thread, COURSE_FAST=1.",
                  "undeserved: the students whose report differs from what their case deserves (the check "
                  "of tests/test_instructor_batch.py); differ: those whose two reports disagree (score, code "
                  "score, cells, error; an error's course folder, which differs by run, is left out).",
                  "load_1min is os.getloadavg()[0] (uptime's figure) before and after each run: this machine "
                  "is shared with other jobs, which take cores from both runs."]})
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
