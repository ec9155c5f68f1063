"""An attribute judge: small classifiers, trained on real images, that read every captioned attribute.

A generated image (text -> image) or a generated caption (image -> text) is faithful when its
attributes are the ones asked for. People cannot check thousands by eye, so a judge does: one conv
trunk with one linear head per attribute (shapes: shape, colour, size, position; MNIST: digit,
thickness, slant, size), trained on the real training images with cross-entropy summed over heads.
Its own accuracy on held-out real images is measured when it is trained (`judge.accuracy`), so a
score it gives can be read against the best it could give.

Nothing is shipped or cached on disk: a judge trains per use in seconds, seeded (same seed, same
judge), and is kept in memory for the process by `judge_for(dataset)`.

    j = judge_for("shapes")                          # trains once per process (~10 s on one CPU thread)
    j.accuracy                                       # {"all": ..., "shape": ..., ...} on the test split
    score(images, attributes)                        # {"all": share with every attribute right, "shape": ...}

`read_caption` turns a caption back into attributes with the grammar's own phrasings, so a
captioner's output can be scored against the truth of its image.
"""
from __future__ import annotations

import functools

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.tokenizers import split_words

DEFAULT_STEPS = {"shapes": 400, "mnist_captions": 800}


class AttributeJudge(nn.Module):
    """A colour-blind conv trunk for form (shape, digit, size, position, ...) and a colour reader.

    The form trunk sees the brightest channel only, (B, 1, H, W): if it saw colour, it would learn
    "green goes with squares" from the training pairs and misjudge a held-out green circle. Colour
    attributes (named "colour...") are read from the RGB values alone: 1x1 convolutions, then the
    maximum over the image, (B, C, H, W) -> (B, 32)."""

    def __init__(self, image_shape: tuple, values: dict, width: int = 16):
        super().__init__()
        c, h, w = image_shape
        self.image_shape, self.values = tuple(image_shape), {a: tuple(v) for a, v in values.items()}
        self.trunk = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.GELU(), nn.MaxPool2d(2), nn.Flatten())
        self.colour = nn.Sequential(nn.Conv2d(c, 32, 1), nn.GELU(), nn.Conv2d(32, 32, 1), nn.GELU(),
                                    nn.AdaptiveMaxPool2d(1), nn.Flatten())
        feat = 2 * width * (h // 4) * (w // 4)
        self.heads = nn.ModuleDict({a: nn.Linear(32 if a.startswith("colour") else feat, len(v))
                                    for a, v in self.values.items()})
        self.accuracy: dict = {}                                   # held-out real accuracy, set by train_judge

    def _check(self, images):
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or tuple(images.shape[1:]) != self.image_shape:
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"images must be (N, {', '.join(map(str, self.image_shape))}) floats in [0, 1], got {got}")

    def forward(self, images):                                     # -> {attr: logits (B, n_values)}
        form = self.trunk(images.amax(1, keepdim=True) * 2 - 1)    # (B, F) from (B, 1, H, W)
        colour = self.colour(images * 2 - 1)                        # (B, 32)
        return {a: head(colour if a.startswith("colour") else form) for a, head in self.heads.items()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 1000) -> dict:
        """{attribute: (N,) int64 predicted value}, in eval mode."""
        self._check(images)
        was = self.training
        self.eval()
        outs = [self(images[i:i + batch_size].float()) for i in range(0, len(images), batch_size)]
        self.train(was)
        return {a: torch.cat([o[a] for o in outs]).argmax(1) for a in self.values}

    def score(self, images: torch.Tensor, attributes: dict) -> dict:
        """Share (in [0, 1]) of images with every asked attribute right ("all") and per attribute."""
        pred = self.predict(images)
        unknown = set(attributes) - set(self.values)
        if unknown or not attributes:
            raise ValueError(f"attributes must be a non-empty dict over {sorted(self.values)}, got {sorted(attributes)}")
        right = {}
        for a, truth in attributes.items():
            truth = torch.as_tensor(truth, dtype=torch.long)
            if truth.shape != (len(images),):
                raise ValueError(f"attribute {a!r} needs one value per image ({len(images)}), got {tuple(truth.shape)}")
            right[a] = pred[a] == truth
        every = torch.stack(list(right.values())).all(0)
        return {"all": every.float().mean().item(), **{a: r.float().mean().item() for a, r in right.items()}}


def train_judge(train, test=None, *, steps: int = 300, batch_size: int = 128, lr: float = 3e-3,
                seed: int = 0) -> AttributeJudge:
    """Fit a judge on a CaptionedData's real images and attributes; its accuracy on `test` is recorded."""
    torch.manual_seed(seed)
    model = AttributeJudge(tuple(train.images.shape[1:]), train.grammar.values)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():                     # also when first asked for inside torch.no_grad() (evaluations)
        for _ in range(steps):
            idx = torch.randint(len(train), (batch_size,), generator=g)
            out = model(train.images[idx])
            loss = sum(F.cross_entropy(out[a], train.attributes[a][idx]) for a in model.values)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    if test is not None:
        model.accuracy = model.score(test.images, test.attributes)
    return model


@functools.lru_cache(maxsize=None)
def judge_for(dataset: str, seed: int = 0, steps: int | None = None) -> AttributeJudge:
    """The judge of a captioned set ("shapes" or "mnist_captions"), trained once per process."""
    from course_lib import data
    if dataset not in DEFAULT_STEPS:
        raise ValueError(f"no attribute judge for {dataset!r}; known: {', '.join(DEFAULT_STEPS)}")
    return train_judge(data.load(dataset, split="train"), data.load(dataset, split="test"),
                       steps=DEFAULT_STEPS[dataset] if steps is None else steps, seed=seed)


def score(images: torch.Tensor, attributes: dict, dataset: str | None = None) -> dict:
    """judge(images, attributes): the share with every attribute right and per attribute.

    dataset defaults by image shape: (3, 16, 16) shapes, (1, 28, 28) mnist_captions."""
    if dataset is None:
        by_shape = {(3, 16, 16): "shapes", (1, 28, 28): "mnist_captions"}
        shape = tuple(images.shape[1:]) if isinstance(images, torch.Tensor) else None
        if shape not in by_shape:
            raise ValueError(f"images of shape (N, 3, 16, 16) or (N, 1, 28, 28) expected, got {shape}; "
                             "or name the dataset")
        dataset = by_shape[shape]
    return judge_for(dataset).score(images, attributes)


judge = score


def read_caption(grammar, caption: str) -> dict:
    """{attribute: value or -1}: the value whose phrasing occurs in the caption (-1: none or several).

    A phrasing counts only where its words occur in a row ("at the top"); a longer matching phrasing
    wins over a shorter one inside it ("nearly upright" over "upright")."""
    words = split_words(caption)
    out = {}
    for attr, names in grammar.values.items():
        found = {}                                         # value -> longest matching phrasing length
        for slot, per_value in grammar.phrases.items():
            if slot.split(":")[0] != attr:
                continue
            for v, options in enumerate(per_value):
                for p in options:
                    pw = split_words(p)
                    if any(words[i:i + len(pw)] == pw for i in range(len(words) - len(pw) + 1)):
                        found[v] = max(found.get(v, 0), len(pw))
        if found:
            best = max(found.values())
            found = {v: n for v, n in found.items() if n == best} if len(found) > 1 else found
        out[attr] = next(iter(found)) if len(found) == 1 else -1
    return out


def caption_accuracy(grammar, captions, attributes: dict) -> dict:
    """Share of captions whose every attribute (read back by read_caption) is the image's, and per attribute."""
    read = [read_caption(grammar, c) for c in captions]
    right = {a: torch.tensor([r[a] for r in read]) == attributes[a] for a in grammar.values}
    every = torch.stack(list(right.values())).all(0)
    return {"all": every.float().mean().item(), **{a: r.float().mean().item() for a, r in right.items()}}
