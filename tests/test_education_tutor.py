"""The tutor's parts of module 13: bug library, feedback, Elo learner model, simulated learners (fixed inputs)."""
import math

import numpy as np
import pytest

from course_lib.education import arithmetic as A
from course_lib.education import bugs as B
from course_lib.education import feedback as F
from course_lib.education import learner as L


def written(work):
    steps, answer = work
    return ";".join(A.render_step(s) for s in steps), answer


# ---------------------------------------------------------------- bug library: known patterns on 958 + 67
@pytest.mark.parametrize("name, text, answer", [
    ("forgets to carry", "8+7+0=15;5+6+0=11;9+0+0=9", 915),
    ("carries two columns left", "8+7+0=15;5+6+0=11;9+0+1=10", 11015),
    ("adds the carry twice", "8+7+0=15;5+6+1=13;9+0+1=11", 1135),
    ("writes the whole column total", "8+7+0=15;5+6+0=11;9+0+0=9", 91115),
    ("drops the last carry", "8+7+0=15;5+6+1=12;9+0+1=10", 25),
    ("lines up on the left", "8+0+0=8;5+7+0=12;9+6+1=16", 1628),
    ("subtracts the smaller digit", "8+7+0=1;5+6+0=1;9+0+0=9", 911),
])
def test_bug_patterns_on_a_known_sum(name, text, answer):
    assert written(B.LIBRARY[name].run(958, 67)) == (text, answer)


def test_always_carries_on_a_sum_without_carries():
    assert written(B.LIBRARY["always carries"].run(123, 45)) == ("3+5+0=8;2+4+1=7;1+0+1=2", 278)


def test_every_carry_bug_is_right_on_a_sum_without_carries():
    right = (A.steps(123, 456), 579)
    assert B.consistent_bugs(123, 456, *right) == {
        "forgets to carry", "carries two columns left", "adds the carry twice", "writes the whole column total",
        "drops the last carry", "lines up on the left"}


def test_ambiguous_work_is_consistent_with_two_bugs():
    # 958+67 carries in every column: "always carries" writes the right steps, so it equals "drops the last carry"
    # only when the last carry is dropped; on 358+67 (no final carry) the two give the same right answer.
    work = B.LIBRARY["drops the last carry"].run(358, 67)
    assert B.consistent_bugs(358, 67, *work) == {"drops the last carry", "always carries"}


def test_buggy_bank_is_seeded_wrong_and_covers_every_bug():
    bank = B.buggy_bank(40, seed=3)
    assert bank == B.buggy_bank(40, seed=3)
    assert {r["bug"] for r in bank} == set(B.LIBRARY)
    for r in bank:
        assert r["bug"] in B.consistent_bugs(r["x"], r["y"], r["steps"], r["answer"])
        assert not B.same_work((r["steps"], r["answer"]), (A.steps(r["x"], r["y"]), r["x"] + r["y"]))


def test_buggy_bank_rejects_bad_arguments():
    with pytest.raises(ValueError, match="bugs must be names"):
        B.buggy_bank(3, bugs=["no such bug"])
    with pytest.raises(ValueError, match="slip is a probability"):
        B.buggy_bank(3, slip=1.5)


# ---------------------------------------------------------------- feedback
def test_first_wrong_step_on_known_work():
    assert F.first_wrong_step(958, 67, *B.forgets_carry(958, 67)) == 1          # tens: the carry is missing
    assert F.first_wrong_step(958, 67, *B.drops_last_carry(958, 67)) == 3       # steps right, answer wrong
    assert F.first_wrong_step(958, 67, A.steps(958, 67), 1025) is None
    assert F.first_wrong_step(958, 67, A.steps(958, 67)[:2], 1025) == 2         # a missing column


def test_diagnose_names_the_bug_and_hints():
    d = F.diagnose(958, 67, *B.carries_twice(958, 67))
    assert (d.first_wrong, d.bug) == (1, "adds the carry twice")
    assert "tens column" in d.message and "5+6+1=12" in d.message and "exactly once" in d.message


def test_a_slip_on_top_of_a_bug_still_names_the_nearest_bug():
    steps, _ = B.forgets_carry(4587, 3675)                   # 7+5=12 8+7=15 5+6=11 4+3=7 -> 7152
    slipped = steps[:3] + [A.Step(3, 4, 3, 0, 8, 8, 0)]      # the thousands column slips 7 -> 8
    d = F.diagnose(4587, 3675, slipped, 8152)
    assert d.consistent == frozenset() and d.bug == "forgets to carry"


def test_a_wrong_reference_is_refused():
    ref = A.steps(958, 67)
    ref[1] = A.Step(1, 5, 6, 1, 13, 3, 1)
    assert not F.check_reference(958, 67, ref) and F.check_reference(958, 67, A.steps(958, 67))
    with pytest.raises(ValueError, match="solver disagrees"):
        F.diagnose(958, 67, A.steps(958, 67), 1025, reference=ref)


def test_bad_student_work_is_a_clear_error():
    with pytest.raises(TypeError, match="list of arithmetic.Step"):
        F.first_wrong_step(1, 2, ["1+2+0=3"], 3)
    with pytest.raises(TypeError, match="whole number"):
        F.first_wrong_step(1, 2, A.steps(1, 2), "3")


# ---------------------------------------------------------------- Elo learner model
def test_elo_update_on_fixed_numbers():
    assert L.expected_success(0.0, 0.0) == 0.5
    assert L.elo_update(0.0, 0.0, True, k=0.4) == (0.2, 0.0)
    skill, b = L.elo_update(1.0, 0.0, False, k=0.4, k_item=0.1)
    p = 1 / (1 + math.exp(-1.0))                             # 0.7311
    assert skill == pytest.approx(1.0 - 0.4 * p) and b == pytest.approx(0.1 * p)


def test_estimate_skill_replays_the_history_and_refuses_an_empty_one():
    diff = {(1, 0): 0.0, (2, 1): 1.0}
    s1 = 0.4 * 0.5                                            # right on (1, 0) from skill 0
    s2 = s1 - 0.4 * L.expected_success(s1, 1.0)               # then wrong on (2, 1)
    assert L.estimate_skill([((1, 0), True), ((2, 1), False)], diff) == pytest.approx(s2)
    with pytest.raises(ValueError, match="cannot estimate"):
        L.estimate_skill([], diff)
    with pytest.raises(ValueError, match="cannot estimate"):
        L.EloTutor(diff).skill


def test_tutor_picks_the_item_nearest_75_percent():
    diff = {(1, 0): -3.0, (2, 1): -1.0, (3, 3): 2.0}
    tutor = L.EloTutor(diff)                                  # skill 0: P = 0.95, 0.73, 0.12
    assert tutor.next_item() == (2, 1)
    strong = L.EloTutor(diff, start=2.5)                      # P = 1.00, 0.97, 0.62
    assert strong.next_item() == (3, 3)
    strong.record((3, 3), False)                              # skill 2.5 - 0.4 * 0.62
    assert strong.skill == pytest.approx(2.5 - 0.4 * L.expected_success(2.5, 2.0))


def test_impossible_item_is_a_clear_error():
    with pytest.raises(ValueError, match="no sum has 2 digit"):
        L.check_item((2, 3))


def test_level_learner_learns_most_at_its_level():
    gains = {}
    for item in [(1, 0), (3, 1), (5, 5)]:                     # true difficulties 0.4, 2.0, 8.0
        learner = L.LevelLearner(skill=2.0, rate=0.3)
        learner.practise(item, np.random.default_rng(0))
        gains[item] = learner.skill - 2.0
    assert gains[(3, 1)] == pytest.approx(0.3) and gains[(1, 0)] < 0.1 and gains[(5, 5)] < 1e-6


def test_skills_learner_learns_only_one_new_thing_at_a_time():
    learner = L.SimulatedLearner(known=[True, False, False, False], learn=[1.0] * 4, slip=0.0, guess=0.0)
    learner.practise((2, 2), np.random.default_rng(0))       # needs carrying AND several carries: too far
    assert learner.known == [True, False, False, False]
    learner.practise((2, 1), np.random.default_rng(0))       # needs carrying only: learnt
    assert learner.known == [True, True, False, False]


def test_comparison_is_seeded_and_adaptive_beats_random_for_level_learners():
    diff = L.calibrate(L.random_cohort(30, 60, seed=1))
    a = L.compare_orders(diff, n_learners=30, seed=0)
    assert all(np.array_equal(a[k], v) for k, v in L.compare_orders(diff, n_learners=30, seed=0).items())
    assert a["adaptive (Elo)"].mean() < a["random"].mean()
    mean, lo, hi = L.mean_interval(a["random"] - a["adaptive (Elo)"])
    assert lo <= mean <= hi
