"""Multi-digit addition as text: the exact steps, the three formats a model reads and writes, the verifier.

Why a module of its own: every other piece of the tutor (the GPT's training data, the practice generator, the
bug library, the feedback) speaks this one vocabulary, and the solver here is the ground truth they are all
checked against. Pure Python, no torch.

Formats (``prompt`` ends where the model starts writing):

- plain:      ``"358+67="`` -> ``"425"``
- reversed:   ``"358+67="`` -> ``"524"`` (answer digits least significant first, the order a person computes them)
- scratchpad: ``"358+67="`` -> ``"8+7+0=15;5+6+1=12;3+0+1=4;425"`` (one step per column, units first, then the answer)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

FORMATS = ("plain", "reversed", "scratchpad")
STEP_SEP = ";"
_STEP_RE = re.compile(r"^(\d)\+(\d)\+([01])=(\d{1,2})$")


@dataclass(frozen=True)
class Step:
    """One column of a written addition: ``a + b + carry_in = total``, write ``digit``, carry ``carry_out``.

    ``column`` 0 is the units. A frozen dataclass so a buggy step (the tutor's bug library may build steps whose
    fields disagree, e.g. a dropped carry) compares by value with the correct one.
    """

    column: int
    a: int
    b: int
    carry_in: int
    total: int
    digit: int
    carry_out: int


def _check_operand(x, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{name} must be a whole number (int), got {type(x).__name__} {x!r}")
    if x < 0:
        raise ValueError(f"{name} must be 0 or positive (this tutor adds whole numbers), got {x}")
    return x


def n_digits(x: int) -> int:
    """Number of decimal digits of a whole number (0 has one digit)."""
    return len(str(_check_operand(x, "x")))


def _digit(x: int, column: int) -> int:
    return (x // 10**column) % 10


def steps(x: int, y: int) -> list[Step]:
    """The correct column-by-column addition of x and y, units first.

    One Step per column of the longer number; a final carry becomes the answer's leading digit (no extra step).
    """
    _check_operand(x, "x")
    _check_operand(y, "y")
    out, carry = [], 0
    for column in range(max(n_digits(x), n_digits(y))):
        a, b = _digit(x, column), _digit(y, column)
        total = a + b + carry
        out.append(Step(column, a, b, carry, total, total % 10, total // 10))
        carry = total // 10
    return out


def answer_from_steps(step_list: list[Step]) -> int:
    """The number a list of steps writes: the digits in column order, then a final carry as the leading digit."""
    if not step_list:
        raise ValueError("answer_from_steps needs at least one step, got an empty list")
    digits = "".join(str(s.digit) for s in reversed(step_list))
    if step_list[-1].carry_out:
        digits = str(step_list[-1].carry_out) + digits
    return int(digits)


def carries(x: int, y: int) -> int:
    """Number of columns that carry 1 into the next column (the final carry counts)."""
    return sum(s.carry_out for s in steps(x, y))


def difficulty(x: int, y: int) -> tuple[int, int]:
    """(digits of the longer operand, number of carries): the control code of a practice item."""
    return max(n_digits(x), n_digits(y)), carries(x, y)


def solve(x: int, y: int) -> int:
    """The exact sum (the ground truth every model output is checked against)."""
    return _check_operand(x, "x") + _check_operand(y, "y")


def render_step(s: Step) -> str:
    """A step as text ``"{a}+{b}+{carry_in}={total}"``, e.g. ``"8+7+0=15"``."""
    return f"{s.a}+{s.b}+{s.carry_in}={s.total}"


def parse_step(text: str, column: int = 0) -> Step:
    """Read ``"8+7+0=15"`` back into a Step (digit and carry_out follow from the written total)."""
    if not isinstance(text, str):
        raise TypeError(f"parse_step expects a string like '8+7+0=15', got {type(text).__name__}")
    m = _STEP_RE.match(text.strip())
    if m is None:
        raise ValueError(f"a step must look like 'a+b+carry=total' with digits a, b, carry 0 or 1 "
                         f"(e.g. '8+7+0=15'), got {text!r}")
    a, b, c, total = (int(g) for g in m.groups())
    return Step(column, a, b, c, total, total % 10, total // 10)


def parse_sum(text: str) -> tuple[int, int]:
    """``"358+67"`` -> (358, 67). A trailing ``=`` and spaces are allowed; anything else is a clear error."""
    if not isinstance(text, str):
        raise TypeError(f"a sum must be text like '358+67', got {type(text).__name__}")
    body = text.replace(" ", "")
    if body.endswith("="):
        body = body[:-1]
    parts = body.split("+")
    if len(parts) != 2:
        raise ValueError(f"a sum must be two whole numbers joined by one '+', like '358+67', got {text!r}")
    for name, part in zip(("first", "second"), parts):
        if part == "":
            raise ValueError(f"the {name} number of {text!r} is missing: write a sum like '358+67'")
        if not part.isdigit() or not part.isascii():
            raise ValueError(f"the {name} number {part!r} of {text!r} must use only the digits 0-9 "
                             f"(no signs, decimal points or letters)")
    return int(parts[0]), int(parts[1])


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def format_example(x: int, y: int, fmt: str) -> tuple[str, str]:
    """(prompt, target) of x + y in a format; the model reads the prompt and writes the target."""
    _check_format(fmt)
    total = solve(x, y)
    prompt = f"{x}+{y}="
    if fmt == "plain":
        return prompt, str(total)
    if fmt == "reversed":
        return prompt, str(total)[::-1]
    return prompt, STEP_SEP.join([render_step(s) for s in steps(x, y)] + [str(total)])


def read_steps(text: str) -> list[Step] | None:
    """The steps of a scratchpad target (everything before the last ``;``), or None when any is unreadable."""
    if not isinstance(text, str):
        return None
    pieces = text.split(STEP_SEP)[:-1]
    if not pieces:
        return None
    try:
        return [parse_step(p, column=i) for i, p in enumerate(pieces)]
    except ValueError:
        return None


def read_answer(text: str, fmt: str) -> int | None:
    """The final answer a model wrote in a format, or None when it cannot be read as a whole number."""
    _check_format(fmt)
    if not isinstance(text, str):
        return None
    last = text.split(STEP_SEP)[-1] if fmt == "scratchpad" else text
    last = last.strip()
    if not last or not last.isdigit() or not last.isascii():
        return None
    return int(last[::-1]) if fmt == "reversed" else int(last)


def verify(prompt: str, target: str, fmt: str) -> bool:
    """Is ``target`` exactly the right text for ``prompt`` in this format (steps and answer, character for character)?

    Exact match, not just the right final number: a scratchpad with a wrong step and a lucky answer is rejected.
    An unreadable prompt is False rather than an error, so a model's malformed output can be counted, not crash.
    """
    _check_format(fmt)
    try:
        x, y = parse_sum(prompt)
    except (ValueError, TypeError):
        return False
    return isinstance(target, str) and format_example(x, y, fmt)[1] == target


def check_digits(digits, name: str = "digits") -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"{name} must be a positive int (a number of decimal digits), got {digits!r}")
    return digits


def random_number(rng: np.random.Generator, digits: int) -> int:
    """A uniform whole number with exactly `digits` digits (1 digit: 0-9)."""
    check_digits(digits)
    lo = 0 if digits == 1 else 10 ** (digits - 1)
    return int(rng.integers(lo, 10 ** digits))
