"""Training recipe for mini-CLIP: defaults per captioned set, batches of (image, caption) pairs, a budget.

Captions are re-phrased as training goes ("a small red circle at the top", "near the top there is a
little red circle"): `phrasings` caption sets are drawn from the dataset's grammar and tokenised once,
and every batch picks one per pair, so the text encoder learns the attributes, not one sentence.
Pairs with the same attributes are marked as one group, so InfoNCE does not push apart two images
that the captions cannot tell apart (see course_lib.models.clip.infonce).
"""
from __future__ import annotations

import numpy as np
import torch

from course_lib import samples
from course_lib.models.clip import CLIP

DEFAULTS = {  # what benchmarks/multimodal.py trains with (issue 16 targets met); model sizes go to CLIPConfig
    "mnist_captions": dict(width=16, text_width=64, n_layer=2, n_head=4, embed_dim=64, lr=2e-3, batch_size=128,
                           shift=2),
    "shapes": dict(width=16, text_width=64, n_layer=2, n_head=4, embed_dim=64, lr=2e-3, batch_size=256, shift=0),
}
TRAIN_KEYS = ("lr", "batch_size", "shift")          # the rest of DEFAULTS[...] is the model's config


def build(datasets, **options) -> CLIP:
    """A CLIP sized for these captioned sets (their joint vocabulary, image shape); options override sizes."""
    first = datasets[0]
    words = sorted(set().union(*(d.words() for d in datasets)))
    longest = max(len(c.split()) + c.count(",") for d in datasets for c in d.recaption(0))
    cfg = dict(words=words, image_channels=first.images.shape[1], image_size=first.images.shape[-1],
               max_words=longest + 4, **options)
    return CLIP.from_config(cfg)


def caption_batches(model: CLIP, datasets, batch_size: int, *, phrasings: int = 8, shift: int = 0,
                    seed: int = 0):
    """A callable () -> (images (B, C, H, W), tokens (B, T), groups (B,)) drawn from all datasets.

    shift: random translation by up to this many pixels (for digits, whose captions say nothing about
    position; never for the shapes, whose captions do)."""
    shapes = {tuple(d.images.shape[1:]) for d in datasets}
    if len(shapes) != 1:
        raise ValueError(f"the datasets must share one image shape, got {sorted(shapes)}")
    images = torch.cat([d.images for d in datasets])                                   # (N, C, H, W)
    T = model.config.max_words
    tokens = torch.stack([torch.cat([model.tokenizer.batch(d.recaption(seed + k), T) for d in datasets])
                          for k in range(phrasings)])                                  # (K, N, T)
    groups, offset = [], 0
    for d in datasets:                                        # one id per combination of attributes
        groups.append(d.combination_ids() + offset)
        offset += int(torch.tensor([len(v) for v in d.grammar.values.values()]).prod())
    groups = torch.cat(groups)                                                         # (N,)
    g = torch.Generator().manual_seed(seed)
    device = model.device

    def batch():
        idx = torch.randint(len(images), (batch_size,), generator=g)                   # (B,)
        k = torch.randint(phrasings, (batch_size,), generator=g)                       # (B,) which phrasing
        x = images[idx]
        if shift:
            dx, dy = torch.randint(-shift, shift + 1, (2,), generator=g).tolist()     # one shift per batch
            x = torch.roll(x, (dy, dx), dims=(2, 3))
        return x.to(device), tokens[k, idx].to(device), groups[idx].to(device)
    return batch


def train(model: CLIP, datasets, *, steps: int | None = None, seconds: float | None = None, lr: float = 2e-3,
          batch_size: int = 256, shift: int = 0, seed: int = 0, progress: bool = False, eval_fn=None,
          eval_every=None):
    """Fit the model on the datasets' (image, caption) pairs for a step or time budget; returns the History."""
    from course_lib.train import CosineSchedule, adamw, fit
    batches = caption_batches(model, datasets, batch_size, shift=shift, seed=seed)
    opt = adamw(model, lr, weight_decay=0.05)                                              # matrices only
    schedule = CosineSchedule(opt, lr, steps=steps, seconds=seconds, warmup=min(100, (steps or 1000) // 10))
    return fit(model, lambda m, b: m.loss(*b), batches, optimizer=opt, steps=steps, seconds=seconds,
               on_step=[schedule], progress=progress, desc="mini-CLIP", eval_fn=eval_fn, eval_every=eval_every)


DATASETS = tuple(DEFAULTS)


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out, options: dict) -> dict:
    """`genai-course train clip --dataset shapes|mnist_captions --seconds N --out CKPT`; options: the keys of
    DEFAULTS (model sizes, lr, batch_size, shift). Returns steps, seconds and zero-shot figures on the test split."""
    from course_lib import checkpoints, config, data
    from course_lib.metrics.retrieval import text_to_image_recall, zero_shot_accuracy
    if dataset not in DEFAULTS:
        raise SystemExit(f"error: the clip family trains on {list(DATASETS)}, got {dataset!r}")
    samples.check_options("clip", options, DEFAULTS[dataset])
    config.seed_everything(seed)
    opt = {**DEFAULTS[dataset], **options}
    train_set = data.load(dataset, split="train")
    model = build([train_set], **{k: v for k, v in opt.items() if k not in TRAIN_KEYS})
    if steps is None and seconds is None:
        steps = config.budget(1800, 30)
    hist = train(model, [train_set], steps=steps, seconds=seconds, seed=seed, **{k: opt[k] for k in TRAIN_KEYS})
    model.eval()
    test = data.load(dataset, split="test")
    first = next(iter(test.grammar.values))                                   # shape (shapes), digit (MNIST)
    summary = {"steps": len(hist.steps), "seconds": round(hist.seconds, 1), "final_loss": round(hist.loss[-1], 4),
               f"test_{first}_acc": round(zero_shot_accuracy(model, test, (first,)), 4),
               "test_recall5": round(text_to_image_recall(model, test, k=5)[0], 4)}
    checkpoints.save(out, model, model.config_dict(), family="clip", dataset=dataset, **summary)
    return summary


SAMPLE_OPTIONS = ("images", "split")


@torch.no_grad()
def cli_sample(path, *, n: int, seed: int, out, options: dict) -> str:
    """`genai-course sample CLIP.pt --prompt "a red circle" --n 8 --out R.npz`: text -> image retrieval.

    Ranks the candidate images, every image of the trained-on set's test split (--option split=heldout for the
    shapes' held-out pairs) or of an .npz (--option images=S.npz, e.g. t2i samples), by cosine similarity to
    the prompt (the CLIP score) and writes the n best, best first: images, scores, indices (and the true
    attributes of split images). Prints the best scores and the mean over all candidates."""
    from . import image_text
    prompt = options.pop("prompt", None)
    options.pop("n_tokens", None)                                  # the CLI's text-family default
    samples.check_options("clip sampling", options, SAMPLE_OPTIONS)
    if prompt is None or not prompt.strip():
        raise SystemExit(f"error: clip retrieval needs a non-empty --prompt \"...\", got {prompt!r}")
    model = image_text.load_checked(path, "clip", CLIP.from_config).eval()
    try:
        text = model.embed_captions([prompt])                                        # (1, E)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    images, attributes, source = image_text.input_images(path, model, None, options)
    scores = (model.embed_images(images) @ text.T)[:, 0].cpu()                       # (N,) cosine
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SystemExit(f"error: --n must be a positive number of images, got {n!r}")
    top = scores.argsort(descending=True)[:n]                                        # (k,) best first
    line = (f"{prompt!r} among {len(images)} images of {source}: best scores {image_text.as_list(scores[top[:5]])}, "
            f"mean {scores.mean().item():.4f}")
    if out is None:
        return line + " (no --out given, nothing written)"
    picked = {a: v[top] for a, v in attributes.items()} if attributes else None
    samples.write_arrays(out, images=images[top].numpy().astype("float32"), scores=scores[top].numpy(),
                         indices=top.numpy(), prompt=np.array(prompt), **image_text.attribute_arrays(picked))
    return line + f"; wrote the {len(top)} best to {out}"
