"""Test-wide settings, applied at import time so every test (and every notebook kernel that nbval
starts, which inherits this environment) runs in fast, headless mode with a throw-away data cache."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ["COURSE_FAST"] = "1"
os.environ["MPLBACKEND"] = "Agg"
os.environ["COURSE_HEADLESS"] = "1"  # course_lib.widgets: no widget front end, draw the static figure
if not os.environ.get("COURSE_DATA_DIR"):
    # One cache per test session: tests never touch the user's ~/.cache/genai-course.
    _data_dir = tempfile.mkdtemp(prefix="genai-course-test-data-")
    os.environ["COURSE_DATA_DIR"] = _data_dir
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)


@pytest.hookimpl(trylast=True)       # after -k and -m: only tests that will run can stand in for nbval
def pytest_collection_modifyitems(config, items):
    """Run each notebook once, not twice. tests/test_notebook_widgets.py executes the notebooks with
    explorers top to bottom (widgets on) and compares their nbval-check-output cells as nbval-lax does;
    tests/test_grading.py's round trip executes each solution, hidden tests included, and its release, and
    fails on an error outside the cells the release tags raises-exception. When those tests are collected beside
    nbval's cells of the same notebooks, nbval's run of them is deselected; `pytest notebooks solutions
    exercises --nbval-lax` alone still runs every cell."""
    covered = set()
    for item in items:
        name = getattr(item, "originalname", None)
        if name == "test_every_explore_call_builds_a_working_widget":
            covered.add(Path(item.callspec.params["path"]).resolve())
        elif name == "test_round_trip":
            for top in ("solutions", "exercises"):
                folder = Path(__file__).resolve().parents[1] / top / item.callspec.params["name"]
                covered.update(p.resolve() for p in folder.glob("*.ipynb"))
    twice = [item for item in items if type(item).__name__ == "IPyNbCell" and Path(item.path).resolve() in covered]
    if twice:
        config.hook.pytest_deselected(items=twice)
        dropped = set(twice)
        items[:] = [item for item in items if item not in dropped]
