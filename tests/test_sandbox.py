"""Adversarial submissions against the grading sandbox (course_lib.sandbox), in both of its modes.

Each hostile student hands in a correct solution plus one cell that tries to escape: read the hidden
tests, write outside its folder, open the gradebook, leave a process running, fill the disk, reach the
network. Each must be graded on its answers (full marks, no error), with nothing read, written or left
running, and the attempt logged. Under bubblewrap where it runs here; the audit-only fallback always.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

import grading_helpers as toy
from course_lib import gradebook, sandbox

TIMEOUT = 20
MODES = ["bwrap", "audit"]


def _cases(course: Path, outside: Path, marker: str, port: int) -> dict[str, str]:
    """student -> the extra cell it hands in (paths are absolute: the worst case for the sandbox)."""
    source = course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    return {
        "reads_solutions": f"""
import glob, os
found, paths = [], [{str(source)!r}]
try:
    paths += glob.glob("../../../**/*.ipynb", recursive=True)
except OSError as err:
    print("refused:", type(err).__name__)
for path in paths:
    try:
        found.append(open(path).read())
    except OSError as err:
        print("refused:", type(err).__name__)
print("SECRET" in "".join(found))
""",
        "writes_outside": f"""
for path in [{str(outside / "escaped.txt")!r}, {str(course / "solutions" / "pwned.txt")!r}, "../../../pwned.txt"]:
    try:
        open(path, "w").write("escaped")
    except OSError as err:
        print("refused:", type(err).__name__)
""",
        "opens_gradebook": f"""
import sqlite3
con = sqlite3.connect({str(course / "gradebook.db")!r})
con.execute("UPDATE grade SET manual_score = 100")
con.commit()
""",
        "leaves_a_process": f"""
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # {marker}"], start_new_session=True)
""",
        "fills_the_disk": """
with open("fill.bin", "wb") as f:
    for _ in range(2048):
        f.write(bytes(2**20))  # 2 GiB in 1 MiB pieces
""",
        "bypasses_the_hook": f"""
import ctypes
libc = ctypes.CDLL(None)  # C's open() raises no audit event: only the file system can stop it
fd = libc.open({str(source).encode()!r}, 0)
print("C-level open of the solutions:", "READ" if fd >= 0 else "not there")
""",
        "uses_the_network": f"""
import socket
socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"hidden tests, please")
""",
    }


def _listener():
    """A local TCP server that records whether anything connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                seen.append(conn.recv(100))
                conn.close()
            except OSError:
                continue
    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], seen, lambda: (stop.set(), server.close())


def _running(marker: str) -> dict[int, str]:
    """pid -> command line of every process whose command line holds `marker`."""
    out = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text:
            out[int(cmdline.parent.name)] = text
    return out


@pytest.fixture(scope="module", params=MODES)
def graded(request, tmp_path_factory):
    mode = request.param
    if mode == "bwrap" and sandbox.bwrap_problem():
        pytest.skip(f"bubblewrap cannot run here ({sandbox.bwrap_problem()}); the audit-only fallback is tested")
    root = tmp_path_factory.mktemp(f"sandbox-{mode}")
    course = root / "course"
    toy.make_course(course)
    outside = root / "outside"
    outside.mkdir()
    release = gradebook.grading.release_notebook(course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb",
                                                 f"exercises/{toy.NAME}/{toy.NAME}.ipynb",
                                                 gradebook.grading.load_config(course))
    source = nbformat.read(course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    good = toy.solved(nbformat.reads(release, as_version=4), source)
    marker = f"sandbox-survivor-{uuid.uuid4().hex}"
    port, seen, stop = _listener()
    cases = _cases(course, outside, marker, port)
    inbox = root / "inbox"
    inbox.mkdir()
    submissions = {"honest": inbox / "honest.ipynb"}
    nbformat.write(good, submissions["honest"])
    for student, code in cases.items():
        nb = nbformat.from_dict(good)
        nb.cells.insert(nb.cells.index(toy.cell(nb, "add")) + 1, nbformat.v4.new_code_cell(code))
        submissions[student] = inbox / f"{student}.ipynb"
        nbformat.write(nb, submissions[student])
    lines = []
    try:
        reports = gradebook.autograde(toy.NAME, course=course, submissions=submissions, timeout=TIMEOUT,
                                      sandbox_mode=mode, show_progress=False, on_sandbox=lines.append)
        time.sleep(1)  # a survivor would still be there now
        survivors = _running(marker)
    finally:
        stop()
        for pid in _running(marker):  # never leave one behind, even when the test fails
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    return {"mode": mode, "course": course, "outside": outside, "reports": reports, "lines": lines,
            "survivors": survivors, "connections": seen, "cases": cases}


def test_the_sandbox_in_use_is_announced(graded):
    assert len(graded["lines"]) == 1
    if graded["mode"] == "bwrap":
        assert graded["lines"][0].startswith("sandbox: bubblewrap")
    else:
        assert "audit hook only" in graded["lines"][0]
    assert {r["sandbox"] for r in graded["reports"].values()} == {graded["mode"]}


def test_every_hostile_submission_is_graded_on_its_answers(graded):
    for student, report in graded["reports"].items():
        assert report["error"] is None, f"{student}: {report['error']}"
        assert report["code_score"] == sum(toy.TEST_POINTS.values()), f"{student}: {report['cells']}"
    assert graded["reports"]["honest"]["sandbox_log"] == []


@pytest.mark.parametrize("student", ["reads_solutions", "writes_outside", "opens_gradebook", "uses_the_network"])
def test_each_attempt_is_refused_and_logged(graded, student):
    log = graded["reports"][student]["sandbox_log"]
    assert log, f"{student}: nothing logged"
    saved = graded["course"] / "sandbox_log" / toy.NAME / f"{student}.txt"
    assert saved.read_text().splitlines() == log


def test_nothing_is_read(graded):
    out = _outputs(graded, "reads_solutions")
    assert "False" in out and "True" not in out, out


def test_nothing_is_written_outside(graded):
    course = graded["course"]
    assert list(graded["outside"].iterdir()) == []
    assert not (course / "solutions" / "pwned.txt").exists()
    assert not list(course.rglob("pwned.txt")) and not list(course.parent.glob("pwned.txt"))


def test_the_gradebook_is_untouched(graded):
    with sqlite3.connect(graded["course"] / "gradebook.db") as con:
        assert con.execute("SELECT count(*) FROM grade WHERE manual_score = 100").fetchone() == (0,)


def test_no_process_outlives_its_kernel(graded):
    assert graded["survivors"] == {}


def test_the_disk_is_not_filled(graded):
    out = _outputs(graded, "fills_the_disk")
    assert "No space left on device" in out or "File too large" in out or "OSError" in out, out
    left = list((graded["course"] / "autograded").rglob("fill.bin"))
    if graded["mode"] == "bwrap":
        assert left == []  # it was written to the kernel's RAM disk, gone with it
    else:
        assert all(p.stat().st_size <= sandbox.FILE_MB * 2**20 for p in left)


def test_the_network_is_unreachable(graded):
    assert graded["connections"] == []


def _outputs(graded, student) -> str:
    path = graded["course"] / "autograded" / student / toy.NAME / f"{toy.NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = graded["cases"][student].strip()
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.strip() == code)
    return "\n".join(o.get("text", "") + o.get("ename", "") + o.get("evalue", "") for o in cell.outputs)


def test_bubblewrap_holds_where_the_hook_is_bypassed(graded):
    """C code goes around the audit hook; under bubblewrap the hidden tests are simply not there."""
    out = _outputs(graded, "bypasses_the_hook")
    if graded["mode"] != "bwrap":
        pytest.skip("audit-only mode does not stop C code (the guide says so)")
    assert "C-level open of the solutions: not there" in out, out
