"""Grading round trips: the solution earns every autograded point, the untouched release none, and a
batch with broken submissions (exception, infinite loop, deleted or edited test cell, stripped metadata)
is graded in one call, each with the score it deserves.

The machinery is tested on the synthetic assignment of tests/grading_helpers.py; the per-assignment
round trip at the bottom runs on every folder of solutions/.
"""
from __future__ import annotations

import copy
import os

import nbformat
import pytest

import grading_helpers as toy
import mistake_runner
from course_lib import grading, gradebook
from course_lib.course import REPO_ROOT

TOY_TIMEOUT = 2   # seconds per cell: the toy's cells take milliseconds
REAL_TIMEOUT = 10  # the slowest cell of 01_foundations (imports torch) takes ~1.6 s; the loop costs this


def _variants(release, source) -> dict[str, nbformat.NotebookNode]:
    """Submissions of the toy assignment, by student id."""
    good = toy.solved(release, source)
    out = {"good": good, "blank": release}
    out["raises"] = copy.deepcopy(good)  # the `add` cell fails at its import: `add` never gets defined
    toy.cell(out["raises"], "add").source = "import not_a_module_xyz\n" + toy.cell(good, "add").source
    out["loop"] = copy.deepcopy(good)  # loops before defining `root`: interrupted after TOY_TIMEOUT
    toy.cell(out["loop"], "root").source = "while True:\n    pass\n" + toy.cell(good, "root").source
    out["deleted"] = copy.deepcopy(good)
    out["deleted"].cells.remove(toy.cell(out["deleted"], "test_root"))
    out["edited"] = copy.deepcopy(good)  # a wrong `root`, and the asserts that would catch it removed
    toy.cell(out["edited"], "root").source = "def root(x):\n    return x"
    edited = toy.cell(out["edited"], "test_root")
    edited.source = toy.remove_asserts(edited.source)
    out["stripped"] = copy.deepcopy(good)  # an editor that drops unknown metadata
    for c in out["stripped"].cells:
        c.metadata.pop("nbgrader", None)
    out["colab"] = copy.deepcopy(good)  # what a Colab download adds
    out["colab"].metadata["colab"] = {"provenance": []}
    for c in out["colab"].cells:
        c.metadata["id"] = "x" + c.get("id", "0")
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One autograde call over the whole toy batch (about 2 s a submission)."""
    root = tmp_path_factory.mktemp("toy")
    toy.make_course(root)
    grading.generate_release(toy.NAME, root=root)
    release_path = root / "exercises" / toy.NAME / f"{toy.NAME}.ipynb"
    source_path = root / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    release, source = (nbformat.read(p, as_version=4) for p in (release_path, source_path))
    submissions = {"solution": source_path}
    for student, nb in _variants(release, source).items():
        path = root / "inbox" / f"{student}.ipynb"  # any file name: one notebook per assignment
        path.parent.mkdir(exist_ok=True)
        nbformat.write(nb, path)
        submissions[student] = path
    work = root / "work"
    scores = gradebook.autograde_batch(toy.NAME, submissions, root=root, timeout=TOY_TIMEOUT, workdir=work)
    return scores, work / "autograded"


def _cells(report):
    return {gid: c["score"] for gid, c in report["cells"].items() if gid.startswith("test_")}


def test_whole_batch_is_graded(batch):
    scores, _ = batch
    assert sorted(scores) == sorted(["solution", "good", "blank", "raises", "loop", "deleted", "edited",
                                     "stripped", "colab"])
    for student, report in scores.items():
        assert report["error"] is None, f"{student}: {report['error']}"
        assert report["max_code_score"] == sum(toy.TEST_POINTS.values())
        assert report["max_score"] == sum(toy.TEST_POINTS.values()) + toy.WRITTEN_POINTS
        assert report["code_score"] == sum(_cells(report).values())


@pytest.mark.parametrize("student", ["solution", "good", "colab"])
def test_correct_submissions_earn_every_autograded_point(batch, student):
    report = batch[0][student]
    assert _cells(report) == toy.TEST_POINTS
    assert report["missing_grade_ids"] == [] and report["restored_tests"] == []
    # the written answer waits for a person
    assert report["cells"]["answer"] == {"score": 0.0, "max_score": 1.0, "auto_score": None,
                                         "needs_manual_grade": True}


def test_untouched_release_earns_nothing(batch):
    assert _cells(batch[0]["blank"]) == {"test_add": 0.0, "test_root": 0.0}


def test_an_exception_fails_only_the_tests_that_need_the_cell(batch):
    assert _cells(batch[0]["raises"]) == {"test_add": 0.0, "test_root": 2.0}


def test_infinite_loop_is_interrupted_and_grading_goes_on(batch):
    scores, autograded = batch
    assert _cells(scores["loop"]) == {"test_add": 1.0, "test_root": 0.0}
    nb = nbformat.read(autograded / "loop" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    errors = [o for o in toy.cell(nb, "root").outputs if o.output_type == "error"]
    assert errors and errors[0].ename in ("CellTimeoutError", "KeyboardInterrupt"), errors
    later = toy.cell(nb, "test_root").outputs  # the next cell still ran after the interrupt
    assert [o.ename for o in later if o.output_type == "error"] == ["NameError"]


def test_deleted_test_cell_is_put_back_and_graded(batch):
    scores, autograded = batch
    report = scores["deleted"]
    assert report["missing_grade_ids"] == ["test_root"] and report["restored_tests"] == ["test_root"]
    assert _cells(report) == toy.TEST_POINTS
    nb = nbformat.read(autograded / "deleted" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    assert "HIDDEN-ROOT" in toy.cell(nb, "test_root").source  # hidden tests ran too


def test_edited_test_cell_is_restored_by_nbgrader(batch):
    scores, autograded = batch
    assert _cells(scores["edited"]) == {"test_add": 1.0, "test_root": 0.0}
    nb = nbformat.read(autograded / "edited" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    test = toy.cell(nb, "test_root")
    assert test.source.startswith("assert root(4) == 2") and "HIDDEN-ROOT" in test.source
    assert any(o.output_type == "error" and o.ename == "AssertionError" for o in test.outputs)


def test_stripped_metadata_is_reported_and_scores_zero(batch):
    report = batch[0]["stripped"]
    assert report["missing_grade_ids"] == ["intro", "imports", "add", "test_add", "root", "test_root",
                                           "why", "answer"]
    assert report["code_score"] == 0.0


def test_autograde_writes_only_inside_its_temporary_folder(tmp_path, monkeypatch):
    root = tmp_path / "course"
    toy.make_course(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    release = root / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR")
    scores = gradebook.autograde_batch(toy.NAME, {"s1": release}, root=root, timeout=TOY_TIMEOUT)
    assert scores["s1"]["code_score"] == 3.0
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert list(scratch.iterdir()) == []
    assert os.environ.get("JUPYTER_RUNTIME_DIR") == runtime


def test_check_submission_and_restore_deleted_tests():
    release = toy.toy_notebook()  # the source's grade ids are the release's
    sub = copy.deepcopy(release)
    assert grading.check_submission(release, sub) == []
    sub.cells = [c for c in sub.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id") not in ("root", "test_root")]
    assert grading.check_submission(release, sub) == ["root", "test_root"]
    # test_root goes back after the last cell before it that is still there (test_add); root stays gone
    assert grading.restore_deleted_tests(release, sub) == ["test_root"]
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in sub.cells]
    assert ids[ids.index("test_add") + 1] == "test_root"
    assert grading.restore_deleted_tests(release, sub) == []


def test_bad_input_is_named(tmp_path):
    root = tmp_path / "course"
    toy.make_course(root)
    nb = root / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    with pytest.raises(TypeError, match="must map student id"):
        gradebook.autograde_batch(toy.NAME, [nb], root=root)
    with pytest.raises(ValueError, match="student ids must be.*'../x'"):
        gradebook.autograde_batch(toy.NAME, {"../x": nb}, root=root)
    with pytest.raises(FileNotFoundError, match="submission of 'ann': no file or folder"):
        gradebook.autograde_batch(toy.NAME, {"ann": tmp_path / "nothing.ipynb"}, root=root)
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds per cell, got 0"):
        gradebook.autograde_batch(toy.NAME, {"ann": nb}, root=root, timeout=0)
    with pytest.raises(FileNotFoundError, match="no assignment 'nope'"):
        gradebook.autograde_batch("nope", {"ann": nb}, root=root)


# ---------------------------------------------------------------------------- the course's assignments
def _real_variants(release, source) -> tuple[dict[str, nbformat.NotebookNode], list[str]]:
    """Submissions built from a real assignment, by student id, and its test cells' grade ids."""
    good = toy.solved(release, source)  # what a perfect student hands in
    solution_ids = [c.metadata.nbgrader.grade_id for c in release.cells
                    if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    test_ids = [c.metadata.nbgrader.grade_id for c in release.cells
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                and not c.metadata.nbgrader.get("solution")]
    out = {"good": good, "blank": release}
    first_code = next(i for i, c in enumerate(good.cells) if c.cell_type == "code")
    out["raises"] = copy.deepcopy(good)  # a student's own cell that fails at import, above everything
    out["raises"].cells.insert(first_code, nbformat.v4.new_code_cell("import not_a_module_xyz"))
    out["loop"] = copy.deepcopy(good)  # a stray infinite loop after the first solution
    out["loop"].cells.insert(out["loop"].cells.index(toy.cell(out["loop"], solution_ids[0])) + 1,
                             nbformat.v4.new_code_cell("while True:\n    pass"))
    out["deleted"] = copy.deepcopy(good)
    out["deleted"].cells.remove(toy.cell(out["deleted"], test_ids[-1]))
    # the last solution left as the stub, with and without every assert of every test cell removed
    out["wrong"] = copy.deepcopy(good)
    toy.cell(out["wrong"], solution_ids[-1]).source = toy.cell(release, solution_ids[-1]).source
    out["edited"] = copy.deepcopy(out["wrong"])
    for gid in test_ids:
        toy.cell(out["edited"], gid).source = toy.remove_asserts(toy.cell(out["edited"], gid).source)
    return out, test_ids


def _bank_variants(name, release) -> tuple[dict[str, nbformat.NotebookNode], str]:
    """From the assignment's mistake bank: its first mistake and its first other correct answer, each put
    into a perfect submission; and the test cell of the part the mistake is in."""
    bank, a = mistake_runner.load_bank(name), mistake_runner.Assignment(name)
    out = {}
    for student, entry in (("mistake", next(iter(bank.MISTAKES.values()))),
                           ("honest", next(iter(bank.HONEST.values())))):
        nb = toy.solved(release, a.source)
        toy.cell(nb, entry["cell"]).source = a.variant_source(entry["cell"], entry.get("replace"), entry.get("code"))
        out[student] = nb
    return out, a.part_test[next(iter(bank.MISTAKES.values()))["cell"]]


ASSIGNMENTS = grading.assignments()


# The ways a submission breaks the grader's run (a failing import, an infinite loop, a deleted or edited test
# cell) are properties of the grading pipeline, not of one assignment's tests; tests/test_instructor_batch.py
# grades them in a class-sized batch (COURSE_GRADING_BATCH=all deals them across every assignment). Here they
# run in full on the first assignment only, and every assignment gets the submissions that depend on its own
# tests: perfect, blank, and (with a mistake bank) one common mistake and one answer written differently.
# ("wrong", the last part left as the stub, is the baseline "edited" is compared with; elsewhere the blank
# release, every part a stub, already fails every test.)
PIPELINE_CASES = ("solution", "raises", "loop", "deleted", "wrong", "edited")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_round_trip(name, tmp_path):
    sources = sorted((REPO_ROOT / "solutions" / name).glob("*.ipynb"))
    assert len(sources) == 1, "the round trip builds submissions for one-notebook assignments"
    source_path = sources[0]
    release_path = REPO_ROOT / "exercises" / name / source_path.name
    release, source = (nbformat.read(p, as_version=4) for p in (release_path, source_path))
    variants, test_ids = _real_variants(release, source)
    pipeline = name == ASSIGNMENTS[0]
    if not pipeline:
        variants = {student: nb for student, nb in variants.items() if student not in PIPELINE_CASES}
    banked = name in mistake_runner.banks()
    if banked:
        more, mistake_part = _bank_variants(name, release)
        variants.update(more)
    submissions = {"solution": source_path} if pipeline else {}
    for student, nb in variants.items():
        submissions[student] = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, submissions[student])
    scores = gradebook.autograde_batch(name, submissions, timeout=REAL_TIMEOUT, workdir=tmp_path / "course",
                                       jobs=2)  # two at a time, as a class is graded
    full = scores["good"]["max_code_score"]
    assert full > 0 and set(test_ids) <= set(scores["good"]["cells"])
    for student, report in scores.items():
        assert report["error"] is None, f"{student}: {report['error']}"
    tests = {s: {g: r["cells"][g]["score"] for g in test_ids} for s, r in scores.items()}
    for student in ("good", "solution", "raises", "loop", "deleted") if pipeline else ("good",):
        assert scores[student]["code_score"] == full, (student, tests[student])
    assert scores["blank"]["code_score"] == 0, tests["blank"]
    if pipeline:
        assert tests["wrong"][test_ids[-1]] == 0, "leaving the last solution as the stub must fail its tests"
        assert scores["deleted"]["restored_tests"] == [test_ids[-1]]
        assert tests["edited"] == tests["wrong"], "nbgrader restores edited test cells: removing asserts gains nothing"
    # The perfect submission ran every cell, hidden tests included, without an error; the untouched release
    # raised only in its stubs and test cells. That is what nbval of solutions/ and exercises/ checked, so when
    # this test is collected nbval's run of those two notebooks is deselected (tests/conftest.py).
    for student, may_raise in (("good", lambda meta: False),
                               ("blank", lambda meta: meta.get("solution") or meta.get("grade"))):
        graded = nbformat.read(next((tmp_path / "course" / "autograded" / student / name).glob("*.ipynb")),
                               as_version=4)
        assert sum(c.cell_type == "code" for c in graded.cells) == sum(c.cell_type == "code" for c in source.cells)
        failed = [f"cell {i}: {o.ename}: {o.evalue}" for i, c in enumerate(graded.cells) if c.cell_type == "code"
                  and not may_raise(c.metadata.get("nbgrader", {}))
                  for o in c.get("outputs", []) if o.output_type == "error"]
        assert not failed, f"{student}, graded, has errors outside the cells allowed to raise: {failed}"
    if banked:  # an answer written differently earns everything; one common mistake costs only its part
        assert scores["honest"]["code_score"] == full, tests["honest"]
        points = {g: scores["good"]["cells"][g]["max_score"] for g in test_ids}
        assert tests["mistake"] == {**points, mistake_part: 0.0}, tests["mistake"]
    visible = "\n".join(c.source for c in release.cells)  # lines the student's own copy shows anyway
    hidden = [line for line in toy.hidden_lines(source)
              if len(line) > 12 and not line.startswith("#") and line not in visible]
    assert hidden, "no hidden test lines to look for"
    pages = gradebook.feedback(name, course=tmp_path / "course")
    assert len(pages) == len(submissions)
    for page in pages:
        text = toy.feedback_text(page.read_text())
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{page.parent.parent.name}'s feedback shows hidden test lines: {leaked[:3]}"
