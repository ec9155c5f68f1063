"""The instructor verbs of `genai-course`: assign, collect, autograde, feedback, grades, status.

Each is a thin command-line face on course_lib.grading (releases) and course_lib.gradebook (the course
folder and its gradebook). The course folder defaults to the repository root, as for `nbgrader`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from course_lib.badges import REPO_ROOT


def _course(p):
    p.add_argument("--course", default=str(REPO_ROOT), metavar="DIR",
                   help="nbgrader course folder (default: the repository root)")


def _db(p):
    p.add_argument("--db", default=None, metavar="URL",
                   help="gradebook as an SQLAlchemy URL, e.g. postgresql://grader@db/genai "
                        "(default: sqlite:///<course>/gradebook.db)")


def _assign(args) -> int:
    from course_lib import grading
    root = Path(args.course)
    names = grading.assignments(root) if args.all else args.names
    if not names:
        print("error: " + ("no assignments in solutions/" if args.all else "name an assignment or pass --all"),
              file=sys.stderr)
        return 2
    bad = 0
    for name in names:
        try:
            written, found = grading.assign(name, root=root)
        except (FileNotFoundError, grading.GradingError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"{name}: wrote " + ", ".join(str(p.relative_to(root)) for p in written))
        for line in found:
            print(f"error: {line}", file=sys.stderr)
        bad += len(found)
    return 1 if bad else 0


def _collect(args) -> int:
    from course_lib import collect
    result = collect.collect(Path(args.source), course=Path(args.course), assignment=args.assignment)
    for (student, name), path in sorted(result.placed.items()):
        print(f"{name}  {student:<24} -> {path.relative_to(Path(args.course).resolve()) if path.is_relative_to(Path(args.course).resolve()) else path}")
    for rel, why in result.unmatched:
        print(f"unmatched: {rel}: {why}", file=sys.stderr)
    print(f"{len(result.placed)} submission(s) collected, {len(result.unmatched)} file(s) unmatched")
    return 0


def _autograde(args) -> int:
    from course_lib import gradebook
    reports = gradebook.autograde(args.name, course=Path(args.course), db_url=args.db, timeout=args.timeout,
                                  memory_mb=args.memory_mb or None)
    problems = 0
    for student, r in reports.items():
        line = f"{student:<24} {r['code_score']:g}/{r['max_code_score'] or 0:g} autograded points"
        if r["missing_grade_ids"]:
            line += f"; MISSING grade cells {', '.join(r['missing_grade_ids'])} (nbgrader scores them 0)"
        if r["restored_tests"]:
            line += f"; deleted test cells put back: {', '.join(r['restored_tests'])}"
        if r["error"]:
            line += "; ERROR: " + str(r["error"]).strip().splitlines()[-1][:200]
            problems += 1
        print(line)
    print(f"{len(reports)} submission(s) graded, {problems} with errors to review")
    return 0


def _feedback(args) -> int:
    from course_lib import gradebook
    paths = gradebook.feedback(args.name, course=Path(args.course), db_url=args.db)
    for path in paths:
        print(path)
    print(f"{len(paths)} feedback file(s) in {Path(args.course) / 'feedback'}/")
    return 0


def _grades(args) -> int:
    from course_lib import gradebook
    rows = gradebook.grades(course=Path(args.course), db_url=args.db)
    if args.csv:
        print(f"wrote {gradebook.write_csv(rows, Path(args.csv))} ({len(rows)} rows)")
    print(gradebook.summary(rows))
    return 0


def _status(args) -> int:
    from course_lib import gradebook
    rows = gradebook.status(course=Path(args.course), db_url=args.db)
    print(f"{'assignment':<20} {'submitted':>9} {'graded':>7} {'awaiting manual grading':>24}")
    for r in rows:
        print(f"{r['assignment']:<20} {r['submitted']:>9} {r['graded']:>7} {r['awaiting_manual_grading']:>24}")
    return 0


def add_verbs(sub) -> None:
    """Register the instructor verbs on the `genai-course` sub-parser."""
    for verb, helptext in (("assign", "regenerate exercises/ from solutions/ and validate both"),
                           ("release", "alias of assign")):
        p = sub.add_parser(verb, help=helptext, description=_assign_doc)
        p.add_argument("names", nargs="*", help="assignment names, e.g. 01_foundations")
        p.add_argument("--all", action="store_true", help="every assignment in solutions/")
        _course(p)
        p.set_defaults(func=_assign)

    p = sub.add_parser("collect", help="lay out submissions (folder or zip) in submitted/ for nbgrader",
                       description=_doc("collect", "collect"))
    p.add_argument("source", help="a folder of per-student folders or of .ipynb files, or a .zip (LMS export)")
    p.add_argument("--assignment", default=None, metavar="NAME",
                   help="the assignment of every file (default: the assignment name found in each path)")
    _course(p)
    p.set_defaults(func=_collect)

    p = sub.add_parser("autograde", help="autograde every collected submission of an assignment",
                       description=_doc("gradebook", "autograde"))
    p.add_argument("name", help="assignment name, e.g. 01_foundations")
    p.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
    p.add_argument("--memory-mb", type=int, default=4096, help="memory limit of a student's kernel in MiB "
                   "(default 4096; 0: none)")
    _course(p), _db(p)
    p.set_defaults(func=_autograde)

    p = sub.add_parser("feedback", help="write feedback HTML for every autograded submission",
                       description=_doc("gradebook", "feedback"))
    p.add_argument("name", help="assignment name")
    _course(p), _db(p)
    p.set_defaults(func=_feedback)

    p = sub.add_parser("grades", help="grade table: printed summary and an optional CSV",
                       description=_doc("gradebook", "grades"))
    p.add_argument("--csv", default=None, metavar="PATH", help="also write every grade to this CSV file")
    _course(p), _db(p)
    p.set_defaults(func=_grades)

    p = sub.add_parser("status", help="per assignment: submitted, graded, awaiting manual grading",
                       description=_doc("gradebook", "status"))
    _course(p), _db(p)
    p.set_defaults(func=_status)


_assign_doc = ("Regenerate exercises/NAME/ from solutions/NAME/ (nbgrader's preprocessors, byte for byte), then "
               "run both: a solution cell that fails its own tests, or a release test that passes without a "
               "solution, is an error naming the cell.")


def _doc(module: str, name: str) -> str:
    """The first paragraph of course_lib.<module>.<name>'s docstring, as the verb's --help description."""
    import importlib
    return (getattr(importlib.import_module(f"course_lib.{module}"), name).__doc__ or "").strip().split("\n\n")[0]
