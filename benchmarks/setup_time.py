"""Time what a newcomer and CI do: clone the repository fresh, `make setup` (the install behind `make lab`),
then `make test`. Writes benchmarks/results/setup.json and re-renders RESULTS.md.

    python benchmarks/setup_time.py            # full: install + whole test suite (10-20 minutes)
    python benchmarks/setup_time.py --no-test  # only the install

The clone is of the committed HEAD, so uncommitted work is not measured. The pip cache of this machine is
used as it is: a machine that has never downloaded the wheels will take longer.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from course_lib import bench  # noqa: E402


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "CI": "true"})
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return time.perf_counter() - start, proc.returncode, tail[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-test", action="store_true", help="time only the install")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "genai-course"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True).stdout.strip()
        steps = [("make setup (install behind `make lab`)", ["make", "setup"], 300)]
        if not args.no_test:
            steps.append(("make test (whole suite, after setup)", ["make", "test"], 20 * 60 - 300))
        for name, cmd, target in steps:
            seconds, rc, tail = timed(cmd, clone)
            rows.append({"step": name, "seconds": round(seconds), "target_seconds": target,
                         "exit_code": rc, "last_line": tail.replace("|", "/")[:90]})
            print(f"{name}: {seconds:.0f}s, exit {rc}: {tail}")
            if rc:
                break
    bench.write_json("setup", {
        "title": "Fresh clone: install and test times", "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": "python benchmarks/setup_time.py" + (" --no-test" if args.no_test else ""),
        "machine": bench.machine(), "rows": rows,
        "notes": [f"commit {commit}; targets: install <= 5 min, install + make test <= 20 min (issue 2)"]})
    bench.RESULTS_MD.write_text(bench.render())
    return max(r["exit_code"] for r in rows)


if __name__ == "__main__":
    sys.exit(main())
