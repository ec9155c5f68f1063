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


# ---------------------------------------------------------------------------------- the recipe (course_lib.recipes.arithmetic)
import numpy as np                                                             # noqa: E402
import torch                                                                   # noqa: E402

from course_lib.education import practice as pr                               # noqa: E402
from course_lib.recipes import arithmetic as ra                                # noqa: E402


def test_encode_pairs_puts_the_loss_on_the_target_and_end_only():
    tok = ra.tokenizer()
    x, y = ra.encode_pairs([("12+3=", "15"), ("1+1=", "2")], tok)
    assert x.shape == y.shape == (2, 7)                                        # "12+3=15." has 8 tokens
    assert tok.decode(x[0].tolist()) == "12+3=15"
    assert tok.decode([i for i in y[0].tolist() if i >= 0]) == "15."
    assert (y[0, :4] == -1).all() and (y[1, :3] == -1).all() and (y[1, 5:] == -1).all()
    assert tok.decode(x[1].tolist()) == "1+1=2__"         # the last token is never an input; padding "_"


def test_random_pairs_have_the_requested_lengths_and_are_seeded():
    pairs = ra.random_pairs(200, np.random.default_rng(0), max_digits=3)
    lens = {ar.n_digits(v) for p in pairs for v in p}
    assert lens == {1, 2, 3}
    assert all(ar.n_digits(a) == ar.n_digits(b) == 4 for a, b in ra.random_pairs(20, np.random.default_rng(0), digits=4))
    assert pairs == ra.random_pairs(200, np.random.default_rng(0), max_digits=3)
    with pytest.raises(ValueError, match="positive int"):
        ra.random_number(np.random.default_rng(0), 0)


def test_wilson_interval_on_known_values():
    lo, hi = ra.wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    assert ra.wilson(0, 500) == (0.0, pytest.approx(3.8416 / 503.8416, rel=1e-4))
    assert ra.wilson(500, 500)[1] == 1.0
    with pytest.raises(ValueError, match="0 <= k <= n"):
        ra.wilson(5, 3)


def test_tiny_model_completes_and_accuracy_is_a_fraction_with_an_interval():
    model, tok, hist = ra.train_arith_gpt("plain", steps=3, n_layer=1, n_embd=16, n_head=2, block_size=32)
    assert model.config.pos == "rope" and len(hist.steps) == 3
    outs = ra.complete(model, tok, ["1+2=", "12+34="], max_new=5)
    assert len(outs) == 2 and all(isinstance(o, str) and "." not in o for o in outs)
    acc = ra.accuracy(model, tok, "plain", digits=2, n=10)
    assert 0 <= acc["exact_lo"] <= acc["exact"] <= acc["exact_hi"] <= 1
    with pytest.raises(TypeError, match="unknown option"):
        ra.train_arith_gpt("plain", steps=1, width=3)
    with pytest.raises(ValueError, match="does not fit"):
        ra.complete(model, tok, ["1" * 40])


# ---------------------------------------------------------------------------------- practice items

def test_control_codes_and_impossible_difficulties():
    assert pr.control_code(3, 2) == "d3c2:"
    with pytest.raises(ValueError, match="carry in 0 to 2"):
        pr.control_code(2, 3)
    with pytest.raises(ValueError, match="at least 1 digit"):
        pr.control_code(0, 0)
    with pytest.raises(TypeError):
        pr.control_code(2.0, 1)
    assert len(pr.training_codes(3)) == 9


def test_sampled_items_have_the_requested_difficulty():
    rng = np.random.default_rng(0)
    for d, c in pr.training_codes(3):
        for _ in range(5):
            assert ar.difficulty(*pr.sample_item(rng, d, c)) == (d, c)


def test_check_item_release_and_audit():
    items = [pr.check_item("358+67=425", 3, 2),      # right key, right difficulty
             pr.check_item("358+67=426", 3, 2),      # wrong key: the worst bug
             pr.check_item("123+456=579", 3, 2),     # right key, no carries
             pr.check_item("35+=1", 3, 2)]           # unreadable
    assert [i["verified"] for i in items] == [True, False, False, False]
    assert items[1]["difficulty_match"] and not items[1]["key_right"]
    assert items[2]["key_right"] and items[2]["difficulty"] == (3, 0)
    assert not items[3]["readable"]
    a = pr.audit(items)
    assert a["key_right"] == 0.5 and a["difficulty_match"] == 0.5 and a["verified_before"] == 0.25
    assert a["released"] == 1 and a["released_verified"] == 1.0
    assert [i["text"] for i in pr.release(items)] == ["358+67=425"]
    with pytest.raises(ValueError, match="at least one"):
        pr.audit([])


# ---------------------------------------------------------------------------------- where it fails (zoo model)

def test_beyond_training_rows_hold_the_solver_and_the_verifier_verdict():
    from course_lib import pretrained
    model, tok = pretrained.load("arith-scratchpad", device="cpu"), ra.tokenizer()
    right = ar.format_example(358, 67, "scratchpad")[1]
    wrong = right.replace("5+6+1=12", "5+6+0=11")
    assert ra.token_confidence(model, tok, "358+67=", right) > ra.token_confidence(model, tok, "358+67=", wrong)
    rows = ra.beyond_training(model, tok, "scratchpad", digits=6, n=3)
    for r in rows:
        x, y = ar.parse_sum(r["prompt"])
        assert r["solver"] == ar.format_example(x, y, "scratchpad")[1] and r["true_sum"] == x + y
        assert r["verified"] == ar.verify(r["prompt"], r["model"], "scratchpad")
        assert (r["first_wrong_column"] is None) == r["verified"] and 0 < r["confidence"] <= 1
