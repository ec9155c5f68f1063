"""Tests for course_lib.education.arithmetic (the exact steps, formats, verifier) and the arithmetic models."""
import pytest

from course_lib.education import arithmetic as ar
from course_lib.education.arithmetic import Step


def test_steps_of_358_plus_67_match_the_hand_computation():
    assert ar.steps(358, 67) == [
        Step(0, 8, 7, 0, 15, 5, 1),
        Step(1, 5, 6, 1, 12, 2, 1),
        Step(2, 3, 0, 1, 4, 4, 0),
    ]
    assert ar.answer_from_steps(ar.steps(358, 67)) == 425


def test_final_carry_becomes_the_leading_digit_without_an_extra_step():
    s = ar.steps(999, 1)
    assert len(s) == 3 and [x.carry_out for x in s] == [1, 1, 1]
    assert ar.answer_from_steps(s) == 1000
    assert ar.carries(999, 1) == 3 and ar.difficulty(999, 1) == (3, 3)


@pytest.mark.parametrize("x,y,expected", [(0, 0, 0), (123, 456, 0), (58, 7, 1), (358, 67, 2), (5, 5, 1)])
def test_carries_on_known_sums(x, y, expected):
    assert ar.carries(x, y) == expected


def test_steps_agree_with_the_sum_over_a_grid():
    for x in range(0, 1000, 37):
        for y in range(0, 1000, 41):
            assert ar.answer_from_steps(ar.steps(x, y)) == x + y == ar.solve(x, y)


def test_n_digits_and_difficulty():
    assert [ar.n_digits(v) for v in (0, 9, 10, 999, 1000)] == [1, 1, 2, 3, 4]
    assert ar.difficulty(5, 1234) == (4, 0) and ar.difficulty(7, 1234) == (4, 1)


def test_render_and_parse_step_round_trip():
    s = Step(1, 5, 6, 1, 12, 2, 1)
    assert ar.render_step(s) == "5+6+1=12"
    assert ar.parse_step("5+6+1=12", column=1) == s
    # a wrong total is still readable: the tutor compares it with the right step
    assert ar.parse_step("8+7+0=5") == Step(0, 8, 7, 0, 5, 5, 0)


@pytest.mark.parametrize("bad", ["8+7=15", "8+7+2=17", "a+7+0=15", "", "18+7+0=25"])
def test_parse_step_names_the_expected_form(bad):
    with pytest.raises(ValueError, match="a\\+b\\+carry=total"):
        ar.parse_step(bad)


def test_parse_sum_reads_and_rejects():
    assert ar.parse_sum("358+67") == (358, 67)
    assert ar.parse_sum(" 358 + 67 =") == (358, 67)
    with pytest.raises(ValueError, match="only the digits"):
        ar.parse_sum("35a+67")
    with pytest.raises(ValueError, match="only the digits"):
        ar.parse_sum("-3+67")
    with pytest.raises(ValueError, match="missing"):
        ar.parse_sum("+67")
    with pytest.raises(ValueError, match="one '\\+'"):
        ar.parse_sum("1+2+3")
    with pytest.raises(TypeError):
        ar.parse_sum(358)


def test_formats_of_the_design_example():
    assert ar.format_example(358, 67, "plain") == ("358+67=", "425")
    assert ar.format_example(358, 67, "reversed") == ("358+67=", "524")
    assert ar.format_example(358, 67, "scratchpad") == ("358+67=", "8+7+0=15;5+6+1=12;3+0+1=4;425")
    with pytest.raises(ValueError, match="format must be one of"):
        ar.format_example(1, 2, "roman")


def test_read_answer_and_read_steps():
    assert ar.read_answer("425", "plain") == 425
    assert ar.read_answer("524", "reversed") == 425
    assert ar.read_answer("001", "reversed") == 100
    assert ar.read_answer("8+7+0=15;5+6+1=12;3+0+1=4;425", "scratchpad") == 425
    assert ar.read_answer("", "plain") is None and ar.read_answer("4x5", "plain") is None
    assert ar.read_answer("8+7+0=15;", "scratchpad") is None
    assert ar.read_steps("8+7+0=15;5+6+1=12;3+0+1=4;425") == ar.steps(358, 67)
    assert ar.read_steps("8+7+0=15;oops;425") is None
    assert ar.read_steps("425") is None


def test_verify_is_exact():
    assert ar.verify("358+67=", "425", "plain")
    assert not ar.verify("358+67=", "426", "plain")
    assert ar.verify("358+67=", "524", "reversed")
    assert not ar.verify("358+67=", "425", "reversed")
    # right final answer, wrong step: rejected
    assert not ar.verify("358+67=", "8+7+0=15;5+6+0=11;3+0+1=4;425", "scratchpad")
    assert ar.verify("358+67=", "8+7+0=15;5+6+1=12;3+0+1=4;425", "scratchpad")
    assert not ar.verify("35a+67=", "425", "plain")


def test_operands_must_be_whole_numbers():
    with pytest.raises(ValueError, match="0 or positive"):
        ar.steps(-1, 3)
    with pytest.raises(TypeError, match="whole number"):
        ar.steps(1.5, 3)
    with pytest.raises(ValueError, match="empty"):
        ar.answer_from_steps([])
