"""Memorisation and membership inference in the course's image models (issue 22 items 2 and 3)
-> benchmarks/results/privacy_images.json.

Data: the 1,797 8x8 digits (scikit-learn; train and test splits pooled). A seeded permutation puts 500 of them
aside as non-members / held-out reference (never trained on); training sets are the next N images (nested:
the 50 are inside the 200, which are inside the 1,000). One CPU thread, seed 0.

Near-copies (item 2). The course's digits diffusion (U-Net width 16, v-prediction, EMA, course_lib.recipes
.diffusion's defaults) trains DIFF_STEPS steps on N in DIFF_SIZES images; N_SAMPLES DDIM-50 samples each.
Rule (course_lib.ethics.copies): a sample is a near-copy when its Euclidean distance to its nearest training
image is below the 5th percentile of the 500 held-out real digits' nearest-training-image distances (about 5%
of genuinely new digits are flagged too), in pixel space and in the course digit classifier's features.
Wilson 95% intervals.

Membership inference (item 3, membership unit: one image). The course VAE (course_lib.recipes.vae's digits
defaults: latent 16, hidden 512, depth 2, dropout 0.5, IWAE k = 8 in the loss; batch 64, AdamW 1e-3, cosine)
trains STEPS steps (the same budget for every size) on N in MI_SIZES members; the loss-threshold attack scores
every member and the 500 non-members by minus the importance-weighted bound on -log p(x) (k = 16): ROC AUC with
a bootstrap 95% interval, TPR at 1% FPR (at most 5 of the 500 non-members flagged) with a Wilson interval.
Two step budgets show the effect of training length (early stopping) at each size.

    python benchmarks/privacy_images.py              # about 12 minutes on one thread of a loaded 2-core machine
    COURSE_FAST=1 python benchmarks/privacy_images.py   # smoke run: seconds, nothing written
"""
from __future__ import annotations

import os
import sys
import time

import torch

from course_lib import bench, config, data
from course_lib.ethics import copies as cp
from course_lib.ethics import membership_images as mim
from course_lib.models.diffusion import Diffusion
from course_lib.recipes import diffusion as rd
from course_lib.metrics.intervals import wilson

N_HELDOUT = 500
DIFF_SIZES = config.budget((10, 30, 100, 300, 1000), (10,))
DIFF_STEPS = config.budget(1500, 20)
N_SAMPLES = config.budget(300, 20)
MI_SIZES = config.budget((50, 200, 1000), (20,))
MI_STEPS = config.budget((250, 1000), (20,))
K_EVAL = config.budget(16, 2)


def load() -> float:
    return round(os.getloadavg()[0], 1)


def pool() -> torch.Tensor:
    return torch.cat([data.load("digits", split="train").images, data.load("digits", split="test").images])


def near_copies(images: torch.Tensor, rows: list, notes: list) -> None:
    opt = rd.DEFAULTS["digits"]
    for n in DIFF_SIZES:
        X, heldout = mim.member_split(images, n, N_HELDOUT, seed=0)
        gen = config.seed_everything(0)
        model = Diffusion.from_config(dict(data_shape=list(X.shape[1:]), timesteps=1000, schedule="cosine",
                                           arch=opt["arch"], width=opt["width"], num_classes=0,
                                           prediction=opt["prediction"]))
        t0, load0 = time.time(), load()
        rd.train_model(model, X, None, steps=DIFF_STEPS, seconds=None, lr=opt["lr"],
                       batch_size=min(opt["batch_size"], 4 * n), ema=opt["ema"], generator=gen, progress=False)
        seconds = time.time() - t0
        model.eval()
        fake = model.sample(N_SAMPLES, steps=50, sampler="ddim", generator=torch.Generator().manual_seed(1))
        row = {"part": "diffusion near-copies", "training images": n, "steps": DIFF_STEPS,
               "train s (load)": f"{seconds:.0f} ({load0})"}
        for space in ("pixel", "features"):
            rep = cp.near_copies(fake, X, heldout, space=space, quantile=0.05)
            k = int(rep.is_copy.sum())
            lo, hi = wilson(k, N_SAMPLES)
            row[f"near-copies {space}"] = f"{k / N_SAMPLES:.2f} [{lo:.2f}, {hi:.2f}]"
            row[f"median NN distance {space}"] = round(float(rep.distance.median()), 2)
            row[f"threshold {space}"] = round(rep.threshold, 2)
            if space == "pixel":
                row["distinct training images copied"] = len(set(rep.index[rep.is_copy].tolist()))
        rows.append(row)
        print(row, flush=True)
    notes.append(f"near-copy: closer to its nearest training image than 5% of the {N_HELDOUT} held-out real "
                 f"digits are to theirs (so about 5% of genuinely new digits are flagged too); {N_SAMPLES} DDIM-50 "
                 f"samples per model; batch min(128, 4N)")


def membership(images: torch.Tensor, rows: list, notes: list) -> None:
    for steps in MI_STEPS:
        for n in MI_SIZES:
            members, nonmembers = mim.member_split(images, n, N_HELDOUT, seed=0)
            t0, load0 = time.time(), load()
            model = mim.train_vae(members, steps=steps, seed=0)
            seconds = time.time() - t0
            t1 = time.time()
            r = mim.loss_attack(model, members, nonmembers, k=K_EVAL, seed=0)
            caught = round(r.tpr_at_1pct * n)
            lo, hi = wilson(caught, n)
            row = {"part": "VAE membership inference", "members": n, "steps": steps,
                   "passes over the data": round(steps * 64 / n, 1),
                   "AUC [95% bootstrap]": f"{r.auc:.3f} [{r.auc_interval[0]:.3f}, {r.auc_interval[1]:.3f}]",
                   "TPR at 1% FPR [Wilson]": f"{r.tpr_at_1pct:.3f} [{lo:.3f}, {hi:.3f}]",
                   "loss members / non-members (nats)": f"{r.loss_members.mean():.1f} / {r.loss_nonmembers.mean():.1f}",
                   "train s (load)": f"{seconds:.0f} ({load0})", "attack s": round(time.time() - t1, 1)}
            rows.append(row)
            print(row, flush=True)
    notes.append(f"membership attack: score = -(IWAE bound on -log p(x), k = {K_EVAL}); {N_HELDOUT} non-members "
                 f"never trained on, the same for every model; the models are in eval mode (dropout off)")


def main() -> int:
    torch.set_num_threads(1)
    rows, notes = [], []
    images = pool()
    near_copies(images, rows, notes)
    membership(images, rows, notes)
    return bench.record("privacy_images",
                        title="Image models: diffusion near-copies and VAE membership inference against training-set size",
                        command="python benchmarks/privacy_images.py", rows=rows, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
