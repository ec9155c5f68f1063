"""Membership inference on images: did this digit train the VAE? (membership unit: one image)

The loss-threshold attack of course_lib.ethics.membership, pointed at the course VAE: each candidate image is
scored by minus its loss, the importance-weighted bound on -log p(x) (k = 1: the negative ELBO). A VAE trained
on few images for many steps fits them far better than digits it never saw, so the attack separates them; on
more images with the same step budget each image is seen less often and the gap closes. How well it separates
is read with `roc_auc` and `tpr_at_fpr` (shared with the text attack), with a bootstrap interval on the AUC,
since with 50 members the sampling noise is large.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from course_lib.ethics.membership import loss_threshold_scores, roc_auc, tpr_at_fpr


def member_split(images, n_members: int, n_nonmembers: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw disjoint members (n_members, ...) and non-members (n_nonmembers, ...) from a pool of images (N, ...):
    the non-members are the first n_nonmembers of a seeded permutation, the members the next n_members, so the
    non-member set stays the same for every training-set size drawn with the same seed."""
    images = torch.as_tensor(images)
    for name, n in (("n_members", n_members), ("n_nonmembers", n_nonmembers)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    if n_members + n_nonmembers > len(images):
        raise ValueError(f"asked for {n_members} members + {n_nonmembers} non-members = "
                         f"{n_members + n_nonmembers} images, but the data holds only {len(images)}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return images[order[n_nonmembers:n_nonmembers + n_members]], images[order[:n_nonmembers]]


def train_vae(images, *, steps: int, seed: int = 0, batch_size: int = 64, lr: float = 1e-3, levels: int = 17,
              **options):
    """A course VAE (course_lib.recipes.vae's digits defaults, `options` override them: latent_dim, hidden,
    depth, dropout, k) trained `steps` steps on `images` (N, 1, S, S) in [0, 1] with AdamW and the cosine
    schedule, as the recipe does. levels: grey levels of the data (17 for the 8x8 digits: a categorical
    likelihood; 256 for MNIST: Bernoulli, as the recipe chooses). Returns the model in eval mode."""
    from course_lib.models.vae import VAE
    from course_lib.recipes.vae import DEFAULTS
    from course_lib.train import CosineSchedule, fit, random_rows

    opt = {**DEFAULTS["digits"], **options}
    unknown = set(opt) - set(DEFAULTS["digits"])
    if unknown:
        raise ValueError(f"unknown VAE option(s) {sorted(unknown)}; expected some of {sorted(DEFAULTS['digits'])}")
    images = torch.as_tensor(images, dtype=torch.float32)
    if images.dim() != 4 or images.size(1) != 1:
        raise ValueError(f"images must be (N, 1, S, S), got shape {tuple(images.shape)}")
    torch.manual_seed(seed)                                                         # the initial weights
    gen = torch.Generator().manual_seed(seed)                                       # the batches
    model = VAE(image_size=images.size(-1), levels=levels, likelihood="categorical" if levels <= 64 else "bernoulli",
                latent_dim=int(opt["latent_dim"]), hidden=int(opt["hidden"]),
                depth=int(opt["depth"]), dropout=float(opt["dropout"]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    schedule = CosineSchedule(optimizer, lr, steps=steps)
    k = int(opt["k"])
    fit(model, lambda m, b: m.loss(b, k=k), random_rows(images, batch_size=batch_size, generator=gen),
        optimizer=optimizer, steps=steps, progress=False, on_step=[schedule])
    return model.eval()


@torch.no_grad()
def image_losses(model, images, *, k: int = 16, seed: int = 0) -> torch.Tensor:
    """(N,) the attack's loss per image: the importance-weighted bound on -log p(x) in nats with k samples
    (k = 1: the negative ELBO), the same random draws for the same seed."""
    return model.nll(torch.as_tensor(images, dtype=torch.float32), k=k, generator=torch.Generator().manual_seed(seed))


def bootstrap_auc(scores_members, scores_nonmembers, *, n_boot: int = 1000, level: float = 0.95,
                  seed: int = 0) -> tuple[float, float]:
    """A percentile bootstrap interval for the AUC: members and non-members resampled separately."""
    m, n = torch.as_tensor(scores_members).flatten(), torch.as_tensor(scores_nonmembers).flatten()
    gen = torch.Generator().manual_seed(seed)
    aucs = torch.tensor([roc_auc(m[torch.randint(0, len(m), (len(m),), generator=gen)],
                                 n[torch.randint(0, len(n), (len(n),), generator=gen)]) for _ in range(n_boot)])
    a = (1 - level) / 2
    return float(torch.quantile(aucs, a)), float(torch.quantile(aucs, 1 - a))


@dataclass(frozen=True)
class AttackResult:
    auc: float
    auc_interval: tuple[float, float]      # bootstrap 95%
    tpr_at_1pct: float                     # true-positive rate with at most 1% of non-members flagged
    loss_members: torch.Tensor             # (n_members,) nats per image
    loss_nonmembers: torch.Tensor          # (n_nonmembers,)

    @property
    def gap(self) -> float:
        """Mean loss of non-members minus members (nats): the generalisation gap the attack exploits."""
        return float(self.loss_nonmembers.mean() - self.loss_members.mean())


def loss_attack(model, members, nonmembers, *, k: int = 16, seed: int = 0, n_boot: int = 1000) -> AttackResult:
    """The loss-threshold attack on a trained image model: score = -loss, AUC (with interval) and TPR at 1% FPR."""
    lm, ln = image_losses(model, members, k=k, seed=seed), image_losses(model, nonmembers, k=k, seed=seed + 1)
    sm, sn = loss_threshold_scores(lm), loss_threshold_scores(ln)
    return AttackResult(roc_auc(sm, sn), bootstrap_auc(sm, sn, n_boot=n_boot, seed=seed), tpr_at_fpr(sm, sn, 0.01),
                        lm, ln)


def attack_by_size(pool, sizes, *, steps: int, n_nonmembers: int, seed: int = 0, k: int = 16, **options) -> list[dict]:
    """Train one VAE per training-set size (same step budget each) on members drawn from `pool` and attack it
    with the same non-members: a row per size (auc, interval, tpr_at_1pct, loss gap, train seconds)."""
    import time
    rows = []
    for n in sizes:
        members, nonmembers = member_split(pool, n, n_nonmembers, seed=seed)
        t0 = time.time()
        model = train_vae(members, steps=steps, seed=seed, **options)
        seconds = time.time() - t0
        r = loss_attack(model, members, nonmembers, k=k, seed=seed)
        rows.append({"members": n, "auc": r.auc, "auc_interval": r.auc_interval, "tpr_at_1pct": r.tpr_at_1pct,
                     "loss_gap_nats": r.gap, "train_seconds": seconds})
    return rows
