"""Parallel autograding (`autograde --jobs N`): the same scores as one by one, a sound SQLite gradebook,
the same isolation per submission, and the second line against a submission that rewrites other
students' grades.

The toy assignment of tests/grading_helpers.py with the broken variants of tests/test_grading.py (an
exception, an infinite loop, deleted and edited tests, stripped metadata, a Colab download), each graded
once one by one and once with two workers into separate course folders. The class-sized adversarial
batch of tests/test_instructor_batch.py is graded with --jobs 2 and checked against each case's score.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import nbformat
import pytest

import grading_helpers as toy
from course_lib import gradebook, grading, parallel_grading
from test_grading import TOY_TIMEOUT, _variants


def _course(root):
    toy.make_course(root)
    grading.generate_release(toy.NAME, root=root)
    release = nbformat.read(root / "exercises" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    source_path = root / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    source = nbformat.read(source_path, as_version=4)
    submissions = {"solution": source_path}
    variants = _variants(release, source)
    for i in range(2):  # a second correct and a second looping one: the two workers meet both
        variants[f"good{i}"], variants[f"loop{i}"] = variants["good"], variants["loop"]
    for student, nb in variants.items():
        path = root / "inbox" / f"{student}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(nb, path)
        submissions[student] = path
    return submissions


def _comparable(report):
    return {k: report[k] for k in ("score", "max_score", "code_score", "max_code_score", "needs_manual_grade",
                                   "cells", "missing_grade_ids", "restored_tests", "error")}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("par")
    submissions = _course(root)
    one = gradebook.autograde_batch(toy.NAME, submissions, root=root, timeout=TOY_TIMEOUT, workdir=root / "one")
    two = gradebook.autograde_batch(toy.NAME, submissions, root=root, timeout=TOY_TIMEOUT, workdir=root / "two",
                                    jobs=2)
    return one, two, root


def test_two_workers_give_the_scores_of_one(both):
    one, two, _ = both
    assert list(two) == list(one)  # the report keeps the batch's order, not the order workers finish
    assert {s: _comparable(r) for s, r in two.items()} == {s: _comparable(r) for s, r in one.items()}
    assert two["solution"]["code_score"] == sum(toy.TEST_POINTS.values())
    assert two["loop0"]["cells"]["test_root"]["score"] == 0.0


def test_parallel_gradebook_is_sound_and_complete(both):
    one, two, root = both
    for name in ("one", "two"):
        with sqlite3.connect(root / name / "gradebook.db") as con:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = {r["student"]: r for r in gradebook.grades(course=root / "two")}
    assert sorted(rows) == sorted(two)
    assert {s: r["code_score"] for s, r in rows.items()} == {s: r["code_score"] for s, r in two.items()}
    assert not list((root / "two").glob("gradebook.db.*")), "lock or backup files left behind"


def test_each_worker_grades_in_its_own_sandbox(both):
    _, two, _ = both
    assert {r["sandbox"] for r in two.values()} <= {"bwrap", "audit"}
    assert all(r["sandbox_log"] == [] for r in two.values())  # no attempt of one student in another's log


def test_jobs_must_be_a_positive_number(tmp_path):
    with pytest.raises(ValueError, match="jobs must be a positive number of worker processes, got 0"):
        gradebook.autograde(toy.NAME, course=tmp_path, jobs=0, students=[])


def test_the_file_lock_excludes_other_processes(tmp_path):
    """The lock that serialises SQLite sessions: a second process waits while this one holds it."""
    lock = parallel_grading._FileLock(tmp_path / "gb.lock")
    probe = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
             "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)")
    with lock.held(), lock.held():  # re-entrant in one process
        busy = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "gb.lock")], capture_output=True)
    assert busy.returncode != 0 and b"BlockingIOError" in busy.stderr
    free = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "gb.lock")], capture_output=True)
    assert free.returncode == 0, free.stderr


def _tamper_then_grade(student):
    """A worker's task for a hostile kernel whose sandbox failed: while "blank" is graded, a bystander's
    grades are set to 0 (runs in the worker process: module-level, so the pool can send it)."""
    api = parallel_grading._state["api"]
    real = api.autograde

    def autograde(assignment, student_id):
        result = real(assignment, student_id)
        db = gradebook._sqlite_path(api.coursedir.db_url)
        with sqlite3.connect(db, timeout=30) as con:
            con.execute("UPDATE grade SET auto_score = 0 WHERE notebook_id IN (SELECT n.id FROM "
                        "submitted_notebook n JOIN submitted_assignment s ON n.assignment_id = s.id "
                        "WHERE s.student_id = 'bystander')")
        return result

    if student == "blank":
        api.autograde = autograde
    try:
        return parallel_grading._grade_one(student)
    finally:
        api.autograde = real


def test_a_submission_rewriting_others_grades_is_undone(tmp_path):
    """The second line behind the sandbox, in a parallel batch: a bystander's grades change while the batch
    runs; the batch puts the gradebook back and grades again one by one (where each is checked alone)."""
    submissions = _course(tmp_path)
    course = tmp_path / "course"
    gradebook.autograde_batch(toy.NAME, {"bystander": submissions["good"]}, root=tmp_path, workdir=course,
                              timeout=TOY_TIMEOUT)
    db = course / "gradebook.db"

    def bystander_score():
        with sqlite3.connect(db) as con:
            return con.execute("SELECT SUM(g.auto_score) FROM grade g JOIN submitted_notebook n ON "
                               "g.notebook_id = n.id JOIN submitted_assignment s ON n.assignment_id = s.id "
                               "WHERE s.student_id = 'bystander'").fetchone()[0]

    honest = bystander_score()
    assert honest == sum(toy.TEST_POINTS.values())
    keep = {s: submissions[s] for s in ("solution", "blank")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parallel_grading, "_task", _tamper_then_grade)
        # both run at once, so "solution" may be named beside "blank" (a suspect, not a culprit); never alone
        with pytest.warns(RuntimeWarning, match=r"of (solution, )?blank(, solution)? changed other students' grades"):
            reports = gradebook.autograde(toy.NAME, course=course, submissions=keep, timeout=TOY_TIMEOUT,
                                          jobs=2, show_progress=False)
    assert bystander_score() == honest
    assert reports["solution"]["code_score"] == sum(toy.TEST_POINTS.values())
    assert reports["blank"]["code_score"] == 0 and not reports["blank"]["tampered"]
