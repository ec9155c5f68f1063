"""Zero-shot classification and retrieval of an image-text model, judged by the true attributes.

A captioned set keeps the attributes its captions were written from, so a retrieved image is a hit when
its attributes match the query's, whatever words either used. The model needs `embed_images(images)`
and `embed_captions(captions or lists of captions)` returning unit vectors (course_lib.models.clip.CLIP).

    zero_shot_accuracy(model, heldout, ("shape", "colour"))   # among all 20 shape-colour prompts
    text_to_image_recall(model, test, k=5)                     # one query per combination present
"""
from __future__ import annotations

import torch

from course_lib.models.clip import recall_at_k


def _check_attributes(data, attributes) -> tuple[str, ...]:
    attributes = tuple(attributes)
    unknown = [a for a in attributes if a not in data.grammar.values]
    if unknown or not attributes:
        raise ValueError(f"attributes must be a non-empty subset of {list(data.grammar.values)}, got {list(attributes)}")
    return attributes


def class_prompts(grammar, attributes) -> tuple[list[tuple[int, ...]], list[list[str]]]:
    """Every combination of `attributes` (as value tuples) and, for each, the canonical captions of all
    values of the other attributes (averaged by the model: a prompt ensemble)."""
    classes: dict[tuple[int, ...], list[str]] = {}
    for combo in grammar.combinations():
        classes.setdefault(tuple(combo[a] for a in attributes), []).append(grammar.caption(combo))
    keys = list(classes)
    return keys, [classes[k] for k in keys]


def zero_shot_accuracy(model, data, attributes) -> float:
    """Fraction of data's images whose `attributes` are all named right when the model picks, among every
    combination of those attributes' values, the prompt that fits the image best."""
    attributes = _check_attributes(data, attributes)
    keys, prompts = class_prompts(data.grammar, attributes)
    pred = model.classify(data.images, prompts).cpu()                           # (N,) class index
    truth = torch.stack([data.attributes[a] for a in attributes], 1)            # (N, A)
    return (torch.tensor(keys)[pred] == truth).all(1).float().mean().item()


def text_to_image_recall(model, data, k: int = 5) -> tuple[float, int]:
    """Recall@k of text -> image retrieval among data's images, and the number of queries.

    Queries: the canonical caption of each attribute combination present in data (each counted once);
    a hit: one of the k most similar images has every attribute of the query."""
    ids = data.combination_ids()                                                # (N,)
    present = torch.unique(ids)                                                 # (Q,) sorted
    rows = torch.stack([(ids == c).nonzero()[0, 0] for c in present])           # (Q,) an image per combination
    queries = data.grammar.captions({a: v[rows] for a, v in data.attributes.items()}, seed=None)
    scores = model.embed_captions(queries) @ model.embed_images(data.images).T  # (Q, N)
    relevant = present[:, None] == ids[None, :]                                  # (Q, N)
    return recall_at_k(scores.cpu(), relevant, k), len(queries)
