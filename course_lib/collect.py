"""Lay out a class's submissions the way nbgrader expects: submitted/<student>/<assignment>/<notebook>.

Submissions arrive as an LMS export (a zip of files named by student), a folder per student, or a folder
of Colab downloads renamed "Copy of ...". This finds the student and the assignment of every file and
reports the files it cannot place, so nothing is silently dropped.
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_lib import deadlines, grading
from course_lib.course import course_folder


@dataclass
class Collected:
    """What collect() did: placed[(student, assignment)] = file in submitted/, and what it could not place."""
    placed: dict[tuple[str, str], Path] = field(default_factory=dict)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    late: set[tuple[str, str]] = field(default_factory=set)  # (student, assignment) the LMS marked late
    warnings: list[str] = field(default_factory=list)  # placed, but autograde will fail on it (not a notebook)


# The bulk downloads of two LMSs, as they name each student's file:
# Canvas: "<sortable name>_[LATE_]<user id>_<attachment id>_<file name>", the sortable name being last and
#   first name in lower case without spaces: smithalice_12345_678901_03_vae.ipynb,
#   leecarol_LATE_34567_678903_03_vae-1.ipynb (a resubmission gets "-1", "-2", ...).
# Moodle: "<Full Name>_<participant id>_assignsubmission_file_<file name>", as one file or as a folder
#   holding the files: "Alice Smith_101_assignsubmission_file_/03_vae.ipynb".
CANVAS = re.compile(r"^(?P<name>[a-z]+)_(?P<late>LATE_)?(?P<lms>\d+)_\d+_(?P<file>.+)$")
TIMESTAMP = "timestamp.txt"  # nbgrader's exchange: when the student submitted (nbgrader collect writes it)
MOODLE = re.compile(r"^(?P<name>[^_/]+)_(?P<lms>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


@dataclass
class Roster:
    """A class list (CSV with a student_id column; name, email and lms_id optional): the ids to grade under.

    lms_id is the LMS's number for the student (Canvas user id); several may be given, separated by ';'.
    """
    rows: list[dict]

    @classmethod
    def read(cls, path: Path) -> "Roster":
        import csv
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(f)]
        if not rows or "student_id" not in rows[0]:
            raise ValueError(f"{path}: a roster is a CSV with a header holding student_id (and optionally name, "
                             f"email, lms_id); got columns {sorted(rows[0]) if rows else 'none'}")
        for row in rows:
            grading.check_student_id(row["student_id"])
        return cls(rows)

    def ids(self) -> set[str]:
        return {r["student_id"] for r in self.rows}

    def find(self, *, lms_id: str | None = None, name: str | None = None) -> str | None:
        """The student_id of the one row matching the LMS id, else the name (any order of its words)."""
        if lms_id:
            hits = [r for r in self.rows if lms_id in r.get("lms_id", "").split(";")]
            if len(hits) == 1:
                return hits[0]["student_id"]
        if name:
            key = _letters(name)
            hits = [r for r in self.rows if r.get("name") and key in
                    {_letters(r["name"]), _letters(" ".join(reversed(r["name"].split())))}]
            if len(hits) == 1:
                return hits[0]["student_id"]
        return None


def _lms_entry(rel: str) -> dict | None:
    """{"format", "name", "lms_id", "late"} when `rel` is named as a Canvas or Moodle download."""
    parts = rel.split("/")
    for part in parts[-2:][::-1]:  # Moodle: the file itself, or the student's folder around it
        m = MOODLE.match(part)
        if m:
            return {"format": "Moodle", "name": m["name"], "lms_id": m["lms"], "late": False}
    m = CANVAS.match(parts[-1])
    if m:
        return {"format": "Canvas", "name": m["name"], "lms_id": m["lms"], "late": bool(m["late"])}
    return None


def _entries(source: Path):
    """(relative name, bytes) of every file in a folder or a zip (an LMS export or a folder of Colab downloads)."""
    source = Path(source)
    if source.is_dir():
        for p in sorted(source.rglob("*")):
            if p.is_file() and not any(grading._ignored(part) for part in p.relative_to(source).parts):
                yield p.relative_to(source).as_posix(), p.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if not info.is_dir() and "__MACOSX" not in info.filename:
                    yield info.filename, zf.read(info)
    else:
        raise FileNotFoundError(f"collect needs a folder or a .zip of submissions, got {source}")


def _student_of(rel: str, assignment: str) -> str | None:
    """The student id: the per-student folder's name, else the file name with the assignment's name removed
    (alice/01_foundations.ipynb, alice_01_foundations.ipynb and 01_foundations-alice.ipynb are alice)."""
    parts = rel.split("/")
    name = parts[-2] if len(parts) > 1 else Path(parts[-1]).stem.replace(assignment, "")
    if len(parts) > 1 and parts[-2] == assignment and len(parts) > 2:
        name = parts[-3]  # alice/01_foundations/notebook.ipynb
    if len(parts) == 1:  # what a download or a copy adds to a file name names nobody
        name = re.sub(r"(?i)\bcopy of\b|\(\d+\)|\bcopy\b", " ", name)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_-. ")
    return name if re.search(r"[A-Za-z]", name) else None  # "2" or "" is not a student


def _record(path: Path, data: bytes | None) -> None:
    """Write (atomically) or remove a small file that travels with a submission."""
    if data is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def collect(source: Path, *, course: Path | None = None, assignment: str | None = None,
            known: list[str] | None = None, roster: Roster | Path | None = None) -> Collected:
    """Copy submissions into course/submitted/<student>/<assignment>/<release notebook name>.

    The assignment of a file is `assignment` when given, else the known assignment whose name is in its
    path. A one-notebook assignment's file is renamed to the release's name, so a renamed download still
    grades. Files that are not notebooks, or whose assignment or student cannot be told, are reported.
    A later file for the same student and assignment replaces an earlier one (zip order: by name).

    Canvas and Moodle bulk downloads are recognised by their file names (see CANVAS, MOODLE). With a
    `roster`, every file must map to one of its student ids (by LMS id, name or folder/file name), or it is
    reported as not on the roster; without one, an LMS file's student is the name the LMS gives.
    When the submission time is known it goes with the notebook, for course_lib.deadlines: a
    timestamp.txt beside a notebook (nbgrader's exchange layout) is kept, and what an LMS file name says
    (Canvas's LATE_) is recorded in lms.json.
    """
    from nbgrader.utils import parse_utc
    course = course_folder(course)
    if roster is not None and not isinstance(roster, Roster):
        roster = Roster.read(Path(roster))
    known = known if known is not None else grading.assignments(course)
    if assignment is not None and assignment not in known:
        raise FileNotFoundError(f"no assignment {assignment!r} in {course / 'solutions'}; known: {', '.join(known)}")
    release_dir = course / grading._folders(grading.load_config(course))[1]
    out = Collected()
    entries = list(_entries(source))
    times = {rel.rpartition("/")[0]: data for rel, data in entries if rel.rpartition("/")[2] == TIMESTAMP}
    for rel, data in entries:
        if rel.rpartition("/")[2] == TIMESTAMP:
            continue  # read with the notebook beside it
        if not rel.endswith(".ipynb"):
            out.unmatched.append((rel, "not a .ipynb file"))
            continue
        names = [assignment] if assignment else [a for a in known if a in rel]
        if len(names) != 1:
            out.unmatched.append((rel, "cannot tell the assignment (pass --assignment NAME)" if not names
                                  else f"matches several assignments: {', '.join(names)}"))
            continue
        name = names[0]
        lms = _lms_entry(rel)
        if lms is not None:
            student = (roster.find(lms_id=lms["lms_id"], name=lms["name"]) if roster is not None
                       else re.sub(r"[^A-Za-z0-9_.-]+", "_", lms["name"]).strip("_-. ") or None)
            if student is None:
                out.unmatched.append((rel, f"{lms['format']} student {lms['name']!r} (id {lms['lms_id']}) "
                                           "is not on the roster"))
                continue
        else:
            student = _student_of(rel, name)
            if student is None:
                out.unmatched.append((rel, "cannot tell the student (use one folder per student)"))
                continue
            if roster is not None and student not in roster.ids():
                out.unmatched.append((rel, f"student {student!r} is not on the roster"))
                continue
        if lms is not None and lms["late"]:
            out.late.add((student, name))
        notebooks = sorted(p.name for p in (release_dir / name).glob("*.ipynb"))
        target_name = notebooks[0] if len(notebooks) == 1 else Path(rel).name
        target = course / "submitted" / student / name / target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        stamp = times.get(rel.rpartition("/")[0])
        if stamp is not None:
            try:
                parse_utc(stamp.decode("utf-8", "replace").strip())
            except (ValueError, OverflowError):
                out.unmatched.append((rel, f"its {TIMESTAMP} is not a time: {stamp[:60]!r}"))
                continue
        tmp = target.with_suffix(".ipynb.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        _record(target.parent / TIMESTAMP, stamp)  # a resubmission without one drops the old one
        _record(target.parent / deadlines.MARKER, None if lms is None else json.dumps(
            {"lms": lms["format"], "late": lms["late"], "lms_id": lms["lms_id"], "file": rel}).encode())
        out.placed[(student, name)] = target
        try:
            json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            out.warnings.append(f"{rel} -> {target} is not a notebook ({err.__class__.__name__}: "
                                f"{str(err)[:80]}): it will score 0; ask {student} for the .ipynb file again")
    return out
