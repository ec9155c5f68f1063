"""nbgrader plumbing: release exercises from solutions, validate notebooks, autograde a batch.

(The course folder's gradebook side, collect/autograde/feedback/grades/status, is course_lib.gradebook,
which builds on this module; this module imports nothing of it.)

Why Python rather than the `nbgrader` command: the release must be byte-for-byte reproducible (a test
regenerates exercises/ and compares).

    python -m course_lib.grading release 01_foundations     # or: release --all
"""
from __future__ import annotations

import copy
import fnmatch
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable

import nbformat
import nbformat.reader

from course_lib import badges
from course_lib.course import REPO_ROOT

RELEASE_TAG = "raises-exception"  # nbval: this cell may raise (the stubs raise NotImplementedError)
IGNORE = (".ipynb_checkpoints", "__pycache__", "*.pyc", "feedback")  # nbgrader's CourseDirectory.ignore


class GradingError(RuntimeError):
    """A solution notebook nbgrader cannot turn into a release, or an autograding set-up failure."""


# ----------------------------------------------------------------------------------------------- config
def _nbgrader():
    try:
        import nbgrader  # noqa: F401
    except ImportError as err:
        raise ImportError("grading needs nbgrader, which the instructor extras install: "
                          "pip install 'genai-course[dev]'") from err


def load_config(root: Path = REPO_ROOT):
    """nbgrader's Config from root/nbgrader_config.py (empty when there is none)."""
    _nbgrader()
    from traitlets.config import Config, PyFileConfigLoader
    path = Path(root) / "nbgrader_config.py"
    return PyFileConfigLoader(path.name, str(path.parent)).load_config() if path.is_file() else Config()


def _folders(config) -> tuple[str, str]:
    course = config.CourseDirectory
    return course.get("source_directory", "source"), course.get("release_directory", "release")


def source_folder(config) -> str:
    """nbgrader's source folder name in this course (solutions/ here)."""
    return _folders(config)[0]


def release_folder(config) -> str:
    """nbgrader's release folder name in this course (exercises/ here)."""
    return _folders(config)[1]


def release_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    """exercises/<assignment>/ of the course folder `root`."""
    return Path(root) / release_folder(load_config(root)) / assignment


def assignments(root: Path = REPO_ROOT) -> list[str]:
    """Names of the assignment folders in the source folder (solutions/)."""
    source = Path(root) / _folders(load_config(root))[0]
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not _ignored(p.name))


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in IGNORE)


# ---------------------------------------------------------------------------------------------- release
def _read(path: Path) -> nbformat.NotebookNode:
    """Read without nbformat inventing random ids for cells that lack one (that would break determinism)."""
    try:
        nb = nbformat.reader.reads(Path(path).read_text(encoding="utf-8"))  # no conversion, no validation
    except (nbformat.reader.NotJSONError, UnicodeDecodeError) as err:
        raise GradingError(f"{path} is not a notebook: {not_json_reason(err)}") from None
    if nb.nbformat != 4:
        raise GradingError(f"{path}: nbformat 4 notebooks only, got version {nb.nbformat}; open and save it "
                           "in JupyterLab to upgrade it")
    if nb.nbformat_minor >= 5:
        for i, cell in enumerate(nb.cells):
            cell.setdefault("id", f"cell-{i}")
    return nb


def not_json_reason(err: Exception) -> str:
    """One line on why a file is not a notebook (nbformat's NotJSONError quotes the whole file)."""
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text (is it a notebook at all?)"
    cause = err.__cause__ or err.__context__
    detail = f" ({cause.msg} at line {cause.lineno}, column {cause.colno})" if hasattr(cause, "lineno") else ""
    return "not valid JSON" + detail


def _chain():
    """nbgrader's GenerateAssignment preprocessors without SaveCells (its gradebook step): same release."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                        ClearSolutions, ComputeChecksums, LockCells)
    return [LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
            ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata]


def _repository(root: Path) -> tuple[str, str]:
    """The badges' repository: the course folder's own pyproject.toml (a private copy may name its own
    URL), else the installed checkout's."""
    try:
        return badges.repository(Path(root))
    except (FileNotFoundError, KeyError):
        return badges.repository()


def release_notebook(path: Path, relpath: str, config=None, root: Path = REPO_ROOT) -> str:
    """The student copy of one solution notebook as text; `relpath` is where it will live (for its badge)."""
    path = Path(path)
    config = load_config() if config is None else config
    nb = _read(path)
    # Badge and setup cells first, so the release's checksums cover the student's own badge.
    repo, branch = _repository(root)
    badges.apply(nb, relpath, repo, branch)
    resources = {"nbgrader": {"notebook": path.stem, "assignment": path.parent.name, "student": ".",
                              "db_url": ""}, "metadata": {"path": str(path.parent)}}
    try:
        for preprocessor in _chain():
            nb, resources = preprocessor(config=config)(nb, resources)
    except Exception as err:  # nbgrader's errors do not say which notebook
        raise GradingError(f"{path}: nbgrader cannot release this notebook: {err}") from err
    for cell in nb.cells:  # stubs and their tests raise NotImplementedError in the release
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade")):
            tags = cell.metadata.setdefault("tags", [])
            if RELEASE_TAG not in tags:
                tags.append(RELEASE_TAG)
    text = nbformat.writes(nb)  # sorted keys, indent 1: the same bytes every time
    return text if text.endswith("\n") else text + "\n"


def generate_release(assignment: str, *, root: Path = REPO_ROOT, out_dir: Path | None = None) -> list[Path]:
    """Regenerate exercises/<assignment>/ from solutions/<assignment>/; returns the written paths.

    The folder is built next to its destination and swapped in whole, so a failure leaves the old
    release untouched and files removed from the source disappear from the release. `out_dir`
    replaces exercises/ (tests write to a temporary folder and compare).
    """
    root = Path(root)
    config = load_config(root)
    source_name, release_name = _folders(config)
    source = root / source_name / assignment
    if not assignment or not source.is_dir():
        raise FileNotFoundError(f"no assignment {assignment!r} in {root / source_name}; "
                                f"known: {', '.join(assignments(root)) or 'none'}")
    out_dir = Path(out_dir) if out_dir is not None else root / release_name
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / assignment
    stage = Path(tempfile.mkdtemp(prefix=f".{assignment}-", dir=out_dir))
    try:
        written = []
        for path in _source_files(source):
            rel = path.relative_to(source)
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".ipynb":
                text = release_notebook(path, f"{release_name}/{assignment}/{rel.as_posix()}", config, root)
                target.write_bytes(text.encode("utf-8"))
            else:
                shutil.copyfile(path, target)
            written.append(dest / rel)
        stage.chmod(0o755)  # mkdtemp makes it private
        _swap(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return written


def _swap(new: Path, dest: Path) -> None:
    """Replace folder `dest` by `new` with two renames; on failure the old folder is put back."""
    old = dest.with_name(new.name + "-old")
    if dest.exists():
        dest.rename(old)
    try:
        new.rename(dest)
    except BaseException:
        if old.exists():
            old.rename(dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _source_files(source: Path) -> list[Path]:
    """What nbgrader releases: notebooks at the top of the folder, every other file at any depth."""
    files = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(_ignored(part) for part in rel.parts):
            if path.suffix != ".ipynb" or len(rel.parts) == 1:
                files.append(path)
    return files


# --------------------------------------------------------------------------------------------- validate
def validate(path: Path, invert: bool = False, *, timeout: int | None = None, root: Path = REPO_ROOT) -> dict:
    """Run a notebook's tests with nbgrader's Validator: {} means all pass (with invert=True: all fail).

    Otherwise the dict says what went wrong ("failed", "passed", "changed" or "type_changed" cells).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    config = load_config(root)
    if timeout is not None:
        config.Execute.timeout = timeout
    from nbgrader.validator import Validator
    return Validator(config=config, invert=invert).validate(str(path.resolve()))


def problems(path: Path, invert: bool = False, *, timeout: int | None = None, root: Path = REPO_ROOT) -> list[str]:
    """validate() as readable lines naming each cell by its grade_id: empty when the notebook is right.

    A solution (invert=False) must pass every test; a release (invert=True) must fail every one.
    """
    result = validate(path, invert=invert, timeout=timeout, root=root)
    nb = _read(path)
    by_source = {c.source.strip(): c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?") for c in nb.cells}
    what = {"failed": "fails its tests", "passed": "passes its tests without a solution",
            "changed": "was changed", "type_changed": "changed type"}
    out = []
    for kind, cells in sorted(result.items()):
        for entry in cells if isinstance(cells, list) else [cells]:
            source = entry.get("source", "") if isinstance(entry, dict) else str(entry)
            out.append(f"{path}: cell {by_source.get(source.strip(), '?')!r} {what.get(kind, kind)}")
    return out


def assign(assignment: str, *, root: Path = REPO_ROOT, timeout: int | None = None) -> tuple[list[Path], list[str]]:
    """Regenerate exercises/<assignment>/ and validate both sides: (written files, problems).

    A problem is a solution cell that fails its own tests, or a release whose tests pass without a
    solution (the stubs must fail every test, or a blank submission earns points). The release is built
    and validated in a staging folder and replaces exercises/<assignment>/ only when there is no
    problem: with one, nothing is written (the list of written files is empty) and the old release stays.
    """
    root = Path(root)
    source_name, release_name = _folders(load_config(root))
    release_dir = root / release_name
    release_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{assignment}-check-", dir=release_dir))
    try:
        staged = generate_release(assignment, root=root, out_dir=stage)
        found = []
        for source in sorted((root / source_name / assignment).glob("*.ipynb")):
            found += problems(source, timeout=timeout, root=root)
            found += [line.replace(str(stage / assignment), str(release_dir / assignment))
                      for line in problems(stage / assignment / source.name, invert=True, timeout=timeout,
                                           root=root)]
        if found:
            return [], found
        (stage / assignment).chmod(0o755)
        _swap(stage / assignment, release_dir / assignment)
        return [release_dir / assignment / p.relative_to(stage / assignment) for p in staged], []
    finally:
        shutil.rmtree(stage, ignore_errors=True)


# -------------------------------------------------------------------------------------------- autograde
def _grade_ids(nb) -> list[str]:
    return [c.metadata.nbgrader["grade_id"] for c in nb.cells
            if "grade_id" in c.get("metadata", {}).get("nbgrader", {})]


def check_submission(release_nb, submission_nb) -> list[str]:
    """grade_ids of the release that the submission lacks (nbgrader silently scores those cells 0).

    Either argument is a path or a notebook. A Colab download keeps nbgrader's metadata; some
    editors strip it, and then nbgrader no longer knows which cell is which.
    """
    release, submission = (_read(nb) if isinstance(nb, (str, Path)) else nb for nb in (release_nb, submission_nb))
    present = set(_grade_ids(submission))
    return [gid for gid in _grade_ids(release) if gid not in present]


def restore_deleted_tests(release_nb, submission_nb) -> list[str]:
    """Put deleted autograder test cells back (in place, from the release); returns their grade_ids.

    nbgrader restores an edited test cell from its gradebook but scores a deleted one 0, so deleting a
    test would cost a correct solution its points. Each cell goes back after the nearest release
    cell before it that the submission still has; nbgrader then restores the hidden tests as usual.
    A submission with none of the release's cells (its metadata stripped) is left alone: there is no
    telling where the tests belong, so it is reported by check_submission and graded by hand.
    """
    if not set(_grade_ids(release_nb)) & set(_grade_ids(submission_nb)):
        return []
    restored, anchor = [], -1  # insert after submission cell `anchor`
    for cell in release_nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if "grade_id" not in meta:
            continue
        where = [i for i, c in enumerate(submission_nb.cells)
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == meta["grade_id"]]
        if where:
            anchor = where[0]
        elif meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            anchor += 1
            cell = copy.deepcopy(cell)
            if "id" in cell and any(c.get("id") == cell.id for c in submission_nb.cells):
                cell.id = f"{cell.id[:55]}-restored"  # cell ids must stay unique
            submission_nb.cells.insert(anchor, cell)
            restored.append(meta["grade_id"])
    return restored


def notebook_paths(student: str, value) -> list[Path]:
    """The notebooks of one student's submission: a path, a folder of notebooks, or a list of paths."""
    paths = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.glob("*.ipynb"))
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"submission of {student!r}: no file or folder at {p}")
    if not out:
        raise FileNotFoundError(f"submission of {student!r}: no .ipynb files in {paths}")
    return out


def check_student_id(student) -> None:
    """Student ids become folder names: no path separators, no '..'."""
    if not (isinstance(student, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", student) and student.strip(".")):
        raise ValueError(f"student ids must be names of letters, digits, '.', '_' or '-', got {student!r}")


# -------------------------------------------------------------------------------------------------- CLI
def main(argv: Iterable[str] | None = None, *, root: Path = REPO_ROOT) -> int:
    """`python -m course_lib.grading release [NAME ...|--all]`: regenerate exercises/ from solutions/."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="regenerate exercises/<NAME>/ from solutions/<NAME>/")
    p.add_argument("names", nargs="*", help="assignment names, e.g. 01_foundations")
    p.add_argument("--all", action="store_true", help="every assignment in solutions/")
    args = parser.parse_args(None if argv is None else list(argv))
    names = assignments(root) if args.all else args.names
    if not names:
        parser.error("no assignments in solutions/" if args.all else "name an assignment or pass --all")
    for name in names:
        try:
            written = generate_release(name, root=root)
        except (FileNotFoundError, GradingError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"{name}: wrote " + ", ".join(str(p.relative_to(root)) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
