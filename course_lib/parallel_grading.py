"""Autograde several submissions at once (`genai-course autograde NAME --jobs N`).

Each worker is its own process with its own grading sandbox (course_lib.gradebook.isolated_env: its
kernelspec, sockets, attempt log and temporary folder), so every submission is still graded alone: its
kernel sandboxed, one thread, the per-cell timeout and the memory limit. What the workers share is the
gradebook:

- **SQLite** takes one writer at a time, and two connections that read and then write in the same
  transaction can fail at once with "database is locked" instead of waiting. nbgrader opens a short
  `Gradebook` session for each step (create the submission, read the tests, save the grades) and
  never holds one while a kernel runs, so each worker takes an exclusive file lock
  (`<gradebook>.lock`, fcntl) for the life of every session: gradebook access is serialised across
  the workers, kernels run in parallel.
- **PostgreSQL** (any server database) takes the workers' sessions concurrently: each writes only its
  own student's rows.

The main process prepares the assignment and the due date first, hands out students as workers free
up (an infinite loop holds up one worker, not the batch), and records lateness after each result.
"""
from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

_state: dict = {}  # per worker process: the open grading environment and nbgrader API


# ------------------------------------------------------------------------------ SQLite: one at a time
class _FileLock:
    """A re-entrant exclusive flock held by this process (threads share it: nbgrader is single-threaded)."""

    def __init__(self, path: Path):
        self.path, self.depth, self.fd = Path(path), 0, None
        self.mutex = threading.RLock()

    def acquire(self) -> None:
        self.mutex.acquire()
        if self.depth == 0:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.depth += 1

    def release(self) -> None:
        self.depth -= 1
        if self.depth == 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        self.mutex.release()

    @contextlib.contextmanager
    def held(self):
        self.acquire()
        try:
            yield
        finally:
            self.release()


def lock_path(db: Path) -> Path:
    return Path(str(db) + ".lock")


def serialise_gradebook(lock: _FileLock) -> None:
    """Make every nbgrader Gradebook session in this process hold `lock` from its creation to close()."""
    from nbgrader import api
    if getattr(api.Gradebook, "_course_lock", None) is lock:
        return
    original_init = getattr(api.Gradebook, "_course_init", api.Gradebook.__init__)
    original_close = getattr(api.Gradebook, "_course_close", api.Gradebook.close)

    def __init__(self, *args, **kwargs):
        lock.acquire()
        self._course_locked = True
        try:
            original_init(self, *args, **kwargs)
        except BaseException:
            self._course_locked = False
            lock.release()
            raise

    def close(self):
        try:
            original_close(self)
        finally:
            if getattr(self, "_course_locked", False):
                self._course_locked = False
                lock.release()

    api.Gradebook._course_init, api.Gradebook._course_close = original_init, original_close
    api.Gradebook.__init__, api.Gradebook.close, api.Gradebook._course_lock = __init__, close, lock


# ---------------------------------------------------------------------------------------- the worker
def _start_worker(open_worker, course: str, options: dict, release: dict, tempdir: str | None) -> None:
    """Pool initializer: open_worker(course, options) opens this worker's sandbox and nbgrader API (the
    caller's module-level function, closed when the worker exits) and returns them with its `grade`."""
    if tempdir:
        tempfile.tempdir = tempdir  # where the parent puts its scratch folders (tests point it elsewhere)
    _state.update(open_worker(Path(course), options), release=release, assignment=options["assignment"],
                  others=options["others"])


def _grade_one(student: str) -> dict:
    s = _state
    return s["grade"](s["api"], s["assignment"], student, s["release"], s["scratch"], lock=s["lock"],
                      others=s["others"])


_task = _grade_one  # what a worker does with one student (a test swaps in a hostile one)


def grade(course: Path, assignment: str, students: list[str], release: dict, *, jobs: int, options: dict,
          open_worker, on_result) -> None:
    """Grade `students` in `jobs` worker processes, each set up by open_worker (see _start_worker: a
    module-level function, so the pool can send it); on_result(student, report) in the main process as
    each finishes (in completion order). A worker's exception is raised here once the running ones finish."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked kernel clients or locks
    opts = dict(options, assignment=assignment)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_start_worker,
                             initargs=(open_worker, str(course), opts, release, tempfile.gettempdir())) as pool:
        futures = {pool.submit(_task, student): student for student in students}
        try:
            for future in as_completed(futures):
                on_result(futures[future], future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
