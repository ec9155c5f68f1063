"""Benchmark the captioner (issue 16 part 4) and write benchmarks/results/captioning.json.

Target: every attribute right in the generated caption on >= 90% of held-out images. A caption is read
back into attributes with the grammar's own phrasings (course_lib.metrics.judge.read_caption) and
compared with the image's true attributes. Rows: shapes test (seen shape-colour pairs, unseen images),
shapes heldout (the 4 shape-colour pairs never in training), mnist_captions test; greedy and sampled
(temperature 1, seed 0). Training: course_lib.recipes.captioner.DEFAULTS, one thread, seed 0, a time budget.

    python benchmarks/captioning.py                  # about 7 minutes
    COURSE_FAST=1 python benchmarks/captioning.py    # smoke run: a few seconds each, nothing written
"""
from __future__ import annotations

import os
import sys
import time

import torch

from course_lib import bench, config, data
from course_lib.recipes import captioner as recipe

SECONDS = {"shapes": 120.0, "mnist_captions": 240.0}


def run(name: str, splits, fast: bool) -> list[dict]:
    train = data.load(name, split="train")
    torch.manual_seed(0)
    opts = recipe.DEFAULTS[name]
    model = recipe.build(train, **{k: v for k, v in opts.items() if k not in recipe.TRAIN_KEYS})
    hist = recipe.train(model, train, seconds=3.0 if fast else SECONDS[name], seed=0,
                        **{k: opts[k] for k in recipe.TRAIN_KEYS})
    rows = []
    for split in splits:
        test = data.load(name, split=split)
        if fast:
            test.images, test.attributes = test.images[:100], {a: v[:100] for a, v in test.attributes.items()}
        for greedy in (True, False):
            t = time.perf_counter()
            acc = recipe.evaluate(model, test, greedy=greedy, seed=0)
            row = {"dataset": f"{name} {split} ({len(test):,} images)", "decoding": "greedy" if greedy else "sampled T=1",
                   "train_s": round(hist.seconds, 1), "steps": len(hist.steps), "stopped_by": hist.stopped_by, "params": sum(p.numel() for p in model.parameters()),
                   "final_loss": round(hist.loss[-1], 3), "all_right_pct": round(100 * acc["all"], 1)}
            row.update({f"{a}_pct": round(100 * v, 1) for a, v in acc.items() if a != "all"})
            row["caption_s"] = round(time.perf_counter() - t, 2)
            rows.append(row)
            print(row, flush=True)
    return rows


def main() -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    rows = run("shapes", ("test", "heldout"), fast) + run("mnist_captions", ("test",), fast)
    if fast:
        return 0
    notes = [
        f"Budgets: {SECONDS['shapes']:.0f} s (shapes) and {SECONDS['mnist_captions']:.0f} s (MNIST), 1 CPU thread, seed 0, "
        "course_lib.recipes.captioner.DEFAULTS (AdamW, cosine schedule, batch 64, 8 phrasings per image).",
        "all_right_pct: share of images whose generated caption, read back with the grammar's phrasings, states every "
        "attribute of the image right. Sampled: temperature 1, generator seeded 0.",
        "shapes heldout: the (shape, colour) pairs never seen in training. The shapes captioner uses split_colour "
        "(a colour-blind form grid plus separate colour tokens): a first run without it (120 s, 2,520 steps, seed 0) "
        "scored heldout 33.3% greedy / 30.5% sampled (shape 44.6%: it said the shape it had seen with that colour), "
        "test 100% / 98.7%. What remains wrong on heldout is the shape word, which the decoder's own word prior "
        "predicts from the colour word before it.",
        "MNIST attributes are measured and bucketed at training tertiles: images near a bucket edge carry a label a "
        "model can hardly see (the attribute judge, trained on real images, reaches the same ceiling on size).",
        "load_avg_1min above 2 means other jobs shared the 2 cores.",
    ]
    for r in rows:
        r["load_avg_1min"] = round(os.getloadavg()[0], 1)
    return bench.record("captioning", title="Captioner (issue 16 part 4): every attribute right in generated captions",
                        command=" ".join(["python benchmarks/captioning.py", *sys.argv[1:]]), rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
