"""exercises/ is generated from solutions/: byte for byte, with no solution or hidden test in it.

The machinery is tested on a tiny synthetic assignment (tests/grading_helpers.py); the per-assignment
tests at the bottom run on every folder of solutions/.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

import grading_helpers as toy
from course_lib import grading
from course_lib.course import REPO_ROOT

REGENERATE = "python -m course_lib.grading release {name}   (or: make release)"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS",
           "=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")


def tree(folder: Path) -> dict[str, bytes]:
    """relative path -> bytes of every released file (nbgrader's ignored files left out)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(grading._ignored(part) for part in p.relative_to(folder).parts)}


def secret_lines(source_nb) -> set[str]:
    """Every non-blank line inside a solution, hidden-test or mark-scheme region of the source (and of
    solution cells without markers, which nbgrader replaces whole), unless the source also shows that
    line outside those regions (`V = len(stoi)` may be both a solution line and a visible one)."""
    secret, public, inside = set(), set(), False
    for cell in source_nb.cells:
        whole = cell.metadata.get("nbgrader", {}).get("solution") and MARKERS[0] not in cell.source
        for line in cell.source.splitlines():
            if any(m in line for m in MARKERS[0::2]):  # a BEGIN marker
                inside = True
            elif any(m in line for m in MARKERS[1::2]):
                inside = False
            elif line.strip():
                (secret if inside or whole else public).add(line.strip())
    return secret - public


def leaks(source_path: Path, release_path: Path) -> list[str]:
    """Secret lines and markers of the source that appear anywhere in the release notebook's text."""
    source = nbformat.read(source_path, as_version=4)
    released = "\n".join(c.source for c in nbformat.read(release_path, as_version=4).cells)
    released_lines = {line.strip() for line in released.splitlines()}
    found = sorted(line for line in secret_lines(source) if line in released_lines)
    return found + [m for m in MARKERS if m in released]


# --------------------------------------------------------------------------------- synthetic assignment
@pytest.fixture
def course(tmp_path):
    toy.make_course(tmp_path / "course")
    return tmp_path / "course"


def test_release_is_deterministic_and_copies_other_files(course, tmp_path):
    first = grading.generate_release(toy.NAME, root=course)
    again = grading.generate_release(toy.NAME, root=course, out_dir=tmp_path / "again")
    rel = [p.relative_to(course / "exercises") for p in first]
    assert rel == [p.relative_to(tmp_path / "again") for p in again]
    released = tree(course / "exercises" / toy.NAME)
    assert sorted(released) == [f"{toy.NAME}.ipynb", "data/numbers.txt"]  # .ipynb_checkpoints is not released
    assert released == tree(tmp_path / "again" / toy.NAME)
    text = released[f"{toy.NAME}.ipynb"].decode()
    assert text.endswith("}\n") and json.loads(text)["nbformat"] == 4
    assert not [p for p in (course / "exercises").iterdir() if p.name.startswith(".")]  # no staging left


def test_release_equals_nbgrader_generate_assignment(course, tmp_path):
    """Our preprocessor chain gives what `nbgrader generate_assignment` gives, plus the nbval tags."""
    grading.generate_release(toy.NAME, root=course)
    ours = json.loads((course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_text())
    from course_lib import gradebook
    with gradebook.isolated_env(tmp_path):
        api = gradebook.course_api(course, timeout=5, exchange=tmp_path / "exchange")
        result = api.generate_assignment(toy.NAME)
    assert result["success"], result.get("log")
    theirs = json.loads((course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb").read_text())
    (course / "gradebook.db").unlink()
    tagged = []
    for cell in ours["cells"]:
        if grading.RELEASE_TAG in cell["metadata"].get("tags", []):
            cell["metadata"]["tags"].remove(grading.RELEASE_TAG)
            tagged.append(cell["metadata"]["nbgrader"]["grade_id"])
            if not cell["metadata"]["tags"]:
                del cell["metadata"]["tags"]
        if cell["source"] and "".join(cell["source"]).startswith("<!-- badge -->"):
            cell["source"] = ["<!-- badge -->"]  # nbgrader leaves the badge to course_lib.badges
    assert tagged == ["add", "test_add", "root", "test_root"]
    for cell in theirs["cells"]:  # ... and the setup cell too
        if "setup" in cell["metadata"].get("tags", []):
            cell["source"] = [line for c in ours["cells"] if "setup" in c["metadata"].get("tags", [])
                              for line in c["source"]]
    assert ours == theirs


def test_release_badge_points_at_the_exercise(course):
    grading.generate_release(toy.NAME, root=course)
    nb = nbformat.read(course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb", as_version=4)
    from course_lib import badges
    assert badges.find_badge(nb).endswith(f"/exercises/{toy.NAME}/{toy.NAME}.ipynb")
    assert grading.validate(course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb", invert=True) == {}


def test_release_hides_solutions_and_hidden_tests(course):
    grading.generate_release(toy.NAME, root=course)
    source = course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    release = course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb"
    secrets = secret_lines(nbformat.read(source, as_version=4))
    assert {"return a + b  # SECRET-ADD", "assert add(-7, 7) == 0  # HIDDEN-ADD",
            "Because SECRET-WRITTEN."} <= secrets
    assert leaks(source, release) == []
    assert "SECRET" not in release.read_text() and "HIDDEN-" not in release.read_text()
    # the check itself can fail: the source against itself leaks everything
    assert "return a + b  # SECRET-ADD" in leaks(source, source)


def test_validate_source_passes_release_fails_wrong_solution_fails(course, tmp_path):
    grading.generate_release(toy.NAME, root=course)
    source = course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    assert grading.validate(source) == {}
    release = course / "exercises" / toy.NAME / f"{toy.NAME}.ipynb"
    assert grading.validate(release, invert=True) == {}
    assert "failed" in grading.validate(release)  # the release does not pass its tests
    wrong = nbformat.read(source, as_version=4)
    toy.cell(wrong, "root").source = "def root(x):\n    return x"
    nbformat.write(wrong, tmp_path / "wrong.ipynb")
    failed = grading.validate(tmp_path / "wrong.ipynb")["failed"]
    assert len(failed) == 1 and "root(4)" in failed[0]["source"]


def test_regenerating_drops_stale_files_and_a_broken_source_changes_nothing(course):
    grading.generate_release(toy.NAME, root=course)
    stale = course / "exercises" / toy.NAME / "removed_from_solutions.txt"
    stale.write_text("old")
    grading.generate_release(toy.NAME, root=course)
    assert not stale.exists()
    before = tree(course / "exercises" / toy.NAME)
    source = course / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    nb = nbformat.read(source, as_version=4)
    toy.cell(nb, "add").source = "### BEGIN SOLUTION\nreturn 1"  # no END SOLUTION
    nbformat.write(nb, source)
    with pytest.raises(grading.GradingError, match=f"{toy.NAME}.ipynb.*end solution"):
        grading.generate_release(toy.NAME, root=course)
    assert tree(course / "exercises" / toy.NAME) == before
    assert sorted(p.name for p in (course / "exercises").iterdir()) == [toy.NAME]


def test_bad_input_is_named(course, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no assignment 'nope'.*known: {toy.NAME}"):
        grading.generate_release("nope", root=course)
    with pytest.raises(FileNotFoundError, match="no notebook"):
        grading.validate(tmp_path / "missing.ipynb")
    old = tmp_path / "v3.ipynb"
    old.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}))
    with pytest.raises(grading.GradingError, match="nbformat 4 notebooks only, got version 3"):
        grading._read(old)


def test_cli_release(course, capsys):
    assert grading.main(["release", "--all"], root=course) == 0
    assert f"{toy.NAME}: wrote exercises/{toy.NAME}/{toy.NAME}.ipynb" in capsys.readouterr().out
    assert grading.main(["release", "nope"], root=course) == 1
    assert "error: no assignment 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        grading.main(["release"], root=course)


def test_nbgrader_config_maps_the_layout():
    course = grading.load_config(REPO_ROOT).CourseDirectory
    assert (course.source_directory, course.release_directory) == ("solutions", "exercises")
    assert "root" not in course  # nbgrader's root stays the folder it runs in


# ---------------------------------------------------------------------------- the course's assignments
ASSIGNMENTS = grading.assignments()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_match_a_fresh_release(name, tmp_path):
    grading.generate_release(name, out_dir=tmp_path)
    fresh, committed = tree(tmp_path / name), tree(REPO_ROOT / "exercises" / name)
    differ = sorted(p for p in fresh.keys() | committed.keys() if fresh.get(p) != committed.get(p))
    assert not differ, (f"exercises/{name} is not what solutions/{name} generates (differs: {differ}); "
                        f"never edit exercises/ by hand, regenerate: {REGENERATE.format(name=name)}")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_solution_or_hidden_test_leaks(name):
    for source in sorted((REPO_ROOT / "solutions" / name).glob("*.ipynb")):
        release = REPO_ROOT / "exercises" / name / source.name
        assert release.is_file(), f"{release} missing; regenerate: {REGENERATE.format(name=name)}"
        assert secret_lines(nbformat.read(source, as_version=4)), f"{source} has no solution regions"
        assert leaks(source, release) == [], f"{release} shows solution or hidden-test lines"


# The instructor's `validate` on a real assignment. Every assignment's solution earning full marks and its
# release none is asserted by its grading round trip (tests/test_grading.py), hidden tests included.
@pytest.mark.parametrize("name", ASSIGNMENTS[:1])
def test_source_passes_its_tests_and_release_fails_them(name):
    for source in sorted((REPO_ROOT / "solutions" / name).glob("*.ipynb")):
        assert grading.validate(source) == {}, f"{source}: the solution fails its own tests"
        release = REPO_ROOT / "exercises" / name / source.name
        assert grading.validate(release, invert=True) == {}, f"{release}: some tests pass without a solution"


@pytest.mark.parametrize("name", grading.assignments())
def test_every_written_answer_has_a_rubric(name):
    """A person grades written answers: each model answer states its rubric, worth the cell's points."""
    for path in sorted((REPO_ROOT / "solutions" / name).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
                found = re.search(r"Rubric \((\d+(?:\.\d+)?) points?\)", cell.source)
                assert found, f"{path.name}: written answer {meta['grade_id']!r} has no 'Rubric (N points)'"
                assert float(found.group(1)) == float(meta["points"]), (meta["grade_id"], found.group(0))
