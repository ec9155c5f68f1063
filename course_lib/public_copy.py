"""Build the students' public repository from the instructor's private one, without solutions or history.

A private course repository (solutions/ with changed hidden tests) cannot be made public by deleting
solutions/ in a commit: the history still holds every hidden test. So the public repository is generated:
each run takes the private repository's last commit (git archive HEAD: uncommitted work is not taken),
leaves out the private paths (the nbgrader source folder, solutions/, and the mistake banks
tests/mistakes/, which hold worked solutions), checks that no line of a solution or hidden test is left
anywhere in what remains, points the Colab badges and setup cells at the public repository, and records
the result as ONE new commit on the public repository's own history. Nothing is ever merged, so updating
after upstream changes (pull them into the private repository, then run this again) has no conflicts.

    genai-course public-copy ../genai-course-public --repository https://github.com/you/genai-course-2027
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from course_lib import badges, grading
from course_lib.course import course_folder

PRIVATE = ("tests/mistakes",)  # besides the source folder (solutions/): worked answers live here
MIN_SECRET = 16  # shorter lines ("return x", "pass") say nothing and appear everywhere


class PublicCopyError(RuntimeError):
    """The public copy cannot be made safely; the message says why and changes nothing."""


def _git(*args, cwd: Path, check: bool = True, data: bytes | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True)
    if check and done.returncode != 0:
        raise PublicCopyError(f"git {' '.join(args)} in {cwd} failed: {done.stderr.decode(errors='replace').strip()}")
    return done


def _toplevel(folder: Path) -> Path | None:
    done = _git("rev-parse", "--show-toplevel", cwd=folder, check=False)
    return Path(done.stdout.decode().strip()).resolve() if done.returncode == 0 else None


def secret_lines(source: Path, release: Path) -> dict[str, str]:
    """line -> kind ("hidden test" or "model answer") of what the solutions in `source` hold and the release
    in `release` does not show.

    Solution code is not listed: it mirrors course_lib and the lectures, which are public by design (the
    tests reject an answer that only calls course_lib), so it is kept out by leaving out solutions/ and
    the mistake banks, not by this check.
    """
    shown = set()
    for path in release.rglob("*.ipynb"):
        shown |= {line.strip() for cell in grading._read(path).cells for line in cell.source.splitlines()}
    found = {}
    for path in sorted(source.rglob("*.ipynb")):
        for cell in grading._read(path).cells:
            for block in cell.source.split("### BEGIN HIDDEN TESTS")[1:]:
                found.update({line.strip(): "hidden test" for line in block.split("### END HIDDEN TESTS")[0]
                              .splitlines()})
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "markdown" and meta.get("solution"):  # a model answer and its rubric
                found.update({line.strip(): "model answer" for line in cell.source.splitlines()
                              if "### " not in line})
    return {line: kind for line, kind in found.items()
            if line not in shown and len(line) >= MIN_SECRET and (kind != "hidden test" or _distinctive(line))}


def _distinctive(line: str) -> bool:
    """A hidden-test line worth hiding: an assertion, a string, or a number of its own; not boilerplate such
    as `g = torch.Generator().manual_seed(1)` or `except ValueError:` that any test file may hold."""
    return bool(re.search(r"assert|==|[\"']|\d\.\d|\d\d", line))


def leaks(tree: Path, secrets: dict[str, str]) -> list[str]:
    """'file: kind: line' for each secret line in a file of `tree` (also as escaped in a notebook's JSON)."""
    needles = {s: (s, json.dumps(s)[1:-1]) for s in secrets}
    out = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and ".git" not in p.relative_to(tree).parts):
        rel = path.relative_to(tree)
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for secret, forms in needles.items():
            if any(form in text for form in forms):
                out.append(f"{rel}: {secrets[secret]}: {secret}")
                break
    return out


def _set_repository(tree: Path, repository: str, branch: str) -> None:
    """Point pyproject.toml's [tool.genai-course] at the public repository; rewrite every badge from it."""
    badges.colab_url("x", repository, branch)  # checks the URL's form before anything changes
    pyproject = tree / "pyproject.toml"
    if not pyproject.is_file() or "[tool.genai-course]" not in pyproject.read_text():
        raise PublicCopyError("--repository needs pyproject.toml with a [tool.genai-course] table in the course")
    text = pyproject.read_text()
    head, _, rest = text.partition("[tool.genai-course]")
    table, sep, tail = rest.partition("\n[")
    table = re.sub(r'(?m)^repository\s*=.*$', f'repository = "{repository}"', table)
    table = re.sub(r'(?m)^branch\s*=.*$', f'branch = "{branch}"', table)
    pyproject.write_text(head + "[tool.genai-course]" + table + sep + tail)
    badges.write_all(tree)


def build(dest: Path, *, course: Path | None = None, repository: str | None = None, branch: str = "main",
          exclude: tuple[str, ...] = ()) -> dict:
    """Make or update the public repository at `dest`; returns {"commit", "changed", "removed", "dest"}.

    course: the private course folder (a git repository's top folder). exclude: more paths to leave out.
    Refuses (PublicCopyError, dest untouched) when dest is inside the private repository, has uncommitted
    changes, or when a solution or hidden-test line would reach it.
    """
    course = course_folder(course)
    top = _toplevel(course)
    if top != course:
        raise PublicCopyError(f"{course} must be the top folder of a git repository (the private course) "
                              f"to make a public copy of its last commit; git says {top or 'none'}")
    dest = Path(dest).expanduser().resolve()
    if dest == course or course in dest.parents:
        raise PublicCopyError(f"{dest} is inside the private repository {course}: choose a folder outside it")
    config = grading.load_config(course)
    private = (grading.source_folder(config), *PRIVATE, *exclude)
    head = _git("rev-parse", "--short", "HEAD", cwd=course).stdout.decode().strip()
    with tempfile.TemporaryDirectory(prefix="public-copy-") as tmp:
        snapshot, tree = Path(tmp) / "private", Path(tmp) / "public"
        archive = _git("archive", "--format=tar", "HEAD", cwd=course).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(snapshot, filter="data")
        secrets = secret_lines(snapshot / private[0], snapshot / grading.release_folder(config))
        shutil.copytree(snapshot, tree, symlinks=True)
        for rel in private:
            target = tree / rel
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        if repository:
            _set_repository(tree, repository.rstrip("/"), branch)
        found = leaks(tree, secrets)
        if found:
            raise PublicCopyError("solution or hidden-test lines would be made public (leave these files out with "
                                  "--exclude PATH, or remove the lines):\n  " + "\n  ".join(found[:20]))
        fresh = not dest.exists()
        if fresh:
            dest.mkdir(parents=True)
            _git("init", "-q", "-b", branch, cwd=dest)
        elif _toplevel(dest) != dest:
            raise PublicCopyError(f"{dest} exists and is not the top folder of a git repository: "
                                  "give a new folder or the public copy made before")
        dirty = _git("status", "--porcelain", cwd=dest).stdout.decode()
        if dirty:
            raise PublicCopyError(f"{dest} has uncommitted changes; the public copy is generated and overwrites "
                                  f"edits, so commit or remove them first:\n{dirty.rstrip()}")
        tracked = _git("ls-files", "-z", cwd=dest).stdout.decode().split("\0")
        for rel in filter(None, tracked):
            (dest / rel).unlink(missing_ok=True)
        shutil.copytree(tree, dest, symlinks=True, dirs_exist_ok=True)
        _git("add", "-A", cwd=dest)
        status = _git("diff", "--cached", "--name-status", cwd=dest).stdout.decode().splitlines()
        if not status:
            return {"commit": None, "changed": 0, "removed": 0, "dest": dest}
        who = [] if _git("config", "user.email", cwd=dest, check=False).stdout.strip() else \
            ["-c", "user.name=genai-course public-copy", "-c", "user.email=public-copy@localhost"]
        _git(*who, "commit", "-q", "-m", f"Public copy of the course (private commit {head}, without "
                                          f"{', '.join(private)})", cwd=dest)
        commit = _git("rev-parse", "--short", "HEAD", cwd=dest).stdout.decode().strip()
    return {"commit": commit, "changed": sum(not s.startswith("D") for s in status),
            "removed": sum(s.startswith("D") for s in status), "dest": dest}
