"""A bug library of addition misconceptions, in the spirit of Brown & Burton's BUGGY (1978).

A "bug" is a consistent wrong procedure, not a random slip: a student who forgets to carry forgets every
time. Each bug here is a function (x, y) -> (steps the student writes, final answer), the steps in the same
`arithmetic.Step` form as the correct scratchpad (a wrong step is allowed: its fields may disagree, e.g. a
carry dropped), so the tutor can compare the two column by column.

Some bugs look identical on some items (a sum with no carry is right under every carry bug): the set of
bugs that reproduce a piece of work exactly is `consistent_bugs`, and a diagnosis is scored against it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from course_lib.education.arithmetic import Step, answer_from_steps, n_digits, solve, steps

Work = tuple[list[Step], int]   # (the steps a student writes, the final answer)


@dataclass(frozen=True)
class Bug:
    name: str                                    # short identifier, e.g. "forgets to carry"
    description: str                             # what the student does, said to them ("you ...")
    hint: str                                    # what a teacher would say next
    run: Callable[[int, int], Work]


def _columns(x: int, y: int) -> list[tuple[int, int, int]]:
    """(column, a, b) for each column of the longer number, units first."""
    return [(c, x // 10**c % 10, y // 10**c % 10) for c in range(max(n_digits(x), n_digits(y)))]


def _written(column: int, a: int, b: int, carry_in: int, total: int) -> Step:
    """The step a student writes: they believe `total`; they keep its last digit and carry the rest (0 or 1)."""
    return Step(column, a, b, carry_in, total, total % 10, min(total // 10, 1))


def _check(x, y) -> None:
    steps(x, y)                                  # the same clear TypeError/ValueError as the solver


def forgets_carry(x: int, y: int) -> Work:
    _check(x, y)
    work = [_written(c, a, b, 0, a + b) for c, a, b in _columns(x, y)]
    work = [Step(s.column, s.a, s.b, 0, s.total, s.digit, 0) for s in work]   # the carry is never written
    return work, int("".join(str(s.digit) for s in reversed(work)))


def carries_two_left(x: int, y: int) -> Work:
    """The carry is written two columns to the left instead of one."""
    _check(x, y)
    work, pending, answer = [], {}, 0
    for c, a, b in _columns(x, y):
        carry_in = pending.pop(c, 0)
        s = _written(c, a, b, carry_in, a + b + carry_in)
        work.append(s)
        answer += s.digit * 10**c
        if s.carry_out:
            pending[c + 2] = 1
    for c, carry in pending.items():             # carries that landed past the last column are written there
        answer += carry * 10**c
    return work, answer


def carries_twice(x: int, y: int) -> Work:
    """The carry is added twice: 5+6+1 becomes 13 (the student writes +1 but adds 2)."""
    _check(x, y)
    work, carry = [], 0
    for c, a, b in _columns(x, y):
        s = _written(c, a, b, carry, a + b + 2 * carry)
        work.append(s)
        carry = s.carry_out
    return work, answer_from_steps(work)


def writes_whole_total(x: int, y: int) -> Work:
    """Each column's whole total is written down (15 in the units, 11 in the tens...), nothing carried."""
    work, _ = forgets_carry(x, y)
    return work, int("".join(str(s.total) for s in reversed(work)))


def drops_last_carry(x: int, y: int) -> Work:
    """Right in every column, but the carry out of the last column is never written in front."""
    work = steps(x, y)
    return work, int("".join(str(s.digit) for s in reversed(work)))


def lines_up_left(x: int, y: int) -> Work:
    """The shorter number is lined up under the left end of the longer one (358+67 done as 358+670)."""
    _check(x, y)
    shift = abs(n_digits(x) - n_digits(y))
    xs, ys = (x, y * 10**shift) if n_digits(x) >= n_digits(y) else (x * 10**shift, y)
    work = steps(xs, ys)
    return work, solve(xs, ys)


def subtracts_smaller(x: int, y: int) -> Work:
    """In each column the smaller digit is taken from the larger (the operation mixed up with subtraction)."""
    _check(x, y)
    work = [Step(c, a, b, 0, abs(a - b), abs(a - b), 0) for c, a, b in _columns(x, y)]
    return work, int("".join(str(s.digit) for s in reversed(work)))


def carries_always(x: int, y: int) -> Work:
    """A 1 is carried into every column after the units, whether the column before made ten or not."""
    _check(x, y)
    work = []
    for c, a, b in _columns(x, y):
        work.append(_written(c, a, b, int(c > 0), a + b + int(c > 0)))
    return work, answer_from_steps(work)


LIBRARY: dict[str, Bug] = {b.name: b for b in [
    Bug("forgets to carry", "add each column but never carry the ten to the next column",
        "When a column adds up to 10 or more, write only the last digit and carry the 1 to the next column.",
        forgets_carry),
    Bug("carries two columns left", "carry the 1, but into the column two places to the left",
        "The carry goes to the very next column on the left: units carry into the tens, tens into the hundreds.",
        carries_two_left),
    Bug("adds the carry twice", "write the carried 1 but add it as 2",
        "Add the carried 1 exactly once: a + b + 1.", carries_twice),
    Bug("writes the whole column total", "write the full total of each column (like 15) instead of carrying",
        "Only one digit fits in each column: write the last digit of the total and carry the ten.",
        writes_whole_total),
    Bug("drops the last carry", "carry correctly but forget the carry out of the last column",
        "If the leftmost column makes ten or more, its carry becomes a new digit at the front of the answer.",
        drops_last_carry),
    Bug("lines up on the left", "write the shorter number under the left end of the longer one",
        "Line the numbers up on the right: units under units, tens under tens.", lines_up_left),
    Bug("subtracts the smaller digit", "take the smaller digit from the larger one in each column",
        "This is an addition: in each column add the two digits (and any carry).", subtracts_smaller),
    Bug("always carries", "carry a 1 into every column, even when the column before made less than ten",
        "Carry only when a column adds up to 10 or more.", carries_always),
]}


def same_work(a: Work, b: Work) -> bool:
    """Two pieces of work are the same when every written step (a+b+carry=total) and the answer agree."""
    (sa, ans_a), (sb, ans_b) = a, b
    key = lambda s: (s.a, s.b, s.carry_in, s.total)   # noqa: E731 - what is written on the page
    return ans_a == ans_b and [key(s) for s in sa] == [key(s) for s in sb]


def consistent_bugs(x: int, y: int, student_steps: list[Step], answer: int) -> set[str]:
    """Names of every bug in the library that reproduces this work exactly (empty: no known bug does)."""
    return {name for name, bug in LIBRARY.items() if same_work(bug.run(x, y), (student_steps, answer))}


def random_sum(rng: random.Random, max_digits: int = 4) -> tuple[int, int]:
    """Two whole numbers of 1..max_digits digits each (lengths drawn independently, so they often differ)."""
    def number():
        d = rng.randint(1, max_digits)
        return rng.randint(10 ** (d - 1) if d > 1 else 0, 10**d - 1)
    return number(), number()


def add_slip(work: Work, rng: random.Random) -> Work:
    """The same work with one careless slip on top: one column's total off by one (its digit, and the
    answer's digit in that column, with it). A bug is systematic; a slip is not."""
    work_steps, answer = work
    i = rng.randrange(len(work_steps))
    s = work_steps[i]
    delta = 1 if s.total % 10 < 9 else -1                  # stay within the column: no new carry from a slip
    new = Step(s.column, s.a, s.b, s.carry_in, s.total + delta, (s.total + delta) % 10, s.carry_out)
    return work_steps[:i] + [new] + work_steps[i + 1:], answer + delta * 10**s.column


def buggy_bank(n: int, seed: int = 0, max_digits: int = 4, bugs: list[str] | None = None,
               slip: float = 0.0) -> list[dict]:
    """n buggy worked solutions: each a dict with x, y, bug (its name), steps, answer, clean_steps,
    clean_answer (the work before any slip) and slipped (bool).

    Bugs take turns; for each, sums are drawn until the bug actually changes the work (a right answer is not
    a buggy solution). With probability `slip` a careless slip (`add_slip`) is added on top of the bug.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip is a probability in [0, 1], got {slip}")
    names = list(LIBRARY) if bugs is None else bugs
    unknown = [b for b in names if b not in LIBRARY]
    if unknown or not names:
        raise ValueError(f"bugs must be names from {sorted(LIBRARY)}, got {names!r}")
    rng, bank = random.Random(seed), []
    for i in range(n):
        bug = LIBRARY[names[i % len(names)]]
        while True:
            x, y = random_sum(rng, max_digits)
            work = bug.run(x, y)
            if not same_work(work, (steps(x, y), solve(x, y))):
                break
        slipped = rng.random() < slip
        shown = add_slip(work, rng) if slipped else work
        bank.append({"x": x, "y": y, "bug": bug.name, "steps": shown[0], "answer": shown[1],
                     "clean_steps": work[0], "clean_answer": work[1], "slipped": slipped})
    return bank
