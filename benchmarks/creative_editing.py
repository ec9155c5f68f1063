"""Benchmark image editing with the pretrained digits diffusion model (issue 18 part 2) and write
benchmarks/results/creative_editing.json.

Target (inpainting): with half of each held-out 8x8 digit masked, the completions are classified as the
original digit (by the shipped digit classifier, course_lib.metrics.load_classifier(8)) at least as often
as a classifier that sees only the visible half guesses it; the known half is untouched exactly (the max
absolute difference is asserted 0 and reported). The half-classifier has the shipped classifier's
architecture and is trained here on the training digits with the same half blanked (zeros). Both
halves kept in turn: top (the bottom regenerated) and left (the right regenerated).
SDEdit: each held-out digit made into a rough sketch (2x2 average-pooled, then blown up again: a blocky
4x4 drawing), edited at strengths 0 .. 1; faithfulness is the mean squared distance to the sketch and the
share still classified as the original digit, realism the classifier's mean confidence and the Frechet
distance to the held-out digits in its features.

Measured 2026-12-02 (results/creative_editing.json): the target is met only by the best of 4 completions
with the left half kept (93.9% = 93.9%); with the top half kept the best setting reaches 89.7% against the
half-classifier's 91.9%. The known half is exactly untouched in every row.

    python benchmarks/creative_editing.py                  # about 6 minutes on one (shared) thread
    COURSE_FAST=1 python benchmarks/creative_editing.py    # smoke run: 128 digits, 10 steps, nothing written
"""
from __future__ import annotations

import os
import sys
import time
import warnings

import torch
import torch.nn.functional as F

from course_lib import bench, config, data, metrics, pretrained
from course_lib.metrics.classifier import DigitClassifier
from course_lib.models.diffusion.editing import half_mask, inpaint, sdedit

# (name, inpaint options), all on a 50-step DDIM grid with eta = 1 (DDPM-like noise): replacement only;
# RePaint's resampling (r = 5); plus the pull towards the known pixels (consistency 1: a backward pass per
# step, about 3x the cost of a step); plus the best of 4 such completions by the model's denoising_error.
RESAMPLED = dict(sampler="ddim", steps=50, eta=1.0, resample=5)
INPAINTERS = [("DDIM 50 eta=1, replacement only", dict(sampler="ddim", steps=50, eta=1.0, resample=1)),
              ("DDIM 50 eta=1, RePaint r=5", RESAMPLED),
              ("DDIM 50 eta=1, RePaint r=5, consistency 1", dict(RESAMPLED, consistency=1.0)),
              ("DDIM 50 eta=1, RePaint r=5, consistency 1, best of 4", dict(RESAMPLED, consistency=1.0, candidates=4))]
TUNED_ON = 120       # the settings were chosen on the first 120 held-out digits; the rest are reported apart
STRENGTHS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
HALF_CLASSIFIER_EPOCHS = 40


def train_half_classifier(train, mask: torch.Tensor, epochs: int, seed: int = 0):
    """The shipped classifier's architecture trained on training digits showing only the kept half
    (the rest zero, the way a blank page reads): how well the visible half alone predicts the digit."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DigitClassifier(8)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, y = train.images * mask, train.labels
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model, x: torch.Tensor, y: torch.Tensor) -> float:
    return (model(x).argmax(1) == y).float().mean().item()


def inpainting_rows(model, train, test, fast: bool) -> list[dict]:
    inpainters = INPAINTERS[-1:] if fast else INPAINTERS                # the smoke run: the last one only
    judge = metrics.load_classifier(8)
    rows = []
    for keep in ("top", "left"):
        mask = half_mask(test.images.shape, keep)
        t = time.perf_counter()
        half = train_half_classifier(train, mask, 1 if fast else HALF_CLASSIFIER_EPOCHS)
        half_s = time.perf_counter() - t
        half_acc = accuracy(half, test.images * mask, test.labels)
        for name, opts in inpainters:
            if fast:
                opts = dict(opts, steps=10)
            t = time.perf_counter()
            out = inpaint(model, test.images, mask, generator=torch.Generator().manual_seed(0), **opts)
            secs = time.perf_counter() - t
            known_diff = (out - test.images)[mask.expand_as(out) == 1].abs().max().item()
            assert known_diff == 0.0, f"the known half changed by {known_diff}"
            acc = accuracy(judge, out, test.labels)
            rest = slice(TUNED_ON, None)
            acc_rest = accuracy(judge, out[rest], test.labels[rest])
            half_rest = accuracy(half, (test.images * mask)[rest], test.labels[rest])
            calls = opts["steps"] * opts["resample"] * opts.get("candidates", 1)
            rows.append({"task": f"inpaint, keep {keep} half", "sampler": name, "images": len(test.images),
                         "network_calls": calls, "backward_passes": calls if opts.get("consistency") else 0, "completion_acc_pct": round(100 * acc, 1),
                         "half_classifier_acc_pct": round(100 * half_acc, 1),
                         "full_image_acc_pct": round(100 * accuracy(judge, test.images, test.labels), 1),
                         "untuned_completion_acc_pct": round(100 * acc_rest, 1),
                         "untuned_half_classifier_acc_pct": round(100 * half_rest, 1),
                         "known_max_abs_diff": known_diff, "seconds": round(secs, 1),
                         "half_classifier_train_s": round(half_s, 1),
                         "load_avg_1min": round(os.getloadavg()[0], 1),
                         "target": "completion_acc >= half_classifier_acc, known diff 0",
                         "met": bool(acc >= half_acc and known_diff == 0.0)})
            print(rows[-1], flush=True)
    return rows


def sketch(images: torch.Tensor) -> torch.Tensor:
    """A rough drawing of each digit: 2x2 average pooling blown up again (a blocky 4x4 picture)."""
    return F.interpolate(F.avg_pool2d(images, 2), scale_factor=2, mode="nearest")


def sdedit_rows(model, test, fast: bool) -> list[dict]:
    judge = metrics.load_classifier(8)
    rough = sketch(test.images)
    rows = []
    for s in STRENGTHS:
        t = time.perf_counter()
        out = sdedit(model, rough, s, steps=10 if fast else 50, generator=torch.Generator().manual_seed(0))
        secs = time.perf_counter() - t
        with torch.no_grad():
            prob = judge(out).softmax(1)
        with warnings.catch_warnings():                 # the smoke run has fewer images than features
            warnings.simplefilter("ignore" if fast else "default")
            fd = metrics.digit_frechet_distance(out, test.images)
        rows.append({"task": "SDEdit from 4x4 sketches", "strength": s, "images": len(out),
                     "ddim_steps": 0 if s == 0 else max(1, round(s * (10 if fast else 50))),
                     "mse_to_sketch": round(((out - rough) ** 2).mean().item(), 4),
                     "class_kept_pct": round(100 * (prob.argmax(1) == test.labels).float().mean().item(), 1),
                     "confidence": round(prob.max(1).values.mean().item(), 3),
                     "fd_to_test": round(fd, 2),
                     "seconds": round(secs, 1), "load_avg_1min": round(os.getloadavg()[0], 1)})
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    torch.set_num_threads(1)
    fast = config.is_fast()
    model = pretrained.load("digits-diffusion").cpu()
    train, test = data.load("digits", split="train"), data.load("digits", split="test")
    if fast:
        test.images, test.labels = test.images[:TUNED_ON + 8], test.labels[:TUNED_ON + 8]
    rows = inpainting_rows(model, train, test, fast) + sdedit_rows(model, test, fast)
    notes = [
        "Model: the shipped digits-diffusion (unconditional U-Net, v-prediction, cosine, T = 1000), on the 360 "
        "held-out digits (data.load('digits', split='test')), seed 0, 1 CPU thread. The model never saw a label, so "
        "a completion can only recover the digit from the visible half.",
        "completion_acc_pct: share of completions the shipped classifier calls the original digit. "
        "half_classifier_acc_pct: share the half-classifier (trained here, "
        f"{HALF_CLASSIFIER_EPOCHS} epochs on the 1,437 training digits with the hidden half zeroed) gets right from the "
        "visible half alone. full_image_acc_pct: the shipped classifier on the unmasked digits (the ceiling).",
        "known_max_abs_diff: max |output - input| over the kept pixels; asserted 0 (the final composite copies them).",
        "network_calls: denoiser evaluations per image (steps x resample x candidates); backward_passes: gradients of "
        "the consistency pull (course_lib.models.diffusion.editing._pull_to_known), one per network call when on. "
        "Best of 4: four completions per digit, the one with the lowest denoising_error (the model's SNR-weighted "
        "x0 error over 8 noise levels x 2 draws, a likelihood stand-in) kept; the judge never picks.",
        f"Settings were chosen on the first {TUNED_ON} held-out digits (top half kept): DDIM 50/100 steps with r = 1, 5, "
        "10, consistency 0 to 4, eta 0.5 and 1; without the pull RePaint plateaued near 77% (r = 10 no better than 5). "
        f"untuned_*: the same measures on the other {360 - TUNED_ON} held-out digits only.",
        "The full 1,000-step DDPM chain with replacement only (no resampling) scored 65.0% (top kept) and 60.0% (left "
        "kept) on the same 360 digits (2026-12-02, 1,000 network calls, 97 s and 70 s at load 5.6-5.9): no better than "
        "the 50-step DDIM grid, so it is not rerun here.",
        "SDEdit: DDIM eta 0 on a 50-step grid for the whole chain (about s * 50 steps are run); mse_to_sketch and "
        "class_kept_pct measure faithfulness, confidence and fd_to_test (Frechet distance to the 360 held-out digits "
        "in the shipped classifier's features; real train vs test reads 1.64) realism.",
        "seconds are wall-clock on 2 shared cores; load_avg_1min above 1 means other jobs shared them.",
    ]
    return bench.record("creative_editing", title="Image editing with the digits diffusion model (issue 18 part 2): "
                        "inpainting and SDEdit", command=" ".join(["python benchmarks/creative_editing.py", *sys.argv[1:]]),
                        rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
