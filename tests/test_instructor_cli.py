"""The instructor verbs end to end on the toy assignment: assign, collect, autograde, feedback, grades, status.

A class's round: the instructor releases, collects a zip as an LMS exports it (with a renamed Colab
download, a per-student folder and junk), autogrades, writes feedback and exports grades.
"""
from __future__ import annotations

import csv
import zipfile

import nbformat
import pytest

import grading_helpers as toy
from course_lib import cli, collect, gradebook

VERBS = ("assign", "release", "collect", "autograde", "feedback", "grades", "status")


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([verb, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: genai-course {verb}" in out
    if verb in ("autograde", "feedback", "grades", "status"):
        assert "--db URL" in out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with the toy assignment, released by `assign`."""
    root = tmp_path_factory.mktemp("course")
    toy.make_course(root)
    assert cli.main(["assign", "--all", "--course", str(root)]) == 0
    return root


def _zip(course, tmp_path):
    """An LMS-style export: flat files named by student, one per-student folder, a renamed file, junk."""
    release = nbformat.read(course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    good, blank = nbformat.writes(toy.solved(release, source)), nbformat.writes(release)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"ann_{toy.NAME}.ipynb", good)
        zf.writestr(f"{toy.NAME}-bob.ipynb", blank)
        zf.writestr(f"cem/{toy.NAME}/Copy of notebook (2).ipynb", good)  # renamed: still cem's 00_toy
        zf.writestr("readme.txt", "not a notebook")
        zf.writestr("stray.ipynb", good)  # no assignment name anywhere
    return path


def test_a_class_round(course, tmp_path, capsys):
    assert cli.main(["collect", str(_zip(course, tmp_path)), "--course", str(course)]) == 0
    out, err = capsys.readouterr()
    assert "3 submission(s) collected, 2 file(s) unmatched" in out
    assert "unmatched: readme.txt: not a .ipynb file" in err and "unmatched: stray.ipynb: cannot tell" in err
    for student in ("ann", "bob", "cem"):
        assert (course / "submitted" / student / toy.NAME / f"{toy.NAME}.ipynb").is_file()

    assert cli.main(["status", "--course", str(course)]) == 0
    assert f"{toy.NAME:<20} {3:>9} {0:>7} {0:>24}" in capsys.readouterr().out

    exercises = (course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_bytes()
    assert cli.main(["autograde", toy.NAME, "--timeout", "5", "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert "ann                      3/3 autograded points" in out and "bob                      0/3" in out
    assert "3 submission(s) graded, 0 with errors" in out
    assert (course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_bytes() == exercises  # untouched
    assert not [p for p in course.iterdir() if p.name.startswith(".nbgrader-release")]

    assert cli.main(["status", "--course", str(course)]) == 0
    # ann and cem wait for a person; bob left the written answer untouched, which nbgrader scores 0 itself
    assert f"{toy.NAME:<20} {3:>9} {3:>7} {2:>24}" in capsys.readouterr().out

    assert cli.main(["feedback", toy.NAME, "--course", str(course)]) == 0
    html = course / "feedback" / "ann" / toy.NAME / f"{toy.NAME}.html"
    assert "Score: 3.0 / 4.0" in html.read_text()  # written answer not graded yet
    capsys.readouterr()

    table = tmp_path / "grades.csv"
    assert cli.main(["grades", "--csv", str(table), "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert f"{toy.NAME}: 3 submissions, mean 50.0%, median 75.0%, 2 need manual grading" in out
    rows = list(csv.DictReader(table.open()))
    assert [(r["student"], float(r["code_score"])) for r in rows] == [("ann", 3.0), ("bob", 0.0), ("cem", 3.0)]
    assert rows[0]["max_score"] == "4.0"


def test_db_url_is_passed_through(course, tmp_path):
    """--db puts the gradebook wherever the URL says (here another SQLite file; PostgreSQL the same way)."""
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    reports = gradebook.autograde(toy.NAME, course=course, students=["ann"], db_url=url, timeout=5,
                                  show_progress=False)
    assert reports["ann"]["code_score"] == 3.0
    assert [r["student"] for r in gradebook.grades(course=course, db_url=url)] == ["ann"]
    assert (tmp_path / "elsewhere.db").is_file()


def test_assign_names_the_cell_of_a_broken_solution(tmp_path, capsys):
    root = tmp_path / "course"
    toy.make_course(root)
    path = root / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    toy.cell(nb, "root").source = "def root(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    nbformat.write(nb, path)
    assert cli.main(["release", toy.NAME, "--course", str(root)]) == 1  # release: alias of assign
    err = capsys.readouterr().err
    assert f"cell 'test_root' fails its tests" in err and "test_add" not in err


def test_summary_and_bad_input():
    rows = [{"assignment": "a", "score": s, "max_score": 10.0, "needs_manual_grade": False} for s in (0, 5, 10, 10)]
    text = gradebook.summary(rows)
    assert text.splitlines()[0] == "a: 4 submissions, mean 62.5%, median 75.0%"
    assert "   0- 10% | # 1" in text and "  90-100% | ## 2" in text
    assert gradebook.summary([]) == "no graded submissions in the gradebook"
    with pytest.raises(ValueError, match="memory_mb must be a positive number of MiB, got -1"):
        gradebook.kernel_arguments(-1)
    with pytest.raises(FileNotFoundError, match="collect needs a folder or a .zip"):
        collect.collect("/nonexistent/export.zip")
