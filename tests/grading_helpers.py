"""A tiny synthetic nbgrader assignment and the student submissions built from it.

The grading machinery is tested on this, not on the course's real assignments, so its tests do not
depend on how a real assignment is written (those get their own per-assignment tests).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

NAME = "00_toy"
# grade_id -> points of the autograded test cells; the written answer is graded by hand.
TEST_POINTS = {"test_add": 1.0, "test_root": 2.0}
WRITTEN_POINTS = 1.0


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def toy_notebook() -> nbformat.NotebookNode:
    """Two autograded functions (visible + hidden tests), a written answer, a read-only intro."""
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    cells = [
        v4.new_markdown_cell("# Toy assignment\nRead-only instructions.", metadata=_meta("intro", locked=True)),
        v4.new_markdown_cell("<!-- badge -->"),  # filled by course_lib.badges with the notebook's own path
        v4.new_code_cell("# setup", metadata={"tags": ["setup"]}),
        v4.new_code_cell("import math", metadata=_meta("imports", locked=True)),
        v4.new_code_cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b  # SECRET-ADD\n"
                         "    ### END SOLUTION", metadata=_meta("add", solution=True)),
        v4.new_code_cell("assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(-7, 7) == 0  # HIDDEN-ADD\n"
                         "### END HIDDEN TESTS", metadata=_meta("test_add", grade=True, locked=True, points=1)),
        v4.new_code_cell("def root(x):\n    ### BEGIN SOLUTION\n    return math.sqrt(x)  # SECRET-ROOT\n"
                         "    ### END SOLUTION", metadata=_meta("root", solution=True)),
        v4.new_code_cell("assert root(4) == 2\n### BEGIN HIDDEN TESTS\nassert root(9) == 3  # HIDDEN-ROOT\n"
                         "### END HIDDEN TESTS", metadata=_meta("test_root", grade=True, locked=True, points=2)),
        v4.new_markdown_cell("Why does `root` need `math`?", metadata=_meta("why", locked=True)),
        v4.new_markdown_cell("### BEGIN SOLUTION\nBecause SECRET-WRITTEN.\n### END SOLUTION",
                             metadata=_meta("answer", grade=True, solution=True, points=1)),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"toy-{i}"  # fixed ids: the synthetic source is the same bytes every run
    nb.cells = cells
    return nb


def make_course(root: Path) -> Path:
    """root/solutions/00_toy/ with the notebook and a data file; returns the assignment folder."""
    folder = Path(root) / "solutions" / NAME
    (folder / "data").mkdir(parents=True)
    nbformat.write(toy_notebook(), folder / f"{NAME}.ipynb")
    (folder / "data" / "numbers.txt").write_text("1 2 3\n")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "junk.txt").write_text("not released\n")
    (Path(root) / "nbgrader_config.py").write_text(
        (Path(__file__).resolve().parent.parent / "nbgrader_config.py").read_text())
    return folder


def strip_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def solved(release_nb, source_nb) -> nbformat.NotebookNode:
    """What a perfect student hands in: the release with every solution cell filled from the source."""
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in source_nb.cells if "nbgrader" in c.metadata}
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = strip_solution_markers(by_id[meta["grade_id"]].source)
    return nb


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def remove_asserts(source: str) -> str:
    """An 'edited' test cell: every assert replaced by pass."""
    return re.sub(r"^(\s*)assert .*$", r"\1pass", source, flags=re.M)
