"""The course leaderboard (notebook 16, docs/leaderboard.md): baseline rows shipped with the package and a
submission scored beside them by `genai-course evaluate S.npz`.

leaderboard.json holds the zoo's digit models and the real-data sanity row, each scored by
metrics.scorecard at n = 1000, seed 0 from the samples `genai-course sample ZOO_FILE --n 1000 --seed 0`
writes; scripts/leaderboard_baselines.py rewrites it. New families add rows there (a row is a name, a
family, how it was sampled and every scorecard column).
"""
from __future__ import annotations

import json
from pathlib import Path

from .scorecard import COLUMNS, Scorecard

PATH = Path(__file__).with_name("leaderboard.json")
SHOWN = ("fd_ratio", "kid", "kid_std", "precision", "recall", "classes", "class_kl", "memorised")


def load(path: Path = PATH) -> dict:
    """The shipped leaderboard: {"n", "seed", "about", "rows": [{"name", "family", "how", <columns>}, ...]}."""
    return json.loads(Path(path).read_text())


def render(card: Scorecard | None = None, name: str = "your samples", path: Path = PATH) -> str:
    """The baseline rows plus `card` (marked ->), best fd_ratio first, as a fixed-width text table."""
    board = load(path)
    rows = [dict(r, mark="") for r in board["rows"]]
    if card is not None:
        rows.append(dict(card.as_dict(), name=name, family="", mark="->"))
    rows.sort(key=lambda r: r["fd_ratio"])
    head = f"   {'model':<30}" + "".join(f"{c:>10}" for c in SHOWN)
    lines = [f"leaderboard: n = {board['n']} samples, seed {board['seed']}; references: 360 held-out digits "
             "(memorised: 1,437 training digits)", head]
    for r in rows:
        cells = "".join(f"{r[c]:>10d}" if isinstance(r[c], int) else f"{r[c]:>10.3f}" for c in SHOWN)
        lines.append(f"{r['mark']:<3}{r['name'][:30]:<30}{cells}")
    lines.append("lower is better: " + ", ".join(c for c in SHOWN if COLUMNS[c][1] == "lower")
                 + "; higher is better: " + ", ".join(c for c in SHOWN if COLUMNS[c][1] == "higher"))
    return "\n".join(lines)
