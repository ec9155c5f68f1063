"""Training recipe for the VAE family: defaults, a step or time budget, the CLI.

The tuned defaults (what did best in benchmarks/vae.py) and the command-line adapters
`genai-course train vae` / `genai-course sample CKPT`. The mathematics lives in course_lib.models.vae.

The default sampler of `genai-course sample` (`sampler_options`) is the best benchmarks/vae.py found
(Fréchet distance to held-out digits, 150-s models): codes from the LatentMixture fitted after training
when the checkpoint has one (unconditional models), and drawn pixels for the categorical likelihood
(digits: 3.35 against 24.75 for the N(0, I) prior with mean pixels; conditional: 4.81 against 7.27) but the
most likely pixels for the Bernoulli one (MNIST: 22.47 against 56.33 drawn).
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib import samples
from course_lib.models.latent_mixture import LatentMixture
from course_lib.models.vae import VAE
from course_lib.train import CosineSchedule

DEFAULTS = {  # per dataset: what trained best here in 150 s (benchmarks/vae.py); override with --option
    "digits": dict(latent_dim=16, hidden=512, depth=2, dropout=0.5, k=8),     # 1,437 images: regularise hard
    "mnist5k": dict(latent_dim=16, hidden=512, depth=2, dropout=0.2, k=1),
}


def cli_train(*, dataset: str, seconds: float | None, steps: int | None, seed: int, out: Path,
              options: dict) -> dict:
    """`genai-course train vae --dataset digits|mnist5k ...`; options: conditional, latent_dim, hidden,
    depth, dropout, beta, lr, batch_size, k (IWAE samples in the loss), eval_k. Returns test ELBO / IW NLL."""
    from course_lib import checkpoints, config, data
    from course_lib.metrics import bits_per_dim
    from course_lib.train import fit, random_rows

    samples.check_options("vae", options, {"conditional", "latent_dim", "hidden", "depth", "dropout", "beta", "lr",
                                           "batch_size", "k", "eval_k"})
    if dataset not in DEFAULTS:
        raise SystemExit(f"error: the vae family trains on image data 'digits' or 'mnist5k', got {dataset!r}")
    gen = config.seed_everything(seed)
    train, test = data.load(dataset, split="train"), data.load(dataset, split="test")
    opt = {**DEFAULTS[dataset], **options}
    conditional = bool(opt.get("conditional", False))
    cfg = dict(image_size=train.images.shape[-1], levels=train.levels, latent_dim=int(opt["latent_dim"]),
               hidden=int(opt["hidden"]), depth=int(opt["depth"]),
               likelihood="categorical" if train.levels <= 64 else "bernoulli",
               num_classes=10 if conditional else 0, dropout=float(opt["dropout"]))
    size = cfg["image_size"]
    model = VAE.from_config(cfg)
    beta, k, bs = float(opt.get("beta", 1.0)), int(opt["k"]), int(opt.get("batch_size", 128))
    batch = random_rows(train.images, train.labels, batch_size=bs, generator=gen)

    if steps is None and seconds is None:
        steps = config.budget(20000, 300)
    lr = float(opt.get("lr", 1e-3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    schedule = CosineSchedule(optimizer, lr, steps=steps, seconds=seconds)   # decay to 5%: about a nat of NLL

    def loss_fn(m, b):
        return m.loss(b[0], b[1] if conditional else None, beta=beta, k=k)

    hist = fit(model, loss_fn, batch, optimizer=optimizer, steps=steps, seconds=seconds, progress=False,
               on_step=[schedule])
    model.eval()
    yt = test.labels if conditional else None
    eval_k = int(opt.get("eval_k", config.budget(500, 50)))
    with torch.no_grad():
        elbo = model.elbo(test.images, yt, generator=torch.Generator().manual_seed(seed)).mean().item()
        nll = model.nll(test.images, labels=yt, k=eval_k, generator=torch.Generator().manual_seed(seed)).mean().item()
    D = size * size
    summary = {"steps": len(hist.steps), "seconds": round(hist.seconds, 1),
               "test_elbo_nats": round(elbo, 2), f"test_iw_nll_nats_k{eval_k}": round(nll, 2),
               "test_iw_bits_per_dim": round(float(bits_per_dim(nll, D)), 4)}
    extra = {} if conditional else {"latent_mixture": LatentMixture.fit(model, train.images, seed=seed).state()}
    checkpoints.save(out, model, model.config_dict(), family="vae", dataset=dataset, seed=seed, beta=beta, **extra,
                     **summary)
    return summary


def sampler_options(model: VAE, meta: dict, options: dict) -> dict:
    """The sampler `genai-course sample` runs: the best measured (module docstring) unless --option prior=
    standard|mixture or pixels=mean|mode|sample says otherwise."""
    prior = str(options.get("prior", "mixture" if "latent_mixture" in meta else "standard"))
    if prior not in ("standard", "mixture"):
        raise SystemExit(f"error: prior must be 'standard' or 'mixture', got {prior!r}")
    if prior == "mixture" and "latent_mixture" not in meta:
        raise SystemExit("error: this checkpoint has no latent mixture (conditional, or written by an older "
                         "version): use --option prior=standard")
    pixels = str(options.get("pixels", "sample" if model.likelihood == "categorical" else "mode"))
    return {"prior": prior, "pixels": pixels}


def cli_sample(path: Path, *, n: int, seed: int, out: Path | None, options: dict) -> str:
    """`genai-course sample CKPT --n N --out S.npz`: images float32 (N, 1, H, W) in [0, 1] (+ labels if
    conditional: 0..9 in turn, or --option label=D). Defaults: the best measured sampler (module docstring).
    --option pixels=mean|mode|sample: the decoder's mean image, the most likely or drawn pixels.
    --option prior=standard|mixture: codes from N(0, I) or from the LatentMixture fitted after training."""
    from course_lib import checkpoints
    samples.check_options("vae sampling", options, {"prior", "pixels", "label"})
    model, meta = checkpoints.load_with_meta(path, VAE.from_config)
    chosen = sampler_options(model, meta, options)
    labels = samples.labels_for(n, model.num_classes, options)
    gen = torch.Generator().manual_seed(seed)
    z = None                                                                          # codes from N(0, I)
    if chosen["prior"] == "mixture":
        z = LatentMixture.from_state(meta["latent_mixture"]).sample(n, generator=gen)   # (n, latent_dim)
    images = model.sample(n, labels=labels, generator=gen, pixels=chosen["pixels"], z=z)
    return samples.write_npz(out, images, labels)
