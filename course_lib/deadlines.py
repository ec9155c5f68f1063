"""Due dates, extensions and the late penalty of a class: `deadlines.toml` in the course folder.

    timezone = "Europe/Berlin"          # the zone of every date below (default UTC)

    [due]                               # one due date per assignment
    01_foundations = "2027-02-05 23:59"
    03_vae = "2027-02-26 23:59"

    [late]
    grace_minutes = 15                  # a submission this late is on time
    percent_per_day = 10                # of the points earned, per started day (24 h) late
    max_percent = 50                    # the most a late submission can lose (100: everything)
    lms_late_days = 1                   # an LMS's LATE marker with no time counts as this many days

    [extensions.03_vae]                 # per student: a new due date, or a number of extra days
    asmith = "2027-03-01 23:59"
    clee = 2

Why a file of its own: nbgrader keeps one due date per assignment and one extension per submission in
its gradebook, and `autograde` writes them there (formgrader shows a submission's lateness), but a
semester's dates belong in one reviewed file, not in a database. Submission times come from the
`timestamp.txt` that nbgrader's exchange writes (`nbgrader collect`, or a folder laid out like it), or,
failing that, from the LMS: Canvas names a late file `LATE_`, which says that it was late but not by how
much (and against Canvas's own due date, so with an extension here it is only flagged, not penalised).
"""
from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FILE = "deadlines.toml"
MARKER = "lms.json"  # written by course_lib.collect beside an LMS file: {"lms": "Canvas", "late": true}
LATE_KEYS = {"grace_minutes": 0.0, "percent_per_day": 0.0, "max_percent": 100.0, "lms_late_days": 1.0}


class DeadlineError(ValueError):
    """deadlines.toml says something that cannot be a deadline: the message names the key and the value."""


@dataclass
class Policy:
    """A course's deadlines; dates are naive UTC datetimes, as nbgrader stores them."""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    due: dict[str, dt.datetime] = field(default_factory=dict)
    extensions: dict[str, dict[str, dt.datetime]] = field(default_factory=dict)
    grace_minutes: float = 0.0
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    lms_late_days: float = 1.0

    def due_for(self, assignment: str, student: str | None = None,
                gradebook_due: dt.datetime | None = None) -> dt.datetime | None:
        """The student's due date: their extension, else the assignment's (this file's, else the gradebook's)."""
        if student is not None and student in self.extensions.get(assignment, {}):
            return self.extensions[assignment][student]
        return self.due.get(assignment, gradebook_due)

    def extension(self, assignment: str, student: str) -> dt.timedelta | None:
        """What nbgrader calls the extension: the student's due date minus the assignment's."""
        mine = self.extensions.get(assignment, {}).get(student)
        return mine - self.due[assignment] if mine is not None and assignment in self.due else None

    def penalty_percent(self, seconds_late: float) -> float:
        """Percent of the earned points lost: percent_per_day per started day after the grace period, capped."""
        if seconds_late <= self.grace_minutes * 60:
            return 0.0
        return min(self.max_percent, self.percent_per_day * math.ceil(seconds_late / 86400))

    def show(self, when: dt.datetime | None) -> str | None:
        """A naive UTC time as the course's local time with its offset, e.g. 2027-02-06 01:10+01:00."""
        if when is None:
            return None
        return when.replace(tzinfo=dt.timezone.utc).astimezone(self.zone).isoformat(sep=" ", timespec="minutes")

    def lateness(self, assignment: str, student: str, *, submitted_at: dt.datetime | None = None,
                 gradebook_due: dt.datetime | None = None, marker: dict | None = None) -> dict:
        """{"submitted_at", "due", "late_hours", "late_source", "penalty_percent"} of one submission.

        submitted_at (naive UTC, nbgrader's timestamp) decides when known; else an LMS marker
        ({"lms": "Canvas", "late": True}) counts as lms_late_days late, unless the student has an
        extension here (the LMS compared with its own due date): then it is flagged and not penalised.
        """
        due = self.due_for(assignment, student, gradebook_due)
        out = {"submitted_at": self.show(submitted_at), "due": self.show(due), "late_hours": None,
               "late_source": None, "penalty_percent": 0.0}
        if submitted_at is not None and due is not None:
            seconds = (submitted_at - due).total_seconds()
            if seconds > 0:
                out.update(late_hours=round(seconds / 3600, 2), late_source="timestamp",
                           penalty_percent=self.penalty_percent(seconds))
        elif submitted_at is None and marker and marker.get("late"):
            lms = marker.get("lms", "the LMS")
            if student in self.extensions.get(assignment, {}):
                out["late_source"] = (f"{lms} LATE, time unknown; extension to {self.show(due)}: "
                                      "check the time by hand (no penalty applied)")
            else:
                out.update(late_source=f"{lms} LATE, time unknown: counted as {self.lms_late_days:g} day(s)",
                           penalty_percent=self.penalty_percent(self.lms_late_days * 86400))
        return out


def _when(text, zone: ZoneInfo, where: str) -> dt.datetime:
    """A date in the file ("2027-02-05 23:59", ISO with an offset, or a TOML datetime) as naive UTC."""
    if isinstance(text, dt.datetime):
        when = text
    elif isinstance(text, dt.date):
        when = dt.datetime.combine(text, dt.time(23, 59))
    elif isinstance(text, str):
        try:
            when = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise DeadlineError(f"{FILE}: {where} must be a date like \"2027-02-05 23:59\", got {text!r}") from None
    else:
        raise DeadlineError(f"{FILE}: {where} must be a date like \"2027-02-05 23:59\", got {text!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


def parse(text: str, known: list[str] | None = None) -> Policy:
    """A Policy from the text of deadlines.toml; `known` assignments, when given, catch misspelt names."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DeadlineError(f"{FILE} is not valid TOML: {err}") from None
    unknown = set(data) - {"timezone", "due", "late", "extensions"}
    if unknown:
        raise DeadlineError(f"{FILE}: unknown section(s) {', '.join(sorted(unknown))}; "
                            "expected timezone, [due], [late], [extensions.NAME]")
    try:
        zone = ZoneInfo(data.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DeadlineError(f"{FILE}: timezone must be a zone name like \"Europe/Berlin\", "
                            f"got {data.get('timezone')!r}") from None
    policy = Policy(zone=zone)
    names = set(data.get("due", {})) | set(data.get("extensions", {}))
    if known is not None and names - set(known):
        raise DeadlineError(f"{FILE}: {', '.join(sorted(names - set(known)))} is not an assignment of this course "
                            f"(known: {', '.join(known) or 'none'})")
    for name, when in data.get("due", {}).items():
        policy.due[name] = _when(when, zone, f"[due] {name}")
    late = data.get("late", {})
    if set(late) - set(LATE_KEYS):
        raise DeadlineError(f"{FILE}: unknown key(s) in [late]: {', '.join(sorted(set(late) - set(LATE_KEYS)))}; "
                            f"expected {', '.join(LATE_KEYS)}")
    for key, default in LATE_KEYS.items():
        value = late.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise DeadlineError(f"{FILE}: [late] {key} must be a number >= 0, got {value!r}")
        setattr(policy, key, float(value))
    if policy.max_percent > 100:
        raise DeadlineError(f"{FILE}: [late] max_percent must be at most 100, got {policy.max_percent:g}")
    for name, students in data.get("extensions", {}).items():
        if not isinstance(students, dict):
            raise DeadlineError(f"{FILE}: [extensions.{name}] must be a table of student = date or days")
        for student, value in students.items():
            where = f"[extensions.{name}] {student}"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if name not in policy.due:
                    raise DeadlineError(f"{FILE}: {where} gives {value} extra days, but {name} has no [due] date")
                when = policy.due[name] + dt.timedelta(days=value)
            else:
                when = _when(value, zone, where)
            policy.extensions.setdefault(name, {})[student] = when
    return policy


def load(course: Path) -> Policy:
    """The course folder's deadlines.toml (no file: no deadlines, nothing is late)."""
    path = Path(course) / FILE
    if not path.is_file():
        return Policy()
    from course_lib import grading
    return parse(path.read_text(encoding="utf-8"), known=grading.assignments(course))


def lms_marker(course: Path, student: str, assignment: str) -> dict | None:
    """What collect recorded from the LMS's file name (submitted/<student>/<assignment>/lms.json), if anything."""
    path = Path(course) / "submitted" / student / assignment / MARKER
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def nbgrader_timestamp(when: dt.datetime) -> str:
    """nbgrader's timestamp.txt format (what `nbgrader collect` writes), from an aware or naive-UTC time."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
