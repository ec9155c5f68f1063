"""Benchmark autograding against issue 7's targets and write benchmarks/results/grading.json.

Targets (this CPU, kernel start included): one submission autogrades in <= 10 s; a batch of 40 in
<= 5 minutes. For each one-notebook assignment of solutions/ it times
  - one correct submission alone (a whole `gradebook.autograde_batch` call: gradebook set-up, release, grading),
  - the robustness batch of tests/grading_helpers.py padded to 40 submissions (correct, blank, wrong,
    infinite loop, memory hog, megabytes of output, hostile code ...), graded in one call.
The infinite loop costs the per-cell timeout (10 s here, as in the tests; 30 s by default).

    python benchmarks/grading.py                    # every assignment (about 3-6 minutes each)
    python benchmarks/grading.py 01_foundations     # one assignment
"""
from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib import bench, gradebook, grading
from course_lib.course import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests"))
import grading_helpers  # noqa: E402  (the batch generator the tests use)

TIMEOUT, MEMORY_MB, BATCH = 10, 2048, 40
TARGET_ONE, TARGET_BATCH = 10.0, 300.0


def time_assignment(name: str) -> list[dict]:
    source_path = next((REPO_ROOT / "solutions" / name).glob("*.ipynb"))
    release = nbformat.read(REPO_ROOT / "exercises" / name / source_path.name, as_version=4)
    source = nbformat.read(source_path, as_version=4)
    cases = grading_helpers.robustness_batch({name: (release, source)}, size=BATCH)[name]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        good = Path(tmp) / "good.ipynb"
        nbformat.write(grading_helpers.solved(release, source), good)
        start = time.perf_counter()
        one = gradebook.autograde_batch(name, {"good": good}, timeout=TIMEOUT, memory_mb=MEMORY_MB)
        seconds = time.perf_counter() - start
        assert one["good"]["code_score"] == one["good"]["max_code_score"], one
        rows.append({"assignment": name, "what": "one correct submission (whole call)", "submissions": 1,
                     "seconds": round(seconds, 1), "seconds_per_submission": round(seconds, 1),
                     "target_seconds": TARGET_ONE})
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        submissions = {}
        for student, nb, _ in cases:
            path = inbox / f"{student}.ipynb"
            path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
            submissions[student] = path
        start = time.perf_counter()
        reports = gradebook.autograde_batch(name, submissions, timeout=TIMEOUT, memory_mb=MEMORY_MB, show_progress=True)
        seconds = time.perf_counter() - start
        wrong = [s for s, _, exp in cases if exp["tests"] is not None
                 and reports[s]["code_score"] != sum(exp["tests"].values())]
        rows.append({"assignment": name, "what": f"robustness batch ({len(cases)} mixed submissions)",
                     "submissions": len(cases), "seconds": round(seconds, 1),
                     "seconds_per_submission": round(seconds / len(cases), 1), "target_seconds": TARGET_BATCH,
                     "all_scores_as_expected": not wrong})
    return rows


def sandbox_overhead(name: str, repeats: int = 5) -> int:
    """One correct submission graded `repeats` times in each sandbox mode, alternating, so that a busy
    machine slows both alike; writes benchmarks/results/grading_sandbox.json."""
    import os
    import statistics
    from course_lib import sandbox
    source_path = next((REPO_ROOT / "solutions" / name).glob("*.ipynb"))
    release = nbformat.read(REPO_ROOT / "exercises" / name / source_path.name, as_version=4)
    modes = ["bwrap", "audit"] if sandbox.bwrap_problem() is None else ["audit"]
    times = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as tmp:
        good = Path(tmp) / "good.ipynb"
        nbformat.write(grading_helpers.solved(release, nbformat.read(source_path, as_version=4)), good)
        for _ in range(repeats):
            for mode in modes:
                start = time.perf_counter()
                one = gradebook.autograde_batch(name, {"good": good}, timeout=TIMEOUT, memory_mb=MEMORY_MB,
                                                sandbox_mode=mode)
                times[mode].append(time.perf_counter() - start)
                assert one["good"]["code_score"] == one["good"]["max_code_score"], one
    rows = [{"assignment": name, "sandbox": mode, "runs": repeats,
             "median_seconds": round(statistics.median(t), 2), "min_seconds": round(min(t), 2),
             "max_seconds": round(max(t), 2)} for mode, t in times.items()]
    for row in rows:
        print(row)
    bench.write_json("grading_sandbox", {
        "title": "Grading sandbox overhead: one correct submission, whole call (set-up, release, grading)",
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "command": f"python benchmarks/grading.py --sandbox-overhead {name}",
        "machine": bench.machine(), "rows": rows,
        "notes": ["bwrap: kernel under bubblewrap plus the audit hook; audit: the audit hook alone. Runs "
                  "alternate between the modes.",
                  f"1-minute load average at the end: {os.getloadavg()[0]:.1f} on 2 cores (other jobs ran)."]})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="default: every one-notebook assignment of solutions/")
    parser.add_argument("--sandbox-overhead", action="store_true",
                        help="instead: time one submission under each sandbox mode (first assignment named)")
    args = parser.parse_args()
    if args.sandbox_overhead:
        return sandbox_overhead((args.assignments or ["01_foundations"])[0])
    names = args.assignments or [a for a in grading.assignments()    # one-notebook assignments with a release
                                 if len(list((REPO_ROOT / "solutions" / a).glob("*.ipynb"))) == 1
                                 and (REPO_ROOT / "exercises" / a).is_dir()]
    rows = []
    for name in names:
        rows += time_assignment(name)
        for row in rows[-2:]:
            print(f"{row['assignment']:<16} {row['what']:<45} {row['seconds']:7.1f} s "
                  f"({row['seconds_per_submission']} s each)")
    bench.write_json("grading", {
        "title": "Autograding time (nbgrader, kernel start included)",
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "command": " ".join(["python benchmarks/grading.py", *sys.argv[1:]]),
        "machine": bench.machine(), "rows": rows,
        "notes": [f"Targets: <= {TARGET_ONE:g} s for one submission, <= {TARGET_BATCH:g} s for a batch of 40.",
                  f"Per-cell timeout {TIMEOUT} s (the batch's infinite loop costs it once), kernel memory "
                  f"limit {MEMORY_MB} MiB.",
                  "Each submission starts its own kernel; importing torch in the assignment's first cell is "
                  "most of the per-submission time.",
                  "Kernels run with COURSE_FAST=1 and one thread (course_lib.gradebook.isolated_env). The "
                  "1-minute load average was about 2 during the run: another job shared the 2 cores."]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
