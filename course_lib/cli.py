"""The `genai-course` command: environment check, headless notebook runs, benchmarks, training, sampling,
the capstone's `evaluate` (scorecard and leaderboard), and the
instructor verbs (assign, collect, autograde, feedback, grades, status) of course_lib.instructor."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _doctor(args) -> int:
    from course_lib import doctor
    return doctor.main()


def _run(args) -> int:
    from course_lib import runner
    from course_lib.course import REPO_ROOT
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


FAMILIES = ("vae", "gan", "gpt", "diffusion", "flow", "pixels", "t2i", "clip", "captioner", "data_to_text")  # each: course_lib.recipes.<family>


def _family_module(family: str):
    """The family's recipe module; it provides cli_train(...) and cli_sample(...) (see `_train`/`_sample`)."""
    import importlib
    if family not in FAMILIES:
        raise SystemExit(f"error: unknown model family {family!r}; known: {', '.join(FAMILIES)}")
    try:
        module = importlib.import_module(f"course_lib.recipes.{family}")
    except ModuleNotFoundError:
        raise SystemExit(f"error: the {family!r} family is not in this version of course_lib yet")
    if not hasattr(module, "cli_train"):
        raise SystemExit(f"error: course_lib.recipes.{family} has no command-line training yet")
    return module


def _options(pairs: list[str]) -> dict:
    """--option key=value pairs, values parsed as int/float/bool when they look like one."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"error: --option expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        for parse in (int, float):
            try:
                value = parse(value)
                break
            except ValueError:
                continue
        out[key] = {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value
    return out


def _train(args) -> int:
    """genai-course train FAMILY --dataset D --seconds N --out CKPT: every family, one interface.

    The family module's cli_train(dataset=, seconds=, steps=, seed=, out=, options=) trains, saves a
    checkpoint with course_lib.checkpoints (meta["family"] set) and returns a dict of summary figures.
    """
    module = _family_module(args.family)
    out = Path(args.out)
    import os

    from course_lib import config
    config.set_threads(args.threads or int(os.environ.get("COURSE_THREADS", "0")) or 1)
    summary = module.cli_train(dataset=args.dataset, seconds=args.seconds, steps=args.steps, seed=args.seed,
                               out=out, options=_options(args.option))
    print(f"saved {out}")
    for key, value in (summary or {}).items():
        print(f"  {key}: {value}")
    return 0


def _sample(args) -> int:
    """genai-course sample CKPT --n N --out SAMPLES.npz (images) or --prompt TEXT --n-tokens N (text).

    The checkpoint's meta["family"] names the module; its cli_sample(path, n=, seed=, out=, options=)
    loads the model through course_lib.checkpoints (whose messages name any mismatch) and writes the samples (images: float32 in [0, 1], shape (N, 1, H, W), plus labels when conditional).
    """
    from course_lib import checkpoints
    try:
        ckpt = checkpoints.read(args.checkpoint)
    except checkpoints.CheckpointError as err:
        raise SystemExit(f"error: {err}") from None
    family = ckpt["meta"].get("family")
    if family is None:
        raise SystemExit(f"error: {args.checkpoint} has no meta['family']; was it written by `genai-course train`?")
    options = _options(args.option)
    if args.prompt is not None:
        options.update(prompt=args.prompt, n_tokens=args.n_tokens)
    try:
        result = _family_module(family).cli_sample(Path(args.checkpoint), n=args.n, seed=args.seed,
                                                   out=Path(args.out) if args.out else None, options=options)
    except checkpoints.CheckpointError as err:      # a config or weights that do not fit: say which
        raise SystemExit(f"error: {err}") from None
    if result is not None:
        print(result)
    return 0


def _evaluate(args) -> int:
    """genai-course evaluate S.npz [--json] [--no-leaderboard]: the capstone's scorecard (course_lib.metrics.scorecard)
    of the first --n samples, printed beside the leaderboard's baseline rows."""
    import json
    import os

    from course_lib import config, samples
    from course_lib.metrics import leaderboard
    from course_lib.metrics.scorecard import N_DEFAULT, check_count, scorecard
    images = samples.read_images(args.samples, (1, 8, 8))
    config.set_threads(int(os.environ.get("COURSE_THREADS", "0")) or 1)     # small matrices: 1 thread is fastest
    try:
        check_count(len(images), args.n)
        card = scorecard(images, n=args.n, seed=args.seed)
    except ValueError as err:
        raise SystemExit(f"error: {args.samples}: {err}") from None
    if args.json:
        print(json.dumps(card.as_dict(), indent=2))
        return 0
    print(f"{args.samples}: first {card.n} of {len(images)} samples\n{card}")
    if args.leaderboard and args.n == N_DEFAULT and args.seed == 0:
        print("\n" + leaderboard.render(card, name=Path(args.samples).name))
    elif args.leaderboard:
        print(f"\n(no leaderboard: its rows are scored at n = {N_DEFAULT}, seed 0)")
    return 0


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

    p = sub.add_parser("train", help="train a model family from the command line and save a checkpoint")
    p.add_argument("family", help=f"one of: {', '.join(FAMILIES)}")
    p.add_argument("--dataset", required=True, help="a course_lib.data name, e.g. digits, mnist5k, shakespeare")
    p.add_argument("--seconds", type=float, default=None, help="training time budget in seconds")
    p.add_argument("--steps", type=int, default=None, help="training step budget (whichever ends first)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for PyTorch (default: COURSE_THREADS, else 1: the course's small models train "
                        "fastest on one thread, as the benchmarks and the pretrained zoo were measured)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="checkpoint file to write (atomically)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="family-specific setting, e.g. --option beta=4 (repeatable)")
    p.set_defaults(func=_train)

    p = sub.add_parser("sample", help="draw samples from a checkpoint written by `genai-course train`")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--out", default=None, help="where to write samples (.npz for images)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prompt", default=None, help="text families: the prompt to continue; t2i: the caption to draw; "
                                                  "clip: the caption to retrieve images for")
    p.add_argument("--n-tokens", type=int, default=200, help="text families: tokens to generate")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="family-specific setting, e.g. --option temperature=0.8 (repeatable)")
    p.set_defaults(func=_sample)

    p = sub.add_parser("evaluate", help="score generated 8x8 digits (an .npz from `sample`) and show the leaderboard")
    p.add_argument("samples", help="an .npz with `images` float32 (N, 1, 8, 8) in [0, 1], N >= --n")
    p.add_argument("--n", type=int, default=1000, help="samples scored, the first n (default 1000, the leaderboard's)")
    p.add_argument("--seed", type=int, default=0, help="seed of KID's random subsets (default 0)")
    p.add_argument("--json", action="store_true", help="print the scorecard as JSON only")
    p.add_argument("--no-leaderboard", dest="leaderboard", action="store_false",
                   help="print the scorecard without the baseline rows")
    p.set_defaults(func=_evaluate)

    from course_lib import instructor  # assign (alias: release), collect, autograde, feedback, grades, status
    instructor.add_verbs(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
