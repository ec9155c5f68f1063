"""The robustness batch: 40+ generated submissions graded in one call, each with the score it deserves.

Every way a real class breaks a submission (tests/grading_helpers.robustness_cases) is built from a
course assignment and graded as a class is: one gradebook.autograde_batch call, two at a time, with a short
per-cell timeout and a memory limit, and nothing written outside the course folder. By default the whole
batch is the first assignment's (its notebook imports torch like every other; one call takes about 100 s
here, where one call per assignment took 220 s). COURSE_GRADING_BATCH=all deals the cases to every
assignment in turn, one call each, so the batch spans the course; any comma-separated list of names
chooses those assignments. test_the_batch_can_be_built_from_every_assignment builds every assignment's
cases in any case.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import nbformat
import pytest

import grading_helpers as helpers
from course_lib import grading, gradebook
from course_lib.course import REPO_ROOT

TIMEOUT = 10  # seconds per cell: the slowest cell of any assignment (importing torch) takes ~2 s
MEMORY_MB = 2048  # the 'exhausts_memory' case allocates 3 GiB; torch imports within 2 GiB


def _single_notebook_assignments() -> list[str]:
    return [a for a in grading.assignments() if len(list((REPO_ROOT / "solutions" / a).glob("*.ipynb"))) == 1]


def _assignments() -> list[str]:
    chosen = os.environ.get("COURSE_GRADING_BATCH", "").strip()
    if chosen == "all":
        return _single_notebook_assignments()
    return chosen.split(",") if chosen else _single_notebook_assignments()[:1]


def _notebooks(name):
    source = next((REPO_ROOT / "solutions" / name).glob("*.ipynb"))
    release = REPO_ROOT / "exercises" / name / source.name
    return nbformat.read(release, as_version=4), nbformat.read(source, as_version=4)


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if ".ipynb_checkpoints" not in p.parts
            and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """name -> (cases, reports, course folder), one course folder for all; the HOME and temp folder of the
    run are empty scratch folders."""
    base = tmp_path_factory.mktemp("batch")
    batch = helpers.robustness_batch({name: _notebooks(name) for name in _assignments()}, size=40)
    home, scratch = base / "home", base / "tmp"
    home.mkdir(), scratch.mkdir()
    parts = [f"{top}/{name}" for name in batch for top in ("solutions", "exercises")]
    repo_before = {part: _snapshot(REPO_ROOT / part) for part in parts}
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setattr("tempfile.tempdir", str(scratch))
        for name, cases in batch.items():
            inbox = base / "inbox" / name
            inbox.mkdir(parents=True)
            submissions = {}
            for student, nb, _ in cases:
                path = inbox / (f"Copy of {name} (1).ipynb" if student == "renamed" else f"{student}.ipynb")
                path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
                submissions[student] = path
            course = base / "course"            # one course folder and gradebook for the whole batch
            reports = gradebook.autograde_batch(name, submissions, timeout=TIMEOUT, memory_mb=MEMORY_MB, workdir=course,
                                                jobs=2)  # as a class is graded: two at a time
            out[name] = (cases, reports, course)
    assert list(home.iterdir()) == [] and list(scratch.iterdir()) == [], "written outside the course folder"
    assert {part: _snapshot(REPO_ROOT / part) for part in repo_before} == repo_before
    return out


def test_batch_is_class_sized(graded):
    assert sum(len(cases) for cases, _, _ in graded.values()) >= 40
    for cases, reports, _ in graded.values():
        assert sorted(reports) == sorted(student for student, _, _ in cases)  # nobody stopped the batch


def test_every_student_gets_the_score_they_deserve(graded):
    wrong = []
    for name, (cases, reports, _) in graded.items():
        for student, _, expect in cases:
            r = reports[student]
            got = {"tests": None if expect["tests"] is None else
                   {t: r["cells"].get(t, {}).get("score") for t in expect["tests"]},
                   "error": r["error"] is not None, "missing": r["missing_grade_ids"], "restored": r["restored_tests"]}
            if got != expect:
                wrong.append(f"{name}/{student}: expected {expect}, got {got}; error: {str(r['error'])[-300:]}")
            if expect["tests"] is None:
                assert r["code_score"] == 0.0, (student, r)
            else:
                assert r["code_score"] == sum(expect["tests"].values()), (student, r)
    assert not wrong, "\n".join(wrong)


def _where(graded, case):
    """(assignment, reports, course folder) of the assignment that got `case` in the batch."""
    hits = [(name, reports, course) for name, (_, reports, course) in graded.items() if case in reports]
    assert len(hits) == 1, f"case {case!r} should be graded exactly once, found in {[h[0] for h in hits]}"
    return hits[0]


def test_every_chosen_assignment_has_its_share(graded):
    assert sorted(graded) == sorted(_assignments())
    assert all(len(cases) >= 2 for cases, _, _ in graded.values())


def _output(course, name, student, *, contains):
    nb = nbformat.read(next((course / "autograded" / student / name).glob("*.ipynb")), as_version=4)
    return [o for c in nb.cells if contains in c.source for o in c.get("outputs", [])]


def test_memory_limit_and_timeout_and_output_limit_act_in_the_kernel(graded):
    name, _, course = _where(graded, "exhausts_memory")
    assert [o.ename for o in _output(course, name, "exhausts_memory", contains="bytearray")] == ["MemoryError"]
    name, _, course = _where(graded, "infinite_loop")
    loop = _output(course, name, "infinite_loop", contains="while True")
    errors = {o.ename for o in loop if o.output_type == "error"}  # nbgrader records both, sometimes
    assert "CellTimeoutError" in errors and errors <= {"CellTimeoutError", "KeyboardInterrupt"}, errors
    name, _, course = _where(graded, "prints_megabytes")
    printed = _output(course, name, "prints_megabytes", contains="print('x'")
    assert sum(len(o.get("text", "")) for o in printed) < 100_000
    size = next((course / "autograded" / "prints_megabytes" / name).glob("*.ipynb")).stat().st_size
    assert size < 1_000_000


def test_hostile_submissions_gain_nothing(graded):
    name, _, course = _where(graded, "reads_hidden_tests")
    printed = _output(course, name, "reads_hidden_tests", contains="solution cells found")
    assert [o.get("text") for o in printed] == ["solution cells found: 0\n"]
    _, reports, _ = _where(graded, "overwrites_gradebook")
    report = reports["overwrites_gradebook"]
    assert report["error"] is None and any("gradebook.db" in line or "os.scandir" in line
                                           for line in report["sandbox_log"]), report["sandbox_log"]


def test_gradebook_stays_consistent(graded):
    for name, (cases, reports, course) in graded.items():
        db = course / "gradebook.db"
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = {r["student"]: r for r in gradebook.grades(course=course) if r["assignment"] == name}
        for student, _, expect in cases:
            if student == "not_json":
                continue
            assert rows[student]["code_score"] == reports[student]["code_score"], student
        assert sorted(rows) == sorted(s for s, _, _ in cases)  # the gradebook writer is on the books too
        if "not_json" in rows:                    # an unreadable file is on the books, with zero
            assert rows["not_json"]["code_score"] == 0


@pytest.mark.parametrize("name", _single_notebook_assignments())
def test_the_batch_can_be_built_from_every_assignment(name):
    """Cheap: the generator works on each assignment (COURSE_GRADING_BATCH=all grades them all)."""
    cases = helpers.robustness_batch({name: _notebooks(name)}, size=40)[name]
    assert len(cases) == 40 and len({student for student, _, _ in cases}) == 40
    for student, nb, expect in cases:
        if isinstance(nb, bytes):
            assert student == "not_json"
            continue
        nbformat.validate(nb)
        assert expect["tests"] is None or set(expect["tests"]) == set(helpers._ids(nb, solution=False)) \
            or student in ("deletes_test", "strips_metadata")
