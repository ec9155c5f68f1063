"""Feedback HTML names each test, its points and its message, and never shows hidden test code."""
from __future__ import annotations

import nbformat
import pytest

import grading_helpers as toy
from course_lib import gradebook, grading


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    root = tmp_path_factory.mktemp("feedback")
    toy.make_course(root / "source")
    source_path = root / "source" / "solutions" / toy.NAME / f"{toy.NAME}.ipynb"
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.reads(grading.release_notebook(source_path, f"exercises/{toy.NAME}/{toy.NAME}.ipynb",
                                                      grading.load_config(root / "source")), as_version=4)
    good = toy.solved(release, source)
    hidden_only = nbformat.from_dict(good)  # right on the visible test (root(4) == 2), wrong on the hidden one
    toy.cell(hidden_only, "root").source = "def root(x):\n    return 2"
    inbox = root / "inbox"
    inbox.mkdir()
    paths = {}
    for student, nb in {"good": good, "hidden_only": hidden_only, "blank": release}.items():
        paths[student] = inbox / f"{student}.ipynb"
        nbformat.write(nb, paths[student])
    course = root / "course"
    gradebook.autograde_batch(toy.NAME, paths, root=root / "source", workdir=course, timeout=10)
    files = gradebook.feedback(toy.NAME, course=course)
    pages = {p.parent.parent.name: toy.feedback_text(p.read_text()) for p in files}
    return source, pages


def test_no_hidden_test_code_in_any_feedback(feedback):
    source, pages = feedback
    hidden = toy.hidden_lines(source)
    assert hidden  # the toy has hidden tests to leak
    assert sorted(pages) == ["blank", "good", "hidden_only"]
    for student, text in pages.items():
        for line in hidden:
            assert line not in text, f"{student}'s feedback shows the hidden test line {line!r}"
        assert "Traceback" not in text and "HIDDEN-" not in text


def test_each_test_is_named_with_its_points_and_message(feedback):
    _, pages = feedback
    assert "# test test_add: 1 of 1 point(s)" in pages["good"]
    assert "# test test_root: 2 of 2 point(s)" in pages["good"]
    assert "# test test_root: 0 of 2 point(s)" in pages["hidden_only"]
    assert "AssertionError: a test failed" in pages["hidden_only"]
    assert "assert root(4) == 2" in pages["hidden_only"]  # the visible part stays: the student had it
    assert "(hidden tests of this cell are not shown)" in pages["hidden_only"]
    assert "NotImplementedError" in pages["blank"] or "# test test_add: 0 of 1 point(s)" in pages["blank"]


def test_answers_waiting_for_a_grader_say_so(feedback):
    _, pages = feedback
    assert "Waiting for a grader" in pages["good"]
