"""The grade table in the shapes an LMS imports: one row per student, one column per assignment.

Built from course_lib.gradebook.grades() (one row per submission) and, optionally, the class roster
(course_lib.collect.Roster: student_id, name, email, lms_id, and for Canvas sis_user_id, sis_login_id,
section). An assignment's cell is the final score (after any late penalty); it is EMPTY while a written
answer waits for a grader or when there is no submission, so an import never records a score that is
not final (both LMSs leave a grade unchanged for an empty cell).

- wide:   student_id[, name, email, lms_id], one column per assignment, total, max_total, percent
          (of the assignments graded in full), pending, missing, late. For people and spreadsheets.
- canvas: Canvas's own gradebook export shape, which its Grades > Import takes back: Student, ID (the
          Canvas user id: the roster's lms_id), SIS User ID, SIS Login ID, Section, then one column per
          assignment, with a "Points Possible" row first. Canvas matches students by ID; a column whose
          name is not an existing assignment's becomes a new assignment (the import page asks first).
- moodle: Full name, Email address, one column per assignment. In Moodle's Grades > Import > CSV file,
          map "Email address" to the user field "Email address" and each assignment column to its grade item.
"""
from __future__ import annotations

from pathlib import Path

FORMATS = ("long", "wide", "canvas", "moodle")
CANVAS_ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _number(x: float | None) -> str:
    return "" if x is None else f"{round(x, 2):g}"


def _students(rows: list[dict], roster) -> tuple[list[dict], list[str]]:
    """Roster rows in roster order (else one bare row per graded student), and graded ids not on the roster."""
    graded = sorted({r["student"] for r in rows})
    if roster is None:
        return [{"student_id": s} for s in graded], []
    on_roster = roster.ids()
    return list(roster.rows), [s for s in graded if s not in on_roster]


def wide(rows: list[dict], roster=None) -> tuple[list[str], list[dict], list[str]]:
    """(columns, one row per student, warnings) of the wide table."""
    assignments = sorted({r["assignment"] for r in rows})
    by = {(r["student"], r["assignment"]): r for r in rows}
    students, strays = _students(rows, roster)
    students += [{"student_id": s} for s in strays]
    ident = ["student_id"] + ([c for c in ("name", "email", "lms_id") if roster is not None])
    columns = ident + assignments + ["total", "max_total", "percent", "pending", "missing", "late"]
    out = []
    for person in students:
        sid = person["student_id"]
        line = {c: person.get(c, "") for c in ident}
        total = max_total = 0.0
        pending, missing, late = [], [], []
        for a in assignments:
            r = by.get((sid, a))
            if r is None:
                missing.append(a)
                line[a] = ""
                continue
            line[a] = _number(r["final_score"])
            if r["pending_points"]:
                pending.append(f"{a} ({r['pending_points']:g} point(s) waiting)")
            else:
                total += r["final_score"]
                max_total += r["max_score"] or 0.0
            if r["late_source"]:
                what = f"{r['late_hours']:g} h" if r["late_hours"] is not None else r["late_source"]
                late.append(f"{a}: {what}, -{r['penalty_percent']:g}%")
        line.update(total=_number(total), max_total=_number(max_total),
                    percent=f"{100 * total / max_total:.1f}" if max_total else "",
                    pending="; ".join(pending), missing="; ".join(missing), late="; ".join(late))
        out.append(line)
    warnings = [f"graded but not on the roster: {', '.join(strays)}"] if strays else []
    return columns, out, warnings


def canvas(rows: list[dict], roster) -> tuple[list[str], list[dict], list[str]]:
    """(columns, rows, warnings) for Canvas's gradebook import; students without an lms_id are left out."""
    if roster is None:
        raise ValueError("the canvas format needs --roster with an lms_id column (the Canvas user id)")
    assignments = sorted({r["assignment"] for r in rows})
    by = {(r["student"], r["assignment"]): r for r in rows}
    maxima = {r["assignment"]: r["max_score"] for r in rows}
    students, strays = _students(rows, roster)
    out = [{"Student": "Points Possible", **{c: "" for c in CANVAS_ID_COLUMNS[1:]},
            **{a: _number(maxima[a]) for a in assignments}}]
    no_id = []
    for person in students:
        lms_id = person.get("lms_id", "").split(";")[0].strip()
        if not lms_id:
            no_id.append(person["student_id"])
            continue
        out.append({"Student": person.get("name", ""), "ID": lms_id, "SIS User ID": person.get("sis_user_id", ""),
                    "SIS Login ID": person.get("sis_login_id", ""), "Section": person.get("section", ""),
                    **{a: _number(by[(person["student_id"], a)]["final_score"]) if (person["student_id"], a) in by
                       else "" for a in assignments}})
    warnings = [f"left out, no lms_id on the roster: {', '.join(no_id)}"] if no_id else []
    warnings += [f"left out, graded but not on the roster: {', '.join(strays)}"] if strays else []
    return CANVAS_ID_COLUMNS + assignments, out, warnings


def moodle(rows: list[dict], roster) -> tuple[list[str], list[dict], list[str]]:
    """(columns, rows, warnings) for Moodle's CSV grade import; students without an email are left out."""
    if roster is None:
        raise ValueError("the moodle format needs --roster with an email column (Moodle matches users by it)")
    assignments = sorted({r["assignment"] for r in rows})
    by = {(r["student"], r["assignment"]): r for r in rows}
    students, strays = _students(rows, roster)
    out, no_email = [], []
    for person in students:
        if not person.get("email"):
            no_email.append(person["student_id"])
            continue
        out.append({"Full name": person.get("name", ""), "Email address": person["email"],
                    **{a: _number(by[(person["student_id"], a)]["final_score"]) if (person["student_id"], a) in by
                       else "" for a in assignments}})
    warnings = [f"left out, no email on the roster: {', '.join(no_email)}"] if no_email else []
    warnings += [f"left out, graded but not on the roster: {', '.join(strays)}"] if strays else []
    return ["Full name", "Email address"] + assignments, out, warnings


def table(rows: list[dict], fmt: str, roster=None) -> tuple[list[str] | None, list[dict], list[str]]:
    """(columns, rows, warnings) in format `fmt` (FORMATS); columns None means the long table's own."""
    if fmt == "long":
        return None, rows, []
    if fmt not in FORMATS:
        raise ValueError(f"grade format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return {"wide": wide, "canvas": canvas, "moodle": moodle}[fmt](rows, roster)


def write(rows: list[dict], path: Path, fmt: str = "long", roster=None) -> tuple[Path, int, list[str]]:
    """Write the grade table to `path` atomically in format `fmt`: (path, data rows, warnings)."""
    from course_lib import gradebook
    columns, out, warnings = table(rows, fmt, roster)
    return gradebook.write_csv(out, path, columns), len(out), warnings
