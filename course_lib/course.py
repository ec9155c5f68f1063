"""Where things are: the checkout this package runs from, and the instructor's course folder.

REPO_ROOT is for contributors' tools (benchmarks, badges, `genai-course run` with no arguments): the
folder above the installed package. It is never where instructor verbs read or write: those work in the
course folder, which is where the instructor is (find_course), so a verb run from a clone grades that
clone even when another checkout is the installed one.
"""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = "nbgrader_config.py"


class CourseNotFound(FileNotFoundError):
    """No course folder (a folder holding nbgrader_config.py) where an instructor verb was run."""


def find_course(start: Path | str | None = None) -> Path:
    """The nearest folder at or above `start` (default: the current folder) holding nbgrader_config.py.

    Absolute, so every path a verb prints says where it wrote.
    """
    here = Path.cwd() if start is None else Path(start)
    here = here.resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise CourseNotFound(f"{here} is not inside a course folder: no {CONFIG_FILE} here or in any folder above. "
                         "Run the command from the course folder (the repository root) or pass --course DIR.")


def course_folder(course: Path | str | None) -> Path:
    """An explicit course folder, checked and made absolute; None means find_course()."""
    if course is None:
        return find_course()
    folder = Path(course).expanduser().resolve()
    if not (folder / CONFIG_FILE).is_file():
        raise CourseNotFound(f"--course {course}: {folder} has no {CONFIG_FILE}, so it is not a course folder")
    return folder
