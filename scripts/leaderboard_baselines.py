"""Rewrite course_lib/metrics/leaderboard.json: the course leaderboard's baseline rows (docs/leaderboard.md).

Every zoo model trained on the 8x8 digits (pretrained.names() with dataset "digits", so a new family's zoo
model gets a row by being registered) is sampled exactly as a student's submission is made,

    genai-course sample <its shipped weights file> --n 1000 --seed 0 --out S.npz

(each family's default sampler; conditional models draw labels 0..9 in turn) and scored by
metrics.scorecard(n=1000, seed=0). A first row scores 1,000 real training digits: the sanity row (fd_ratio 1
by definition, precision/recall ~0.98, memorised 1 because they are the training set). About a minute on one CPU.

    PYTHONPATH=. python scripts/leaderboard_baselines.py
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import torch


def main() -> int:
    torch.set_num_threads(1)
    from course_lib import cli, pretrained, samples
    from course_lib.metrics import leaderboard
    from course_lib.metrics.scorecard import N_DEFAULT, real_scorecard, scorecard
    rows = [dict(name="real training digits (sanity)", family="data",
                 how=f"the first {N_DEFAULT} of the 1,437 training digits", **real_scorecard(N_DEFAULT, 0).as_dict())]
    with tempfile.TemporaryDirectory() as tmp:
        for name in pretrained.names():
            entry = pretrained.info(name)
            if entry.dataset != "digits":
                continue
            out = Path(tmp) / f"{name}.npz"
            with pretrained.weights_file(name) as weights:
                cli.main(["sample", str(weights), "--n", str(N_DEFAULT), "--seed", "0", "--out", str(out)])
            card = scorecard(samples.read_images(out, (1, 8, 8)), n=N_DEFAULT, seed=0)
            rows.append(dict(name=name, family=entry.family,
                             how=f"genai-course sample <zoo {name}> --n {N_DEFAULT} --seed 0 (family defaults)",
                             **card.as_dict()))
            print(name, card.as_dict(), flush=True)
    board = {"about": "course leaderboard baselines (docs/leaderboard.md); written by "
                      "scripts/leaderboard_baselines.py, scored by course_lib.metrics.scorecard",
             "n": N_DEFAULT, "seed": 0, "rows": [{k: (round(v, 4) if isinstance(v, float) else v)
                                                 for k, v in r.items()} for r in rows]}
    tmp_path = leaderboard.PATH.with_suffix(".json.tmp")
    tmp_path.write_text(json.dumps(board, indent=1) + "\n")
    os.replace(tmp_path, leaderboard.PATH)
    print(f"wrote {leaderboard.PATH}\n\n{leaderboard.render()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
