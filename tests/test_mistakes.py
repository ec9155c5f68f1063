"""Every assignment's mistake bank: each common mistake fails a visible test or self-check with a message
that names it, and costs only its own part when graded; other correct answers earn everything.

The banks live in tests/mistakes/<assignment>.py; tests/mistake_runner.py executes the cells in this
process (one namespace per variant, set-up cells run once per assignment), so the whole bank takes seconds.
"""
from __future__ import annotations

import functools

import pytest

from course_lib import grading
import mistake_runner as runner


@functools.lru_cache(maxsize=None)
def assignment(name: str) -> runner.Assignment:
    return runner.Assignment(name)


def _cases(kind: str):
    return [pytest.param(name, key, id=f"{name}-{key}")
            for name in runner.banks() for key in getattr(runner.load_bank(name), kind)]


def _swap(a: runner.Assignment, entry: dict) -> dict[str, str]:
    return {entry["cell"]: a.variant_source(entry["cell"], entry.get("replace"), entry.get("code"))}


def test_every_assignment_has_a_bank():
    assert runner.banks() == grading.assignments()


@pytest.mark.parametrize("name", runner.banks())
def test_solution_passes_every_test_in_the_runner(name):
    a = assignment(name)
    for hidden in (False, True):
        run = a.run(hidden=hidden)
        assert not run.failures, run.messages()


@pytest.mark.parametrize("name", runner.banks())
def test_bank_covers_every_part_and_the_library_answer(name):
    a, bank = assignment(name), runner.load_bank(name)
    cells = {m["cell"] for m in bank.MISTAKES.values()}
    assert cells == set(a.answers), f"parts without a mistake in the bank: {sorted(set(a.answers) - cells)}"
    library = [k for k, m in bank.MISTAKES.items() if "course_lib" in m.get("code", "") + str(m.get("replace"))]
    assert library, "the bank needs an answer that only calls course_lib's version"
    assert all(set(m) <= {"cell", "replace", "code", "expect"} and m["expect"] for m in bank.MISTAKES.values())


@pytest.mark.parametrize(("name", "key"), _cases("MISTAKES"))
def test_mistake_fails_visibly_with_its_name(name, key):
    a = assignment(name)
    entry = runner.load_bank(name).MISTAKES[key]
    run = a.run(_swap(a, entry))
    assert run.failures, f"{key}: passes every visible test and self-check"
    raw = [f for f in run.failures if f.where != "self-check" and f.kind != "AssertionError"]
    assert not raw, f"{key}: a visible test fails with a raw error instead of its hint:\n{run.messages()}"
    expect = entry["expect"].lower()
    named = [f for f in run.failures if expect in f.message.lower()]
    assert named, f"{key}: no visible failure says {entry['expect']!r}; the student sees:\n{run.messages()}"


@pytest.mark.parametrize(("name", "key"), _cases("MISTAKES"))
def test_mistake_costs_only_its_part(name, key):
    a = assignment(name)
    entry = runner.load_bank(name).MISTAKES[key]
    run = a.run(_swap(a, entry), hidden=True)
    assert run.failed_cells() == {a.part_test[entry["cell"]]}, run.messages()
    raw = [f for f in run.failures if f.kind != "AssertionError"]
    assert not raw, f"{key}: graded, a test fails with a raw error instead of a hint:\n{run.messages()}"


@pytest.mark.parametrize(("name", "key"), _cases("HONEST"))
def test_other_correct_answers_pass_everything(name, key):
    a = assignment(name)
    entry = runner.load_bank(name).HONEST[key]
    for hidden in (False, True):
        run = a.run(_swap(a, entry), hidden=hidden)
        assert not run.failures, f"{key} ({'hidden' if hidden else 'visible'} tests):\n{run.messages()}"
