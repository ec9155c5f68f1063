"""Feedback on a student's worked addition: find the first wrong step, name the misconception, give a hint.

The tutor lines the student's steps up with a reference scratchpad, column by column. The reference is the
exact solver's (`arithmetic.steps`) by default; it can also be a model's scratchpad, which the solver checks
first (`check_reference`): a tutor must never correct a student against a wrong answer key.
Naming the misconception: run every bug of the library on the same sum and keep those that reproduce the
student's work; when none does exactly (a slip on top of a bug), the nearest one (fewest differing steps).
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.education import arithmetic
from course_lib.education.arithmetic import Step
from course_lib.education.bugs import LIBRARY, consistent_bugs

_PLACES = ("units", "tens", "hundreds", "thousands", "ten-thousands", "hundred-thousands")


def _written(s: Step) -> tuple[int, int, int, int]:
    return s.a, s.b, s.carry_in, s.total                  # what is on the page


def _check_work(student_steps, answer) -> None:
    if not isinstance(student_steps, (list, tuple)) or not all(isinstance(s, Step) for s in student_steps):
        raise TypeError(f"student_steps must be a list of arithmetic.Step, got {type(student_steps).__name__}")
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise TypeError(f"answer must be a whole number (int), got {type(answer).__name__} {answer!r}")


def check_reference(x: int, y: int, reference: list[Step]) -> bool:
    """True when a scratchpad (e.g. a model's) is exactly the solver's: every step and the answer right."""
    right = arithmetic.steps(x, y)
    return [_written(s) for s in reference] == [_written(s) for s in right] and \
        arithmetic.answer_from_steps(reference) == arithmetic.solve(x, y)


def first_wrong_step(x: int, y: int, student_steps: list[Step], answer: int,
                     reference: list[Step] | None = None) -> int | None:
    """Index of the first step that differs from the reference (0 = units column); len(reference) when
    every step is right but the final answer is not; None when the whole work is right.

    A missing step counts as wrong at its index; extra steps after all reference columns count at the first
    extra one.
    """
    _check_work(student_steps, answer)
    ref = arithmetic.steps(x, y) if reference is None else reference
    for i, r in enumerate(ref):
        if i >= len(student_steps) or _written(student_steps[i]) != _written(r):
            return i
    if len(student_steps) > len(ref):
        return len(ref)
    return None if answer == arithmetic.answer_from_steps(ref) else len(ref)


def _distance(a: tuple[list[Step], int], b: tuple[list[Step], int]) -> int:
    """Differing written steps plus 1 for a differing answer (missing steps count as differing)."""
    (sa, ans_a), (sb, ans_b) = a, b
    n = max(len(sa), len(sb))
    diff = sum(1 for i in range(n) if i >= len(sa) or i >= len(sb) or _written(sa[i]) != _written(sb[i]))
    return diff + int(ans_a != ans_b)


def name_misconception(x: int, y: int, student_steps: list[Step], answer: int) -> tuple[str | None, set[str]]:
    """(the bug named, the set of bugs that reproduce the work exactly).

    The name is one of the consistent bugs (library order) when there are any; otherwise the bug whose
    output is nearest the student's work, if it is within two differences; else None (no known bug).
    """
    _check_work(student_steps, answer)
    exact = consistent_bugs(x, y, student_steps, answer)
    if exact:
        return next(name for name in LIBRARY if name in exact), exact
    dist = {name: _distance(bug.run(x, y), (student_steps, answer)) for name, bug in LIBRARY.items()}
    best = min(dist, key=dist.get)                      # min keeps the first in library order on ties
    return (best if dist[best] <= 2 else None), exact


@dataclass(frozen=True)
class Diagnosis:
    first_wrong: int | None           # index of the first wrong step (len(steps) = only the answer is wrong)
    bug: str | None                   # the misconception named (None: right, or no known bug fits)
    consistent: frozenset[str]        # every bug that reproduces the work exactly
    message: str                      # what the tutor says


def place(column: int) -> str:
    return _PLACES[column] if column < len(_PLACES) else f"column {column + 1} from the right"


def diagnose(x: int, y: int, student_steps: list[Step], answer: int,
             reference: list[Step] | None = None) -> Diagnosis:
    """The tutor's whole response: where the work first goes wrong, which misconception, and a hint.

    A `reference` scratchpad that the solver rejects is refused with a ValueError (never grade against it).
    """
    if reference is not None and not check_reference(x, y, reference):
        raise ValueError(f"the reference scratchpad for {x}+{y} is wrong (the solver disagrees): "
                         "the tutor will not mark a student against it")
    ref = arithmetic.steps(x, y) if reference is None else reference
    where = first_wrong_step(x, y, student_steps, answer, ref)
    if where is None:
        return Diagnosis(None, None, frozenset(), f"All correct: {x} + {y} = {answer}.")
    bug, exact = name_misconception(x, y, student_steps, answer)
    if where < len(ref):
        wrote = arithmetic.render_step(student_steps[where]) if where < len(student_steps) else "nothing"
        said = (f"The first mistake is in the {place(where)} column (step {where + 1}): you wrote {wrote}, "
                f"it should be {arithmetic.render_step(ref[where])}.")
    else:
        said = (f"Every column is right, but the answer should be {arithmetic.answer_from_steps(ref)}, "
                f"not {answer}.")
    if bug is None:
        return Diagnosis(where, None, frozenset(exact), said + " Check that step again.")
    return Diagnosis(where, bug, frozenset(exact),
                     f"{said} It looks as if you {LIBRARY[bug].description}. Hint: {LIBRARY[bug].hint}")
