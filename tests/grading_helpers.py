"""A tiny synthetic nbgrader assignment and the student submissions built from it.

The grading machinery is tested on this, not on the course's real assignments, so its tests do not
depend on how a real assignment is written (those get their own per-assignment tests).
"""
from __future__ import annotations

import copy
import html
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


# ------------------------------------------------------------------------- a robustness batch of submissions
# Built from any one-notebook assignment of solutions/ and its release: every way a real class breaks a
# submission, each with the test scores it deserves. Functions are made wrong by wrapping them, so the
# generator needs to know nothing about what an assignment's functions compute.
WRONG = "\n\n" + """for _name in {names!r}:
    def _wrong(*args, _real=globals()[_name], **kwargs):
        {body}
    globals()[_name] = _wrong
"""
ALWAYS_WRONG = "return None  # a wrong answer, whatever the input"
HIDDEN_WRONG = ("import linecache, sys\n"  # right when called from visible test lines, wrong from hidden ones
                "        f = sys._getframe(1)\n"
                "        while f.f_back is not None and f.f_code.co_name != '<module>':\n"
                "            f = f.f_back\n"
                "        above = linecache.getlines(f.f_code.co_filename)[:f.f_lineno - 1]\n"
                "        hidden = any('BEGIN HIDDEN TESTS' in line for line in above)\n"
                "        return None if hidden else _real(*args, **kwargs)")
READ_HIDDEN = '''import glob, json, os
marker = "### BEGIN " + "SOLUTION"  # spelled in two pieces so this cell does not find itself
found = 0
try:
    paths = glob.glob(os.path.join("..", "..", "..", "**", "*.ipynb"), recursive=True)
except OSError:  # the grading sandbox refuses to list the course folder
    paths = []
for path in paths:
    try:
        nb = json.load(open(path))
    except Exception:
        continue
    for c in nb.get("cells", []):
        src = "".join(c.get("source", []))
        if marker in src and c.get("cell_type") == "code":
            found += 1
            exec(src.replace(marker, "").replace("### END " + "SOLUTION", ""))
print("solution cells found:", found)
'''
OVERWRITE_GRADEBOOK = '''import pathlib
for folder in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents][:5]:
    for db in folder.glob("*.db"):
        db.write_bytes(b"not a gradebook any more")
        print("overwrote", db)
'''


def _ids(nb, *, solution: bool) -> list[str]:
    return [c.metadata.nbgrader.grade_id for c in nb.cells if c.cell_type == "code"
            and c.metadata.get("nbgrader", {}).get("solution" if solution else "grade")
            and not (not solution and c.metadata.nbgrader.get("solution"))]


def _defined(source: str) -> list[str]:
    import ast
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def _insert_after(nb, grade_id, source):
    nb.cells.insert(nb.cells.index(cell(nb, grade_id)) + 1, nbformat.v4.new_code_cell(source))


def robustness_cases(release, source) -> dict[str, tuple[object, dict]]:
    """case -> (notebook or raw bytes, expectation) for one assignment.

    expectation: "tests" {test grade_id: points expected}, "error" (True: nbgrader reports a failure),
    "missing" (grade_ids check_submission reports), "restored" (test cells put back).
    """
    points = {c.metadata.nbgrader.grade_id: float(c.metadata.nbgrader.points) for c in release.cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
              and not c.metadata.nbgrader.get("solution")}
    tests, solutions = list(points), _ids(release, solution=True)
    good = solved(release, source)
    full, zero = dict(points), {t: 0.0 for t in tests}
    last = solutions[-1]  # wrong answers go here: only the tests after it can depend on it
    after = [t for t in tests if release.cells.index(cell(release, t)) > release.cells.index(cell(release, last))]
    lose_last = {**full, **{t: 0.0 for t in after}}
    hidden_src = cell(source, after[0]).source
    names = _defined(cell(good, last).source)
    hidden_part = hidden_src.split("### BEGIN HIDDEN TESTS")[-1]
    assert "### BEGIN HIDDEN TESTS" in hidden_src and any(n in hidden_part for n in names), \
        f"{after[0]} has no hidden test calling {names}: the 'fails hidden' case needs one"

    def variant(edit):
        nb = copy.deepcopy(good)
        edit(nb)
        return nb

    def ok(tests=None, **kw):
        return {"tests": full if tests is None else tests, "error": False, "missing": [], "restored": [], **kw}

    first_code = next(i for i, c in enumerate(good.cells) if c.cell_type == "code")
    reader = copy.deepcopy(release)  # a blank submission that looks for solutions in the grader's folders
    reader.cells.append(nbformat.v4.new_code_cell(READ_HIDDEN))
    cases = {
        "correct": (good, ok()),
        "blank": (release, ok(zero)),
        "wrong": (variant(lambda nb: setattr(cell(nb, last), "source", cell(nb, last).source
                                               + WRONG.format(names=names, body=ALWAYS_WRONG))), ok(lose_last)),
        "fails_hidden": (variant(lambda nb: setattr(cell(nb, last), "source", cell(nb, last).source
                                                      + WRONG.format(names=names, body=HIDDEN_WRONG))),
                         ok(lose_last)),
        "raises_at_import": (variant(lambda nb: nb.cells.insert(first_code, nbformat.v4.new_code_cell(
            "import not_a_module_xyz"))), ok()),
        "infinite_loop": (variant(lambda nb: _insert_after(nb, solutions[0], "while True:\n    pass")), ok()),
        "exhausts_memory": (variant(lambda nb: _insert_after(nb, solutions[0], "big = bytearray(3 * 2**30)")),
                            ok()),
        "prints_megabytes": (variant(lambda nb: _insert_after(
            nb, solutions[0], "print('x' * 5_000_000)\nfor i in range(100_000):\n    print(i, 'y' * 50)")), ok()),
        "deletes_test": (variant(lambda nb: nb.cells.remove(cell(nb, tests[-1]))),
                         ok(missing=[tests[-1]], restored=[tests[-1]])),
        "edits_test": (variant(lambda nb: (
            setattr(cell(nb, last), "source", cell(nb, last).source + WRONG.format(names=names, body=ALWAYS_WRONG)),
            [setattr(cell(nb, t), "source", remove_asserts(cell(nb, t).source)) for t in after])),
                       ok(lose_last)),
        "strips_metadata": (variant(lambda nb: [c.metadata.pop("nbgrader", None) for c in nb.cells]),
                            ok(zero, missing=[c.metadata.nbgrader.grade_id for c in release.cells
                                              if "nbgrader" in c.metadata])),
        "renamed": (good, ok()),
        "colab": (variant(lambda nb: (nb.metadata.update(colab={"provenance": []}),
                                      [c.metadata.update(id="colab-" + str(i)) for i, c in enumerate(nb.cells)])),
                  ok()),
        "not_json": (b'{"cells": [ this is not json', {"tests": None, "error": True, "missing": [], "restored": []}),
        "reads_hidden_tests": (reader, ok(zero)),
        # the sandbox refuses the write, so the answers are graded as usual
        "overwrites_gradebook": (variant(lambda nb: _insert_after(nb, solutions[0], OVERWRITE_GRADEBOOK)), ok()),
    }
    return cases


PADDING = ("correct", "wrong", "fails_hidden", "blank")  # more students, to make a class-sized batch


def robustness_batch(assignments: dict[str, tuple], size: int = 40) -> dict[str, list]:
    """assignment -> [(student, notebook or bytes, expectation)], `size` submissions in all (at least one
    of every case).

    assignments: name -> (release notebook, source notebook). The cases are dealt to the assignments in
    turn, so a class-sized batch spans the course and each assignment sees a share of the breakages; then
    copies of PADDING cases, still in turn, until the batch has `size` submissions.
    """
    per = {name: robustness_cases(*nbs) for name, nbs in assignments.items()}
    names = list(per)
    out = {name: [] for name in names}
    for i, case in enumerate(per[names[0]]):            # every assignment has the same case names
        name = names[i % len(names)]
        out[name].append((case, *per[name][case]))
    i = 0
    while sum(map(len, out.values())) < size:
        name = names[i % len(names)]
        case = PADDING[(i // len(names)) % len(PADDING)]
        out[name].append((f"{case}_{i:02d}", *per[name][case]))
        i += 1
    return out


def feedback_text(page: str) -> str:
    """What a student reads in a feedback page: without its style sheets, scripts and tags."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def hidden_lines(source_nb) -> list[str]:
    """The non-empty lines of every hidden test block in a source notebook."""
    return [line.strip() for c in source_nb.cells if "### BEGIN HIDDEN TESTS" in c.source
            for block in c.source.split("### BEGIN HIDDEN TESTS")[1:]
            for line in block.split("### END HIDDEN TESTS")[0].splitlines() if line.strip()]


# ------------------------------------------------------------------------- what an instructor does mid-term
def grade_by_hand(root: Path, students, points: float = 1.0) -> None:
    """A person scores the written answer of each student that waits for one (as formgrader does)."""
    from course_lib import gradebook
    with gradebook.isolated_env(root, None):
        with gradebook.course_api(root).gradebook as gb:
            for student in students:
                grade = gb.find_grade("answer", NAME, NAME, student)
                if grade.needs_manual_grade:
                    grade.manual_score, grade.needs_manual_grade = points, False
            gb.db.commit()


def add_hidden_test(root: Path, line: str) -> None:
    """Add `line` to the hidden tests of test_root in root/solutions (a test fixed mid-term)."""
    path = Path(root) / "solutions" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(path, as_version=4)
    test = cell(nb, "test_root")
    test.source = test.source.replace("### END HIDDEN TESTS", f"{line}\n### END HIDDEN TESTS")
    nbformat.write(nb, path)
