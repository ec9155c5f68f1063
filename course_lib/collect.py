"""Lay out a class's submissions the way nbgrader expects: submitted/<student>/<assignment>/<notebook>.

Submissions arrive as an LMS export (a zip of files named by student), a folder per student, or a folder
of Colab downloads renamed "Copy of ...". This finds the student and the assignment of every file and
reports the files it cannot place, so nothing is silently dropped.
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_lib import grading
from course_lib.course import course_folder


@dataclass
class Collected:
    """What collect() did: placed[(student, assignment)] = file in submitted/, and what it could not place."""
    placed: dict[tuple[str, str], Path] = field(default_factory=dict)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file, why)


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


def collect(source: Path, *, course: Path | None = None, assignment: str | None = None,
            known: list[str] | None = None) -> Collected:
    """Copy submissions into course/submitted/<student>/<assignment>/<release notebook name>.

    The assignment of a file is `assignment` when given, else the known assignment whose name is in its
    path. A one-notebook assignment's file is renamed to the release's name, so a renamed download still
    grades. Files that are not notebooks, or whose assignment or student cannot be told, are reported.
    A later file for the same student and assignment replaces an earlier one (zip order: by name).
    """
    course = course_folder(course)
    known = known if known is not None else grading.assignments(course)
    if assignment is not None and assignment not in known:
        raise FileNotFoundError(f"no assignment {assignment!r} in {course / 'solutions'}; known: {', '.join(known)}")
    release_dir = course / grading._folders(grading.load_config(course))[1]
    out = Collected()
    for rel, data in _entries(source):
        if not rel.endswith(".ipynb"):
            out.unmatched.append((rel, "not a .ipynb file"))
            continue
        names = [assignment] if assignment else [a for a in known if a in rel]
        if len(names) != 1:
            out.unmatched.append((rel, "cannot tell the assignment (pass --assignment NAME)" if not names
                                  else f"matches several assignments: {', '.join(names)}"))
            continue
        name = names[0]
        student = _student_of(rel, name)
        if student is None:
            out.unmatched.append((rel, "cannot tell the student (use one folder per student)"))
            continue
        notebooks = sorted(p.name for p in (release_dir / name).glob("*.ipynb"))
        target_name = notebooks[0] if len(notebooks) == 1 else Path(rel).name
        target = course / "submitted" / student / name / target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".ipynb.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        out.placed[(student, name)] = target
    return out
