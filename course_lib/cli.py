"""The `genai-course` command: environment check, headless notebook runs, benchmarks, releases."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _doctor(args) -> int:
    from course_lib import doctor
    return doctor.main()


def _run(args) -> int:
    from course_lib import runner
    from course_lib.badges import REPO_ROOT
    paths = [Path(p) for p in args.notebooks] or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    results = []
    for path in paths:
        target = path if args.inplace else out_dir / path.name
        print(f"running {path} ({'fast' if args.fast else 'full'} mode) ...", flush=True)
        results.append(runner.run_notebook(path, target, fast=args.fast, timeout=args.timeout))
    print(runner.format_table(results))
    if not args.inplace:
        print(f"executed copies in {out_dir}/")
    return 0 if all(r.ok for r in results) else 1


def _bench(args) -> int:
    from course_lib import bench
    modes = ["full", "fast"] if args.mode == "both" else [args.mode]
    return bench.main(args.notebooks, modes, render_only=args.render_only)


def _release(args) -> int:
    from course_lib import grading
    return grading.main(["release", *(["--all"] if args.all else args.names)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genai-course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check Python, packages, device, bundled data and the Jupyter kernel")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("run", help="execute notebooks headless (nbclient) and print a time table")
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: every notebook in notebooks/)")
    p.add_argument("--out", default=".executed", help="folder for executed copies (default: .executed)")
    p.add_argument("--inplace", action="store_true", help="overwrite the notebooks with their outputs")
    p.add_argument("--fast", action="store_true", help="run with COURSE_FAST=1 (small budgets)")
    p.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default 900)")
    p.set_defaults(func=_run)

    p = sub.add_parser("bench", help="time notebooks in full and fast mode; write benchmarks/RESULTS.md")
    p.add_argument("notebooks", nargs="*", help="notebooks to time (default: all in notebooks/)")
    p.add_argument("--mode", choices=["full", "fast", "both"], default="both")
    p.add_argument("--render-only", action="store_true", help="only rebuild RESULTS.md from the JSON files")
    p.set_defaults(func=_bench)

    p = sub.add_parser("release", help="regenerate exercises/ from solutions/ (nbgrader)")
    p.add_argument("names", nargs="*", help="assignment names, e.g. 01_foundations")
    p.add_argument("--all", action="store_true", help="every assignment in solutions/")
    p.set_defaults(func=_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
