"""Flow matching against DDPM on the digits, same network, same budget (issue 23, part 1); writes
benchmarks/results/flow.json.

Both models are the course's digits U-Net (width 16) trained for 150 s on one thread with the recipe of
`genai-course train diffusion --dataset digits` (AdamW 3e-3, batch 128, warm-up + cosine decay, EMA 0.995):
DDPM with v-prediction (the course default) and flow matching (straight paths, velocity target). Each is
sampled at equal numbers of network calls (NFE): DDIM (eta 0) for DDPM, Euler and Heun for flow matching.
Target (issue 23): the better of the two reaches FD <= 1.2x real-vs-real with its default sampler, and
<= 1.3x at <= 25 sampling steps.

    python benchmarks/flow.py                      # seeds 0 1 2: 3 x (2 x 150 s + sampling), ~18 min
    python benchmarks/flow.py --seeds 0            # one seed
    COURSE_FAST=1 python benchmarks/flow.py        # smoke run (nothing written)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

from course_lib import bench, config, data, metrics
from course_lib.models.diffusion import Diffusion, FlowMatching
from course_lib.recipes import diffusion as recipe

NFES = (10, 25, 50)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - start, 1)


def train(kind: str, seed: int, seconds: float | None, steps: int | None, X: torch.Tensor):
    opt = recipe.DEFAULTS["digits"]
    config.seed_everything(seed)
    if kind == "ddpm":
        model = Diffusion(data_shape=tuple(X.shape[1:]), arch="unet", width=opt["width"], prediction="v")
    else:
        model = FlowMatching(data_shape=tuple(X.shape[1:]), arch="unet", width=opt["width"])
    hist = recipe.train_model(model, X, None, steps=steps, seconds=seconds, lr=opt["lr"], batch_size=opt["batch_size"],
                              ema=opt["ema"], generator=torch.Generator().manual_seed(seed), progress=False)
    return model.eval(), len(hist.steps), round(hist.seconds, 1)


def samplers(kind: str):
    """(name, NFE, kwargs) at equal numbers of network calls: Heun with s steps makes 2 s - 1 calls."""
    if kind == "ddpm":
        return [(f"ddim{k}", k, dict(sampler="ddim", steps=k)) for k in NFES]
    return ([(f"euler{k}", k, dict(steps=k)) for k in NFES]
            + [(f"heun{(k + 1) // 2}", 2 * ((k + 1) // 2) - 1, dict(steps=(k + 1) // 2, solver="heun")) for k in NFES])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None,
                        help="a step budget instead of 150 s (for a busy machine: 150 s on a quiet one is ~4,500 steps)")
    args = parser.parse_args(argv)
    config.set_threads(1)
    seconds = None if args.steps else config.budget(150.0, 3.0)
    steps = config.budget(args.steps, 30) if args.steps else None
    train_set, test = data.load("digits", split="train"), data.load("digits", split="test")
    n = config.budget(len(train_set.images), 100)
    fd_real = metrics.digit_frechet_distance(train_set.images, test.images)
    rows, per = [], {}
    for seed in args.seeds:
        for kind in ("ddpm", "flow"):
            model, done, secs = train(kind, seed, seconds, steps, train_set.images)
            row = {"model": "DDPM, v-prediction" if kind == "ddpm" else "flow matching", "seed": seed,
                   "train_s": secs, "steps": done, "load_avg_1min": round(os.getloadavg()[0], 1)}
            for name, nfe, kw in samplers(kind):
                x, sec = timed(lambda: model.sample(n, generator=torch.Generator().manual_seed(seed), **kw))
                ratio = metrics.digit_frechet_distance(x, test.images) / fd_real
                row[f"fd_ratio_{name}"], row[f"sample_s_{name}"] = round(ratio, 2), sec
                per.setdefault((kind, name, nfe), []).append(ratio)
            rows.append(row)
            print(row, flush=True)
    summary = []
    for (kind, name, nfe), vals in per.items():
        spread = statistics.stdev(vals) if len(vals) > 1 else 0.0
        summary.append({"model": kind, "sampler": name, "nfe": nfe, "seeds": len(vals),
                        "fd_ratio_mean": round(statistics.mean(vals), 2), "fd_ratio_sd": round(spread, 2)})
    best_25 = min(s["fd_ratio_mean"] for s in summary if s["nfe"] <= 25)
    best_50 = min(s["fd_ratio_mean"] for s in summary)
    summary.append({"model": "target", "sampler": "best <= 25 NFE / best overall", "nfe": "-", "seeds": len(args.seeds),
                    "fd_ratio_mean": f"{best_25} / {best_50}", "fd_ratio_sd": "-",
                    "met": f"<= 1.3x at <= 25: {'yes' if best_25 <= 1.3 else 'no'}; <= 1.2x: {'yes' if best_50 <= 1.2 else 'no'}"})
    for row in summary:
        print(row, flush=True)
    notes = [
        "Each model: the digits U-Net (width 16) trained " + (f"{seconds:.0f} s" if seconds else f"{steps:,} steps")
        + " on 1 CPU thread with the diffusion recipe's "
        "digits settings (AdamW lr 3e-3, batch 128, 100 warm-up steps and cosine decay, EMA 0.995 copied in at the "
        "end), seed as listed; DDPM predicts v (cosine schedule, T = 1000), flow matching predicts the velocity z - x0 "
        "of x_t = (1 - t) x0 + t z with t ~ U(0, 1).",
        f"fd_ratio = Fréchet distance (shipped digit classifier's features) of {n:,} samples against the 360 held-out "
        f"digits, divided by the real-vs-real reference (the 1,437 training digits against the same 360: "
        f"{fd_real:.2f}). NFE = network calls per sample: DDIM k and Euler k make k, Heun s makes 2 s - 1.",
        "load_avg_1min (2 cores): above 1 means another job shared the machine and the model got fewer steps.",
    ]
    return bench.record("flow", title="Flow matching against DDPM (issue 23): digits in 150 s, equal network calls",
                        command="python benchmarks/flow.py --seeds " + " ".join(map(str, args.seeds))
                        + (f" --steps {args.steps}" if args.steps else ""),
                        rows=rows + summary, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
