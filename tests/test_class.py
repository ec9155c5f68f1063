"""A scripted class, end to end: the issue's "done when" on the toy assignment (seconds per submission).

A roster of 20; submissions from a Canvas and a Moodle bulk download and one from nbgrader's exchange
(10 hand in, 10 do not); deadlines with one late submission that has an extension, one without, one
whose exact time is known; written answers graded by hand; a hidden test fixed mid-term and everything
regraded; one student's corrected file regraded alone; grades exported for Canvas and Moodle. Every final
grade is checked, and at the end the course repository shows nothing to commit.
"""
from __future__ import annotations

import copy
import csv
import subprocess
import zipfile

import nbformat

import grading_helpers as toy
from course_lib import cli, gradebook
from course_lib.course import REPO_ROOT

FIRST = ["Ada", "Ben", "Cai", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jon",
         "Kim", "Lea", "Max", "Noa", "Oli", "Pia", "Quy", "Rui", "Sam", "Tia"]
DEADLINES = """timezone = "UTC"
[due]
00_toy = "2027-03-01 23:59"
[late]
percent_per_day = 10
max_percent = 50
[extensions.00_toy]
s04 = "2027-03-04 23:59"
"""


def _git(root, *args) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root), *args],
                          check=True, capture_output=True, text=True).stdout


def _run(capsys, *args) -> str:
    assert cli.main(list(args)) == 0, capsys.readouterr()
    out, err = capsys.readouterr()
    return out + err


def test_a_semester_of_one_assignment(tmp_path, capsys):
    root = tmp_path / "course"
    toy.make_course(root)
    (root / ".gitignore").write_text((REPO_ROOT / ".gitignore").read_text())
    (root / "deadlines.toml").write_text(DEADLINES)
    course = ["--course", str(root)]
    _run(capsys, "assign", "--all", *course)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the private course")

    roster = tmp_path / "roster.csv"  # outside the course folder, like the downloads
    roster.write_text("student_id,name,email,lms_id\n" + "".join(
        f"s{i:02d},{first} {first}son,s{i:02d}@uni.edu,{1000 + i}\n" for i, first in enumerate(FIRST, 1)))
    release, source = (nbformat.read(root / f / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
                       for f in ("exercises", "solutions"))
    good = toy.solved(release, source)
    lucky = copy.deepcopy(good)  # right on every input the first hidden tests try, wrong on others
    toy.cell(lucky, "root").source = "def root(x):\n    return {4: 2, 9: 3}.get(x, 0)"
    wrong = copy.deepcopy(good)
    toy.cell(wrong, "root").source = "def root(x):\n    return x / 2"
    text = {k: nbformat.writes(v) for k, v in {"good": good, "blank": release, "lucky": lucky, "wrong": wrong}.items()}

    canvas, moodle = tmp_path / "canvas.zip", tmp_path / "moodle.zip"
    with zipfile.ZipFile(canvas, "w") as zf:
        for i, kind, late in ((1, "good", ""), (2, "blank", ""), (3, "lucky", ""), (4, "good", "LATE_"),
                              (5, "good", "LATE_")):
            zf.writestr(f"{FIRST[i - 1].lower()}son{FIRST[i - 1].lower()}_{late}{1000 + i}_77{i:02d}_{toy.NAME}.ipynb", text[kind])
        zf.writestr(f"dropped_2999_7799_{toy.NAME}.ipynb", text["good"])  # left the course
    with zipfile.ZipFile(moodle, "w") as zf:
        zf.writestr(f"{FIRST[5]} {FIRST[5]}son_506_assignsubmission_file_/{toy.NAME}.ipynb", text["good"])
        zf.writestr(f"{FIRST[6]} {FIRST[6]}son_507_assignsubmission_file_{toy.NAME}.ipynb", text["wrong"])
        zf.writestr(f"{FIRST[7]} {FIRST[7]}son_508_assignsubmission_file_Copy of {toy.NAME}.ipynb", text["good"])
        zf.writestr(f"{FIRST[9]} {FIRST[9]}son_510_assignsubmission_file_{toy.NAME}.ipynb", text["good"])
    exchange = tmp_path / "exchange" / "s09" / toy.NAME  # one student on the hub: nbgrader's exchange layout
    exchange.mkdir(parents=True)
    (exchange / f"{toy.NAME}.ipynb").write_text(text["good"])
    (exchange / "timestamp.txt").write_text("2027-03-03 05:59:00.000000 UTC")  # 30 h late: 2 started days

    out = _run(capsys, "collect", str(canvas), "--roster", str(roster), *course)
    assert "5 submission(s) collected, 1 file(s) unmatched" in out
    assert "Canvas student 'dropped' (id 2999) is not on the roster" in out
    assert "4 submission(s) collected, 0 file(s)" in _run(capsys, "collect", str(moodle), "--roster", str(roster),
                                                           *course)
    _run(capsys, "collect", str(tmp_path / "exchange"), "--roster", str(roster), *course)
    assert sorted(p.name for p in (root / "submitted").iterdir()) == [f"s{i:02d}" for i in range(1, 11)]

    def scores(out):
        return {line.split()[0]: line.split()[1] for line in out.splitlines() if "autograded points" in line}

    out = _run(capsys, "autograde", toy.NAME, "--timeout", "10", *course)
    assert scores(out) == {"s01": "3/3", "s02": "0/3", "s03": "3/3", "s04": "3/3", "s05": "3/3", "s06": "3/3",
                           "s07": "1/3", "s08": "3/3", "s09": "3/3", "s10": "3/3"}
    toy.grade_by_hand(root, [f"s{i:02d}" for i in range(1, 10)])  # the TAs grade all written answers but s10's

    # mid-term, a hidden test is added; everyone is graded again with it
    toy.add_hidden_test(root, "assert root(16) == 4")
    _run(capsys, "assign", toy.NAME, *course)
    _git(root, "commit", "-qam", "a hidden test for other inputs")
    out = _run(capsys, "autograde", toy.NAME, "--timeout", "10", *course)
    assert "s03                      1/3 autograded points (was 3)" in out
    assert "1 score(s) changed since the last autograde" in out

    # s07 fixes root and the instructor accepts the file: one student regraded
    fixed = tmp_path / "regrade" / "s07"
    fixed.mkdir(parents=True)
    (fixed / f"{toy.NAME}.ipynb").write_text(text["good"])
    _run(capsys, "collect", str(tmp_path / "regrade"), "--assignment", toy.NAME, *course)
    out = _run(capsys, "autograde", toy.NAME, "--student", "s07", "--timeout", "10", *course)
    assert scores(out) == {"s07": "3/3"} and "(was 1)" in out

    grades_canvas, grades_moodle = root / "grades-canvas.csv", root / "grades-moodle.csv"
    out = _run(capsys, "grades", "--csv", str(grades_canvas), "--format", "canvas", "--roster", str(roster), *course)
    assert "1 wait for a grader (1 point(s) not counted yet); 3 late" in out
    rows = list(csv.DictReader(grades_canvas.open()))
    final = {r["ID"]: r[toy.NAME] for r in rows[1:]}
    # 3 + 1 written; s02 blank (its untouched answer scores 0); s03 lost the new hidden test; s04 late within
    # its extension (Canvas only knew its own due date: flagged, not penalised); s05 LATE: 1 day, -10%;
    # s09 30 h late: -20%; s10's answer waits for a grader; s11-s20 handed nothing in
    assert final == {"1001": "4", "1002": "0", "1003": "2", "1004": "4", "1005": "3.6", "1006": "4", "1007": "4",
                     "1008": "4", "1009": "3.2", "1010": "", **{str(1000 + i): "" for i in range(11, 21)}}
    assert rows[0]["Student"] == "Points Possible" and rows[0][toy.NAME] == "4" and len(rows) == 21
    _run(capsys, "grades", "--csv", str(grades_moodle), "--format", "moodle", "--roster", str(roster), *course)
    moodle_rows = {r["Email address"]: r[toy.NAME] for r in csv.DictReader(grades_moodle.open())}
    assert moodle_rows == {f"s{i:02d}@uni.edu": final[str(1000 + i)] for i in range(1, 21)}
    long = {r["student"]: r for r in gradebook.grades(course=root)}
    assert "check the time by hand" in long["s04"]["late_source"] and long["s04"]["due"] == "2027-03-04 23:59+00:00"

    status = _git(root, "status", "--porcelain", "--untracked-files=all")
    assert status == "", f"grading left files git would commit:\n{status}"
