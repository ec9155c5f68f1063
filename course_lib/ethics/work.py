"""Which tasks could a language model change? A task-exposure exercise after Eloundou et al. (2023).

The student rates task statements of a few occupations on the paper's rubric (E0, E1, E2), the ratings are
aggregated into exposure scores per occupation exactly as the paper does, and compared with the course's
reference ratings (agreement and Cohen's kappa, written by hand). The tasks ship with the package
(data/tasks.csv); they are illustrative, written for the course in the style of O*NET task statements.
An exposure score measures what a model *could* change in a task list, not what happens to jobs: the
notebook sets it beside studies that measured effects on real workers.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from typing import Mapping, Sequence

LABELS = ("E0", "E1", "E2")
RUBRIC = {
    "E0": "no exposure: a language model (or a tool built on one) does not cut the time of the task by half "
          "at equal quality, or would make it worse",
    "E1": "direct exposure: a language model alone (text in, text out, as in a chat window) cuts the time of the "
          "task by at least half at equal quality",
    "E2": "exposure with tools: the time is halved only with software built on a language model (retrieval, "
          "code execution, image generation, access to files or systems)",
}
SOURCE = ("illustrative task statements written for the course in the style of O*NET task statements "
          "(not quoted from O*NET); reference ratings by the course")


@dataclass(frozen=True)
class Task:
    """One task statement and the course's reference rating (with the reason for it)."""

    task_id: str
    occupation: str
    task: str
    reference: str  # one of LABELS
    reason: str


def load_tasks() -> list[Task]:
    """The shipped task table (course_lib/ethics/data/tasks.csv), in file order."""
    text = resources.files("course_lib.ethics").joinpath("data", "tasks.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    tasks = [Task(**row) for row in csv.DictReader(io.StringIO("\n".join(lines)))]
    bad = [t.task_id for t in tasks if t.reference not in LABELS]
    if bad:
        raise ValueError(f"tasks.csv: reference ratings must be one of {LABELS}; tasks {bad} are not")
    return tasks


def occupations(tasks: Sequence[Task] | None = None) -> list[str]:
    """The occupations in table order."""
    tasks = load_tasks() if tasks is None else tasks
    return list(dict.fromkeys(t.occupation for t in tasks))


def reference_ratings(tasks: Sequence[Task] | None = None) -> dict[str, str]:
    """task_id -> the course's rating."""
    tasks = load_tasks() if tasks is None else tasks
    return {t.task_id: t.reference for t in tasks}


def check_ratings(ratings: Mapping[str, str], tasks: Sequence[Task] | None = None) -> dict[str, str]:
    """Validate a student's ratings {task_id: "E0" | "E1" | "E2"} against the table; returns them cleaned.

    Labels may differ in case and surrounding spaces ("e1 " is E1). Unknown labels and task ids not in the
    table raise ValueError naming them; a subset of the tasks is allowed (scores use the rated tasks).
    """
    tasks = load_tasks() if tasks is None else tasks
    if not isinstance(ratings, Mapping):
        raise TypeError(f"ratings must be a mapping task_id -> label (one of {LABELS}), "
                        f"got {type(ratings).__name__}")
    if not ratings:
        raise ValueError("ratings is empty: rate at least one task")
    known = {t.task_id for t in tasks}
    unknown_ids = [k for k in ratings if k not in known]
    if unknown_ids:
        raise ValueError(f"ratings for tasks not in the table: {unknown_ids}; known task ids: {sorted(known)}")
    cleaned, bad = {}, {}
    for task_id, label in ratings.items():
        norm = label.strip().upper() if isinstance(label, str) else label
        if norm in LABELS:
            cleaned[task_id] = norm
        else:
            bad[task_id] = label
    if bad:
        raise ValueError(f"unknown rating labels {bad}: each rating must be one of {LABELS} "
                         f"(see course_lib.ethics.work.RUBRIC)")
    return cleaned


def exposure_scores(ratings: Mapping[str, str] | None = None,
                    tasks: Sequence[Task] | None = None) -> dict[str, dict]:
    """Per occupation: alpha = share E1, beta = share E1 + 0.5 * share E2, zeta = share E1 + share E2.

    Shares are over the occupation's rated tasks (n); ratings=None scores the reference ratings. These are
    Eloundou et al.'s three measures (lower bound, middle, upper bound), with every task weighted equally.
    Occupations with no rated task are left out.
    """
    tasks = load_tasks() if tasks is None else tasks
    ratings = reference_ratings(tasks) if ratings is None else check_ratings(ratings, tasks)
    scores = {}
    for occupation in occupations(tasks):
        rated = [ratings[t.task_id] for t in tasks if t.occupation == occupation and t.task_id in ratings]
        if not rated:
            continue
        n = len(rated)
        e1, e2 = rated.count("E1") / n, rated.count("E2") / n
        scores[occupation] = dict(alpha=e1, beta=e1 + 0.5 * e2, zeta=e1 + e2, n=n)
    return scores


def confusion(a: Sequence[str], b: Sequence[str], labels: Sequence[str] = LABELS) -> list[list[int]]:
    """counts[i][j] = how many items rater a put in labels[i] and rater b in labels[j]."""
    if len(a) != len(b):
        raise ValueError(f"the two raters must rate the same items: got {len(a)} and {len(b)} ratings")
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for x, y in zip(a, b):
        if x not in index or y not in index:
            raise ValueError(f"ratings must be among {tuple(labels)}, got {x!r} and {y!r}")
        counts[index[x]][index[y]] += 1
    return counts


def cohen_kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str] = LABELS) -> float | None:
    """Cohen's kappa = (p_o - p_e) / (1 - p_e): agreement beyond what the raters' label shares give by chance.

    p_o: share of items rated alike; p_e: sum over labels of (share of a) * (share of b). 1 is perfect
    agreement, 0 chance level, below 0 worse than chance. None (undefined) when p_e = 1, that is when both
    raters used one and the same label for everything: no disagreement was possible.
    """
    counts = confusion(a, b, labels)
    n = len(a)
    if n == 0:
        raise ValueError("cohen_kappa needs at least one rated item")
    p_o = sum(counts[i][i] for i in range(len(labels))) / n
    rows = [sum(r) / n for r in counts]  # rater a's share of each label
    cols = [sum(r[j] for r in counts) / n for j in range(len(labels))]  # rater b's
    p_e = sum(r * c for r, c in zip(rows, cols))
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1.0 - p_e)


def compare(ratings: Mapping[str, str], tasks: Sequence[Task] | None = None) -> dict:
    """A student's ratings against the reference, on the tasks the student rated.

    Returns n, agreement (share rated alike), kappa (None when undefined), the confusion table
    (rows: student, columns: reference, in LABELS order) and the task ids rated differently.
    """
    tasks = load_tasks() if tasks is None else tasks
    ratings = check_ratings(ratings, tasks)
    reference = reference_ratings(tasks)
    ids = [t.task_id for t in tasks if t.task_id in ratings]
    student = [ratings[i] for i in ids]
    ref = [reference[i] for i in ids]
    return dict(n=len(ids), agreement=sum(s == r for s, r in zip(student, ref)) / len(ids),
                kappa=cohen_kappa(student, ref), confusion=confusion(student, ref),
                disagreements=[i for i, s, r in zip(ids, student, ref) if s != r])
