"""A text-to-image stereotype in miniature: circles that are usually red in training.

Bianchi et al. (2023) found that text-to-image models asked for "a person" or "a doctor" draw the
demographics their training images over-represent, often more strongly. The shapes set of notebook 08 lets
the same thing be measured exactly: `spurious_shapes` keeps every red circle but only a few circles of other
colours, so "circle" and "red" go together in the captions' world; a model trained on it and asked for
"a circle" (no colour named) shows which colours it draws, judged by `dominant_colour`.

    train = spurious_shapes(data.load("shapes", split="train"), "circle", "red", share=0.8)
    colour_shares(train, "circle")                       # (5,) red about 0.8 among the circles
    colour_shares_of(dominant_colour(images_for_a_circle))   # what the model drew
"""
from __future__ import annotations

import torch

from course_lib.data.captioned import CaptionedData
from course_lib.data.shapes import COLOURS, RGB, SHAPES


def spurious_shapes(data: CaptionedData, shape: str = "circle", colour: str = "red", share: float = 0.8, *,
                    seed: int = 0) -> CaptionedData:
    """A subset of a shapes set in which `colour` makes up `share` of the images of `shape`: every image of
    other shapes, every `shape` in `colour`, and a seeded draw of the other `shape`s, just enough. The captions
    stay true (they describe each image); only the co-occurrence is skewed."""
    if shape not in SHAPES or colour not in COLOURS:
        raise ValueError(f"shape must be one of {SHAPES} and colour one of {COLOURS}, got {shape!r}, {colour!r}")
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1), got {share!r}")
    s, c = data.attributes["shape"], data.attributes["colour"]
    target = torch.nonzero((s == SHAPES.index(shape)) & (c == COLOURS.index(colour))).flatten()
    rest = torch.nonzero((s == SHAPES.index(shape)) & (c != COLOURS.index(colour))).flatten()
    if len(target) == 0:
        raise ValueError(f"the set has no {colour} {shape} (a held-out pair?)")
    keep = round(len(target) * (1 - share) / share)          # len(target) / (len(target) + keep) = share
    keep = min(keep, len(rest))
    perm = torch.randperm(len(rest), generator=torch.Generator().manual_seed(seed))
    idx = torch.sort(torch.cat([torch.nonzero(s != SHAPES.index(shape)).flatten(), target, rest[perm[:keep]]])).values
    return CaptionedData(images=data.images[idx], captions=[data.captions[i] for i in idx.tolist()],
                         attributes={a: v[idx] for a, v in data.attributes.items()}, grammar=data.grammar,
                         name=data.name, notes={**data.notes, "spurious": (shape, colour, share)})


def colour_shares(data: CaptionedData, shape: str) -> torch.Tensor:
    """(5,) share of each colour among the images of `shape` in a captioned shapes set (by its attributes)."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    mask = data.attributes["shape"] == SHAPES.index(shape)
    if not mask.any():
        raise ValueError(f"the set holds no {shape}")
    return colour_shares_of(data.attributes["colour"][mask])


def colour_shares_of(colours: torch.Tensor) -> torch.Tensor:
    """(5,) share of each colour index among (N,) colour ids (e.g. dominant_colour of generated images). An id
    of -1 (nothing drawn) stays in the denominator, like an unknown name: the shares then sum to less than 1."""
    if not isinstance(colours, torch.Tensor) or colours.dim() != 1 or colours.numel() == 0:
        raise ValueError(f"colours must be a non-empty 1-D tensor, got {getattr(colours, 'shape', type(colours))}")
    if colours.min() < -1 or colours.max() >= len(COLOURS):
        raise ValueError(f"colour ids must be -1 (nothing drawn) or 0..{len(COLOURS) - 1}, got "
                         f"{colours.min().item()}..{colours.max().item()}")
    drawn = colours[colours >= 0].long()
    return torch.bincount(drawn, minlength=len(COLOURS)).float() / colours.numel()


def dominant_colour(images: torch.Tensor, threshold: float = 0.3) -> torch.Tensor:
    """(N,) colour index of each RGB image (N, 3, H, W) in [0, 1]: the mean colour of its bright pixels (the
    brightest channel above `threshold`), matched by direction (cosine) to the palette, so brightness does not
    matter. An image with no bright pixel gets -1 (nothing drawn: count it as such, not as a colour)."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be RGB (N, 3, H, W), got {getattr(images, 'shape', type(images))}")
    x = images.float().clamp(0, 1)
    bright = (x.max(dim=1).values > threshold).float()                        # (N, H, W)
    count = bright.sum(dim=(1, 2))                                            # (N,)
    mean = (x * bright[:, None]).sum(dim=(2, 3)) / count.clamp(min=1)[:, None]  # (N, 3)
    palette = torch.tensor(RGB, dtype=torch.float32)                          # (5, 3)
    cos = torch.nn.functional.normalize(mean, dim=1) @ torch.nn.functional.normalize(palette, dim=1).T  # (N, 5)
    return torch.where(count > 0, cos.argmax(dim=1), torch.full_like(count, -1, dtype=torch.long))
