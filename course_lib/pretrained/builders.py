"""Family name -> a function that builds an untrained model from a checkpoint's config dict.

The zoo's one link to the model classes: every family builds through the protocol's
`Model.from_config(config)` (course_lib.models). Families outside course_lib.models can be added with
`register_builder`.
"""
from __future__ import annotations

from typing import Callable

import torch


def _from_config(family: str) -> Callable[[dict], torch.nn.Module]:
    """The protocol's constructor of a model family (course_lib.models.FAMILIES), looked up when first used."""
    def build(config: dict) -> torch.nn.Module:
        from course_lib import models
        return models.family(family).from_config(config)
    return build


BUILDERS: dict[str, Callable[[dict], torch.nn.Module]] = {
    name: _from_config(name) for name in ("gpt", "vae", "diffusion", "flow", "gan", "clip", "t2i", "captioner",
                                            "data_to_text", "pixels")}


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
