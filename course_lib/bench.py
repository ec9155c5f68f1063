"""`genai-course bench`: time every notebook in full and fast mode and render benchmarks/RESULTS.md.

Every benchmark writes a JSON file to benchmarks/results/ (with the command that produced it); this
module turns all of them into one Markdown table, so RESULTS.md is never edited by hand.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from course_lib import runner, times
from course_lib.course import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
RESULTS_MD = REPO_ROOT / "benchmarks" / "RESULTS.md"
TARGETS = {"full": 180.0, "fast": 45.0}  # seconds per notebook (issue 2)


def machine() -> dict:
    import torch
    return {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
            "python": sys.version.split()[0], "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "genai_course": metadata.version("genai-course")}


def write_json(name: str, payload: dict) -> Path:
    """Atomically write benchmarks/results/<name>.json."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")  # key order = column order
    os.replace(tmp, path)
    return path


def record(name: str, *, title: str, command: str, rows: list[dict], notes=()) -> int:
    """Save one benchmark's rows with the command, date and machine that produced them.

    Under COURSE_FAST=1 the run is a smoke test of the script and nothing is written. Returns 0 (exit code).
    """
    from course_lib import config
    if config.is_fast():
        print("COURSE_FAST=1: smoke run, results not written")
        return 0
    payload = {"title": title, "command": command, "date": datetime.date.today().isoformat(),
               "machine": machine(), "rows": rows, "notes": list(notes)}
    print(f"wrote {write_json(name, payload)}")
    return 0


def best_of(fn, repeats: int = 3) -> float:
    """Seconds of fn() at its fastest over `repeats` runs after one warm-up: the least disturbed run on a
    shared machine."""
    import time
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_notebooks(paths: list[Path], modes: list[str]) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for mode in modes:
            for path in paths:
                res = runner.run_notebook(path, Path(out) / path.name, fast=(mode == "fast"))
                rows.append({"notebook": str(path.relative_to(REPO_ROOT)), "mode": mode,
                             "seconds": round(res.seconds, 1), "target_seconds": TARGETS[mode],
                             "ok": res.ok, "error": res.error})
                print(f"  {rows[-1]['notebook']:<50} {mode:<4} {res.seconds:6.1f}s {'ok' if res.ok else res.error}")
    return {"rows": rows}


def merge_rows(path: Path, new: list[dict], stamp: str) -> list[dict]:
    """The timed rows (each stamped `timed_on`) in place of the same notebook and mode in `path`; rows of
    notebooks not timed this run are kept with their own date, so timing one notebook drops no other."""
    old = json.loads(path.read_text()) if path.is_file() else {}
    fresh = {(r["notebook"], r["mode"]): dict(r, timed_on=stamp) for r in new}
    rows = [fresh.pop((r["notebook"], r["mode"]), None) or dict(r, timed_on=r.get("timed_on", old.get("date", "?")))
            for r in old.get("rows", [])]
    return sorted(rows + list(fresh.values()), key=lambda r: (r["mode"] != "full", r["notebook"]))


def table(rows: list[dict]) -> list[str]:
    """A markdown table of rows that need not share their fields: a field every row has gets a column
    (target and met last); the rest of each row goes into one `measured` cell as `name value; ...`,
    so no figure is dropped and a table of unlike rows (toys and digits, say) stays narrow."""
    shared = [k for k in rows[0] if all(k in r for r in rows)]
    tail = [k for k in ("target", "met") if k in shared]
    cols = [k for k in shared if k not in tail]
    if any(set(r) - set(shared) for r in rows):
        cols.append(None)                                   # the `measured` cell of unshared fields
    cols += tail

    def cell(r: dict, k) -> str:
        if k is None:
            return "; ".join(f"{name} {v}" for name, v in r.items() if name not in shared)
        return str(r[k])
    names = ["measured" if k is None else k for k in cols]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(cols)] + \
           ["| " + " | ".join(cell(r, k) for k in cols) + " |" for r in rows]


def render() -> str:
    """RESULTS.md from every JSON in benchmarks/results/."""
    lines = ["# Benchmark results", "",
             "Generated by `genai-course bench` from `benchmarks/results/*.json`; do not edit by hand.", ""]
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        lines += [f"## {data.get('title', path.stem)}", "",
                  f"- command: `{data.get('command', '?')}`", f"- measured: {data.get('date', '?')}"]
        mach = data.get("machine", {})
        if mach:
            lines.append("- machine: " + ", ".join(f"{k} {v}" for k, v in mach.items()))
        lines.append("")
        rows = data.get("rows", [])
        if rows:
            lines += table(rows) + [""]
        for note in data.get("notes", []):
            lines.append(f"- {note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(notebooks: list[str], modes: list[str], render_only: bool = False) -> int:
    if not render_only:
        paths = [Path(p).resolve() for p in notebooks] or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
        print(f"Timing {len(paths)} notebook(s) in mode(s) {', '.join(modes)} ...")
        result = time_notebooks(paths, modes)
        failed = [r for r in result["rows"] if not r["ok"]]
        stamp = time.strftime("%Y-%m-%d %H:%M")
        result["rows"] = merge_rows(RESULTS_DIR / "notebooks.json", result["rows"], stamp)
        result.update(title="Notebook execution times", date=stamp,
                      command=" ".join(["genai-course bench", *sys.argv[2:]]), machine=machine(),
                      notes=["Targets: <= 180 s per notebook in full mode, <= 45 s with COURSE_FAST=1.",
                             "Run on a quiet machine: other processes on the 2 cores inflate the times."])
        write_json("notebooks", result)
        if failed:
            print(f"{len(failed)} notebook run(s) failed")
    RESULTS_MD.write_text(render())
    print(f"wrote {RESULTS_MD.relative_to(REPO_ROOT)}")
    for path in times.sync(REPO_ROOT):      # the README's and notebooks' times come from the same file
        print(f"updated the measured time in {path.relative_to(REPO_ROOT)}")
    return 0 if render_only or not failed else 1
