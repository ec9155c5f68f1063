"""Training recipe for text-to-image latent diffusion: defaults per captioned set, the two-stage budget
(autoencoder first, then the latent denoiser with the autoencoder frozen), and the CLI adapters.

Captions are re-phrased as training goes, as in recipes.clip: `phrasings` caption sets are drawn from the
dataset's grammar and tokenised once, and each batch picks one phrasing per image. The latents of every
training image are computed once after the autoencoder is trained (it is frozen from then on).
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib import samples
from course_lib.models.latent_diffusion import LatentDiffusion

DATASETS = ("shapes", "mnist_captions")
DEFAULTS = {   # model sizes go to LatentDiffusion; TRAIN_KEYS to train(). shapes: benchmarks/t2i.py, 300 s
    "shapes": dict(latent_channels=4, ae_width=32, width=96, depth=3, n_head=4, text_width=64, text_layers=2,
                   lr=1e-3, ae_lr=2e-3, batch_size=64, ae_share=0.2),
    # benchmarks/t2i_mnist.py, 300 s: width 64 gave FD 93.8 against 192.9 at width 96 (more steps in the budget)
    # and samples faster; the shapes sizes otherwise, with a 4x7x7 latent
    "mnist_captions": dict(latent_channels=4, ae_width=32, width=64, depth=3, n_head=4, text_width=64,
                           text_layers=2, lr=1e-3, ae_lr=2e-3, batch_size=64, ae_share=0.2),
}
TRAIN_KEYS = ("lr", "ae_lr", "batch_size", "ae_share")
SAMPLE_OPTIONS = ("guidance", "steps", "eta")


def build(data, **options) -> LatentDiffusion:
    """A model sized for a captioned set (its vocabulary, image shape, longest caption); options override."""
    from course_lib.tokenizers import split_words
    longest = max(len(split_words(c)) for c in data.recaption(0))                 # commas are words too
    cfg = dict(words=data.words(), image_channels=data.images.shape[1], image_size=data.images.shape[-1],
               max_words=longest + 4, **options)
    return LatentDiffusion.from_config(cfg)


def _split_budget(steps, seconds, share: float):
    part = lambda b, s: None if b is None else (max(1, int(b * s)) if isinstance(b, int) else b * s)
    return (part(steps, share), part(seconds, share)), (part(steps, 1 - share), part(seconds, 1 - share))


def train(model: LatentDiffusion, data, *, steps: int | None = None, seconds: float | None = None,
          lr: float = 1e-3, ae_lr: float = 2e-3, batch_size: int = 128, ae_share: float = 0.25,
          phrasings: int = 8, seed: int = 0, progress: bool = False) -> dict:
    """Train the autoencoder on ae_share of the budget, then the latent denoiser on the rest.
    Returns {"ae": History, "diffusion": History}."""
    from course_lib.train import CosineSchedule, fit
    if not 0 < ae_share < 1:
        raise ValueError(f"ae_share must be in (0, 1), got {ae_share}")
    (ae_steps, ae_sec), (dm_steps, dm_sec) = _split_budget(steps, seconds, ae_share)
    dev, g = model.device, torch.Generator().manual_seed(seed)
    images = data.images                                                               # (N, C, S, S)

    def image_batch():
        return images[torch.randint(len(images), (batch_size,), generator=g)].to(dev)

    ae_opt = torch.optim.AdamW(model.ae.parameters(), lr=ae_lr)
    ae_hist = fit(model.ae, lambda m, x: m.loss(x), image_batch, optimizer=ae_opt, steps=ae_steps, seconds=ae_sec,
                  on_step=[CosineSchedule(ae_opt, ae_lr, steps=ae_steps, seconds=ae_sec, warmup=20)],
                  progress=progress, desc="autoencoder")
    model.ae.eval().requires_grad_(False)
    model.ae.fit_stats(images.to(dev))
    with torch.no_grad():
        latents = torch.cat([model.ae.encode(images[i:i + 1000].to(dev)) for i in range(0, len(images), 1000)])
    tokens = torch.stack([model.tokenizer.batch(data.recaption(seed + k), model.max_words)
                          for k in range(phrasings)])                                  # (K, N, T)

    def pair_batch():
        idx = torch.randint(len(images), (batch_size,), generator=g)
        k = torch.randint(phrasings, (batch_size,), generator=g)
        return latents[idx], tokens[k, idx].to(dev)

    params = [p for name, p in model.named_parameters() if not name.startswith("ae.")]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    dm_hist = fit(model, lambda m, b: m.loss(None, b[1], z0=b[0], generator=g), pair_batch, optimizer=opt,
                  steps=dm_steps, seconds=dm_sec, grad_clip=1.0,
                  on_step=[CosineSchedule(opt, lr, steps=dm_steps, seconds=dm_sec, warmup=100)],
                  progress=progress, desc="latent diffusion")
    model.ae.requires_grad_(True)
    return {"ae": ae_hist, "diffusion": dm_hist}


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train t2i --dataset shapes|mnist_captions --seconds N --out CKPT`; options: the keys of
    DEFAULTS (model sizes, lr, ae_lr, batch_size, ae_share). Returns steps, seconds and the reconstruction error."""
    from course_lib import checkpoints, config, data
    if dataset not in DEFAULTS:
        raise SystemExit(f"error: the t2i family trains on {list(DATASETS)}, got {dataset!r}")
    samples.check_options("t2i", options, DEFAULTS[dataset])
    config.seed_everything(seed)
    opt = {**DEFAULTS[dataset], **options}
    train_set = data.load(dataset, split="train")
    model = build(train_set, **{k: v for k, v in opt.items() if k not in TRAIN_KEYS})
    if steps is None and seconds is None:
        steps = config.budget(4000, 60)
    hist = train(model, train_set, steps=steps, seconds=seconds, seed=seed,
                 **{k: opt[k] for k in TRAIN_KEYS})
    model.eval()
    test = data.load(dataset, split="test").images[:500]
    with torch.no_grad():
        recon = float(((model.ae.decode(model.ae.encode(test)) - test) ** 2).mean())
    summary = {"ae_steps": len(hist["ae"].steps), "diffusion_steps": len(hist["diffusion"].steps),
               "seconds": round(hist["ae"].seconds + hist["diffusion"].seconds, 1), "recon_mse_test": round(recon, 5)}
    checkpoints.save(out, model, model.config_dict(), family="t2i", dataset=dataset, **summary)
    return summary


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --prompt "a small red circle at the top" --n N --out S.npz`: images float32
    (N, C, H, W) in [0, 1] and the prompts; --option guidance=S (default 3), steps=K (default 50), eta=E."""
    from course_lib import checkpoints
    prompt = options.pop("prompt", None)
    options.pop("n_tokens", None)                                  # the CLI's text-family default
    samples.check_options("t2i sampling", options, SAMPLE_OPTIONS)
    if prompt is None or not prompt.strip():
        raise SystemExit(f"error: t2i sampling needs a non-empty --prompt \"...\", got {prompt!r}")
    guidance = float(options.get("guidance", 3.0))
    if guidance < 0:
        raise SystemExit(f"error: guidance must be >= 0, got {guidance}")
    family = checkpoints.read(path)["meta"].get("family")
    if family != "t2i":
        raise SystemExit(f"error: {path} is a checkpoint of the {family!r} family, not a t2i (text-to-image) one")
    model = checkpoints.load(path, LatentDiffusion.from_config)
    try:
        model.tokenize([prompt])
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    x = model.sample(n, prompts=prompt, guidance=guidance, steps=int(options.get("steps", 50)),
                     eta=float(options.get("eta", 0.0)), generator=torch.Generator().manual_seed(seed))
    return write_npz(out, x, [prompt] * n)


def write_npz(out: Path | None, images: torch.Tensor, prompts: list[str]) -> str:
    """samples.write_npz's file plus a `prompts` array (N,) of str, written atomically."""
    import numpy as np
    if out is None:
        return f"drew {len(images)} samples of shape {tuple(images.shape[1:])} (no --out given, nothing written)"
    samples.write_arrays(out, images=images.float().cpu().numpy().astype(np.float32), prompts=np.array(prompts))
    return f"wrote {len(images)} samples {tuple(images.shape[1:])} to {out} with prompts"
