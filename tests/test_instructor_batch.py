"""The robustness batch: 40+ generated submissions graded in one call, each with the score it deserves.

Every way a real class breaks a submission (tests/grading_helpers.robustness_cases) is built from a
course assignment; one grading.autograde call grades them all with a short per-cell timeout and a
memory limit, and nothing is written outside the course folder. By default the batch is built from
01_foundations; COURSE_GRADING_BATCH=all builds it from every one-notebook assignment of solutions/.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import nbformat
import pytest

import grading_helpers as helpers
from course_lib import grading, gradebook
from course_lib.grading import REPO_ROOT

TIMEOUT = 10  # seconds per cell: the slowest cell of 01_foundations (imports torch) takes ~1.6 s
MEMORY_MB = 2048  # the 'exhausts_memory' case allocates 3 GiB; torch imports within 2 GiB


def _assignments() -> list[str]:
    if os.environ.get("COURSE_GRADING_BATCH") == "all":
        return [a for a in grading.assignments() if len(list((REPO_ROOT / "solutions" / a).glob("*.ipynb"))) == 1]
    return ["01_foundations"]


def _notebooks(name):
    source = next((REPO_ROOT / "solutions" / name).glob("*.ipynb"))
    release = REPO_ROOT / "exercises" / name / source.name
    return nbformat.read(release, as_version=4), nbformat.read(source, as_version=4)


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if ".ipynb_checkpoints" not in p.parts
            and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """name -> (cases, reports, course folder); the HOME and temp folder of the run are empty scratch folders."""
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
            course = base / "course" / name
            reports = grading.autograde(name, submissions, timeout=TIMEOUT, memory_mb=MEMORY_MB, workdir=course)
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


def _output(course, name, student, *, contains):
    nb = nbformat.read(next((course / "autograded" / student / name).glob("*.ipynb")), as_version=4)
    return [o for c in nb.cells if contains in c.source for o in c.get("outputs", [])]


def test_memory_limit_and_timeout_and_output_limit_act_in_the_kernel(graded):
    for name, (_, _, course) in graded.items():
        assert [o.ename for o in _output(course, name, "exhausts_memory", contains="bytearray")] == ["MemoryError"]
        loop = _output(course, name, "infinite_loop", contains="while True")
        errors = {o.ename for o in loop if o.output_type == "error"}  # nbgrader records both, sometimes
        assert "CellTimeoutError" in errors and errors <= {"CellTimeoutError", "KeyboardInterrupt"}, errors
        printed = _output(course, name, "prints_megabytes", contains="print('x'")
        assert sum(len(o.get("text", "")) for o in printed) < 100_000
        size = next((course / "autograded" / "prints_megabytes" / name).glob("*.ipynb")).stat().st_size
        assert size < 1_000_000


def test_hostile_submissions_gain_nothing(graded):
    for name, (_, reports, course) in graded.items():
        printed = _output(course, name, "reads_hidden_tests", contains="solution cells found")
        assert [o.get("text") for o in printed] == ["solution cells found: 0\n"]
        assert "changed the gradebook" in reports["overwrites_gradebook"]["error"]


def test_gradebook_stays_consistent(graded):
    for name, (cases, reports, course) in graded.items():
        db = course / "gradebook.db"
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = {r["student"]: r for r in gradebook.grades(course=course)}
        for student, _, expect in cases:
            if student in ("overwrites_gradebook", "not_json"):
                continue
            assert rows[student]["code_score"] == reports[student]["code_score"], student
        assert "overwrites_gradebook" not in rows


@pytest.mark.parametrize("name", [a for a in grading.assignments()
                                  if len(list((REPO_ROOT / "solutions" / a).glob("*.ipynb"))) == 1])
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
