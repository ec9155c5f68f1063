"""The recorded figures of the zoo's image-text models (notebook 08): mini-CLIP, text-to-image, captioner.

Same contract as course_lib.pretrained.evaluate (imported by the package, which adds these to EVALUATORS):
"full" figures for the manifest and RESULTS.md, small seeded "check" figures that tests/test_pretrained.py
reruns on the shipped file. Every check holds one continuous figure (a loss on fixed test data), which
moves when the weights move, beside the accuracies (counts of right answers, which a few steps may not
change), so a stale file fails.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .evaluate import SEED, _gen, _rec


@lru_cache(maxsize=8)
def _captioned(dataset: str, split: str):
    from course_lib import data
    return data.load(dataset, split=split)


def _head(d, n: int):
    """The first n examples of a CaptionedData (a view with the same grammar)."""
    import dataclasses
    return dataclasses.replace(d, images=d.images[:n], captions=d.captions[:n],
                               attributes={a: v[:n] for a, v in d.attributes.items()})


def _split_names(dataset: str) -> tuple[str, ...]:
    return ("test", "heldout") if dataset == "shapes" else ("test",)


# ---------------------------------------------------------------------------------------------- mini-CLIP

@torch.no_grad()
def _clip(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.metrics.retrieval import text_to_image_recall, zero_shot_accuracy
    test = _captioned(entry.dataset, "test")
    n = len(test) if kind == "full" else 300
    out = {}
    if entry.dataset == "shapes":
        held = _head(_captioned("shapes", "heldout"), n)
        out["heldout_shape_colour_acc"] = _rec(zero_shot_accuracy(model, held, ("shape", "colour")),
                                               f"zero-shot (shape, colour) among all 20 pairs by caption scoring, on the "
                                               f"first {n:,} held-out images (4 pairs never seen in training)",
                                               abs_tol=1.5 / n)
        out["heldout_recall5"] = _rec(text_to_image_recall(model, held, k=5)[0],
                                      f"text -> image recall@5 among the first {n:,} held-out images, one canonical "
                                      "query per attribute combination present", abs_tol=1.5 / 40)
        out["test_shape_colour_acc"] = _rec(zero_shot_accuracy(model, _head(test, n), ("shape", "colour")),
                                            f"the same on the first {n:,} test images (seen pairs)", abs_tol=1.5 / n)
    else:
        out["test_digit_acc"] = _rec(zero_shot_accuracy(model, _head(test, n), ("digit",)),
                                     f"zero-shot digit by caption scoring on the first {n:,} test images",
                                     abs_tol=1.5 / n)
        out["test_recall5"] = _rec(text_to_image_recall(model, _head(test, n), k=5)[0],
                                   f"text -> image recall@5 among the first {n:,} test images", abs_tol=0.01)
    if kind == "check":
        batch = _head(test, 256)
        tokens = model.tokenize(batch.captions)
        out["test_infonce"] = _rec(model.loss(batch.images.to(model.device), tokens,
                                              batch.combination_ids().to(model.device)).item(),
                                   "symmetric InfoNCE (nats per pair) of the first 256 test pairs, canonical captions, "
                                   "equal attributes as shared positives", 5)
    return out


# ---------------------------------------------------------------------------------------------- text-to-image

def _shape_prompts(pairs, per_combo: int):
    """Canonical captions of every (shape, colour) in pairs x size x position, per_combo each; and their truth."""
    from course_lib.data import shapes as S
    combos = [dict(shape=s, colour=c, size=z, position=q) for s, c in pairs
              for z in range(len(S.SIZES)) for q in range(len(S.POSITIONS)) for _ in range(per_combo)]
    truth = {a: torch.tensor([c[a] for c in combos]) for a in ("shape", "colour", "size", "position")}
    return [S.GRAMMAR.caption(c) for c in combos], truth


def _draw(model, prompts, guidance: float, steps: int, g) -> torch.Tensor:
    return torch.cat([model.sample(len(prompts[i:i + 200]), prompts=prompts[i:i + 200], guidance=guidance,
                                   steps=steps, generator=g).cpu() for i in range(0, len(prompts), 200)])


@torch.no_grad()
def _t2i(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.data import shapes as S
    from course_lib.metrics.judge import judge_for
    per, steps, guidance = (10, 50, 3.0) if kind == "full" else (1, 20, 3.0)
    out = {}
    if entry.dataset == "shapes":
        judge = judge_for("shapes")
        seen = [(s, c) for s in range(len(S.SHAPES)) for c in range(len(S.COLOURS)) if s * 5 + c not in S.HELDOUT_IDS]
        unseen = [(S.SHAPES.index(s), S.COLOURS.index(c)) for s, c in S.HELDOUT]
        g = _gen()
        for name, pairs in (("seen", seen), ("heldout", unseen)):
            prompts, truth = _shape_prompts(pairs, per)
            score = judge.score(_draw(model, prompts, guidance, steps, g), truth)
            out[f"{name}_all_right"] = _rec(score["all"], f"share of {len(prompts):,} samples ({name} shape-colour "
                                            f"pairs x 2 sizes x 5 positions, {per} each; DDIM {steps}, guidance "
                                            f"{guidance:g}, seed {SEED}) with every captioned attribute right by "
                                            "course_lib.metrics.judge (its real test accuracy "
                                            f"{judge.accuracy['all']:.3f})", abs_tol=1.5 / len(prompts))
    test = _captioned(entry.dataset, "test")
    x = test.images[:256].to(model.device)
    g = torch.Generator(model.device).manual_seed(SEED)
    out["test_denoising_loss"] = _rec(model.loss(x, model.tokenize(test.captions[:256]), generator=g).item(),
                                      "latent v-prediction MSE on the first 256 test images with their captions "
                                      f"(t, noise and caption dropout drawn with seed {SEED})", 5)
    return out


# ---------------------------------------------------------------------------------------------- captioner

@torch.no_grad()
def _captioner(model, entry, meta: dict, kind: str) -> dict:
    from course_lib.metrics.judge import caption_accuracy
    n = None if kind == "full" else 200
    out = {}
    for split in _split_names(entry.dataset):
        d = _captioned(entry.dataset, split)
        d = d if n is None else _head(d, n)
        captions = []
        for i in range(0, len(d), 500):
            captions += model.caption(d.images[i:i + 500], greedy=True)
        acc = caption_accuracy(d.grammar, captions, d.attributes)["all"]
        what = "held-out images (shape-colour pairs never seen in training)" if split == "heldout" else "test images"
        out[f"{split}_all_right_greedy"] = _rec(acc, f"share of the {'first ' if n else ''}{len(d):,} {what} whose "
                                                "greedy caption, read back with the grammar, states every attribute "
                                                "right", abs_tol=1.5 / len(d))
    if kind == "check":
        test = _head(_captioned(entry.dataset, "test"), 256)
        out["test_loss"] = _rec(model.loss(test.images, model.tokenize(test.captions)).item(),
                                "teacher-forced next-word loss (nats per word, <end> counted) on the first 256 test "
                                "images with their canonical captions", 5)
    return out


MULTIMODAL = {"clip": _clip, "t2i": _t2i, "captioner": _captioner}
