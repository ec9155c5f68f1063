"""Family name -> a function that builds an untrained model from a checkpoint's config dict.

The zoo's one link to the model classes. Every family is moving to `Model.from_config(config)`; when it
has, each entry here becomes that call and nothing else in the zoo changes. Later modules add their
families with `register_builder` (e.g. "clip", "t2i").
"""
from __future__ import annotations

from typing import Callable

import torch


def _gpt(config: dict) -> torch.nn.Module:
    from course_lib.models.gpt import GPT, GPTConfig
    return GPT(GPTConfig(**config))


def _vae(config: dict) -> torch.nn.Module:
    from course_lib.models import vae
    return vae.build(config)


def _diffusion(config: dict) -> torch.nn.Module:
    from course_lib.models import diffusion
    return diffusion.build(config)


def _gan(config: dict) -> torch.nn.Module:
    from course_lib.models import gan
    return gan.build(config)


BUILDERS: dict[str, Callable[[dict], torch.nn.Module]] = {
    "gpt": _gpt, "vae": _vae, "diffusion": _diffusion, "gan": _gan}


def register_builder(family: str, build: Callable[[dict], torch.nn.Module]) -> None:
    """Teach the zoo a new family: build(config) -> an untrained nn.Module of the right shape."""
    if not isinstance(family, str) or not family:
        raise ValueError(f"family must be a non-empty string, got {family!r}")
    if not callable(build):
        raise TypeError(f"build must be callable (config dict -> nn.Module), got {type(build).__name__}")
    BUILDERS[family] = build


def builder(family: str) -> Callable[[dict], torch.nn.Module]:
    """The build function of a family, or a clear error naming the known families."""
    if family not in BUILDERS:
        raise KeyError(f"the zoo cannot build family {family!r}: known families {sorted(BUILDERS)} "
                       "(add one with course_lib.pretrained.register_builder)")
    return BUILDERS[family]
