"""Adaptive practice: an Elo learner model, simulated learners, and the comparison of practice orders.

The tutor's model (Elo, the online form of the one-parameter IRT / Rasch model): a learner has one skill
theta, an item class (digits, carries) has one difficulty b, and

    P(correct) = sigmoid(theta - b)                                            (1)

After an answer r (1 right, 0 wrong) both move against the surprise r - P:

    theta <- theta + K (r - P)        b <- b - K_item (r - P)                 (2)

so a right answer on a hard item (small P) raises the skill a lot, a right answer on an easy item hardly at
all. The tutor picks the item class whose expected success (1) is closest to a target (0.75: hard enough to
teach, easy enough not to discourage).

The simulated learners follow DIFFERENT models on purpose (a tutor judged by learners built from its own
model would be judged in a circle), two of them so the reader sees how much the answer depends on them:
* `LevelLearner` (the main one): a continuous skill that grows most when an item sits at the learner's level
  (a zone of proximal development), answers through a probit link with guessing and slips;
* `SimulatedLearner`: four discrete skills with knowledge-tracing-style learning (Corbett & Anderson 1994),
  where only an item with exactly one unknown skill teaches anything.
Simulated learners are not real students: a comparison says which practice order suits *these assumptions*,
nothing about children.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

Item = tuple[int, int]          # (digits, carries): the difficulty class of a sum
MAX_DIGITS = 5
ITEM_CLASSES: list[Item] = [(d, c) for d in range(1, MAX_DIGITS + 1) for c in range(d + 1)]
TARGET_SUCCESS = 0.75


def check_item(item) -> Item:
    """(digits, carries) with 1 <= digits and 0 <= carries <= digits, or a ValueError saying what came."""
    try:
        d, c = (int(v) for v in item)
    except (TypeError, ValueError):
        raise TypeError(f"an item is a pair (digits, carries), got {item!r}") from None
    if d < 1 or not 0 <= c <= d:
        raise ValueError(f"no sum has {d} digit(s) and {c} carries: need digits >= 1 and "
                         f"0 <= carries <= digits, got ({d}, {c})")
    return d, c


# ---------------------------------------------------------------------------------- the tutor's model
def expected_success(skill: float, difficulty: float) -> float:
    """Equation (1): the chance a learner of this skill answers an item of this difficulty right."""
    return 1.0 / (1.0 + math.exp(difficulty - skill))


def elo_update(skill: float, difficulty: float, correct: bool, k: float = 0.4,
               k_item: float = 0.0) -> tuple[float, float]:
    """Equation (2): the new (skill, difficulty) after one answer. k_item = 0 keeps difficulties fixed."""
    if correct not in (0, 1, True, False):
        raise ValueError(f"correct must be True/False (or 1/0), got {correct!r}")
    surprise = float(correct) - expected_success(skill, difficulty)
    return skill + k * surprise, difficulty - k_item * surprise


def estimate_skill(history: list[tuple[Item, bool]], difficulties: dict[Item, float],
                   k: float = 0.4, start: float = 0.0) -> float:
    """The Elo skill after replaying `history` [(item, correct), ...] from `start` (difficulties fixed).

    An empty history is an error, not the prior: a tutor that has seen no answer cannot estimate anything.
    """
    if len(history) == 0:
        raise ValueError("cannot estimate a skill from an empty answer history: the learner has not "
                         "answered anything yet (give at least one (item, correct) pair)")
    skill = start
    for item, correct in history:
        b = difficulties[check_item(item)]
        skill, _ = elo_update(skill, b, correct, k=k)
    return skill


def calibrate(cohort: list[list[tuple[Item, bool]]], k: float = 0.4, k_item: float = 0.05,
              passes: int = 3) -> dict[Item, float]:
    """Item-class difficulties from a calibration cohort's answer sequences, by Elo on both sides.

    Each learner starts at skill 0; difficulties are shared across learners and start at 0. Several passes
    over the cohort let the difficulties settle. Returns {(digits, carries): difficulty} for every class
    seen (classes never answered are left out: nothing is known about them).
    """
    if not any(cohort):
        raise ValueError("cannot calibrate item difficulties from an empty cohort (no answers)")
    b = {check_item(item): 0.0 for seq in cohort for item, _ in seq}
    for _ in range(passes):
        for seq in cohort:
            skill = 0.0
            for item, correct in seq:
                skill, b[item] = elo_update(skill, b[item], correct, k=k, k_item=k_item)
    return b


@dataclass
class EloTutor:
    """Picks the next item class at about `target` expected success and tracks the learner's skill.

    With no answers yet the tutor starts from the prior skill `start` (it has to pick a first item), but
    `skill` itself raises until one answer is recorded: it is not an estimate yet.
    """
    difficulties: dict[Item, float]
    k: float = 0.4
    start: float = 0.0
    target: float = TARGET_SUCCESS
    history: list[tuple[Item, bool]] = field(default_factory=list)

    def __post_init__(self):
        if not self.difficulties:
            raise ValueError("EloTutor needs at least one item class with a difficulty")
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"target success must be strictly between 0 and 1, got {self.target}")
        self._skill = self.start

    @property
    def skill(self) -> float:
        if not self.history:
            raise ValueError("cannot estimate the learner's skill yet: the answer history is empty")
        return self._skill

    def record(self, item: Item, correct: bool) -> None:
        item = check_item(item)
        self._skill, _ = elo_update(self._skill, self.difficulties[item], correct, k=self.k)
        self.history.append((item, bool(correct)))

    def next_item(self) -> Item:
        """The class whose expected success is closest to the target (ties: the easier one)."""
        return min(self.difficulties, key=lambda it: (abs(expected_success(self._skill, self.difficulties[it])
                                                          - self.target), self.difficulties[it]))


# ---------------------------------------------------------------------------------- simulated learners
SKILLS = ("column sums", "carrying", "several carries", "long numbers")


def required_skills(item: Item) -> tuple[int, ...]:
    """Which of SKILLS an item class needs: column sums always, carrying if it carries, several carries if
    two or more, long numbers from 4 digits."""
    d, c = check_item(item)
    return tuple(i for i, need in enumerate((True, c >= 1, c >= 2, d >= 4)) if need)


@dataclass
class SimulatedLearner:
    """A learner with four discrete skills (known or not), in the spirit of knowledge tracing.

    Assumptions (ours, stated so they can be argued with):
    * answers: right with probability 1 - slip when every skill the item needs is known, else `guess`;
    * learning: after practising an item, an unknown skill it needs becomes known with probability
      learn[s], but ONLY if every other skill the item needs is already known (one new thing at a time: an
      item with two unknown skills is too far ahead to teach either);
    * nothing is forgotten; mastery = all four skills known (which only a simulation can see).
    The tutor's Elo model knows none of this: it sees right and wrong answers only.
    """
    known: list[bool]
    learn: list[float]
    slip: float
    guess: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "SimulatedLearner":
        """A learner from the population: prior knowledge and learning rates vary from one to the next."""
        p_known = (0.7, 0.2, 0.05, 0.05)                       # share of learners who know each skill already
        known = [bool(rng.random() < p) for p in p_known]
        learn = list(rng.uniform(0.1, 0.35, size=len(SKILLS)))
        return cls(known=known, learn=learn, slip=float(rng.uniform(0.05, 0.15)),
                   guess=float(rng.uniform(0.05, 0.2)))

    def copy(self) -> "SimulatedLearner":
        return SimulatedLearner(list(self.known), list(self.learn), self.slip, self.guess)

    @property
    def mastered(self) -> bool:
        return all(self.known)

    def answer(self, item: Item, rng: np.random.Generator) -> bool:
        ready = all(self.known[s] for s in required_skills(item))
        return bool(rng.random() < ((1.0 - self.slip) if ready else self.guess))

    def practise(self, item: Item, rng: np.random.Generator) -> None:
        need = required_skills(item)
        unknown = [s for s in need if not self.known[s]]
        if len(unknown) == 1 and rng.random() < self.learn[unknown[0]]:
            self.known[unknown[0]] = True


def true_difficulty(item: Item) -> float:
    """The LevelLearner's (hidden) difficulty of a class: longer numbers cost a little, each carry more, and
    several carries a little more than their sum. The tutor never sees this; it calibrates its own scale."""
    d, c = check_item(item)
    return 0.4 * d + 0.8 * c + 0.1 * c * (c - 1)


MASTERY_ITEM: Item = (MAX_DIGITS, MAX_DIGITS)


@dataclass
class LevelLearner:
    """A learner whose skill grows with practice at the right level (assumptions, ours):

    * answers: P(right) = guess + (1 - guess - slip) * Phi(skill - delta), delta = `true_difficulty(item)`
      (a probit, not the tutor's logistic, with a floor and a ceiling the tutor's model does not have);
    * learning: after an item, skill += rate * exp(-(delta - skill)^2 / (2 width^2)): most from an item at
      the learner's level, little from one far too easy or far too hard; nothing is forgotten;
    * mastery: skill >= the hardest class's delta + 1, where Phi(1) = 84% of the way to the ceiling.
    """
    skill: float
    rate: float
    width: float = 1.0
    slip: float = 0.05
    guess: float = 0.05

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "LevelLearner":
        return cls(skill=float(rng.uniform(0.0, 2.0)), rate=float(rng.uniform(0.15, 0.35)),
                   slip=float(rng.uniform(0.02, 0.1)), guess=float(rng.uniform(0.02, 0.1)))

    def copy(self) -> "LevelLearner":
        return LevelLearner(self.skill, self.rate, self.width, self.slip, self.guess)

    @property
    def mastered(self) -> bool:
        return self.skill >= true_difficulty(MASTERY_ITEM) + 1.0

    def answer(self, item: Item, rng: np.random.Generator) -> bool:
        phi = 0.5 * (1.0 + math.erf((self.skill - true_difficulty(item)) / math.sqrt(2.0)))
        return bool(rng.random() < self.guess + (1.0 - self.guess - self.slip) * phi)

    def practise(self, item: Item, rng: np.random.Generator) -> None:
        gap = true_difficulty(item) - self.skill
        self.skill += self.rate * math.exp(-gap * gap / (2.0 * self.width ** 2))


LEARNERS = {"level": LevelLearner, "skills": SimulatedLearner}


# ---------------------------------------------------------------------------------- practice orders
class RandomOrder:
    """Every item class equally likely, whatever the learner does."""

    def __init__(self, classes: list[Item], rng: np.random.Generator):
        self.classes, self.rng = classes, rng

    def next_item(self) -> Item:
        return self.classes[self.rng.integers(len(self.classes))]

    def record(self, item: Item, correct: bool) -> None:
        pass


class FixedOrder:
    """Easy to hard: `block` items of each class in order of difficulty, then round again."""

    def __init__(self, difficulties: dict[Item, float], block: int = 5):
        self.order = sorted(difficulties, key=difficulties.get)
        self.block, self.n = block, 0

    def next_item(self) -> Item:
        item = self.order[(self.n // self.block) % len(self.order)]
        self.n += 1
        return item

    def record(self, item: Item, correct: bool) -> None:
        pass


def items_to_mastery(learner, policy, rng: np.random.Generator,
                     max_items: int = 400) -> int:
    """Items answered until the learner masters every skill (max_items + 1 when it never does)."""
    for n in range(max_items + 1):
        if learner.mastered:
            return n
        item = policy.next_item()
        policy.record(item, learner.answer(item, rng))
        learner.practise(item, rng)
    return max_items + 1


def _learner_kind(kind: str):
    if kind not in LEARNERS:
        raise ValueError(f"learner kind must be one of {sorted(LEARNERS)}, got {kind!r}")
    return LEARNERS[kind]


def random_cohort(n_learners: int, n_items: int, seed: int, kind: str = "level") -> list[list[tuple[Item, bool]]]:
    """Answer sequences of simulated learners practising random items: data to calibrate difficulties."""
    rng, make = np.random.default_rng(seed), _learner_kind(kind)
    cohort = []
    for _ in range(n_learners):
        learner, seq = make.draw(rng), []
        for _ in range(n_items):
            item = ITEM_CLASSES[rng.integers(len(ITEM_CLASSES))]
            seq.append((item, learner.answer(item, rng)))
            learner.practise(item, rng)
        cohort.append(seq)
    return cohort


def compare_orders(difficulties: dict[Item, float], n_learners: int = 200, seed: int = 0,
                   max_items: int = 400, block: int = 5, k: float = 0.4,
                   kind: str = "level") -> dict[str, np.ndarray]:
    """Items to mastery for the same simulated learners under adaptive, random and fixed-order practice.

    Learner i is drawn once (seed + i) and copied into each policy with the same answer/learning random
    stream, so the three columns are paired: the differences are about the order, not about who learnt.
    Returns {policy name: (n_learners,) int array}.
    """
    names, make = ("adaptive (Elo)", "random", "fixed order"), _learner_kind(kind)
    out = {name: np.empty(n_learners, dtype=int) for name in names}
    for i in range(n_learners):
        template = make.draw(np.random.default_rng([seed, i]))
        policies = (EloTutor(dict(difficulties), k=k), RandomOrder(list(difficulties), np.random.default_rng([seed, i, 1])),
                    FixedOrder(difficulties, block=block))
        for name, policy in zip(names, policies):
            out[name][i] = items_to_mastery(template.copy(), policy, np.random.default_rng([seed, i, 2]), max_items)
    return out


def mean_interval(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean and its percentile-bootstrap interval over learners."""
    x = np.asarray(values, dtype=float)                        # (n,)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need a 1-D array of at least 2 values, got shape {x.shape}")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(len(x), size=(n_boot, len(x)))].mean(axis=1)   # (n_boot,)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(x.mean()), float(lo), float(hi)
