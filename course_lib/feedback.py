"""Feedback a student can be given: each test's name, points and message, never the hidden tests' code.

nbgrader renders the autograded notebook as feedback HTML, and that notebook holds the hidden tests
(restored from the gradebook) and every traceback, whose lines quote them. That is by design in nbgrader
(its issue #917), and it would hand next year's hidden tests to this year's class. StudentFeedback
replaces nbgrader's GetGrades in the feedback chain (course_lib.gradebook.feedback sets it):

- a test cell shows only its visible part (what the release already showed), a line naming the test
  with its score, and, when it failed, the error's type and message (the test's own hint), no traceback;
- an answer that waits for a person says so, so a score seen before manual grading is not mistaken for
  the final one.
"""
from __future__ import annotations

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

HIDDEN_NOTE = "# (hidden tests of this cell are not shown)"


class StudentFeedback(GetGrades):
    """GetGrades (scores and comments from the gradebook), then hide test code and mark pending answers."""

    def preprocess(self, nb, resources):
        self._clear = ClearHiddenTests(config=self.config)
        self.waiting = []  # (grade_id, points) of answers no person has graded yet
        nb, resources = super().preprocess(nb, resources)
        if self.waiting:  # said first, under the score that nbgrader's template prints
            points = sum(p for _, p in self.waiting)
            names = ", ".join(f"{gid} ({p:g} point(s))" for gid, p in self.waiting)
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                f"**Not final: {len(self.waiting)} answer(s) worth {points:g} point(s) are waiting for a grader:** "
                f"{names}. The score below counts them as 0 for now."))
        return nb, resources

    def _needs_person(self, cell) -> bool:
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        return bool(grade.needs_manual_grade)

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if not (utils.is_grade(cell) or utils.is_task(cell)):
            return cell, resources
        meta = cell.metadata["nbgrader"]
        if cell.cell_type == "code" and not utils.is_solution(cell):  # an autograder test cell
            had_hidden = self._clear._remove_hidden_test_region(cell)
            score, points = meta.get("score"), meta.get("points")
            header = f"# test {meta['grade_id']}: {score:g} of {points:g} point(s)" if score is not None \
                else f"# test {meta['grade_id']}"
            cell.source = "\n".join([header, cell.source.rstrip()] + ([HIDDEN_NOTE] if had_hidden else []))
            cell.outputs = [_message_only(out) if out.get("output_type") == "error" else out
                            for out in cell.get("outputs", [])]
        elif self._needs_person(cell):
            self.waiting.append((meta["grade_id"], meta.get("points") or 0))
            note = "**Waiting for a grader:** the points of this answer are not counted yet."
            if cell.cell_type == "markdown":
                cell.source = note + "\n\n" + cell.source
            else:
                cell.source = "# " + note.replace("**", "") + "\n" + cell.source
        return cell, resources


def _message_only(out):
    """An error output reduced to 'Type: message' (a traceback would quote the hidden lines)."""
    message = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".rstrip(": ")
    if out.get("ename") == "AssertionError" and not out.get("evalue"):
        message = "AssertionError: a test failed (it has no message of its own)"
    return nbformat.v4.new_output("stream", name="stderr", text=message + "\n")
