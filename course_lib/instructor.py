"""The instructor verbs of `genai-course`: assign, collect, autograde, feedback, grades, status, public-copy.

Each is a thin command-line face on course_lib.grading (releases) and course_lib.gradebook (the course
folder and its gradebook). The course folder is the one you are in: the current folder or the nearest
folder above it that holds nbgrader_config.py (`--course DIR` names another). Every path printed is
absolute, so it is plain where each verb wrote.
"""
from __future__ import annotations

import sys
from pathlib import Path

from course_lib.course import CourseNotFound, course_folder


def _course(p):
    p.add_argument("--course", default=None, metavar="DIR",
                   help="the course folder, holding nbgrader_config.py (default: the current folder, "
                        "or the nearest folder above it that holds one)")


def _student(p):
    p.add_argument("--student", action="append", default=None, metavar="ID",
                   help="only this student (repeatable), e.g. after a late submission or a regrade request")


def _db(p):
    p.add_argument("--db", default=None, metavar="URL",
                   help="gradebook as an SQLAlchemy URL, e.g. postgresql://grader@db/genai "
                        "(default: sqlite:///<course>/gradebook.db)")


def _assign(args) -> int:
    from course_lib import grading
    root = args.course
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
        for line in found:
            print(f"error: {line}", file=sys.stderr)
        if found:
            print(f"{name}: nothing written; {grading.release_path(name, root)} is as it was", file=sys.stderr)
        else:
            print(f"{name}: wrote " + ", ".join(str(p) for p in written))
        bad += len(found)
    return 1 if bad else 0


def _collect(args) -> int:
    from course_lib import collect
    try:
        result = collect.collect(Path(args.source), course=args.course, assignment=args.assignment,
                                 roster=Path(args.roster) if args.roster else None)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for (student, name), path in sorted(result.placed.items()):
        late = "  LATE (the LMS says so)" if (student, name) in result.late else ""
        print(f"{name}  {student:<24} -> {path}{late}")
    for rel, why in result.unmatched:
        print(f"unmatched: {rel}: {why}", file=sys.stderr)
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"{len(result.placed)} submission(s) collected, {len(result.unmatched)} file(s) unmatched")
    return 0


def _autograde(args) -> int:
    from course_lib import gradebook
    def announce(line):
        print(line, file=sys.stderr if line.startswith("SANDBOX WEAKENED") else sys.stdout, flush=True)

    unavailable = None
    try:
        reports = gradebook.autograde(args.name, course=args.course, db_url=args.db, timeout=args.timeout,
                                      memory_mb=args.memory_mb or None, sandbox_mode=args.sandbox,
                                      on_sandbox=announce, students=args.student, jobs=args.jobs)
    except gradebook.GradebookUnavailable as err:  # the database server went away mid-batch
        unavailable, reports = err, err.reports
    except (RuntimeError, FileNotFoundError, ValueError) as err:  # no bubblewrap with --sandbox bwrap; no such
        # assignment; a deadlines.toml that cannot be read
        print(f"error: {err}", file=sys.stderr)
        return 2
    problems = changed = 0
    for student, r in reports.items():
        line = f"{student:<24} {r['code_score']:g}/{r['max_code_score'] or 0:g} autograded points"
        if r["previous_code_score"] is not None and r["previous_code_score"] != r["code_score"]:
            line += f" (was {r['previous_code_score']:g})"
            changed += 1
        missing = [gid for gid in r["missing_grade_ids"] if gid not in r["restored_tests"]]
        if missing:  # a deleted test cell was put back and graded: not missing any more
            line += f"; MISSING grade cells {', '.join(missing)} (nbgrader scores them 0)"
        if r["restored_tests"]:
            line += f"; deleted test cells put back: {', '.join(r['restored_tests'])}"
        if r["sandbox_log"]:
            line += (f"; the sandbox refused {len(r['sandbox_log'])} action(s), e.g. {r['sandbox_log'][0][:120]} "
                     f"(all: {args.course / 'sandbox_log' / args.name / (student + '.txt')})")
        late = r.get("late") or {}
        if late.get("late_source"):
            line += ("; late " + (f"{late['late_hours']:g} h" if late["late_hours"] is not None
                                  else f"({late['late_source']})") + f", penalty {late['penalty_percent']:g}%")
        if r["error"]:
            line += "; ERROR: " + str(r["error"]).strip().splitlines()[-1][:400]
            problems += 1
        print(line)
    print(f"{len(reports)} submission(s) graded in {args.course}, {problems} with errors to review"
          + (f", {changed} score(s) changed since the last autograde" if changed else ""))
    if any(r["sandbox"] == "audit" for r in reports.values()):
        announce("SANDBOX WEAKENED: these submissions ran under the audit hook only (see above)")
    if unavailable is not None:
        print(f"error: {unavailable}", file=sys.stderr)
        return 3
    return 0


def _feedback(args) -> int:
    from course_lib import gradebook
    paths = gradebook.feedback(args.name, course=args.course, db_url=args.db, students=args.student)
    for path in paths:
        print(path)
    print(f"{len(paths)} feedback file(s) in {args.course / 'feedback'}/")
    written = {p.parent.parent.name for p in paths}
    try:
        rows = gradebook.grades(course=args.course, db_url=args.db)
    except ValueError as err:  # a deadlines.toml that cannot be read
        print(f"error: {err}", file=sys.stderr)
        return 2
    waiting = [r["student"] for r in rows
               if r["assignment"] == args.name and r["pending_points"] and r["student"] in written]
    if waiting:
        print(f"not final: {len(waiting)} page(s) have written answers waiting for a grader ({', '.join(waiting)}); "
              "each page says which. Grade them in formgrader and run feedback again.", file=sys.stderr)
    return 0


def _grades(args) -> int:
    from course_lib import grade_export, gradebook
    from course_lib.collect import Roster
    try:
        roster = Roster.read(Path(args.roster)) if args.roster else None
        rows = gradebook.grades(course=args.course, db_url=args.db)
        if args.csv:
            path, n, warnings = grade_export.write(rows, Path(args.csv).resolve(), args.format, roster)
            print(f"wrote {path} ({n} rows, {args.format} format)")
            for line in warnings:
                print(f"warning: {line}", file=sys.stderr)
    except (FileNotFoundError, ValueError) as err:  # a bad roster, deadlines.toml or format
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(gradebook.summary(rows))
    return 0


def _status(args) -> int:
    from course_lib import gradebook
    rows = gradebook.status(course=args.course, db_url=args.db)
    print(f"{'assignment':<20} {'submitted':>9} {'graded':>7} {'awaiting manual grading':>24}")
    for r in rows:
        print(f"{r['assignment']:<20} {r['submitted']:>9} {r['graded']:>7} {r['awaiting_manual_grading']:>24}")
    return 0


def _public_copy(args) -> int:
    from course_lib import public_copy
    try:
        done = public_copy.build(Path(args.dest), course=args.course, repository=args.repository,
                                 branch=args.branch, exclude=tuple(args.exclude))
    except (public_copy.PublicCopyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if done["commit"] is None:
        print(f"{done['dest']}: already up to date, nothing committed")
    else:
        print(f"{done['dest']}: commit {done['commit']} ({done['changed']} file(s) added or changed, "
              f"{done['removed']} removed); check it, then push it: git -C {done['dest']} push")
    return 0


def _in_course(func):
    """Resolve --course (or the current folder) to an absolute course folder before the verb runs."""
    def run(args) -> int:
        try:
            args.course = course_folder(args.course)
        except CourseNotFound as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return func(args)
    return run


def add_verbs(sub) -> None:
    """Register the instructor verbs on the `genai-course` sub-parser."""
    for verb, helptext in (("assign", "regenerate exercises/ from solutions/ and validate both"),
                           ("release", "alias of assign")):
        p = sub.add_parser(verb, help=helptext, description=_assign_doc)
        p.add_argument("names", nargs="*", help="assignment names, e.g. 01_foundations")
        p.add_argument("--all", action="store_true", help="every assignment in solutions/")
        _course(p)
        p.set_defaults(func=_in_course(_assign))

    p = sub.add_parser("collect", help="lay out submissions (folder or zip) in submitted/ for nbgrader",
                       description=_doc("collect", "collect"))
    p.add_argument("source", help="a folder of per-student folders or of .ipynb files, or a .zip (LMS export)")
    p.add_argument("--assignment", default=None, metavar="NAME",
                   help="the assignment of every file (default: the assignment name found in each path)")
    p.add_argument("--roster", default=None, metavar="CSV",
                   help="class list with a student_id column (name, email, lms_id optional): every file must "
                        "map to one of its ids, by Canvas/Moodle id or name, or it is listed as unmatched")
    _course(p)
    p.set_defaults(func=_in_course(_collect))

    p = sub.add_parser("autograde", help="autograde every collected submission of an assignment",
                       description=_doc("gradebook", "autograde"))
    p.add_argument("name", help="assignment name, e.g. 01_foundations")
    p.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
    p.add_argument("--memory-mb", type=int, default=4096, help="memory limit of a student's kernel in MiB "
                   "(default 4096; 0: none)")
    _student(p)
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="grade N submissions at once, each in its own process and sandbox (default 1; "
                        "about the number of CPU cores; see the instructor guide)")
    p.add_argument("--sandbox", choices=["auto", "bwrap", "audit"], default="auto",
                   help="isolation of student code: bwrap (bubblewrap: the kernel sees only its submission), "
                        "audit (a Python audit hook only), auto (bwrap where it runs, else audit with a "
                        "warning; the default)")
    _course(p), _db(p)
    p.set_defaults(func=_in_course(_autograde))

    p = sub.add_parser("feedback", help="write feedback HTML for every autograded submission",
                       description=_doc("gradebook", "feedback"))
    p.add_argument("name", help="assignment name")
    _student(p)
    _course(p), _db(p)
    p.set_defaults(func=_in_course(_feedback))

    p = sub.add_parser("grades", help="grade table: printed summary and an optional CSV",
                       description=_doc("gradebook", "grades"))
    p.add_argument("--csv", default=None, metavar="PATH", help="also write the grades to this CSV file")
    p.add_argument("--format", default="long", choices=["long", "wide", "canvas", "moodle"],
                   help="long: a row per submission (default); wide: a row per student, a column per assignment; "
                        "canvas, moodle: what their gradebook import takes (need --roster)")
    p.add_argument("--roster", default=None, metavar="CSV",
                   help="class list (student_id, name, email, lms_id; for Canvas also sis_user_id, "
                        "sis_login_id, section): its students and columns go into the wide/LMS table")
    _course(p), _db(p)
    p.set_defaults(func=_in_course(_grades))

    p = sub.add_parser("public-copy", help="make or update a public repository without solutions/ or their history",
                       description=_doc("public_copy", "build"))
    p.add_argument("dest", help="the public repository's folder (created with git init when missing)")
    p.add_argument("--repository", default=None, metavar="URL",
                   help="the public repository's GitHub URL: Colab badges and setup cells point there "
                        "(default: as in pyproject.toml)")
    p.add_argument("--branch", default="main", help="its branch (default main)")
    p.add_argument("--exclude", action="append", default=[], metavar="PATH",
                   help="another private path to leave out (repeatable); solutions/ and tests/mistakes/ always are")
    _course(p)
    p.set_defaults(func=_in_course(_public_copy))

    p = sub.add_parser("status", help="per assignment: submitted, graded, awaiting manual grading",
                       description=_doc("gradebook", "status"))
    _course(p), _db(p)
    p.set_defaults(func=_in_course(_status))


_assign_doc = ("Regenerate exercises/NAME/ from solutions/NAME/ (nbgrader's preprocessors, byte for byte), then "
               "run both: a solution cell that fails its own tests, or a release test that passes without a "
               "solution, is an error naming the cell.")


def _doc(module: str, name: str) -> str:
    """The first paragraph of course_lib.<module>.<name>'s docstring, as the verb's --help description.

    Read from the source, not imported: importing gradebook brings in torch and nbgrader, and every call
    of `genai-course` builds this parser, even `collect` or `--help`.
    """
    import ast
    import importlib.util
    source = Path(importlib.util.find_spec(f"course_lib.{module}").origin).read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body if getattr(n, "name", None) == name)
    return (ast.get_docstring(node) or "").split("\n\n")[0]
