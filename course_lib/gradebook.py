"""The instructor's course folder: autograde submissions into a gradebook, hand back feedback, export
grades, show where each assignment stands (course_lib.collect lays the submissions out first).

nbgrader does the work (through its Python API, NbGraderAPI); this module adds what a class of 300
needs on top: submissions laid out from any zip or folder, a check that every submission still has
the release's grade cells (nbgrader silently scores a stripped one 0), deleted test cells put back,
a memory limit in the student's kernel, output cut to a sane size, a gradebook that one hostile
submission cannot wreck, and a progress bar.

The course folder is nbgrader's: solutions/ (source), exercises/ (release), submitted/, autograded/,
feedback/ and, by default, gradebook.db (SQLite). `db_url` takes any SQLAlchemy URL instead.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Mapping

import nbformat

from course_lib import config, deadlines, grading, sandbox
from course_lib.config import progress
from course_lib.course import REPO_ROOT, course_folder

MAX_OUTPUT_CHARS = 20_000  # per output of a graded cell: a student printing megabytes stays readable
MEMORY_MB = 4096  # address space of a student's kernel; torch imports in well under 1 GiB


# ------------------------------------------------------------------------------------ nbgrader set-up
def _preprocessor_base():
    from nbgrader.preprocessors import NbGraderPreprocessor
    return NbGraderPreprocessor


class TruncateOutput(_preprocessor_base()):
    """Cut every text output of a graded notebook to MAX_OUTPUT_CHARS characters.

    nbgrader's LimitOutput counts lines, so one print of a 10 MB string passes through it whole.
    """

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and len(out.get("text", "")) > MAX_OUTPUT_CHARS:
                out.text = out.text[:MAX_OUTPUT_CHARS] + "\n... [output truncated by the grader]\n"
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS:
                    out.data[mime] = value[:MAX_OUTPUT_CHARS] + "\n... [output truncated by the grader]"
        return cell, resources


def kernel_arguments(memory_mb: int | None) -> list[str]:
    """Extra command-line arguments for the student's kernel: limits and the sandbox's hook, before any cell.

    course_lib.sandbox.enter() in the kernel's exec_lines sets RLIMIT_AS (an allocation over `memory_mb`
    raises MemoryError in that cell instead of swapping the machine to death), RLIMIT_FSIZE, and the
    audit hook. (A kernel run as root outside bubblewrap may raise its own hard limit: grade as an
    unprivileged user.)
    """
    args = ["--HistoryManager.hist_file=:memory:"]  # nbgrader's default, kept
    if memory_mb is not None and not (isinstance(memory_mb, int) and memory_mb > 0):
        raise ValueError(f"memory_mb must be a positive number of MiB, got {memory_mb!r}")
    args.append(f"--IPKernelApp.exec_lines=import course_lib.sandbox as _s; _s.enter({memory_mb!r}); del _s")
    return args


def default_db(course: Path) -> str:
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def course_api(course: Path, *, db_url: str | None = None, timeout: int = 30, memory_mb: int | None = MEMORY_MB,
               config=None, exchange: Path | None = None, scratch: "Scratch | None" = None):
    """An NbGraderAPI on the course folder `course` (gradebook default: course/gradebook.db).

    With `scratch` (from isolated_env), every kernel nbgrader starts is the sandboxed one.
    """
    grading._nbgrader()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import LimitOutput
    from traitlets.config import Config
    if not (isinstance(timeout, int) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds per cell, got {timeout!r}")
    local = Config()
    local.merge(grading.load_config(course) if config is None else config)
    local.CourseDirectory.root = str(Path(course).resolve())
    # --db, else nbgrader_config.py's db_url (a shared PostgreSQL gradebook), else course/gradebook.db
    local.CourseDirectory.db_url = db_url or local.CourseDirectory.get("db_url") or default_db(course)
    if exchange is None and "root" not in local.Exchange:
        exchange = Path(course) / "exchange"     # not nbgrader's system-wide default (unwritable, logs CRITICAL)
    if exchange is not None:
        local.Exchange.root = str(exchange)
    local.Execute.timeout = timeout
    local.Execute.extra_arguments = kernel_arguments(memory_mb)
    if scratch is not None:
        local.Execute.kernel_name = sandbox.KERNEL_NAME
        if scratch.mode == "bwrap":  # the kernel has no network: talk to it over Unix sockets
            local.KernelManager.transport = "ipc"
            local.KernelManager.ip = str(scratch.sockets / "kernel")
    chain = list(Autograde.class_traits()["autograde_preprocessors"].default())  # nbgrader's, with TruncateOutput added
    chain.insert(chain.index(LimitOutput) + 1, TruncateOutput)
    local.Autograde.autograde_preprocessors = chain
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from course_lib.feedback import StudentFeedback
    local.GenerateFeedback.preprocessors = [StudentFeedback, CSSHTMLHeaderPreprocessor]  # no hidden test code
    # OverwriteCells.add_missing_cells stays off: it crashes on a cell deleted after a read-only cell
    # (nbgrader 0.9.6); grading.restore_deleted_tests does that job before nbgrader sees the submission.
    return NbGraderAPI(config=local)


class Scratch:
    """A grading run's private folder outside the course (short paths: Unix sockets allow 107 bytes).

    Holds the sandboxed kernelspec, the kernels' runtime and IPython folders, their sockets, the
    per-student attempt log and, in audit-only mode, the kernels' temporary folder. Removed at the end,
    so grading leaves nothing behind outside the course folder.
    """

    def __init__(self, course: Path, mode: str, warning: str | None):
        self.course, self.mode, self.warning = Path(course).resolve(), mode, warning
        self.root = Path(tempfile.mkdtemp(prefix="genai-grade-"))
        self.sockets, self.log, self.tmp = self.root / "ipc", self.root / "attempts.log", self.root / "tmp"
        self.sockets.mkdir()
        sandbox.write_kernelspec(self.root / "share", env={
            sandbox.ENV_MODE: mode, sandbox.ENV_LOG: str(self.log), sandbox.ENV_DENY: str(self.course),
            "TMPDIR": str(self.tmp), "MPLCONFIGDIR": str(self.tmp / ".matplotlib"),
            "COURSE_DATA_DIR": str(self.tmp / "course-data"), "HOME": str(self.tmp)})

    def fresh(self) -> None:
        """Empty log and temporary folder for the next student."""
        self.log.write_text("")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()

    def attempts(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.is_file() else []

    def describe(self) -> str:
        if self.mode == "bwrap":
            return ("sandbox: bubblewrap (kernel sees only its submission; no network, no course folder, "
                    "processes end with it)")
        return self.warning or "sandbox: audit hook only"


@contextlib.contextmanager
def isolated_env(course: Path, sandbox_mode: str | None = "auto"):
    """Grading's environment; yields the Scratch (None when `sandbox_mode` is None: no kernels started).

    nbgrader calls `alembic` from PATH (needs this environment's bin). Kernels' runtime, IPython and
    temporary files go to the Scratch folder, never into the course folder or the instructor's home.
    Kernels get COURSE_FAST=1: an assignment's demo cells (a short training run) shrink, while its
    tests use fixed tensors and grade the same, so a class is graded in seconds per student. And one
    thread each (OMP_NUM_THREADS=1): with torch's default of one thread per core, a kernel whose cores are
    busy (another kernel, another job) spins on its tiny ops; measured here with one core busy, the
    03_vae solution ran in 20.7 s on two threads and 7.5 s on one.
    """
    scratch = Scratch(course, *sandbox.choose(sandbox_mode)) if sandbox_mode is not None else None
    root = scratch.root if scratch else Path(tempfile.mkdtemp(prefix="genai-grade-"))
    path, jupyter_path = os.environ.get("PATH"), os.environ.get("JUPYTER_PATH")
    env = {"COURSE_FAST": "1", "OMP_NUM_THREADS": "1",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), path or ""]),
           "JUPYTER_RUNTIME_DIR": str(root / "runtime"),  # kernels' connection files
           "IPYTHONDIR": str(root / "ipython"),  # the kernels' IPython profile
           "JUPYTER_PATH": os.pathsep.join([str(root / "share")] + ([jupyter_path] if jupyter_path else []))}
    try:
        with config.environ(env), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Object of type .* not in session")  # nbgrader's noise
            yield scratch
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _folder(api, name: str) -> Path:
    return Path(api.coursedir.root) / getattr(api.coursedir, f"{name}_directory")


def ensure_assignment(api, assignment: str) -> dict[str, nbformat.NotebookNode]:
    """Give the gradebook the assignment's current tests and points; returns its release notebooks by name.

    nbgrader learns an assignment (its grade cells, hidden tests, points) by generating its release, and
    grades with the gradebook's copy. So this generates it every time the source notebooks are there: a
    test fixed in solutions/ reaches the next autograde (nbgrader updates the cells in place, keeping the
    grades). That release goes to a scratch folder inside the course and is thrown away: the committed
    exercises/ are course_lib.grading's (badges, nbval tags), and nbgrader's would differ. A trial course
    whose sources were removed after this step (autograde_batch) uses the gradebook's copy.
    """
    from nbgrader.api import MissingEntry
    from nbgrader.utils import temp_attrs
    course = Path(api.coursedir.root)
    source = course / api.coursedir.source_directory / assignment
    if not source.is_dir():
        raise FileNotFoundError(f"no assignment {assignment!r} in {course / api.coursedir.source_directory}; "
                                f"known: {', '.join(grading.assignments(course)) or 'none'}")
    committed = sorted((_folder(api, "release") / assignment).glob("*.ipynb"))
    if not list(source.glob("*.ipynb")):
        with api.gradebook as gb:
            try:
                known = bool(gb.find_assignment(assignment).notebooks)
            except MissingEntry:
                known = False
        if known and committed:
            return {p.name: grading._read(p) for p in committed}
        raise FileNotFoundError(f"no notebooks in {source}: nothing to grade against")
    scratch = Path(tempfile.mkdtemp(prefix=".nbgrader-release-", dir=course))
    try:
        with temp_attrs(api.coursedir, release_directory=str(scratch)):
            result = api.generate_assignment(assignment)
        if not result["success"]:
            log = str(result.get("error") or "") + str(result.get("log") or "")
            if "Cannot add or remove cells" in log:
                raise grading.GradingError(
                    f"solutions/{assignment} adds or removes graded cells, but the gradebook holds submissions "
                    "graded against the old cells, and nbgrader cannot change an assignment's cells then. "
                    "Change tests and points only (same grade ids), or grade into a new gradebook (--db) and "
                    "autograde every submission again.")
            raise grading.GradingError(f"nbgrader could not generate {assignment!r}:\n{log}")
        return {p.name: grading._read(p) for p in sorted((scratch / assignment).glob("*.ipynb"))}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ----------------------------------------------------------------------------------------- autograde
def _sqlite_path(db_url: str) -> Path | None:
    return Path(db_url[len("sqlite:///"):]) if db_url.startswith("sqlite:///") else None


def _others_digest(db: Path, exclude) -> str | None:
    """A digest of the grades of every student not in `exclude` (a student id or a set of them) in a SQLite
    gradebook; None if it is not a gradebook."""
    exclude = sorted({exclude} if isinstance(exclude, str) else set(exclude))
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT s.student_id, a.name, g.auto_score, g.manual_score FROM grade g "
                "JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment s "
                "ON n.assignment_id = s.id JOIN assignment a ON s.assignment_id = a.id "
                f"WHERE s.student_id NOT IN ({', '.join('?' * len(exclude))}) ORDER BY 1, 2, g.id",
                exclude).fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return None
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def grade_student(api, assignment: str, student: str, release: dict[str, nbformat.NotebookNode],
                  scratch: Scratch | None = None, *, lock=None, others=None) -> dict:
    """Autograde course/submitted/<student>/<assignment>/; the report described in autograde().

    A SQLite gradebook is copied first and put back if it changed in anything but this student's grades
    (the sandbox keeps the kernel away from it; this is the second line): that student then gets an
    error to review by hand. What the sandbox refused is in report["sandbox_log"].
    In a parallel batch (course_lib.parallel_grading) `lock` serialises gradebook access and `others`
    is the batch: only the grades of students outside it must stay as they were, and a change there is
    reported as report["tampered"] for the main process to undo (other workers write meanwhile).
    """
    folder = _folder(api, "submitted") / student / assignment
    missing, restored, unreadable = [], [], []
    for target in sorted(folder.glob("*.ipynb")):
        if target.name not in release:
            continue
        try:
            nb, release_nb = grading._read(target), release[target.name]
        except grading.GradingError as err:  # not a notebook: nbgrader fails on it (and says only "see the
            unreadable.append(f"{err}; ask the student for the .ipynb file again (File > Download)")  # above
            # traceback" with none above), so the report gives this line instead
            continue
        missing += grading.check_submission(release_nb, nb)
        put_back = grading.restore_deleted_tests(release_nb, nb)
        if put_back:
            target.write_text(nbformat.writes(nb), encoding="utf-8")
            restored += put_back
    if scratch is not None:
        scratch.fresh()
    before_scores = scores(api, assignment, student, several=len(release) > 1)
    reviewed = _reviewed_answers(api, assignment, student, release)
    db = _sqlite_path(api.coursedir.db_url)
    held = lock.held if lock is not None else contextlib.nullcontext
    exclude = set(others) | {student} if others is not None else student
    backup = before = None
    tampered = False
    if db is not None and db.is_file():
        with held():
            before = _others_digest(db, exclude)
            if others is None:
                backup = db.with_name(db.name + ".before-" + student)
                shutil.copyfile(db, backup)
    try:
        result = api.autograde(assignment, student)
        if before is not None:
            with held():
                tampered = _others_digest(db, exclude) != before
                if tampered and backup is not None:
                    shutil.copyfile(backup, db)
                    with contextlib.suppress(FileNotFoundError):
                        Path(str(db) + "-journal").unlink()
    finally:
        if backup is not None:
            backup.unlink(missing_ok=True)
    _keep_reviews(api, assignment, student, reviewed)
    report = scores(api, assignment, student, several=len(release) > 1)
    report["missing_grade_ids"], report["restored_tests"] = missing, restored
    report["previous_code_score"] = before_scores["code_score"] if before_scores["max_score"] is not None else None
    report["sandbox"] = scratch.mode if scratch is not None else None
    report["tampered"] = tampered
    report["sandbox_log"] = scratch.attempts() if scratch is not None else []
    if report["sandbox_log"]:
        log = Path(api.coursedir.root) / "sandbox_log" / assignment / f"{student}.txt"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("\n".join(report["sandbox_log"]) + "\n")
    if tampered:
        report["error"] = ("the submission changed the gradebook while it ran; the gradebook was restored "
                           "and this submission left ungraded: review it by hand")
    elif unreadable:
        report["error"] = "; ".join(unreadable)
    else:
        report["error"] = None if result["success"] else result.get("log") or result.get("error") or "failed"
    return report


def _answers(api, assignment: str, student: str, manual: set) -> dict[tuple[str, str], str]:
    """(notebook, grade_id) -> source of each written answer in the student's autograded notebooks."""
    out = {}
    for path in (_folder(api, "autograded") / student / assignment).glob("*.ipynb"):
        try:
            nb = grading._read(path)
        except Exception:
            continue
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if (path.name, gid) in manual:
                out[(path.name, gid)] = cell.source
    return out


def _manual_cells(release) -> set[tuple[str, str]]:
    """(notebook, grade_id) of the release's written answers: cells both graded and answered by a person."""
    return {(name, c.metadata.nbgrader["grade_id"]) for name, nb in release.items() for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")
            and c.metadata.nbgrader.get("solution")}


def _reviewed_answers(api, assignment, student, release) -> dict[tuple[str, str], str]:
    """Written answers a person has already scored, with the source they scored."""
    manual = _manual_cells(release)
    graded = set()
    with api.gradebook as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except Exception:  # MissingEntry: never graded
            return {}
        for nb in sub.notebooks:
            for g in nb.grades:
                key = (f"{nb.name}.ipynb", g.name)
                if key in manual and g.manual_score is not None and not g.needs_manual_grade:
                    graded.add(key)
    answers = _answers(api, assignment, student, manual)
    return {key: answers[key] for key in graded if key in answers}


def _keep_reviews(api, assignment, student, reviewed) -> None:
    """After a regrade, a written answer scored by a person and not changed since stays graded.

    (nbgrader sends every cell with a manual score back to "needs manual grading" on each autograde.)
    """
    if not reviewed:
        return
    now = _answers(api, assignment, student, set(reviewed))
    with api.gradebook as gb:
        sub = gb.find_submission(assignment, student)
        for nb in sub.notebooks:
            for g in nb.grades:
                key = (f"{nb.name}.ipynb", g.name)
                if key in reviewed and now.get(key) == reviewed[key]:
                    g.needs_manual_grade = False
        gb.db.commit()


def scores(api, assignment: str, student: str, several: bool = False) -> dict:
    """One student's scores, read back from the gradebook."""
    from nbgrader.api import MissingEntry
    with api.gradebook as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return {"score": 0.0, "max_score": None, "code_score": 0.0, "max_code_score": None,
                    "needs_manual_grade": False, "cells": {}}
        cells = {}
        for nb in sub.notebooks:
            for g in nb.grades:
                key = f"{nb.name}/{g.name}" if several else g.name
                cells[key] = {"score": g.score, "max_score": g.max_score, "auto_score": g.auto_score,
                              "needs_manual_grade": g.needs_manual_grade}
        return {"score": sub.score, "max_score": sub.max_score, "code_score": sub.code_score,
                "max_code_score": sub.max_code_score, "needs_manual_grade": sub.needs_manual_grade,
                "cells": cells}


def submitted_students(api, assignment: str) -> list[str]:
    root = _folder(api, "submitted")
    return sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir())


def autograde(assignment: str, *, course: Path | None = None, submissions: Mapping[str, object] | None = None,
              students: list[str] | None = None, db_url: str | None = None, timeout: int = 30,
              memory_mb: int | None = MEMORY_MB, sandbox_mode: str = "auto", show_progress: bool = True,
              on_sandbox=None, jobs: int = 1) -> dict[str, dict]:
    """Autograde every submission of `assignment` in course/submitted/ (or only `students`).

    course: the course folder (default: the one the current folder is in, course.find_course()).
    submissions: student id -> notebook path, folder of notebooks, or list of paths, copied into
    course/submitted/ first (with a single notebook in the assignment, a file is graded as that
    notebook whatever its name); then only those students are graded.
    timeout: seconds per cell (an infinite loop is interrupted and scores 0 on the tests it breaks).
    memory_mb: address-space limit of each student's kernel (None: no limit).
    sandbox_mode: "auto" (bubblewrap when it runs here, else the audit hook with a loud warning),
    "bwrap" (fail if it cannot run) or "audit" (course_lib.sandbox says what each isolates).
    on_sandbox: called once with a line saying which sandbox grades this batch (the CLI prints it).
    jobs: submissions graded at once, each in its own worker process and sandbox
    (course_lib.parallel_grading); 1 grades them one by one in this process. Same scores either way.
    If the gradebook stops answering (a database server going down), GradebookUnavailable says which
    students were graded (their grades are saved) and which were not: run the same command again.

    Returns student -> {"score", "max_score" (all grade cells, written answers included),
    "code_score", "max_code_score" (autograded tests only), "needs_manual_grade",
    "cells": {grade_id: {"score", "max_score", "auto_score", "needs_manual_grade"}},
    "missing_grade_ids": release grade_ids the submission lacks, "restored_tests": deleted test cells put
    back before grading, "sandbox": "bwrap" or "audit", "sandbox_log": what the sandbox refused,
    "error": nbgrader's log of what failed, or None}.
    With several notebooks in the assignment the cells are keyed "notebook/grade_id".
    """
    if not (isinstance(jobs, int) and not isinstance(jobs, bool) and jobs > 0):
        raise ValueError(f"jobs must be a positive number of worker processes, got {jobs!r}")
    course = course_folder(course)
    if not (isinstance(timeout, int) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds per cell, got {timeout!r}")
    files = _submission_files(submissions) if submissions is not None else None
    with isolated_env(course, sandbox_mode) as scratch:
        if on_sandbox is not None:
            on_sandbox(scratch.describe() + (f"; {jobs} submissions at a time" if jobs > 1 else ""))
        if scratch.warning and scratch.mode == "audit":
            warnings.warn(scratch.warning, RuntimeWarning, stacklevel=2)
        api = course_api(course, db_url=db_url, timeout=timeout, memory_mb=memory_mb, scratch=scratch)
        try:
            release = ensure_assignment(api, assignment)
        except _db_errors() as err:
            raise GradebookUnavailable(_unavailable(api, err, [], students or [])) from err
        if files is not None:
            for student, paths in files.items():
                folder = _folder(api, "submitted") / student / assignment
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                for path in paths:
                    name = next(iter(release)) if len(release) == 1 else path.name
                    shutil.copyfile(path, folder / name)
            students = list(files)
        students = submitted_students(api, assignment) if students is None else list(students)
        policy = deadlines.load(course)
        _write_due_date(api, assignment, policy)
        out: dict[str, dict] = {}
        bar = progress(total=len(students), desc=f"autograde {assignment}", unit="submission",
                       disable=not show_progress)
        try:
            if jobs > 1 and len(students) > 1:
                options = {"db_url": db_url, "timeout": timeout, "memory_mb": memory_mb,
                           "sandbox_mode": scratch.mode}
                _grade_parallel(api, course, assignment, students, release, policy, jobs, options, out, bar)
            if not out or any(r.get("tampered") for r in out.values()):
                for student in students:
                    out[student] = grade_student(api, assignment, student, release, scratch)
                    out[student]["late"] = _lateness(api, assignment, student, policy)
                    bar.update(1)
        except _db_errors() as err:
            raise GradebookUnavailable(_unavailable(api, err, list(out), students), out) from err
        finally:
            bar.close()
    return {student: out[student] for student in students}


class GradebookUnavailable(RuntimeError):
    """The gradebook stopped answering mid-batch; `reports` holds the students graded before it did."""

    def __init__(self, message: str, reports: dict | None = None):
        super().__init__(message)
        self.reports = dict(reports or {})


def _db_errors():
    from sqlalchemy.exc import DBAPIError
    return (DBAPIError,)


def _unavailable(api, err, graded: list[str], students: list[str]) -> str:
    url = api.coursedir.db_url
    shown = url.split("@")[-1] if "@" in url else url  # no password in the message
    left = [s for s in students if s not in graded]
    reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0][:300]
    return (f"the gradebook ({shown}) stopped answering: {reason}. "
            f"{len(graded)} submission(s) were graded and saved before it did; {len(left)} were not"
            + (f" ({', '.join(left[:10])}{', ...' if len(left) > 10 else ''})" if left else "")
            + ". Nothing already in the gradebook was lost: once the database is back, run the same command "
              "again (it grades the batch again, same scores)"
            + (", or only those left with --student ID for each" if left else "") + ".")


def _open_grading_worker(course: Path, options: dict) -> dict:
    """In a parallel_grading worker process: its own sandbox and nbgrader API, closed when it exits; a
    SQLite gradebook's sessions serialised by the batch's file lock."""
    from multiprocessing import util

    from course_lib import parallel_grading
    stack = contextlib.ExitStack()
    scratch = stack.enter_context(isolated_env(course, options["sandbox_mode"]))
    api = course_api(course, db_url=options["db_url"], timeout=options["timeout"],
                     memory_mb=options["memory_mb"], scratch=scratch)
    db = _sqlite_path(api.coursedir.db_url)
    lock = parallel_grading._FileLock(parallel_grading.lock_path(db)) if db is not None else None
    if lock is not None:
        parallel_grading.serialise_gradebook(lock)
    util.Finalize(None, stack.close, exitpriority=10)
    return dict(api=api, scratch=scratch, lock=lock, grade=grade_student)


def _grade_parallel(api, course, assignment, students, release, policy, jobs, options, out, bar) -> None:
    """course_lib.parallel_grading over `students`, lateness recorded here as each finishes. A SQLite
    gradebook is copied first: if a submission changed other students' grades (the sandbox keeps
    kernels away from it; this is the second line), the copy is put back and `out` marks it, so the
    caller grades the batch again one by one, where each submission is checked alone."""
    from course_lib import parallel_grading
    db = _sqlite_path(api.coursedir.db_url)
    lock = parallel_grading._FileLock(parallel_grading.lock_path(db)) if db is not None else None
    backup = None
    if db is not None and db.is_file():
        backup = db.with_name(db.name + ".before-batch")
        shutil.copyfile(db, backup)
    options = dict(options, others=sorted(students))
    held = lock.held if lock is not None else contextlib.nullcontext

    def on_result(student, report):
        with held():
            report["late"] = _lateness(api, assignment, student, policy)
        out[student] = report
        bar.update(1)

    try:
        parallel_grading.grade(course, assignment, students, release, jobs=jobs, options=options,
                               open_worker=_open_grading_worker, on_result=on_result)
        if backup is not None and any(r.get("tampered") for r in out.values()):
            bad = sorted(s for s, r in out.items() if r.get("tampered"))
            warnings.warn(f"submission(s) of {', '.join(bad)} changed other students' grades; the gradebook "
                          "was put back as before the batch, which is graded again one submission at a time",
                          RuntimeWarning, stacklevel=3)
            shutil.copyfile(backup, db)
            with contextlib.suppress(FileNotFoundError):
                Path(str(db) + "-journal").unlink()
            bar.reset()
    finally:
        if backup is not None:
            backup.unlink(missing_ok=True)
        if db is not None:  # the workers have exited: nobody holds it
            parallel_grading.lock_path(db).unlink(missing_ok=True)


def _write_due_date(api, assignment: str, policy) -> None:
    """Put deadlines.toml's due date into nbgrader's gradebook (formgrader shows lateness from it)."""
    due = policy.due.get(assignment)
    if due is None:
        return
    with api.gradebook as gb:
        gb.find_assignment(assignment).duedate = due
        gb.db.commit()


def _due(sub):
    """nbgrader's due date of one submission, its extension included (None when the assignment has none)."""
    return sub.duedate if sub.assignment.duedate is not None else None


def _lateness(api, assignment: str, student: str, policy) -> dict:
    """Record the student's extension from deadlines.toml in the gradebook (nbgrader's own column); their
    lateness, as in grades()."""
    from nbgrader.api import MissingEntry
    with api.gradebook as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return policy.lateness(assignment, student)
        if assignment in policy.due:  # deadlines.toml manages it; else an extension given in nbgrader stays
            sub.extension = policy.extension(assignment, student)
            gb.db.commit()
        return policy.lateness(assignment, student, submitted_at=sub.timestamp,
                               gradebook_due=_due(sub),
                               marker=deadlines.lms_marker(api.coursedir.root, student, assignment))


def _submission_files(submissions) -> dict[str, list[Path]]:
    if not isinstance(submissions, Mapping):
        raise TypeError(f"submissions must map student id -> notebook path(s), got {type(submissions).__name__}")
    for student in submissions:
        grading.check_student_id(student)
    return {student: grading.notebook_paths(student, value) for student, value in submissions.items()}


def autograde_batch(assignment: str, submissions: Mapping[str, object], *, root: Path = REPO_ROOT,
                    workdir: Path | None = None, **options) -> dict[str, dict]:
    """autograde() in a throw-away course folder made from root's assignment: a trial run, or a test.

    Only nbgrader_config.py and solutions/<assignment>/ are copied (the source notebooks leave once
    nbgrader has them in its gradebook); workdir keeps the folder (gradebook, autograded notebooks)
    instead of a temporary one. `options` are autograde()'s.
    """
    if not isinstance(submissions, Mapping):
        raise TypeError(f"submissions must map student id -> notebook path(s), got {type(submissions).__name__}")
    root = Path(root)
    config = grading.load_config(root)
    source_name = grading.source_folder(config)
    if not (root / source_name / assignment).is_dir():
        raise FileNotFoundError(f"no assignment {assignment!r} in {root / source_name}; "
                                f"known: {', '.join(grading.assignments(root)) or 'none'}")
    _submission_files(submissions)  # bad ids and missing files fail before anything is set up
    with contextlib.ExitStack() as stack:
        course = Path(workdir or stack.enter_context(tempfile.TemporaryDirectory(prefix="grade-"))).resolve()
        course.mkdir(parents=True, exist_ok=True)
        if (root / "nbgrader_config.py").is_file():
            shutil.copyfile(root / "nbgrader_config.py", course / "nbgrader_config.py")
        else:
            (course / "nbgrader_config.py").write_text("")
        shutil.copytree(root / source_name / assignment, course / source_name / assignment,
                        ignore=shutil.ignore_patterns(*grading.IGNORE), dirs_exist_ok=True)
        with isolated_env(course, None):
            release = ensure_assignment(course_api(course), assignment)
        release_dir = course / grading.release_folder(config) / assignment
        release_dir.mkdir(parents=True, exist_ok=True)
        for name, nb in release.items():  # autograde() checks each submission against these
            (release_dir / name).write_text(nbformat.writes(nb), encoding="utf-8")
        for nb in (course / source_name / assignment).glob("*.ipynb"):
            nb.unlink()  # nbgrader grades from its gradebook's copy
        options.setdefault("show_progress", False)
        return autograde(assignment, course=course, submissions=submissions, **options)


# --------------------------------------------------------------------------------- feedback and grades
def feedback(assignment: str, *, course: Path | None = None, db_url: str | None = None,
             students: list[str] | None = None) -> list[Path]:
    """Feedback HTML for every autograded submission (or only `students`): course/feedback/<student>/<assignment>/.

    nbgrader's, with course_lib.feedback.StudentFeedback: test names, points and messages, no hidden test
    code or tracebacks; answers still waiting for a grader say so.
    """
    course = course_folder(course)
    with isolated_env(course, None):
        api = course_api(course, db_url=db_url)
        for student in students or [None]:
            result = api.generate_feedback(assignment, student_id=student)
            if not result["success"]:
                raise grading.GradingError(f"nbgrader could not write feedback for {assignment!r}"
                                           + (f" and {student!r}" if student else "") + ":\n"
                                           + str(result.get("error") or result.get("log")))
    pattern = f"*/{assignment}/*.html"
    return sorted(p for p in (course / "feedback").glob(pattern)
                  if students is None or p.parent.parent.name in students)


GRADE_COLUMNS = ["assignment", "student", "score", "max_score", "pending_points", "code_score", "max_code_score",
                 "needs_manual_grade", "submitted_at", "due", "late_hours", "late_source", "penalty_percent",
                 "penalty", "final_score"]


def _pending(sub) -> tuple[float, float]:
    """(points, score counted so far) of a submission's cells that still wait for a person."""
    cells = [g for nb in sub.notebooks for g in nb.grades if g.needs_manual_grade]
    return float(sum(g.max_score or 0.0 for g in cells)), float(sum(g.score or 0.0 for g in cells))


def grades(*, course: Path | None = None, db_url: str | None = None) -> list[dict]:
    """One row per (assignment, submission) in the gradebook, columns GRADE_COLUMNS.

    score counts only points that are graded: a written answer still waiting for a person is in
    pending_points, not a silent 0 (nbgrader's own score counts it as 0). final_score is score minus
    the late penalty (course_lib.deadlines), and stays empty (None) while points are pending.
    """
    course = course_folder(course)
    policy = deadlines.load(course)
    rows = []
    with isolated_env(course, None):
        api = course_api(course, db_url=db_url)
        with api.gradebook as gb:
            for a in sorted(gb.assignments, key=lambda a: a.name):
                for sub in sorted(a.submissions, key=lambda s: s.student_id):
                    pending, pending_score = _pending(sub)
                    score = sub.score - pending_score
                    late = policy.lateness(a.name, sub.student_id, submitted_at=sub.timestamp,
                                           gradebook_due=_due(sub),
                                           marker=deadlines.lms_marker(course, sub.student_id, a.name))
                    penalty = round(score * late["penalty_percent"] / 100.0, 4)
                    rows.append({"assignment": a.name, "student": sub.student_id, "score": score,
                                 "max_score": sub.max_score, "pending_points": pending,
                                 "code_score": sub.code_score, "max_code_score": sub.max_code_score,
                                 "needs_manual_grade": sub.needs_manual_grade, **late, "penalty": penalty,
                                 "final_score": None if pending else round(score - penalty, 4)})
    return rows


def write_csv(rows: list[dict], path: Path, columns: list[str] | None = None) -> Path:
    """Atomically write rows as CSV (default: the long grade table, GRADE_COLUMNS); None is written empty."""
    import csv
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns or GRADE_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def percent(row: dict) -> float:
    """A submission's percentage of the points graded so far (pending written answers left out), after
    any late penalty."""
    graded_max = (row["max_score"] or 0.0) - row.get("pending_points", 0.0)
    earned = row["score"] - row.get("penalty", 0.0)
    return 100.0 * earned / graded_max if graded_max else 0.0


def summary(rows: list[dict], bins: int = 10) -> str:
    """Per assignment: count, mean, median and a text histogram of percentages of the points graded so far.

    A written answer that waits for a person counts neither for nor against the student: the line says how
    many submissions wait and how many points.
    """
    lines = []
    for name in sorted({r["assignment"] for r in rows}):
        mine = [r for r in rows if r["assignment"] == name]
        # a submission with nothing graded yet (nbgrader could not run it) has no percentage
        pct = [percent(r) for r in mine if (r["max_score"] or 0.0) - r.get("pending_points", 0.0) > 0]
        waiting = [r for r in mine if r.get("pending_points")]
        line = (f"{name}: {len(mine)} submissions, mean {statistics.mean(pct):.1f}%, "
                f"median {statistics.median(pct):.1f}% of the points graded so far" if pct
                else f"{name}: {len(mine)} submissions, no points graded yet")
        if waiting:
            points = sum(r["pending_points"] for r in waiting)
            line += (f"; {len(waiting)} wait for a grader ({points:g} point(s) not counted yet)")
        late = [r for r in mine if r.get("late_source")]
        if late:
            line += f"; {len(late)} late"
        lines.append(line)
        counts = [0] * bins
        for p in pct:
            counts[min(max(int(p * bins / 100), 0), bins - 1)] += 1
        for i, n in enumerate(counts):
            lo = 100 * i // bins
            lines.append(f"  {lo:3d}-{lo + 100 // bins:3d}% | {'#' * n} {n if n else ''}".rstrip())
    return "\n".join(lines) if lines else "no graded submissions in the gradebook"


def status(*, course: Path | None = None, db_url: str | None = None) -> list[dict]:
    """Per assignment of the source folder: submitted (folders in submitted/), graded (in the gradebook),
    awaiting manual grading (graded submissions with written answers not yet scored by a person)."""
    course = course_folder(course)
    from nbgrader.api import MissingEntry
    out = []
    with isolated_env(course, None):
        api = course_api(course, db_url=db_url)
        with api.gradebook as gb:
            for name in grading.assignments(course):
                submitted = len(submitted_students(api, name))
                try:
                    subs = gb.find_assignment(name).submissions
                except MissingEntry:
                    subs = []
                out.append({"assignment": name, "submitted": submitted, "graded": len(subs),
                            "awaiting_manual_grading": sum(bool(s.needs_manual_grade) for s in subs)})
    return out
