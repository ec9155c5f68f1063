"""Procedural RGB scenes of coloured shapes, with captions and some combinations held out of training.

`shapes`: one shape per 16x16 image, "a small red circle at the top". Four attributes: shape (4),
colour (5), size (2) and position (5). The (shape, colour) pairs in HELDOUT never occur in the train
and test splits, in any size or position (nor in `shape_pairs`); split `heldout` has only them. Every
shape and every colour is seen in training, just never together, so a model that understands
"green" and "circle" separately can be tested honestly on "a green circle": a zero-shot composition.

`shape_pairs`: two small shapes and their relation, "a red circle left of a blue square" (also written
"a blue square right of a red circle"). The attributes are canonical: object 1 is the left (or upper) one.

Shapes are drawn by coverage: each pixel is split into 4x4 sub-pixels and its value is the fraction
inside the shape (smooth edges, no aliasing). Centres jitter by up to half a pixel and brightness by
15%, so no two images are identical. Everything is drawn from numpy generators seeded by (seed, split).
"""
from __future__ import annotations

import numpy as np
import torch

from .captioned import CaptionedData, CaptionGrammar, check_count, check_seed
from .registry import DatasetInfo, check_split, register

SIZE = 16                                      # images are (3, 16, 16)
SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = ("red", "green", "blue", "yellow", "purple")
RGB = np.array([(0.95, 0.15, 0.1), (0.1, 0.8, 0.2), (0.15, 0.35, 1.0), (0.95, 0.9, 0.1), (0.65, 0.2, 0.9)])
SIZES = ("small", "large")
RADIUS = (2.5, 4.0)                            # pixels, per size
POSITIONS = ("top", "bottom", "left", "right", "middle")
HELDOUT = (("circle", "green"), ("square", "yellow"), ("triangle", "purple"), ("cross", "red"))
DEFAULT_N = {"train": 10_000, "test": 1_000, "heldout": 1_000}
_STREAM = {"train": 0, "test": 1, "heldout": 2}

_SHAPE_WORDS = tuple((s,) for s in SHAPES)
_COLOUR_WORDS = tuple((c,) for c in COLOURS)
GRAMMAR = CaptionGrammar(
    values={"shape": SHAPES, "colour": COLOURS, "size": SIZES, "position": POSITIONS},
    phrases={"shape": _SHAPE_WORDS, "colour": _COLOUR_WORDS, "size": (("small", "little"), ("large", "big")),
             "position": (("at the top", "near the top"), ("at the bottom", "near the bottom"),
                          ("on the left", "to the left"), ("on the right", "to the right"),
                          ("in the middle", "in the centre"))},
    templates=("a {size} {colour} {shape} {position}", "{position} there is a {size} {colour} {shape}",
               "a {colour} {shape}, {size}, {position}"),
)
PAIR_GRAMMAR = CaptionGrammar(
    values={"shape1": SHAPES, "colour1": COLOURS, "relation": ("left of", "above"),
            "shape2": SHAPES, "colour2": COLOURS},
    phrases={"shape1": _SHAPE_WORDS, "colour1": _COLOUR_WORDS, "shape2": _SHAPE_WORDS, "colour2": _COLOUR_WORDS,
             "relation": (("left of", "to the left of"), ("above", "on top of")),
             "relation:inverse": (("right of", "to the right of"), ("below", "under"))},
    templates=("a {colour1} {shape1} {relation} a {colour2} {shape2}",
               "a {colour2} {shape2} {relation:inverse} a {colour1} {shape1}"),
)


def _pair_ids(pairs) -> set[int]:
    return {SHAPES.index(s) * len(COLOURS) + COLOURS.index(c) for s, c in pairs}


HELDOUT_IDS = _pair_ids(HELDOUT)          # shape * 5 + colour of each held-out pair


def inside(shape: int, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Boolean mask: which sub-pixel offsets (dx, dy) from the centre fall inside the shape of radius r."""
    if shape == 0:                                                      # circle
        return dx ** 2 + dy ** 2 <= r ** 2
    if shape == 1:                                                      # square
        return np.maximum(abs(dx), abs(dy)) <= 0.8 * r
    if shape == 2:                                                      # triangle inscribed in the circle:
        return (dy <= 0.5 * r) & (np.sqrt(3) * abs(dx) - dy <= r)       # above the base, below both edges
    return ((abs(dx) <= 0.3 * r) & (abs(dy) <= r)) | ((abs(dy) <= 0.3 * r) & (abs(dx) <= r))  # cross


def render(shape, colour, cx, cy, r, brightness, canvas: np.ndarray | None = None) -> np.ndarray:
    """Draw one shape per image over `canvas` (N, 3, 16, 16) or black; all arguments (N,) arrays."""
    sub = (np.arange(SIZE * 4) + 0.5) / 4 - 0.5                          # (64,) sub-pixel centres in pixels
    dx = sub[None, None, :] - cx[:, None, None]                           # (N, 1, 64)
    dy = sub[None, :, None] - cy[:, None, None]                           # (N, 64, 1)
    cover = np.zeros((len(shape), SIZE, SIZE))                            # (N, 16, 16) in [0, 1]
    for k in range(len(SHAPES)):
        rows = shape == k
        mask = inside(k, dx[rows], dy[rows], r[rows, None, None])         # (n_k, 64, 64)
        cover[rows] = mask.reshape(-1, SIZE, 4, SIZE, 4).mean((2, 4))
    rgb = RGB[colour] * brightness[:, None]                               # (N, 3)
    out = np.zeros((len(shape), 3, SIZE, SIZE)) if canvas is None else canvas
    return out * (1 - cover[:, None]) + rgb[:, :, None, None] * cover[:, None]


def _objects(rng: np.random.Generator, n: int, allowed: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """n (shape, colour) pairs drawn uniformly from the allowed pair ids."""
    ids = np.asarray(allowed)[rng.integers(len(allowed), size=n)]
    return ids // len(COLOURS), ids % len(COLOURS)


def _allowed(split: str) -> list[int]:
    every = range(len(SHAPES) * len(COLOURS))
    return [i for i in every if (i in HELDOUT_IDS) == (split == "heldout")]


def _finish(name, grammar, pixels, attrs, seed, stream) -> CaptionedData:
    attrs = {k: torch.from_numpy(np.asarray(v, dtype=np.int64)) for k, v in attrs.items()}
    images = torch.from_numpy(np.clip(pixels, 0, 1).astype(np.float32))            # (N, 3, 16, 16)
    return CaptionedData(images=images, captions=grammar.captions(attrs, seed=10 * seed + stream + 5),
                         attributes=attrs, grammar=grammar, name=name, notes={"heldout": HELDOUT})


def _one(split: str, n: int, seed: int) -> CaptionedData:
    rng = np.random.default_rng([seed, _STREAM[split]])
    shape, colour = _objects(rng, n, _allowed(split))
    size, position = rng.integers(len(SIZES), size=n), rng.integers(len(POSITIONS), size=n)
    r = np.asarray(RADIUS)[size]
    off = (SIZE - 1) / 2 - (r + 1)                                      # centre to edge, less a pixel margin
    sx = np.array([0, 0, -1, 1, 0])[position]                           # top, bottom, left, right, middle
    sy = np.array([-1, 1, 0, 0, 0])[position]
    cx = (SIZE - 1) / 2 + sx * off + rng.uniform(-0.5, 0.5, n)
    cy = (SIZE - 1) / 2 + sy * off + rng.uniform(-0.5, 0.5, n)
    pixels = render(shape, colour, cx, cy, r, rng.uniform(0.85, 1.0, n))
    return _finish("shapes", GRAMMAR, pixels, {"shape": shape, "colour": colour, "size": size,
                                              "position": position}, seed, _STREAM[split])


def load_shapes(split: str = "train", n: int | None = None, seed: int = 0) -> CaptionedData:
    """One-shape scenes; n defaults to 10,000 (train) or 1,000 (test, heldout); `all` = the three joined."""
    check_split("shapes", split, ("train", "test", "heldout", "all"))
    check_seed(seed)
    if split == "all":
        parts = [load_shapes(s, n, seed) for s in DEFAULT_N]
        attrs = {a: torch.cat([p.attributes[a] for p in parts]) for a in GRAMMAR.values}
        return CaptionedData(torch.cat([p.images for p in parts]), sum((p.captions for p in parts), []),
                             attrs, GRAMMAR, "shapes", parts[0].notes)
    return _one(split, check_count(DEFAULT_N[split] if n is None else n), seed)


def load_shape_pairs(split: str = "train", n: int | None = None, seed: int = 0) -> CaptionedData:
    """Two-shape scenes with a relation; never a held-out (shape, colour) pair; n defaults as for shapes."""
    check_split("shape_pairs", split, ("train", "test", "all"))
    check_seed(seed)
    if split == "all":
        parts = [load_shape_pairs(s, n, seed) for s in ("train", "test")]
        attrs = {a: torch.cat([p.attributes[a] for p in parts]) for a in PAIR_GRAMMAR.values}
        return CaptionedData(torch.cat([p.images for p in parts]), sum((p.captions for p in parts), []),
                             attrs, PAIR_GRAMMAR, "shape_pairs", parts[0].notes)
    n = check_count(DEFAULT_N[split] if n is None else n)
    rng = np.random.default_rng([seed, 10 + _STREAM[split]])
    allowed = _allowed("train")
    s1, c1 = _objects(rng, n, allowed)
    s2, c2 = _objects(rng, n, allowed)
    while True:                                                         # two different objects
        same = (s1 == s2) & (c1 == c2)
        if not same.any():
            break
        s2[same], c2[same] = _objects(rng, int(same.sum()), allowed)
    relation = rng.integers(2, size=n)                                  # 0: 1 left of 2, 1: 1 above 2
    r = np.full(n, RADIUS[0])
    along = rng.uniform(3.5, 4.5, n), rng.uniform(10.5, 11.5, n)       # first and second object's coordinate
    across = rng.uniform(4.0, 11.0, n)
    jitter = rng.uniform(-0.5, 0.5, (2, n))
    x1, y1 = np.where(relation == 0, along[0], across + jitter[0]), np.where(relation == 0, across + jitter[0], along[0])
    x2, y2 = np.where(relation == 0, along[1], across + jitter[1]), np.where(relation == 0, across + jitter[1], along[1])
    pixels = render(s1, c1, x1, y1, r, rng.uniform(0.85, 1.0, n))
    pixels = render(s2, c2, x2, y2, r, rng.uniform(0.85, 1.0, n), canvas=pixels)
    return _finish("shape_pairs", PAIR_GRAMMAR, pixels, {"shape1": s1, "colour1": c1, "relation": relation,
                                                         "shape2": s2, "colour2": c2}, seed, 10 + _STREAM[split])


_LICENCE, _SOURCE = "generated (no licence needed)", "bundled: course_lib"
register(DatasetInfo("shapes", "captioned", "one coloured shape per 16x16 RGB scene with its caption; "
                     "4 (shape, colour) pairs held out of training", _LICENCE, _SOURCE,
                     "generated; n=10,000 train, 1,000 test, 1,000 heldout; 4 attributes",
                     ("train", "test", "heldout", "all")), load_shapes)
register(DatasetInfo("shape_pairs", "captioned", "two coloured shapes and their relation per 16x16 RGB scene",
                     _LICENCE, _SOURCE, "generated; n=10,000 train, 1,000 test; 5 attributes",
                     ("train", "test", "all")), load_shape_pairs)
