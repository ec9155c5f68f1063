"""Benchmark mini-CLIP against issue 16's targets and write benchmarks/results/multimodal.json.

Targets (this CPU, one thread, each model trained <= 300 s):
  - MNIST captions: digit classification by caption scoring >= 95% on the 1,000 held-out test images;
    text -> image recall@5 >= 90% among those 1,000 images, a hit being any image whose measured
    attributes (digit, size, thickness, slant) all match the query caption's.
  - shapes: accuracy on the held-out (shape, colour) combinations, never seen in training (aim >= 80%),
    scoring every one of the 20 shape-colour pairs; recall@5 among the 1,000 held-out images.
Training goes through course_lib.recipes.clip (the defaults there), seed 0, a fixed step budget with a
300 s cap (the row says which ended the run).

    python benchmarks/multimodal.py                      # both: about 11 minutes
    python benchmarks/multimodal.py --only shapes        # or --only mnist (the JSON then has that row only)
    COURSE_FAST=1 python benchmarks/multimodal.py        # smoke run: a few steps, nothing written
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

from course_lib import bench, config, data
from course_lib.metrics.retrieval import text_to_image_recall, zero_shot_accuracy
from course_lib.recipes import clip as recipe

STEPS = {"mnist": 1500, "shapes": 1800}
SECONDS = 300.0


def _train(datasets, key: str):
    config.seed_everything(0)
    options = dict(recipe.DEFAULTS[datasets[0].name])
    train_options = {k: options.pop(k) for k in recipe.TRAIN_KEYS}
    model = recipe.build(datasets, **options)
    steps = config.budget(STEPS[key], 20)
    history = recipe.train(model, datasets, steps=steps, seconds=config.budget(SECONDS, 20.0), seed=0,
                           **train_options)
    model.eval()
    common = {"train_s": round(history.seconds, 1), "steps": len(history.steps), "stopped_by": history.stopped_by,
              "params": sum(p.numel() for p in model.parameters()), "final_loss": round(history.loss[-1], 3),
              "temperature": round(1 / model.logit_scale().item(), 4)}
    return model, common


def pct(x: float) -> float:
    return round(100 * x, 1)


def mnist_row() -> dict:
    train, test = data.load("mnist_captions"), data.load("mnist_captions", split="test")
    model, common = _train([train], "mnist")
    digit = zero_shot_accuracy(model, test, ("digit",))
    recall, queries = text_to_image_recall(model, test, k=5)
    row = {"dataset": "mnist_captions (test: 1,000 held-out images)", **common,
           "digit_acc_pct": pct(digit), "recall5_pct": pct(recall), "queries": queries}
    for attr in ("size", "thickness", "slant"):
        row[f"{attr}_acc_pct"] = pct(zero_shot_accuracy(model, test, (attr,)))
    row["all4_acc_pct"] = pct(zero_shot_accuracy(model, test, tuple(test.grammar.values)))
    row.update(target="digit >= 95%, recall@5 >= 90%", load_avg_1min=round(os.getloadavg()[0], 1),
               met="yes" if digit >= 0.95 and recall >= 0.9 else "no")
    return row


def shapes_row(with_pairs: bool) -> dict:
    train = data.load("shapes")
    sets = [train] + ([data.load("shape_pairs")] if with_pairs else [])
    test, heldout = data.load("shapes", split="test"), data.load("shapes", split="heldout")
    model, common = _train(sets, "shapes")
    held = zero_shot_accuracy(model, heldout, ("shape", "colour"))
    recall, queries = text_to_image_recall(model, heldout, k=5)
    row = {"dataset": "shapes" + (" + shape_pairs" if with_pairs else "") + " (heldout: 1,000 images of 4 unseen pairs)",
           **common, "heldout_shape_colour_acc_pct": pct(held), "recall5_pct": pct(recall), "queries": queries,
           "heldout_all4_acc_pct": pct(zero_shot_accuracy(model, heldout, tuple(heldout.grammar.values))),
           "seen_shape_colour_acc_pct": pct(zero_shot_accuracy(model, test, ("shape", "colour"))),
           "seen_all4_acc_pct": pct(zero_shot_accuracy(model, test, tuple(test.grammar.values)))}
    if with_pairs:
        pairs_test = data.load("shape_pairs", split="test")
        row["pairs_recall5_pct"] = pct(text_to_image_recall(model, pairs_test, k=5)[0])
        row["pairs_all5_acc_pct"] = pct(zero_shot_accuracy(model, pairs_test, tuple(pairs_test.grammar.values)))
    row.update(target="held-out pairs >= 80% (aim), recall@5 >= 90%", load_avg_1min=round(os.getloadavg()[0], 1),
               met="yes" if held >= 0.8 and recall >= 0.9 else "no")
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["mnist", "shapes"])
    parser.add_argument("--pairs", action="store_true", help="train the shapes model on shape_pairs too")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    if args.only in (None, "mnist"):
        rows.append(mnist_row())
        print(rows[-1])
    if args.only in (None, "shapes"):
        rows.append(shapes_row(args.pairs))
        print(rows[-1])
    notes = [
        f"Budgets: {STEPS['mnist']} steps (MNIST) and {STEPS['shapes']} steps (shapes), capped at {SECONDS:.0f} s, 1 CPU "
        "thread, seed 0, course_lib.recipes.clip.DEFAULTS (AdamW, cosine schedule, batch 128-256, re-phrased "
        "captions every batch, pairs with equal attributes as shared positives in InfoNCE).",
        "Zero-shot scoring: every combination of the asked attributes is a class; its prompts are the canonical "
        "captions of all values of the other attributes, and its score the logsumexp of theirs (the class's "
        "probability under the softmax over all captions). Held-out shapes are scored against all 20 "
        "shape-colour pairs, seen and unseen alike.",
        "Recall@5: one query per attribute combination present (its canonical caption); a hit is any of the 5 "
        "nearest images whose true attributes all match.",
        "MNIST attributes are measured (course_lib.data.mnist_captions): bucket edges at training tertiles, so "
        "images near an edge carry a label a model can hardly see; per-attribute accuracies show it.",
        "load_avg_1min above 2 means other jobs shared the 2 cores (fewer steps per second).",
        "Exploratory 120 s runs on the shapes (load ~4, 1 thread, before this run): shapes alone 614 steps, held-out "
        "shape-colour 78.1%, seen 95.9%; shapes + shape_pairs 444 steps, held-out 67.4%, seen 86.4%: at equal time the "
        "pairs dilute the one-shape training, so the default trains on shapes alone (--pairs adds them).",
        "The held-out recall@5 has only 40 queries (4 pairs x 2 sizes x 5 positions); the MNIST one 241 (the "
        "combinations present among the 1,000 test images).",
    ]
    title = "mini-CLIP (issue 16): zero-shot digits and held-out shape-colour pairs, text-to-image recall"
    if not rows:
        return 0
    return bench.record("multimodal", title=title, command=" ".join(["python benchmarks/multimodal.py", *sys.argv[1:]]),
                        rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
