"""One scorecard for generated 8x8 digits, computed the same way for every family (the capstone, notebook 16).

    card = scorecard(images)          # images (N, 1, 8, 8) float in [0, 1], N >= 1000; the first 1,000 are scored
    print(card)                       # a table a student can read; card.as_dict() for JSON

Fixed sizes make the numbers comparable: FD, KID and precision/recall read differently at other sizes, so a
model is always scored on its first `n` samples (default 1,000) and fewer is an error, never a quietly
different score. References: the 360 held-out digits (never trained on) for FD, KID, precision and recall; the
1,437 training digits for memorisation. Precision/recall use k = 5: with 1,000 samples against 360 held-out
digits, k = 3 puts real training digits at only ~0.91 recall (small balls miss real variety) while k = 5
gives ~0.98 precision and recall, and a one-digit sample still scores recall ~0.1 (see tests/test_scorecard.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import torch

from .frechet import _check_images, classify_digits, digit_features, frechet_distance
from .kid import kid
from .memorisation import memorisation_share
from .precision_recall import precision_recall

N_DEFAULT, N_MIN, K = 1000, 200, 5            # samples scored; fewest allowed (KID subsets); precision/recall k
KID_SUBSET, KID_SUBSETS = 200, 100            # KID: 100 random subsets of 200 from each side
COVERED = 0.01                                # a class counts as covered with >= 1% of the samples
COLUMNS = {  # name: (what it says, which way is better)
    "n": ("samples scored", ""),
    "fd": ("Fréchet distance to the 360 held-out digits (classifier features)", "lower"),
    "fd_ratio": ("fd / fd of n real training digits (1 = as good as real data)", "lower"),
    "kid": ("kernel inception distance, mean over subsets (unbiased: ~0 for real data)", "lower"),
    "kid_std": ("KID's spread over the subsets", ""),
    "precision": (f"share of samples inside the held-out digits' manifold (k={K})", "higher"),
    "recall": (f"share of held-out digits inside the samples' manifold (k={K})", "higher"),
    "classes": ("digit classes with >= 1% of the samples (shipped classifier), of 10", "higher"),
    "class_kl": ("KL(predicted class shares || uniform) in nats: 0 even, 2.30 one class", "lower"),
    "memorised": ("share of near-copies of training digits (5% expected by chance)", "lower"),
}


@dataclass(frozen=True)
class Scorecard:
    n: int
    fd: float
    fd_ratio: float
    kid: float
    kid_std: float
    precision: float
    recall: float
    classes: int
    class_kl: float
    memorised: float

    def as_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        lines = []
        for name, value in self.as_dict().items():
            text, better = COLUMNS[name]
            shown = f"{value:d}" if isinstance(value, int) else f"{value:.4g}"
            lines.append(f"  {name:<10} {shown:>9}   {text}" + (f" ({better} is better)" if better else ""))
        return "\n".join(lines)

    __str__ = table


@lru_cache(maxsize=1)
def _references():
    """Held-out and training digits and their classifier features (loaded once)."""
    from course_lib import data
    train, test = data.load("digits", split="train").images, data.load("digits", split="test").images
    return train, test, digit_features(train).double(), digit_features(test).double()


@lru_cache(maxsize=4)
def fd_real(n: int) -> float:
    """FD of the first n real training digits against the 360 held-out ones: the fd_ratio's denominator."""
    _, _, f_train, f_test = _references()
    return frechet_distance(f_train[:n], f_test)


def class_kl(labels: torch.Tensor, num_classes: int = 10) -> float:
    """KL(p || uniform) = ln(C) - H(p) of the class shares p, in nats: 0 when every class is equally common,
    ln C when all samples are one class. Unlike 'classes covered' it sees a 90%-ones sample as unbalanced."""
    p = torch.bincount(labels, minlength=num_classes).double() / len(labels)
    p = p[p > 0]
    return float(math.log(num_classes) + (p * p.log()).sum())


def check_count(got: int, n: int) -> None:
    """A clear error when fewer samples than the fixed size are given, or the size itself is too small."""
    if isinstance(n, bool) or not isinstance(n, int) or not N_MIN <= n <= 1437:
        raise ValueError(f"n must be an int in {N_MIN}..1437 (KID subsets need {N_MIN}; the fd_ratio reference "
                         f"needs n real training digits, of 1,437), got {n!r}")
    if got < n:
        raise ValueError(f"the scorecard scores exactly n={n} samples, got only {got}: draw at least {n} "
                         f"(e.g. `genai-course sample CKPT --n {n} --out S.npz`); scores at other sizes "
                         "are not comparable")


def scorecard(images, *, n: int = N_DEFAULT, seed: int = 0) -> Scorecard:
    """Score the first n of images (N, 1, 8, 8) float in [0, 1] against the course's digits (module docstring).
    seed: KID's subset draws (the only random part)."""
    images = _check_images(images)
    if images.shape[-1] != 8:
        raise ValueError(f"the scorecard scores 8x8 digits (shape (N, 1, 8, 8)), got {tuple(images.shape)}")
    check_count(len(images), n)
    images = images[:n].cpu()
    train, test, _, f_test = _references()
    feats = digit_features(images).double()                                  # (n, 128)
    fd = frechet_distance(feats, f_test)
    k = kid(feats, f_test, subset_size=KID_SUBSET, subsets=KID_SUBSETS, seed=seed)
    pr = precision_recall(f_test, feats, K)
    counts = torch.bincount(classify_digits(images), minlength=10)
    return Scorecard(n=n, fd=fd, fd_ratio=fd / fd_real(n), kid=k.mean, kid_std=k.std,
                     precision=pr.precision, recall=pr.recall,
                     classes=int((counts >= COVERED * n).sum()), class_kl=class_kl(classify_digits(images)),
                     memorised=memorisation_share(images, train, test, space="features"))


def real_scorecard(n: int = N_DEFAULT, seed: int = 0) -> Scorecard:
    """The sanity row: the first n real training digits scored as if generated (memorised = 1: they are the
    training set, which is what that column exists to flag)."""
    return scorecard(_references()[0], n=n, seed=seed)
