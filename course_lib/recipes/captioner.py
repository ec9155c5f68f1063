"""Training recipe for the captioner: defaults per captioned set, re-phrased captions, a step or time budget.

Each batch draws its captions from `phrasings` pre-tokenised re-phrasings of the dataset's grammar, so
the model learns to say the attributes, in any of the grammar's words, not one sentence per image.
Evaluation reads the generated caption back into attributes (course_lib.metrics.judge.read_caption)
and counts the images whose every attribute is right.
"""
from __future__ import annotations

import torch

from course_lib import samples
from course_lib.models.captioner import Captioner

DEFAULTS = {  # what benchmarks/captioning.py trains with; the model sizes go to CaptionerConfig
    "mnist_captions": dict(width=16, n_embd=64, n_layer=2, n_head=4, lr=2e-3, batch_size=64),
    "shapes": dict(width=16, n_embd=64, n_layer=2, n_head=4, lr=2e-3, batch_size=64, split_colour=True),
}
TRAIN_KEYS = ("lr", "batch_size")


def build(dataset, **options) -> Captioner:
    """A captioner sized for this captioned set (its vocabulary, image shape, longest caption)."""
    longest = max(len(c.split()) + c.count(",") for c in dataset.recaption(0))
    cfg = dict(words=dataset.words(), image_channels=dataset.images.shape[1], image_size=dataset.images.shape[-1],
               max_words=longest + 4, **options)
    return Captioner.from_config(cfg)


def caption_batches(model: Captioner, dataset, batch_size: int, *, phrasings: int = 8, seed: int = 0):
    """A callable () -> (images (B, C, H, W), tokens (B, T)) with a random phrasing per image."""
    T = model.config.max_words - 1
    tokens = torch.stack([model.tokenizer.batch(dataset.recaption(seed + k), T)
                          for k in range(phrasings)])                                  # (K, N, T)
    g = torch.Generator().manual_seed(seed)

    def batch():
        idx = torch.randint(len(dataset), (batch_size,), generator=g)                  # (B,)
        k = torch.randint(phrasings, (batch_size,), generator=g)                       # (B,)
        tok = tokens[k, idx]
        tok = tok[:, :int((tok != 0).sum(1).max())]                                    # drop all-padding columns
        return dataset.images[idx].to(model.device), tok.to(model.device)
    return batch


def train(model: Captioner, dataset, *, steps: int | None = None, seconds: float | None = None, lr: float = 2e-3,
          batch_size: int = 64, seed: int = 0, progress: bool = False, eval_fn=None, eval_every=None):
    """Fit the captioner on the dataset's (image, caption) pairs for a step or time budget; returns the History."""
    from course_lib.train import CosineSchedule, adamw, fit
    if steps is None and seconds is None:
        raise ValueError("give a budget: steps, seconds or both")
    torch.manual_seed(seed)
    batches = caption_batches(model, dataset, batch_size, seed=seed)
    opt = adamw(model, lr, weight_decay=0.05)                                              # matrices only
    schedule = CosineSchedule(opt, lr, steps=steps, seconds=seconds, warmup=min(100, (steps or 1000) // 10))
    return fit(model, lambda m, b: m.loss(*b), batches, optimizer=opt, steps=steps, seconds=seconds,
               on_step=[schedule], progress=progress, desc="captioner", eval_fn=eval_fn, eval_every=eval_every)


@torch.no_grad()
def evaluate(model: Captioner, dataset, *, greedy: bool = True, temperature: float = 1.0, seed: int = 0,
             batch_size: int = 500) -> dict:
    """Share of images whose generated caption states every attribute right, and per attribute."""
    from course_lib.metrics.judge import caption_accuracy
    g = torch.Generator().manual_seed(seed)
    captions = []
    for i in range(0, len(dataset), batch_size):
        captions += model.caption(dataset.images[i:i + batch_size], greedy=greedy, temperature=temperature,
                                  generator=g)
    return caption_accuracy(dataset.grammar, captions, dataset.attributes)


DATASETS = tuple(DEFAULTS)


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out, options: dict) -> dict:
    """`genai-course train captioner --dataset shapes|mnist_captions --seconds N --out CKPT`; options: the keys
    of DEFAULTS. Returns steps, seconds and the share of test images captioned with every attribute right."""
    from course_lib import checkpoints, config, data
    if dataset not in DEFAULTS:
        raise SystemExit(f"error: the captioner family trains on {list(DATASETS)}, got {dataset!r}")
    known = {**DEFAULTS[dataset], "split_colour": False}
    samples.check_options("captioner", options, known)
    config.seed_everything(seed)
    opt = {**DEFAULTS[dataset], **options}
    train_set = data.load(dataset, split="train")
    model = build(train_set, **{k: v for k, v in opt.items() if k not in TRAIN_KEYS})
    if steps is None and seconds is None:
        steps = config.budget(2800, 30)
    hist = train(model, train_set, steps=steps, seconds=seconds, seed=seed, **{k: opt[k] for k in TRAIN_KEYS})
    model.eval()
    test = data.load(dataset, split="test")
    summary = {"steps": len(hist.steps), "seconds": round(hist.seconds, 1), "final_loss": round(hist.loss[-1], 4),
               "test_all_right_greedy": round(evaluate(model, test)["all"], 4)}
    checkpoints.save(out, model, model.config_dict(), family="captioner", dataset=dataset, **summary)
    return summary


SAMPLE_OPTIONS = ("images", "split", "temperature")


def cli_sample(path, *, n: int, seed: int, out, options: dict) -> str:
    """`genai-course sample CAPTIONER.pt --n 8 --out C.npz`: captions of the first n images of the trained-on
    set's test split (--option split=heldout: the shapes' held-out pairs) or of an .npz (--option images=S.npz,
    e.g. t2i samples). Greedy; --option temperature=T samples (seeded). Writes images, captions and, for split
    images, their true attributes; prints the captions and how many state every attribute right."""
    from course_lib.metrics.judge import caption_accuracy
    from . import image_text
    if options.pop("prompt", None) is not None:
        raise SystemExit("error: a captioner reads images, not a --prompt: give --option images=FILE.npz or "
                         "--option split=test|heldout")
    options.pop("n_tokens", None)
    samples.check_options("captioner sampling", options, SAMPLE_OPTIONS)
    temperature = options.pop("temperature", None)
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                    or not temperature > 0):
        raise SystemExit(f"error: temperature must be a number > 0, got {temperature!r}")
    model = image_text.load_checked(path, "captioner", Captioner.from_config)
    images, attributes, source = image_text.input_images(path, model, n, options)
    said = model.caption(images, greedy=temperature is None, temperature=float(temperature or 1.0),
                         generator=torch.Generator().manual_seed(seed))
    lines = [f"{i}: {c}" for i, c in enumerate(said[:10])] + (["..."] if len(said) > 10 else [])
    if attributes:
        acc = caption_accuracy(image_text.grammar_of(path), said, attributes)["all"]
        lines.append(f"every attribute right: {round(acc * len(said))}/{len(said)} ({source})")
    if out is not None:
        import numpy as np
        samples.write_arrays(out, images=images.numpy().astype("float32"), captions=np.array(said),
                             **image_text.attribute_arrays(attributes))
        lines.append(f"wrote {len(said)} captions with their images to {out}")
    return "\n".join(lines)
