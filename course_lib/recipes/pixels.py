"""Training recipe for the pixel GPT: the course GPT (course_lib.models.gpt) over the pixels of 8x8 digits.

An image is a sentence: its 64 grey levels (0..16, raster order, row by row) are 64 tokens read after a
start token (id 17). The GPT predicts each pixel from the ones above and to its left, so the product of its
64 next-token probabilities is the image's exact probability: no bound, no dequantisation. Bits/dim are
bits per pixel of the 17-level image, the same discretisation as the VAE's categorical decoder
(benchmarks/vae.py), so the two likelihoods compare directly; log2(17) = 4.09 is a uniform guess.

The start token is an input only: the loss and the sampler read the first 17 logits, so the model is a
distribution over the 17 levels and never draws the start token. The GPT class itself is unchanged.

    tokens = quantise(images)                                  # (N, 64) int64 in 0..16
    model = build()                                            # a GPT(vocab 18, block 64)
    train(model, images, seconds=120)
    bits_per_dim(model, test_images)                           # exact, 17-level bits per pixel
    x = sample(model, 16, temperature=0.9)                     # (16, 1, 8, 8) in [0, 1]

`genai-course train pixels --dataset digits --seconds 120 --out p.pt`, `genai-course sample p.pt --n 1000
--out s.npz`. Tuned in benchmarks/capstone.py.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from course_lib import samples
from course_lib.models.gpt import GPT, GPTConfig, KVCache, sample_next

LEVELS, SIZE = 17, 8                  # the digits' grey levels 0..16 and side
START = LEVELS                        # token id 17: "an image begins"
DATASETS = ("digits",)
# What did best in 120 s on one thread (benchmarks/capstone.py, ~2,300 steps). Longer runs overfit the 1,437
# digits (3,000 steps: held-out 2.26 bits/dim) and want dropout=0.1 (1.79; steps ~40% slower), as the zoo's
# digits-pixels uses.
DEFAULTS = dict(n_layer=4, n_head=4, n_embd=64, dropout=0.0, batch_size=32, lr=3e-3, min_lr_frac=0.05,
                warmup=100, weight_decay=0.1)


def quantise(images: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """images (N, 1, 8, 8) in [0, 1] -> tokens (N, 64) int64 in 0..levels-1 (nearest level, raster order)."""
    if images.dim() != 4 or images.shape[1:] != (1, SIZE, SIZE):
        raise ValueError(f"images must be (N, 1, {SIZE}, {SIZE}), got {tuple(images.shape)}")
    if not torch.isfinite(images).all() or images.min() < 0 or images.max() > 1:
        raise ValueError("images must be finite and in [0, 1]")
    return (images * (levels - 1)).round().long().flatten(1)                        # (N, 64)


def dequantise(tokens: torch.Tensor, levels: int = LEVELS) -> torch.Tensor:
    """tokens (N, 64) in 0..levels-1 -> images (N, 1, 8, 8) float in [0, 1]: level k is k / (levels - 1)."""
    return (tokens.float() / (levels - 1)).view(-1, 1, SIZE, SIZE)


def inputs_targets(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """tokens (N, 64) -> inputs (N, 64) = [START, t0 .. t62] and targets (N, 64) = [t0 .. t63]."""
    start = torch.full_like(tokens[:, :1], START)
    return torch.cat([start, tokens[:, :-1]], dim=1), tokens


def build(seed: int | None = None, **options) -> GPT:
    """A GPT over the 18 ids (17 levels + start) with a 64-token context; options as DEFAULTS' model ones."""
    opt = {**DEFAULTS, **options}
    if seed is not None:
        torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=LEVELS + 1, block_size=SIZE * SIZE, n_layer=int(opt["n_layer"]),
                    n_head=int(opt["n_head"]), n_embd=int(opt["n_embd"]), dropout=float(opt["dropout"]))
    return GPT(cfg)


def nll_per_image(model: GPT, tokens: torch.Tensor) -> torch.Tensor:
    """Exact -log p(image) in nats for every row of tokens (N, 64): the sum of 64 next-level losses (N,)."""
    x, y = inputs_targets(tokens.to(next(model.parameters()).device))
    logits, _ = model(x)                                                   # (N, 64, 18)
    logp = F.log_softmax(logits[..., :LEVELS], dim=-1)                     # (N, 64, 17): levels only
    return -logp.gather(-1, y[..., None]).squeeze(-1).sum(dim=1)           # (N,)


def loss(model: GPT, tokens: torch.Tensor) -> torch.Tensor:
    """Mean next-level cross-entropy in nats per pixel (the training loss)."""
    return nll_per_image(model, tokens).mean() / (SIZE * SIZE)


@torch.no_grad()
def bits_per_dim(model: GPT, images: torch.Tensor, batch_size: int = 512) -> float:
    """Exact bits per pixel of the 17-level images (N, 1, 8, 8): mean -log2 p(image) / 64."""
    was_training = model.training
    model.eval()
    tokens = quantise(images)
    nats = torch.cat([nll_per_image(model, tokens[i:i + batch_size]) for i in range(0, len(tokens), batch_size)])
    model.train(was_training)
    return nats.mean().item() / (SIZE * SIZE * math.log(2))


@torch.no_grad()
def sample(model: GPT, n: int, *, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """n images (n, 1, 8, 8) in [0, 1], pixel by pixel with a KV cache; temperature scales the logits
    (below 1: likelier, smoother digits, less variety; 0: the most likely level every time)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    cache = KVCache(model.config.n_layer)
    nxt = torch.full((n, 1), START, dtype=torch.long, device=dev)                       # (n, 1)
    pixels = []
    for _ in range(SIZE * SIZE):
        logits, _ = model(nxt, cache=cache, check_ids=False)                            # (n, 1, 18)
        nxt = sample_next(logits[:, -1, :LEVELS], temperature, generator=generator)     # (n, 1) in 0..16
        pixels.append(nxt)
    model.train(was_training)
    return dequantise(torch.cat(pixels, dim=1)).cpu()                                  # (n, 1, 8, 8)


def train(model: GPT, images: torch.Tensor, *, steps: int | None = None, seconds: float | None = None,
          generator: torch.Generator | None = None, progress: bool = False, **options):
    """Next-level cross-entropy with AdamW (decay on matrices), warm-up and cosine decay over the step
    or time budget (whichever ends first). Returns fit's History (loss in nats per pixel)."""
    from course_lib.train import CosineSchedule, fit, random_rows
    opt = {**DEFAULTS, **options}
    lr = float(opt["lr"])
    optimizer = model.configure_optimizer(lr, weight_decay=float(opt["weight_decay"]))
    schedule = CosineSchedule(optimizer, lr, steps=steps, seconds=seconds, warmup=int(opt["warmup"]),
                              floor=float(opt["min_lr_frac"]))
    batches = random_rows(quantise(images), batch_size=int(opt["batch_size"]), generator=generator)
    return fit(model, loss, batches, optimizer=optimizer, steps=steps, seconds=seconds, grad_clip=1.0,
               progress=progress, on_step=[schedule])


def _check_dataset(dataset: str):
    """The digits, or a clear error: this family models 8x8 images with 17 grey levels only."""
    from course_lib import data
    if dataset not in DATASETS:
        hint = (" (28x28 images with 256 levels would be 784 tokens per image: too slow to train here)"
                if dataset == "mnist5k" else "")
        raise SystemExit(f"error: the pixels family trains on 8x8 digits with {LEVELS} grey levels: "
                         f"--dataset {' or '.join(DATASETS)}; got {dataset!r}{hint}")
    train_set = data.load(dataset, split="train")
    if train_set.images.shape[1:] != (1, SIZE, SIZE) or train_set.levels != LEVELS:
        raise SystemExit(f"error: the pixels family needs (N, 1, {SIZE}, {SIZE}) images with {LEVELS} levels; "
                         f"{dataset!r} has {tuple(train_set.images.shape[1:])} with {train_set.levels}")
    return train_set, data.load(dataset, split="test")


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train pixels --dataset digits --seconds N --out CKPT`. Options (--option k=v):
    n_layer, n_head, n_embd, dropout, batch_size, lr, min_lr_frac, warmup, weight_decay.
    Returns steps, seconds, parameters and the exact test bits/dim (17-level pixels)."""
    from course_lib import checkpoints, config
    samples.check_options("pixels", options, DEFAULTS)
    train_set, test = _check_dataset(dataset)
    gen = config.seed_everything(seed)
    try:
        model = build(**options)
    except ValueError as err:
        raise SystemExit(f"error: pixels options: {err}")
    if steps is None and seconds is None:
        steps = config.budget(4000, 50)
    hist = train(model, train_set.images, steps=steps, seconds=seconds, generator=gen, **options)
    model.eval()
    summary = {"parameters": model.num_params(), "steps": len(hist.steps), "seconds": round(hist.seconds, 1),
               "train_loss_nats_per_pixel (last)": round(hist.loss[-1], 4),
               "train_bits_per_dim": round(bits_per_dim(model, train_set.images), 4),
               "test_bits_per_dim": round(bits_per_dim(model, test.images), 4)}
    checkpoints.save(out, model, model.config_dict(), family="pixels", dataset=dataset, seed=seed,
                     levels=LEVELS, **{k: v for k, v in summary.items() if " " not in k})
    return summary


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --n N --out S.npz`: images float32 (N, 1, 8, 8) in [0, 1] on the 17 levels.
    --option temperature=T (default 1: the model's own distribution)."""
    from course_lib import checkpoints
    samples.check_options("pixels sampling", options, {"temperature"})
    model = checkpoints.load(path, GPT.from_config)
    temperature = float(options.get("temperature", 1.0))
    if temperature < 0:
        raise SystemExit(f"error: temperature must be >= 0, got {temperature}")
    images = sample(model, n, temperature=temperature, generator=torch.Generator().manual_seed(seed))
    return samples.write_npz(out, images)
