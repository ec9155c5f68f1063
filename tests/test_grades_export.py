"""Deadlines, late penalties and the grade export an LMS imports (course_lib.deadlines, course_lib.grade_export).

Most of it is arithmetic on rows and dates, tested without a kernel; one test runs a small class through
collect, autograde and grades on the toy assignment (four submissions).
"""
from __future__ import annotations

import csv
import datetime as dt
import zipfile

import nbformat
import pytest

import grading_helpers as toy
from course_lib import cli, deadlines, grade_export, gradebook
from course_lib.collect import Roster

DEADLINES = """
timezone = "Europe/Berlin"

[due]
00_toy = "2027-02-05 23:59"

[late]
grace_minutes = 15
percent_per_day = 10
max_percent = 50
lms_late_days = 1

[extensions.00_toy]
clee = "2027-02-08 23:59"
gkhan = 2
"""
DUE_UTC = dt.datetime(2027, 2, 5, 22, 59)  # 23:59 in Berlin (UTC+1 in February)


# ------------------------------------------------------------------------------------------- deadlines
def test_due_dates_extensions_and_the_penalty():
    policy = deadlines.parse(DEADLINES, known=["00_toy"])
    assert policy.due_for("00_toy") == DUE_UTC
    assert policy.due_for("00_toy", "clee") == dt.datetime(2027, 2, 8, 22, 59)
    assert policy.due_for("00_toy", "gkhan") == DUE_UTC + dt.timedelta(days=2)
    assert policy.extension("00_toy", "clee") == dt.timedelta(days=3) and policy.extension("00_toy", "x") is None

    def late(minutes, student="asmith", **kw):
        return policy.lateness("00_toy", student, submitted_at=DUE_UTC + dt.timedelta(minutes=minutes), **kw)

    assert late(-60)["late_hours"] is None and late(-60)["penalty_percent"] == 0
    assert late(10)["penalty_percent"] == 0 and late(10)["late_hours"] == 0.17  # in the grace period
    assert late(20)["penalty_percent"] == 10                                      # a started day
    assert late(26.5 * 60)["penalty_percent"] == 20 and late(26.5 * 60)["late_hours"] == 26.5
    assert late(30 * 24 * 60)["penalty_percent"] == 50                            # capped
    assert late(26.5 * 60, "clee")["penalty_percent"] == 0                        # within the extension
    assert late(60)["submitted_at"] == "2027-02-06 00:59+01:00" and late(60)["due"] == "2027-02-05 23:59+01:00"

    canvas = {"lms": "Canvas", "late": True}
    marked = policy.lateness("00_toy", "fong", marker=canvas)
    assert marked["penalty_percent"] == 10 and "counted as 1 day(s)" in marked["late_source"]
    flagged = policy.lateness("00_toy", "clee", marker=canvas)  # Canvas compared with its own due date
    assert flagged["penalty_percent"] == 0 and "check the time by hand" in flagged["late_source"]
    assert policy.lateness("00_toy", "x", marker={"lms": "Canvas", "late": False})["late_source"] is None

    nobody = deadlines.Policy()  # no deadlines.toml: nothing is late, a gradebook due date still counts
    assert nobody.lateness("00_toy", "x", submitted_at=DUE_UTC)["late_source"] is None
    assert nobody.lateness("00_toy", "x", submitted_at=DUE_UTC, gradebook_due=DUE_UTC - dt.timedelta(hours=1),
                           )["late_hours"] == 1.0


@pytest.mark.parametrize("text, message", [
    ('[due]\n00_toy = "next friday"', '[due] 00_toy must be a date like "2027-02-05 23:59", got \'next friday\''),
    ('[due]\n00_tyo = "2027-02-05"', "00_tyo is not an assignment of this course (known: 00_toy)"),
    ('timezone = "Mars/Olympus"', 'timezone must be a zone name like "Europe/Berlin"'),
    ('[late]\npenalty = 5', "unknown key(s) in [late]: penalty"),
    ('[late]\npercent_per_day = -1', "[late] percent_per_day must be a number >= 0, got -1"),
    ('[extensions.00_toy]\nann = 2', "gives 2 extra days, but 00_toy has no [due] date"),
    ('[deadline]\n', "unknown section(s) deadline"),
    ('[due\n', "is not valid TOML"),
])
def test_a_bad_deadlines_file_says_what_is_wrong(text, message):
    with pytest.raises(deadlines.DeadlineError) as err:
        deadlines.parse(text, known=["00_toy"])
    assert message in str(err.value)


# ------------------------------------------------------------------------------------------ the export
def _row(student, assignment, score, max_score=10.0, pending=0.0, penalty_percent=0.0, late_hours=None):
    penalty = score * penalty_percent / 100
    return {"assignment": assignment, "student": student, "score": score, "max_score": max_score,
            "pending_points": pending, "penalty": penalty, "penalty_percent": penalty_percent,
            "late_hours": late_hours, "late_source": "timestamp" if late_hours else None,
            "final_score": None if pending else score - penalty}


ROSTER = ("student_id,name,email,lms_id,sis_user_id,section\n"
          "asmith,Alice Smith,alice@uni.edu,12345,S001,Mon\n"
          "bjones,Bo Jones,bo@uni.edu,23456;23499,S002,Tue\n"
          "clee,Carol Lee,,34567,S003,Mon\n"
          "dkim,Dana Kim,dana@uni.edu,,S004,Tue\n")
ROWS = [_row("asmith", "01_a", 9.0), _row("asmith", "02_b", 8.0, pending=2.0),
        _row("bjones", "01_a", 10.0, penalty_percent=20, late_hours=26.5),
        _row("clee", "01_a", 5.0), _row("clee", "02_b", 10.0), _row("dkim", "02_b", 6.0),
        _row("zed", "01_a", 7.0)]  # graded, but dropped the course


@pytest.fixture
def roster(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER)
    return Roster.read(tmp_path / "roster.csv")


def test_wide_table_leaves_pending_and_missing_work_empty(roster):
    columns, rows, warnings = grade_export.wide(ROWS, roster)
    assert columns == ["student_id", "name", "email", "lms_id", "01_a", "02_b", "total", "max_total", "percent",
                       "pending", "missing", "late"]
    by = {r["student_id"]: r for r in rows}
    assert [r["student_id"] for r in rows] == ["asmith", "bjones", "clee", "dkim", "zed"]  # roster order
    assert by["asmith"]["02_b"] == "" and by["asmith"]["pending"] == "02_b (2 point(s) waiting)"
    assert (by["asmith"]["total"], by["asmith"]["max_total"], by["asmith"]["percent"]) == ("9", "10", "90.0")
    assert by["bjones"]["01_a"] == "8" and by["bjones"]["late"] == "01_a: 26.5 h, -20%"
    assert by["bjones"]["missing"] == "02_b" and by["dkim"]["missing"] == "01_a"
    assert (by["clee"]["total"], by["clee"]["percent"]) == ("15", "75.0")
    assert warnings == ["graded but not on the roster: zed"]


def test_canvas_table_is_canvas_export_shape(roster, tmp_path):
    path, n, warnings = grade_export.write(ROWS, tmp_path / "canvas.csv", "canvas", roster)
    lines = path.read_text().splitlines()
    assert lines[0] == "Student,ID,SIS User ID,SIS Login ID,Section,01_a,02_b"
    assert lines[1] == "Points Possible,,,,,10,10"
    assert lines[2:] == ["Alice Smith,12345,S001,,Mon,9,", "Bo Jones,23456,S002,,Tue,8,",
                         "Carol Lee,34567,S003,,Mon,5,10"]
    assert n == 4
    assert warnings == ["left out, no lms_id on the roster: dkim", "left out, graded but not on the roster: zed"]
    with pytest.raises(ValueError, match="needs --roster with an lms_id"):
        grade_export.canvas(ROWS, None)


def test_moodle_table_matches_users_by_email(roster, tmp_path):
    path, _, warnings = grade_export.write(ROWS, tmp_path / "moodle.csv", "moodle", roster)
    assert list(csv.reader(path.open())) == [
        ["Full name", "Email address", "01_a", "02_b"], ["Alice Smith", "alice@uni.edu", "9", ""],
        ["Bo Jones", "bo@uni.edu", "8", ""], ["Dana Kim", "dana@uni.edu", "", "6"]]
    assert warnings[0] == "left out, no email on the roster: clee"
    with pytest.raises(ValueError, match="grade format must be one of long, wide, canvas, moodle, got 'xls'"):
        grade_export.table(ROWS, "xls")


# ------------------------------------------------------------------------------------ a class, end to end
def test_late_work_from_canvas_and_the_exchange_reaches_the_lms_table(tmp_path, capsys):
    """Canvas LATE with and without an extension, an exchange timestamp 26.5 h late, an on-time file:
    autograde records due date and extension in nbgrader's gradebook, grades applies the penalty."""
    root = tmp_path / "course"
    toy.make_course(root)
    assert cli.main(["assign", "--all", "--course", str(root)]) == 0
    (root / "deadlines.toml").write_text(DEADLINES)
    release, source = (nbformat.read(root / f / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
                       for f in ("exercises", "solutions"))
    good = nbformat.writes(toy.solved(release, source))
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,lms_id\nasmith,Alice Smith,alice@uni.edu,12345\n"
                      "clee,Carol Lee,carol@uni.edu,34567\ndkim,Dana Kim,dana@uni.edu,45678\n"
                      "fong,Fay Ong,fay@uni.edu,56789\nerao,Esha Rao,esha@uni.edu,67890\n")
    export = tmp_path / "canvas.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr(f"smithalice_12345_678901_{toy.NAME}.ipynb", good)
        zf.writestr(f"leecarol_LATE_34567_678903_{toy.NAME}.ipynb", good)  # late for Canvas; has an extension
        zf.writestr(f"ongfay_LATE_56789_678904_{toy.NAME}.ipynb", good)
    exchange = tmp_path / "exchange"  # the layout nbgrader's exchange leaves: a timestamp beside the notebook
    (exchange / "dkim" / toy.NAME).mkdir(parents=True)
    (exchange / "dkim" / toy.NAME / f"{toy.NAME}.ipynb").write_text(good)
    (exchange / "dkim" / toy.NAME / "timestamp.txt").write_text("2027-02-07 00:29:00.000000 UTC")
    for source_ in (export, exchange):
        assert cli.main(["collect", str(source_), "--roster", str(roster), "--course", str(root)]) == 0
    assert (root / "submitted" / "dkim" / toy.NAME / "timestamp.txt").is_file()
    capsys.readouterr()

    assert cli.main(["autograde", toy.NAME, "--timeout", "10", "--course", str(root)]) == 0
    out = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if "autograded points" in line}
    assert out["dkim"].endswith("late 25.5 h, penalty 20%") and "late" not in out["asmith"]
    assert out["fong"].endswith("penalty 10%") and "check the time by hand" in out["clee"]
    with gradebook.isolated_env(root, None):
        with gradebook.course_api(root).gradebook as gb:  # nbgrader's own columns: formgrader shows them
            assert gb.find_assignment(toy.NAME).duedate == DUE_UTC
            assert gb.find_submission(toy.NAME, "clee").extension == dt.timedelta(days=3)
            assert gb.find_submission(toy.NAME, "dkim").total_seconds_late == 25.5 * 3600

    toy.grade_by_hand(root, ["asmith", "dkim"])
    long_csv, canvas_csv = tmp_path / "grades.csv", tmp_path / "canvas.csv"
    assert cli.main(["grades", "--csv", str(long_csv), "--course", str(root)]) == 0
    rows = {r["student"]: r for r in csv.DictReader(long_csv.open())}
    assert (rows["dkim"]["late_hours"], rows["dkim"]["penalty_percent"], rows["dkim"]["penalty"],
            rows["dkim"]["final_score"]) == ("25.5", "20.0", "0.8", "3.2")
    assert rows["dkim"]["submitted_at"] == "2027-02-07 01:29+01:00" and rows["dkim"]["due"] == "2027-02-05 23:59+01:00"
    assert rows["clee"]["due"] == "2027-02-08 23:59+01:00" and rows["clee"]["penalty_percent"] == "0.0"
    assert rows["fong"]["pending_points"] == "1.0" and rows["fong"]["final_score"] == ""
    assert cli.main(["grades", "--csv", str(canvas_csv), "--format", "canvas", "--roster", str(roster),
                     "--course", str(root)]) == 0
    out = capsys.readouterr().out
    assert "2 wait for a grader (2 point(s) not counted yet); 3 late" in out
    assert canvas_csv.read_text().splitlines() == [
        f"Student,ID,SIS User ID,SIS Login ID,Section,{toy.NAME}", "Points Possible,,,,,4",
        "Alice Smith,12345,,,,4", "Carol Lee,34567,,,,", "Dana Kim,45678,,,,3.2", "Fay Ong,56789,,,,",
        "Esha Rao,67890,,,,"]
    assert cli.main(["grades", "--csv", str(canvas_csv), "--format", "canvas", "--course", str(root)]) == 2
    assert "needs --roster" in capsys.readouterr().err

    # without deadlines.toml, nbgrader's own due date and an extension given in nbgrader count
    (root / "deadlines.toml").unlink()
    with gradebook.isolated_env(root, None):
        with gradebook.course_api(root).gradebook as gb:
            gb.grant_extension(toy.NAME, "dkim", days=2)
    rows = {r["student"]: r for r in gradebook.grades(course=root)}
    assert rows["dkim"]["due"] == "2027-02-07 22:59+00:00" and rows["dkim"]["late_source"] is None
    assert rows["asmith"]["due"] == "2027-02-05 22:59+00:00"
