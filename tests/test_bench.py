import json

from course_lib import bench


def test_table_keeps_every_figure_of_unlike_rows():
    rows = [{"dataset": "grid", "steps": 10, "modes": "25/25", "target": ">= 24", "met": "yes"},
            {"dataset": "digits", "steps": 20, "fd": 3.1, "fd_ratio": 1.9, "target": "<= 2x", "met": "yes"}]
    header, rule, *body = bench.table(rows)
    assert header == "| dataset | steps | measured | target | met |"
    assert rule == "|---|---|---|---|---|"
    assert body == ["| grid | 10 | modes 25/25 | >= 24 | yes |",
                    "| digits | 20 | fd 3.1; fd_ratio 1.9 | <= 2x | yes |"]


def test_table_of_like_rows_has_no_measured_column():
    rows = [{"what": "a", "value": 1, "met": "no"}, {"what": "b", "value": 2, "met": "yes"}]
    assert bench.table(rows) == ["| what | value | met |", "|---|---|---|", "| a | 1 | no |", "| b | 2 | yes |"]


def test_timing_some_notebooks_keeps_the_rows_of_the_others(tmp_path):
    path = tmp_path / "notebooks.json"
    path.write_text(json.dumps({"date": "2026-11-29 04:53", "rows": [
        {"notebook": "notebooks/06.ipynb", "mode": "full", "seconds": 159.6},
        {"notebook": "notebooks/07.ipynb", "mode": "full", "seconds": 136.4},
        {"notebook": "notebooks/07.ipynb", "mode": "fast", "seconds": 19.3}]}))
    new = [{"notebook": "notebooks/06.ipynb", "mode": "full", "seconds": 170.0},
           {"notebook": "notebooks/08.ipynb", "mode": "fast", "seconds": 20.0}]
    rows = bench.merge_rows(path, new, "2026-12-02 02:00")
    assert [(r["notebook"], r["mode"], r["seconds"], r["timed_on"]) for r in rows] == [
        ("notebooks/06.ipynb", "full", 170.0, "2026-12-02 02:00"),
        ("notebooks/07.ipynb", "full", 136.4, "2026-11-29 04:53"),
        ("notebooks/07.ipynb", "fast", 19.3, "2026-11-29 04:53"),
        ("notebooks/08.ipynb", "fast", 20.0, "2026-12-02 02:00")]
    assert bench.merge_rows(tmp_path / "none.json", new, "d")[0]["timed_on"] == "d"   # a first run


# --- one source for notebook times (course_lib.times) ---------------------------------------------------
import json
import shutil
from pathlib import Path

from course_lib import times
from course_lib.course import REPO_ROOT


def test_durations_are_spoken_as_a_reader_would():
    assert times.spoken(4.6) == "about 5 seconds"
    assert times.spoken(21.1) == "about 20 seconds"
    assert times.spoken(59.9) == "about 1 minute"
    assert times.spoken(136.4) == "about 2.5 minutes"
    assert times.spoken(159.6) == "about 2.5 minutes"
    assert times.spoken(171.0) == "about 3 minutes"


def test_readme_and_notebooks_quote_the_measured_times():
    assert times.problems(REPO_ROOT) == []


def test_sync_rewrites_drifted_times_and_nothing_else(tmp_path):
    nb_name = "notebooks/03_autoencoders_and_vaes.ipynb"
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    shutil.copy(REPO_ROOT / nb_name, tmp_path / nb_name)
    shutil.copy(REPO_ROOT / "README.md", tmp_path / "README.md")
    rows = [{"notebook": nb_name, "mode": "full", "seconds": 600.0, "ok": True},
            {"notebook": nb_name, "mode": "fast", "seconds": 31.0, "ok": True}]
    (tmp_path / "benchmarks/results/notebooks.json").write_text(json.dumps({"rows": rows}))
    before = json.loads((tmp_path / nb_name).read_text())

    assert len(times.problems(tmp_path)) == 2                   # the notebook and the README both drifted
    assert sorted(p.name for p in times.sync(tmp_path)) == ["03_autoencoders_and_vaes.ipynb", "README.md"]
    assert times.problems(tmp_path) == []
    after = json.loads((tmp_path / nb_name).read_text())
    first = "".join(after["cells"][0]["source"])
    assert "Running every cell: about 10 minutes on a 2-core CPU, about 30 seconds with `COURSE_FAST=1`" in first
    assert after["cells"][1:] == before["cells"][1:]            # only the first cell's sentence changed
    assert "| 10.0 |" in (tmp_path / "README.md").read_text()
    assert times.sync(tmp_path) == []                           # idempotent


def test_best_of_warms_up_then_keeps_the_fastest_run():
    import time
    waits = iter([0.05, 0.03, 0.0, 0.02])              # the warm-up is the slowest and is not counted
    calls = []
    seconds = bench.best_of(lambda: calls.append(time.sleep(next(waits))), repeats=3)
    assert len(calls) == 4 and seconds < 0.02
