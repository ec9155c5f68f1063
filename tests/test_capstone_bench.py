"""benchmarks/capstone.py runs end to end in its smoke mode (one family, seconds) and writes nothing there."""
import importlib.util

import pytest
import torch

from course_lib import config
from course_lib.course import REPO_ROOT

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def capstone():
    spec = importlib.util.spec_from_file_location("capstone_bench", REPO_ROOT / "benchmarks" / "capstone.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCORECARD = ("n", "fd", "fd_ratio", "kid", "kid_std", "precision", "recall", "classes", "class_kl", "memorised")
COST = ("steps", "train_s", "train_and_eval_s", "sample_ms_per_image", "parameters", "bits_per_dim")


def test_score_is_the_scorecard_of_real_digits(capstone):
    from course_lib import data
    q = capstone.score(data.load("digits", split="train").images, 1000)
    assert tuple(q) == SCORECARD
    assert q["fd_ratio"] == 1.0 and q["classes"] == 10 and q["precision"] > 0.9 and q["recall"] > 0.9


def test_sanity_rows_meet_the_issue_targets(capstone):
    real, one = capstone.sanity_rows(200)
    assert real["family"] == one["family"] == "real data"
    assert real["precision"] >= 0.9 and real["recall"] >= 0.9 and real["sanity"].endswith(": met")
    assert one["recall"] <= 0.2 and one["classes"] == 1 and one["sanity"].endswith(": met")
    assert set(SCORECARD + COST) <= set(real) and real["steps"] == "-"


def test_steps_per_family_parses_and_rejects(capstone):
    import argparse
    assert capstone.parse_steps("vae=1608,gan=15423") == {"vae": 1608, "gan": 15423}
    assert capstone.parse_steps(",".join(f"{k}={v}" for k, v in capstone.QUIET_STEPS.items())) == capstone.QUIET_STEPS
    for bad in ("vae", "gpt=10", "vae=0", "vae=1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            capstone.parse_steps(bad)


def test_one_family_smoke_run_gives_a_table_row_and_its_sweep(capstone, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.is_fast()
    row, points = capstone.run_family("gan", seconds=None, steps=20, n=200)   # fixed steps, no time limit
    assert row["family"] == "gan" and row["setting"] == "default: truncation 1.0" and row["steps"] == 20 and row["bits_per_dim"] == "-" and row["parameters"] > 0
    assert set(SCORECARD + COST) <= set(row) and row["n"] == 200
    assert [p["setting"] for p in points] == [f"truncation {psi}" for psi in (1.0, 0.8, 0.6, 0.4)]
    assert all(list(p) == list(row) for p in points)                         # one table, every column shared
    assert capstone.sweep_settings("diffusion")[-1][0] == "DDIM 50 steps"     # no 1,000-step chain when fast
