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


def test_quality_of_real_digits_is_the_reference(capstone):
    from course_lib import data
    q = capstone.quality(data.load("digits", split="train").images)
    assert q["fd_ratio"] == 1.0 and q["classes"] == 10 and q["precision"] > 0.9 and q["recall"] > 0.9


def test_one_family_smoke_run_gives_a_table_row_and_its_sweep(capstone, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.is_fast()
    row, points = capstone.run_family("gan", seconds=1.0, steps=20, n=150)   # > 128 features: no FD warning
    assert row["family"] == "gan" and row["setting"] == "default: truncation 1.0" and row["steps"] == 20 and row["bits_per_dim"] == "-" and row["parameters"] > 0
    assert {"fd_ratio", "precision", "recall", "classes", "sample_ms_per_image"} <= set(row)
    assert [p["setting"] for p in points] == [f"truncation {psi}" for psi in (1.0, 0.8, 0.6, 0.4)]
    assert capstone.sweep_settings("diffusion")[-1][0] == "DDIM 50 steps"     # no 1,000-step chain when fast
