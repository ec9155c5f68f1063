"""Assignment 13: common student mistakes (each must fail a visible check that names it) and other correct
answers written from the task text (each must earn every point). Format: tests/mistake_runner.py.

LIBRARY holds the answers that only call the course's own version (course_lib.education); `checks.written_here`
rejects them: it sees the import of course_lib inside the function without running it, so the names only need
to look like the library's."""

_CHECKS = '''    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an int, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}")
'''
_TOTAL = "total = x % 10 + y % 10 + carry"
_CARRY = "carry = total // 10 "
_COUNT = "count += carry"
_SAME = "if tuple(student_steps[i]) != tuple(correct_steps[i]):"
_RETURN_I = "            return i"
_LENGTHS = "    if len(student_steps) != len(correct_steps):\n        return shared"
_P = "p = 1 / (1 + 10 ** ((difficulty - skill) / 400))"
_CHANGE = "change = k * (correct - p)"
_RETURN = "return float(skill + change), float(difficulty - change)"

LIBRARY = {
    "carries_imports_library": {"cell": "carry_count", "code": (
        "def carry_count(x, y):\n"
        "    from course_lib.education import arithmetic\n"
        "    return arithmetic.carries(x, y)"), "expect": "course_lib"},
    "feedback_imports_library": {"cell": "first_wrong_step", "code": (
        "def first_wrong_step(student_steps, correct_steps):\n"
        "    from course_lib.education import feedback\n"
        "    return feedback.first_wrong_step(student_steps, correct_steps)"), "expect": "course_lib"},
    "elo_imports_library": {"cell": "elo_update", "code": (
        "def elo_update(skill, difficulty, correct, k):\n"
        "    from course_lib.education import learner\n"
        "    return learner.elo_update(skill, difficulty, correct, k=k)"), "expect": "course_lib"},
}

MISTAKES = {
    **LIBRARY,
    # (a) carry_count
    "carry_in_ignored": {"cell": "carry_count", "replace": [(_TOTAL, "total = x % 10 + y % 10")],
                         "expect": "carry_in is ignored"},
    "carry_only_above_ten": {"cell": "carry_count", "replace": [(_CARRY, "carry = 1 if total > 10 else 0 ")],
                             "expect": "exactly 10 carries too"},
    "final_carry_forgotten": {"cell": "carry_count", "replace": [(
        _COUNT, "count += carry if (x >= 10 or y >= 10) else 0")], "expect": "last column's carry counts too"},
    "carry_never_reset": {"cell": "carry_count", "replace": [(_CARRY, "carry = max(carry, total // 10) "),
                                                              (_COUNT, "count += total >= 10")],
                          "expect": "reset the carry"},
    "stops_at_the_shorter_number": {"cell": "carry_count", "code": (
        "def carry_count(x, y):\n" + _CHECKS +
        "    carry = count = 0\n"
        "    for a, b in zip(reversed(str(x)), reversed(str(y))):   # digit pairs, units first\n"
        "        carry = (int(a) + int(b) + carry) // 10\n"
        "        count += carry\n"
        "    return count"), "expect": "LONGER number"},
    "aligned_at_the_left": {"cell": "carry_count", "code": (
        "def carry_count(x, y):\n" + _CHECKS +
        "    carry = count = 0\n"
        "    for a, b in zip(str(x), str(y)):\n"
        "        carry = (int(a) + int(b) + carry) // 10\n"
        "        count += carry\n"
        "    return count"), "expect": "align the two numbers at the units"},
    "only_whether_the_answer_grows": {"cell": "carry_count", "code": (
        "def carry_count(x, y):\n" + _CHECKS +
        "    return int(len(str(x + y)) > len(str(max(x, y))))"), "expect": "count every column that carries"},
    "negative_not_checked": {"cell": "carry_count", "replace": [(
        "        if value < 0:\n            raise", "        if False:\n            raise")], "expect": "negative"},
    "type_not_checked": {"cell": "carry_count", "replace": [(
        "        if not isinstance(value, (int, np.integer)):\n            raise", "        if False:\n            raise")],
        "expect": "is not an integer"},
    "float_truncated": {"cell": "carry_count", "replace": [(
        "        if not isinstance(value, (int, np.integer)):\n            raise", "        if False:\n            raise"),
        ("    x, y = int(x), int(y)", "    x, y = int(float(x)), int(float(y))")], "expect": "is not an integer"},
    # (b) first_wrong_step
    "index_from_one": {"cell": "first_wrong_step", "replace": [(_RETURN_I, "            return i + 1")],
                       "expect": "count the steps from 0"},
    "returns_the_step": {"cell": "first_wrong_step", "replace": [(_RETURN_I, "            return student_steps[i]")],
                         "expect": "not the step itself"},
    "compares_totals_only": {"cell": "first_wrong_step", "replace": [(
        _SAME, "if student_steps[i][3] != correct_steps[i][3]:")], "expect": "not only the totals"},
    "compares_digits_only": {"cell": "first_wrong_step", "replace": [(
        _SAME, "if student_steps[i][:2] != correct_steps[i][:2]:")], "expect": "the carry_in and the total too"},
    "minus_one_for_no_error": {"cell": "first_wrong_step", "replace": [("    return None", "    return -1")],
                               "expect": "not -1"},
    "last_wrong_step": {"cell": "first_wrong_step", "code": '''
def first_wrong_step(student_steps, correct_steps):
    if not correct_steps:
        raise ValueError("no correct steps")
    wrong = None
    for i in range(max(len(student_steps), len(correct_steps))):
        if i >= len(student_steps) or i >= len(correct_steps) or student_steps[i] != correct_steps[i]:
            wrong = i
    return wrong
''', "expect": "FIRST wrong step"},
    "zip_ignores_missing_columns": {"cell": "first_wrong_step", "replace": [(_LENGTHS, "")],
                                    "expect": "fewer columns"},
    "only_fewer_columns": {"cell": "first_wrong_step", "replace": [(
        "    if len(student_steps) != len(correct_steps):", "    if len(student_steps) < len(correct_steps):")],
        "expect": "more columns"},
    "empty_solution_not_checked": {"cell": "first_wrong_step", "replace": [(
        "    if len(correct_steps) == 0:\n        raise", "    if False:\n        raise")], "expect": "correct_steps is empty"},
    # (c) elo_update
    "sign_flipped": {"cell": "elo_update", "replace": [(_CHANGE, "change = k * (p - correct)")], "expect": "sign is flipped"},
    "base_e": {"cell": "elo_update", "replace": [(_P, "p = 1 / (1 + np.exp((difficulty - skill) / 400))")],
               "expect": "not the base-e logistic"},
    "no_scale": {"cell": "elo_update", "replace": [(_P, "p = 1 / (1 + 10 ** (difficulty - skill))")],
                 "expect": "scale 400"},
    "exponent_swapped": {"cell": "elo_update", "replace": [(_P, "p = 1 / (1 + 10 ** ((skill - difficulty) / 400))")],
                         "expect": "falls as the difficulty rises"},
    "difficulty_not_updated": {"cell": "elo_update", "replace": [(_RETURN, "return float(skill + change), float(difficulty)")],
                               "expect": "difficulty not updated"},
    "difficulty_same_direction": {"cell": "elo_update", "replace": [(
        _RETURN, "return float(skill + change), float(difficulty + change)")], "expect": "opposite way"},
    "p_recomputed_after_update": {"cell": "elo_update", "replace": [(_RETURN, (
        "skill = skill + change\n"
        "    p = 1 / (1 + 10 ** ((difficulty - skill) / 400))\n"
        "    return float(skill), float(difficulty - k * (correct - p))"))], "expect": "compute p once"},
    "k_applied_twice": {"cell": "elo_update", "replace": [(_RETURN, "return float(skill + change), float(difficulty - k * change)")],
                        "expect": "apply k once"},
    "order_swapped": {"cell": "elo_update", "replace": [(_RETURN, "return float(difficulty - change), float(skill + change)")],
                      "expect": "(new_skill, new_difficulty)"},
    "only_the_skill": {"cell": "elo_update", "replace": [(_RETURN, "return float(skill + change)")], "expect": "return both"},
    "ratings_rounded": {"cell": "elo_update", "replace": [(_RETURN, "return round(skill + change), round(difficulty - change)")],
                        "expect": "do not round"},
    "correct_not_checked": {"cell": "elo_update", "replace": [(
        "    if correct not in (0, 1):                                   # True and False count as 1 and 0\n        raise",
        "    if False:\n        raise")], "expect": "correct must be 1 (True) or 0 (False)"},
    "k_not_checked": {"cell": "elo_update", "replace": [("    if not k > 0:\n        raise", "    if False:\n        raise")],
                      "expect": "must be positive"},
}

HONEST = {
    "carries_as_strings": {"cell": "carry_count", "code": """
def carry_count(x, y):
    if not isinstance(x, (int, np.integer)) or not isinstance(y, (int, np.integer)):
        raise ValueError("x and y must be integers")
    if x < 0 or y < 0:
        raise ValueError("x and y must be non-negative")
    a, b = str(int(x)), str(int(y))
    width = max(len(a), len(b))
    a, b = a.zfill(width), b.zfill(width)
    carries, carry = 0, 0
    for da, db in zip(reversed(a), reversed(b)):
        if int(da) + int(db) + carry >= 10:
            carry = 1
            carries += 1
        else:
            carry = 0
    return carries
"""},
    "carries_from_digit_sums": {"cell": "carry_count", "code": """
import numbers

def carry_count(x, y):
    # every carry turns a 10 in one column into a 1 in the next: the digit sum drops by 9 per carry
    for v in (x, y):
        if not isinstance(v, numbers.Integral):
            raise ValueError(f"not an integer: {v!r}")
        if v < 0:
            raise ValueError(f"negative: {v}")
    digit_sum = lambda n: sum(int(d) for d in str(int(n)))
    return (digit_sum(x) + digit_sum(y) - digit_sum(int(x) + int(y))) // 9
"""},
    "carries_divmod": {"cell": "carry_count", "code": """
def carry_count(x, y):
    if type(x) not in (int,) and not isinstance(x, np.integer):
        raise ValueError("x must be an integer")
    if type(y) not in (int,) and not isinstance(y, np.integer):
        raise ValueError("y must be an integer")
    if min(x, y) < 0:
        raise ValueError("negative input")
    n = 0
    c = 0
    while x or y or c:
        x, dx = divmod(int(x), 10)
        y, dy = divmod(int(y), 10)
        c = 1 if dx + dy + c > 9 else 0
        n += c
    return n
"""},
    "steps_zip_longest": {"cell": "first_wrong_step", "code": """
from itertools import zip_longest

def first_wrong_step(student_steps, correct_steps):
    if not correct_steps:
        raise ValueError("correct_steps must not be empty")
    for i, (mine, right) in enumerate(zip_longest(student_steps, correct_steps)):
        if mine is None or right is None or tuple(mine) != tuple(right):
            return i
    return None
"""},
    "steps_while_loop": {"cell": "first_wrong_step", "code": """
def first_wrong_step(student_steps, correct_steps):
    if len(correct_steps) < 1:
        raise ValueError("empty correct_steps")
    i = 0
    while i < len(student_steps) and i < len(correct_steps):
        a1, b1, c1, t1 = student_steps[i]
        a2, b2, c2, t2 = correct_steps[i]
        if (a1, b1, c1, t1) != (a2, b2, c2, t2):
            return i
        i += 1
    if len(student_steps) == len(correct_steps):
        return None
    return i
"""},
    "elo_exp_form": {"cell": "elo_update", "code": """
import math

def elo_update(skill, difficulty, correct, k):
    if correct is True:
        correct = 1
    elif correct is False:
        correct = 0
    if correct != 0 and correct != 1:
        raise ValueError(f"correct must be 0 or 1, not {correct}")
    if k <= 0:
        raise ValueError("k must be > 0")
    expected = 1.0 / (1.0 + math.exp(math.log(10) * (difficulty - skill) / 400))
    delta = k * (correct - expected)
    return skill + delta, difficulty - delta
"""},
    "elo_numpy": {"cell": "elo_update", "code": """
def elo_update(skill, difficulty, correct, k):
    if not (k > 0):
        raise ValueError("k must be positive")
    if correct not in (True, False):
        raise ValueError("correct must be 0/1 or a bool")
    expected = 1 / (1 + np.power(10.0, (difficulty - skill) / 400))
    new_skill = skill + k * (int(correct) - expected)
    new_difficulty = difficulty + k * (expected - int(correct))
    return [float(new_skill), float(new_difficulty)]
"""},
}
