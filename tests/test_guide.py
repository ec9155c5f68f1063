"""docs/instructor_guide.md, executed: every `bash` block runs, in order, in a fresh course folder.

So the guide and the software cannot drift apart: a renamed option, a verb that fails or a file the
guide forgets to mention fails this test. The course folder holds the toy assignment under the name the
guide uses (01_foundations), so grading takes seconds; the real assignments have their own round trips.

Blocks are steered by an HTML comment on the line before them (invisible on GitHub):
    <!-- guide-test: skip=REASON -->     not run here (the guide says why in its text too)
    <!-- guide-test: needs=bwrap -->     run only where bubblewrap is installed
    <!-- guide-test: cwd=PATH -->        run in PATH, relative to the course folder (default: the course folder)
    <!-- guide-test: write=FILE -->      a file the guide shows: written into the course folder first
GitHub addresses in the private-copy steps stand for local bare repositories (no network here).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

import grading_helpers as toy
from course_lib import grading
from course_lib.course import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "instructor_guide.md"
NAME = "01_foundations"
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
NOTE = re.compile(r"^\s*<!-- guide-test: (.*) -->\s*$")


def blocks(text: str) -> list[dict]:
    """Fenced blocks: {"lang", "code" (indent removed), "line", "notes": {key: value}}."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        note = NOTE.match(lines[i - 1]) if i else None
        notes = dict(part.strip().partition("=")[::2] for part in note.group(1).split(";")) if note else {}
        indent, start = len(m.group(1)), i
        i += 1
        body = []
        while lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        out.append({"lang": m.group(2), "code": "\n".join(body) + "\n", "line": start + 1, "notes": notes})
        i += 1
    return out


def test_the_guide_parser_sees_every_block():
    found = blocks(GUIDE.read_text())
    assert len([b for b in found if b["lang"] == "bash"]) >= 8
    skipped = [b for b in found if "skip" in b["notes"]]
    assert skipped and all(b["notes"]["skip"].strip() for b in skipped), "a skipped block must say why"
    known = {"skip", "needs", "cwd", "write", "GitHub addresses stand for local bare repositories"}
    assert {k for b in found for k in b["notes"]} <= known


def _git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def _course(work: Path) -> Path:
    """A fresh course folder as a clone of this repository would be, with the toy as 01_foundations."""
    course = work / "genai-course"
    folder = toy.make_course(course)
    folder.rename(course / "solutions" / NAME)
    (course / "solutions" / NAME / f"{toy.NAME}.ipynb").rename(course / "solutions" / NAME / f"{NAME}.ipynb")
    for name in ("pyproject.toml", ".gitignore", "README.md"):
        shutil.copyfile(REPO_ROOT / name, course / name)
    grading.generate_release(NAME, root=course)  # the committed release, as in the repository
    _git("init", "-q", "-b", "main", cwd=course)
    _git("add", "-A", cwd=course)
    _git("commit", "-qm", "course", cwd=course)
    return course


def _inputs(course: Path, home: Path) -> None:
    """The files the guide's commands read: an LMS zip, an inbox folder, a Canvas download."""
    release = nbformat.read(course / "exercises" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "solutions" / NAME / f"{NAME}.ipynb", as_version=4)
    good, blank = nbformat.writes(toy.solved(release, source)), nbformat.writes(release)
    (home / "Downloads").mkdir(parents=True)
    with zipfile.ZipFile(home / "Downloads" / f"{NAME}-submissions.zip", "w") as zf:
        zf.writestr(f"alice_{NAME}.ipynb", good)
        zf.writestr(f"bob/{NAME}.ipynb", blank)
    (home / "inbox").mkdir()
    (home / "inbox" / f"carol_{NAME}.ipynb").write_text(good)
    with zipfile.ZipFile(course / "canvas.zip", "w") as zf:
        zf.writestr(f"smithalice_LATE_12345_678901_{NAME}.ipynb", good)


def _local(code: str, remotes: Path) -> str:
    """GitHub addresses of the private-copy steps, pointed at local bare repositories."""
    code = code.replace("https://github.com/<owner>/genai-course.git", f"file://{remotes}/genai-course.git")
    code = code.replace("git@github.com:<you>/", f"file://{remotes}/")
    return code.replace("<you>", "teacher").replace("<owner>", "genai-course")


def test_every_command_of_the_guide_runs(tmp_path):
    work, home, remotes = tmp_path / "work", tmp_path / "home", tmp_path / "remotes"
    course = _course(work)
    _inputs(course, home)
    remotes.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(course), str(remotes / "genai-course.git")], check=True)
    for name in ("genai-course-private.git", "genai-course-2027.git"):  # made empty on GitHub first
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remotes / name)], check=True)
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_CONFIG_NOSYSTEM": "1"}

    found = blocks(GUIDE.read_text())
    for block in found:
        if "write" in block["notes"]:
            (course / block["notes"]["write"]).write_text(block["code"])
    ran, skipped = [], []
    for block in (b for b in found if b["lang"] == "bash"):
        notes = block["notes"]
        if "skip" in notes or (notes.get("needs") == "bwrap" and shutil.which("bwrap") is None):
            skipped.append(block["line"])
            continue
        code = _local(block["code"], remotes) if "GitHub addresses stand for local bare repositories" in notes \
            else block["code"]
        cwd = (course / notes.get("cwd", ".")).resolve()
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, (f"guide line {block['line']} failed (exit {done.returncode}):\n{code}\n"
                                      f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
        ran.append(block["line"])
    assert len(ran) >= 7, (ran, skipped)

    # what the commands should have left behind
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "asmith", "bob", "carol"]
    assert (course / "feedback" / "alice" / NAME / f"{NAME}.html").is_file()
    canvas = (course / "grades-canvas.csv").read_text().splitlines()
    assert canvas[0] == f"Student,ID,SIS User ID,SIS Login ID,Section,{NAME}" and canvas[2].startswith("Alice Smith,12345,")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=course,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert status == ["?? deadlines.toml"], f"student data git would commit: {status}"  # the dates are yours
    assert (work / "genai-course-private" / "solutions" / NAME).is_dir()
    public = remotes / "genai-course-2027.git"
    log = subprocess.run(["git", "--git-dir", str(public), "log", "--all", "-p"], capture_output=True, text=True,
                         check=True).stdout
    paths = subprocess.run(["git", "--git-dir", str(public), "log", "--all", "--name-only", "--format="],
                           capture_output=True, text=True, check=True).stdout.split()
    assert f"exercises/{NAME}/{NAME}.ipynb" in paths and not [p for p in paths if p.startswith("solutions/")]
    assert not any(secret in log for secret in ("HIDDEN-ADD", "HIDDEN-ROOT", "SECRET-ADD", "SECRET-WRITTEN"))


def _plan_time(seconds: float) -> str:
    """How the semester plan writes a notebook's full-mode time."""
    return f"~{seconds:.0f} s" if seconds < 60 else f"~{seconds / 60:.1f} min"


def test_semester_plan_agrees_with_the_benchmarks_and_the_solutions():
    """Notebook times come from benchmarks/RESULTS.md (the one source; `genai-course bench` rewrites it),
    points from the solutions' nbgrader metadata: the plan's table must say the same."""
    results = (REPO_ROOT / "benchmarks" / "RESULTS.md").read_text()
    full = {m[1]: float(m[2]) for m in re.finditer(r"\| notebooks/(\w+)\.ipynb \| full \| ([\d.]+) \|", results)}
    plan = GUIDE.read_text().split("## Semester plan")[1].split("\n## ")[0]
    said = dict(re.findall(r"`(\d\d_\w+)` \((~[\d.]+ (?:s|min))\)", plan))
    assert said and set(said) <= set(full), sorted(set(said) - set(full))
    assert {nb: said[nb] for nb in said} == {nb: _plan_time(full[nb]) for nb in said}
    assert sorted(said) == sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))

    points = dict(re.findall(r"`(\d\d_\w+)` \((\d+ autograded \+ \d+ written)\)", plan))
    for name in grading.assignments():
        auto = written = 0
        for path in sorted((REPO_ROOT / "solutions" / name).glob("*.ipynb")):
            for cell in grading._read(path).cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade"):
                    written += meta["points"] if meta.get("solution") else 0
                    auto += 0 if meta.get("solution") else meta["points"]
        assert points.get(name) == f"{auto:g} autograded + {written:g} written", name
