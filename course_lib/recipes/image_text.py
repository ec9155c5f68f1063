"""What `genai-course sample` shares for the image-text families (clip, captioner): they draw nothing from
noise but read images, from a file (`--option images=S.npz`, e.g. what a t2i checkpoint drew) or from the
test split of the set they were trained on (`--option split=test|heldout`, the first n images).
"""
from __future__ import annotations

from pathlib import Path

import torch

from course_lib import samples


def load_checked(path: Path, family: str, from_config):
    """The model of a checkpoint of `family`; another family's checkpoint is refused naming both."""
    from course_lib import checkpoints
    found = checkpoints.read(path)["meta"].get("family")
    if found != family:
        raise SystemExit(f"error: {path} is a checkpoint of the {found!r} family, not a {family} one")
    return checkpoints.load(path, from_config)


def input_images(path: Path, model, n: int | None, options: dict):
    """(images (N, C, S, S), attributes dict or None, where they came from) for `genai-course sample`:
    the first n (None: all) of the file's or the split's images."""
    from course_lib import checkpoints, data
    cfg = model.config
    shape = (cfg.image_channels, cfg.image_size, cfg.image_size)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise SystemExit(f"error: --n must be a positive number of images, got {n!r}")
    if "images" in options:
        if "split" in options:
            raise SystemExit("error: give --option images=FILE or --option split=NAME, not both")
        images = samples.read_images(options["images"], shape)[:n]
        return images, None, str(options["images"])
    dataset = checkpoints.read(path)["meta"].get("dataset")
    split = str(options.get("split", "test"))
    splits = ("test", "heldout") if dataset == "shapes" else ("test",)
    if split not in splits:
        raise SystemExit(f"error: split must be one of {list(splits)} for {dataset!r}, got {split!r}")
    d = data.load(dataset, split=split)
    return d.images[:n], {a: v[:n] for a, v in d.attributes.items()}, f"{dataset} {split} split"


def grammar_of(path: Path):
    """The caption grammar of the set a checkpoint was trained on (to read captions back into attributes)."""
    from course_lib import checkpoints, data
    return data.load(checkpoints.read(path)["meta"]["dataset"], split="test").grammar


def attribute_arrays(attributes: dict | None) -> dict:
    """{"attr_<name>": (N,) int64} for the .npz (nothing when the images came from a file)."""
    return {f"attr_{a}": v.numpy() for a, v in (attributes or {}).items()}


def as_list(values: torch.Tensor) -> list[float]:
    return [round(float(v), 4) for v in values]
