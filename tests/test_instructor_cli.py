"""The instructor verbs end to end on the toy assignment: assign, collect, autograde, feedback, grades, status.

A class's round: the instructor releases, collects a zip as an LMS exports it (with a renamed Colab
download, a per-student folder and junk), autogrades, writes feedback and exports grades.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import grading_helpers as toy
from course_lib import cli, collect, gradebook
from course_lib.course import REPO_ROOT

VERBS = ("assign", "release", "collect", "autograde", "feedback", "grades", "status", "public-copy")


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
        zf.writestr(f"Copy of {toy.NAME} (1).ipynb", good)  # a renamed download: whose is it?
        zf.writestr(f"{toy.NAME} (2).ipynb", good)
        zf.writestr(f"dan_{toy.NAME}.ipynb", b'{"cells": [ this is not json')  # a broken download
    return path


def test_a_class_round(course, tmp_path, capsys):
    assert cli.main(["collect", str(_zip(course, tmp_path)), "--course", str(course)]) == 0
    out, err = capsys.readouterr()
    assert "4 submission(s) collected, 4 file(s) unmatched" in out
    assert "unmatched: readme.txt: not a .ipynb file" in err and "unmatched: stray.ipynb: cannot tell" in err
    assert f"warning: dan_{toy.NAME}.ipynb -> {course / 'submitted' / 'dan' / toy.NAME / (toy.NAME + '.ipynb')} " \
           "is not a notebook (JSONDecodeError: Expecting value: line 1 column 13" in err
    assert f"unmatched: Copy of {toy.NAME} (1).ipynb: cannot tell the student" in err
    assert f"unmatched: {toy.NAME} (2).ipynb: cannot tell the student" in err
    for student in ("ann", "bob", "cem"):
        assert (course / "submitted" / student / toy.NAME / f"{toy.NAME}.ipynb").is_file()

    assert cli.main(["status", "--course", str(course)]) == 0
    assert f"{toy.NAME:<20} {4:>9} {0:>7} {0:>24}" in capsys.readouterr().out

    exercises = (course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_bytes()
    assert cli.main(["autograde", toy.NAME, "--timeout", "5", "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert "ann                      3/3 autograded points" in out and "bob                      0/3" in out
    assert f"4 submission(s) graded in {course}, 1 with errors" in out
    dan = next(line for line in out.splitlines() if line.startswith("dan "))
    assert dan == (f"dan                      0/3 autograded points; ERROR: {course}/submitted/dan/{toy.NAME}/"
                   f"{toy.NAME}.ipynb is not a notebook: not valid JSON (Expecting value at line 1, column 13); "
                   "ask the student for the .ipynb file again (File > Download)")
    assert (course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_bytes() == exercises  # untouched
    assert not [p for p in course.iterdir() if p.name.startswith(".nbgrader-release")]

    assert cli.main(["status", "--course", str(course)]) == 0
    # ann and cem wait for a person; bob left the written answer untouched, which nbgrader scores 0 itself
    # ann and cem wait for a person, and dan, whose file nbgrader could not grade
    assert f"{toy.NAME:<20} {4:>9} {4:>7} {3:>24}" in capsys.readouterr().out

    assert cli.main(["feedback", toy.NAME, "--course", str(course)]) == 0
    html = course / "feedback" / "ann" / toy.NAME / f"{toy.NAME}.html"
    page = toy.feedback_text(html.read_text())
    assert "Score: 3.0 / 4.0" in page  # written answer not graded yet, and the page says so under the score:
    assert page.index("Score: 3.0 / 4.0") < page.index(
        "Not final: 1 answer(s) worth 1 point(s) are waiting for a grader: answer (1 point(s))") < page.index("Toy assignment")
    assert "Not final" not in toy.feedback_text((course / "feedback" / "bob" / toy.NAME / f"{toy.NAME}.html").read_text())
    assert "not final: 2 page(s) have written answers waiting for a grader (ann, cem)" in capsys.readouterr().err

    table = tmp_path / "grades.csv"
    assert cli.main(["grades", "--csv", str(table), "--course", str(course)]) == 0
    out = capsys.readouterr().out
    # ann and cem: 3 of the 3 points graded so far (their written point waits); bob: 0 of 4
    # dan's file could not be graded at all: all 4 of its points wait for a person, and it has no percentage
    assert (f"{toy.NAME}: 4 submissions, mean 66.7%, median 100.0% of the points graded so far; "
            "3 wait for a grader (6 point(s) not counted yet)") in out
    rows = list(csv.DictReader(table.open()))
    assert [(r["student"], float(r["code_score"])) for r in rows] == [("ann", 3.0), ("bob", 0.0), ("cem", 3.0),
                                                                       ("dan", 0.0)]
    assert rows[0]["max_score"] == "4.0" and rows[0]["pending_points"] == "1.0"
    assert rows[0]["final_score"] == "" and rows[1]["final_score"] == "0.0"  # pending is not a 0


def test_db_url_is_passed_through(course, tmp_path):
    """--db puts the gradebook wherever the URL says (here another SQLite file; PostgreSQL the same way)."""
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    reports = gradebook.autograde(toy.NAME, course=course, students=["ann"], db_url=url, timeout=5,
                                  show_progress=False)
    assert reports["ann"]["code_score"] == 3.0
    assert [r["student"] for r in gradebook.grades(course=course, db_url=url)] == ["ann"]
    assert (tmp_path / "elsewhere.db").is_file()


def test_db_url_in_nbgrader_config_is_the_gradebook(course, tmp_path):
    """The guide's hub set-up: db_url in the course's nbgrader_config.py, no --db; every verb uses it."""
    course = shutil.copytree(course, tmp_path / "own", ignore=shutil.ignore_patterns("gradebook.db*"))
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # own copy: the shared fixture's config stays as it was
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + f"\nc.CourseDirectory.db_url = {url!r}\n")
    reports = gradebook.autograde(toy.NAME, course=course, students=["ann"], timeout=5, show_progress=False)
    assert reports["ann"]["code_score"] == 3.0
    assert (tmp_path / "shared.db").is_file() and not (course / "gradebook.db").exists()
    assert [r["student"] for r in gradebook.grades(course=course)] == ["ann"]


def test_assign_names_the_cell_of_a_broken_solution(tmp_path, capsys):
    root = tmp_path / "course"
    toy.make_course(root)
    assert cli.main(["assign", toy.NAME, "--course", str(root)]) == 0
    capsys.readouterr()
    path = root / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    toy.cell(nb, "root").source = "def root(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    nbformat.write(nb, path)
    before = (root / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_bytes()
    assert cli.main(["release", toy.NAME, "--course", str(root)]) == 1  # release: alias of assign
    out, err = capsys.readouterr()
    assert f"cell 'test_root' fails its tests" in err and "test_add" not in err
    assert "wrote" not in out and f"{toy.NAME}: nothing written; {root / 'exercises' / toy.NAME} is as it was" in err
    assert (root / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_bytes() == before  # the good release stays
    assert sorted(p.name for p in (root / "exercises").iterdir()) == [toy.NAME]  # no staging folder left

    path.write_text('{"cells": [ oops')  # a solution notebook broken by a merge or an editor
    assert cli.main(["assign", toy.NAME, "--course", str(root)]) == 1
    assert capsys.readouterr().err == (f"error: {path} is not a notebook: not valid JSON (Expecting value at line 1, "
                                       "column 13)\n")


def test_summary_and_bad_input():
    rows = [{"assignment": "a", "score": s, "max_score": 10.0, "needs_manual_grade": False} for s in (0, 5, 10, 10)]
    text = gradebook.summary(rows)
    assert text.splitlines()[0] == "a: 4 submissions, mean 62.5%, median 75.0% of the points graded so far"
    assert "   0- 10% | # 1" in text and "  90-100% | ## 2" in text
    assert gradebook.summary([]) == "no graded submissions in the gradebook"
    with pytest.raises(ValueError, match="memory_mb must be a positive number of MiB, got -1"):
        gradebook.kernel_arguments(-1)
    with pytest.raises(FileNotFoundError, match="collect needs a folder or a .zip"):
        collect.collect("/nonexistent/export.zip")


def _nbgrader_state(folder: Path) -> dict:
    """What the instructor verbs could leave in a folder: their working folders, gradebook, IPython files."""
    names = ("submitted", "autograded", "feedback", "sandbox_log", "gradebook.db", ".ipython", "runtime",
             "exchange", "grades.csv")
    return {name: sorted(str(p.relative_to(folder)) for p in (folder / name).rglob("*"))
            if (folder / name).is_dir() else (folder / name).exists() for name in names}


def test_verbs_work_in_the_course_folder_they_run_in(tmp_path):
    """A fresh course folder, while another checkout (this repository) is the installed course_lib: every
    verb, run from inside the new folder, reads and writes only there and prints absolute paths."""
    clone = tmp_path / "clone"
    toy.make_course(clone)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    installed = _nbgrader_state(REPO_ROOT)

    def verb(*args, cwd=clone):
        done = subprocess.run([sys.executable, "-m", "course_lib.cli", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    out = verb("assign", "--all", cwd=clone / "solutions")  # from a subfolder: the nearest course folder
    assert f"wrote {clone / 'exercises' / toy.NAME}" in out
    release, source = (nbformat.read(clone / folder / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
                       for folder in ("exercises", "solutions"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nbformat.write(toy.solved(release, source), inbox / f"ann_{toy.NAME}.ipynb")
    (clone / ".gitignore").write_text((REPO_ROOT / ".gitignore").read_text())  # the course's own
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(clone)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "course"]):
        subprocess.run(git + args, check=True, capture_output=True)
    out = verb("collect", str(inbox))
    assert f"-> {clone / 'submitted' / 'ann' / toy.NAME / (toy.NAME + '.ipynb')}" in out
    out = verb("autograde", toy.NAME, "--timeout", "10")
    assert "ann                      3/3 autograded points" in out and f"graded in {clone}," in out
    assert str(clone / "feedback") in verb("feedback", toy.NAME)
    assert f"wrote {clone / 'grades.csv'}" in verb("grades", "--csv", "grades.csv")
    assert f"{toy.NAME:<20} {1:>9} {1:>7}" in verb("status")

    assert _nbgrader_state(REPO_ROOT) == installed, "a verb wrote into the installed checkout"
    status = subprocess.run(git + ["status", "--porcelain", "--untracked-files=all"], capture_output=True,
                            text=True, check=True).stdout
    assert status == "", f"grading left files git would commit (grades must stay private):\n{status}"
    assert (clone / "gradebook.db").is_file() and (clone / "feedback" / "ann" / toy.NAME).is_dir()
    assert not (clone / ".ipython").exists() and not (clone / "runtime").exists()
    assert list(scratch.iterdir()) == [], "grading left files in the temporary folder"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-m", "course_lib.cli", "status"], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--course DIR" in done.stderr and "nbgrader_config.py" in done.stderr
    assert verb("status", "--course", str(clone), cwd=elsewhere).startswith("assignment")


def test_a_fixed_hidden_test_reaches_every_grade(tmp_path, capsys):
    """Mid-term an instructor adds a hidden test: `assign`, then `autograde` runs it for every submission,
    says which scores changed, and keeps a written answer a person already graded as graded."""
    root = tmp_path / "course"
    toy.make_course(root)
    assert cli.main(["assign", "--all", "--course", str(root)]) == 0
    release, source = (nbformat.read(root / f / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
                       for f in ("exercises", "solutions"))
    good = toy.solved(release, source)
    lucky = nbformat.from_dict(good)  # right on every input the tests used so far, wrong on others
    toy.cell(lucky, "root").source = "def root(x):\n    return {4: 2, 9: 3}.get(x, 0)"
    for student, nb in {"ann": good, "lee": lucky}.items():
        folder = root / "submitted" / student / toy.NAME
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{toy.NAME}.ipynb")
    assert cli.main(["autograde", toy.NAME, "--timeout", "10", "--course", str(root)]) == 0
    out = capsys.readouterr().out
    assert "ann                      3/3" in out and "lee                      3/3" in out

    toy.grade_by_hand(root, ["ann"])  # a person grades ann's written answer
    toy.add_hidden_test(root, "assert root(16) == 4  # HIDDEN-NEW")
    assert cli.main(["assign", toy.NAME, "--course", str(root)]) == 0
    assert cli.main(["autograde", toy.NAME, "--timeout", "10", "--course", str(root)]) == 0
    out = capsys.readouterr().out
    assert "ann                      3/3 autograded points\n" in out
    assert "lee                      1/3 autograded points (was 3)" in out
    assert "1 score(s) changed since the last autograde" in out
    for student in ("ann", "lee"):
        graded = (root / "autograded" / student / toy.NAME / f"{toy.NAME}.ipynb").read_text()
        assert "HIDDEN-NEW" in graded, f"{student} was graded with the old tests"
    rows = {r["student"]: r for r in gradebook.grades(course=root)}
    assert rows["ann"]["score"] == 4.0 and not rows["ann"]["needs_manual_grade"]  # the review survived
    assert rows["lee"]["needs_manual_grade"]  # never reviewed: still waits for a person

    # one student again (a regrade request), and feedback for one student only
    assert cli.main(["autograde", toy.NAME, "--student", "lee", "--timeout", "10", "--course", str(root)]) == 0
    out = capsys.readouterr().out
    assert "lee                      1/3" in out and "ann " not in out and "1 submission(s) graded" in out
    assert cli.main(["feedback", toy.NAME, "--student", "ann", "--course", str(root)]) == 0
    assert "1 feedback file(s)" in capsys.readouterr().out
    assert sorted(p.name for p in (root / "feedback").iterdir()) == ["ann"]


def test_collect_maps_canvas_and_moodle_downloads_to_the_roster(tmp_path, capsys):
    """Bulk downloads named as Canvas and Moodle name them; every file goes to a roster id or is listed."""
    root = tmp_path / "course"
    toy.make_course(root)
    assert cli.main(["assign", "--all", "--course", str(root)]) == 0
    nb = (root / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_text()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,lms_id\n"
                      "asmith,Alice Smith,alice@uni.edu,12345\n"
                      "clee,Carol Lee,carol@uni.edu,34567\n"
                      "dkim,Dana Kim,dana@uni.edu,\n"
                      "erao,Esha Rao,esha@uni.edu,\n")
    canvas, moodle = tmp_path / "canvas.zip", tmp_path / "moodle.zip"
    with zipfile.ZipFile(canvas, "w") as zf:
        zf.writestr(f"smithalice_12345_678901_{toy.NAME}.ipynb", nb)
        zf.writestr(f"leecarol_LATE_34567_678903_{toy.NAME}-1.ipynb", nb)  # a late resubmission
        zf.writestr(f"nobodyelse_99999_678905_{toy.NAME}.ipynb", nb)      # dropped the course
    with zipfile.ZipFile(moodle, "w") as zf:
        zf.writestr(f"Dana Kim_101_assignsubmission_file_/{toy.NAME}.ipynb", nb)  # a folder per student
        zf.writestr(f"Esha Rao_102_assignsubmission_file_Copy of {toy.NAME}.ipynb", nb)
        zf.writestr(f"Sam Stray_103_assignsubmission_file_{toy.NAME}.ipynb", nb)

    assert cli.main(["collect", str(canvas), "--roster", str(roster), "--course", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "2 submission(s) collected, 1 file(s) unmatched" in out
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith(f"{toy.NAME}  ")}
    assert sorted(lines) == ["asmith", "clee"]
    assert lines["clee"].endswith("LATE (the LMS says so)") and "LATE" not in lines["asmith"]
    assert "Canvas student 'nobodyelse' (id 99999) is not on the roster" in err
    assert cli.main(["collect", str(moodle), "--roster", str(roster), "--course", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "2 submission(s) collected, 1 file(s) unmatched" in out
    assert "Moodle student 'Sam Stray' (id 103) is not on the roster" in err
    submitted = sorted(p.name for p in (root / "submitted").iterdir())
    assert submitted == ["asmith", "clee", "dkim", "erao"]  # roster ids, not LMS file names

    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nAlice Smith,alice@uni.edu\n")
    assert cli.main(["collect", str(canvas), "--roster", str(bad), "--course", str(root)]) == 2
    assert "holding student_id" in capsys.readouterr().err
