"""One registry for every dataset of the course, so notebooks say `data.load("digits")` and nothing else.

A loader is a plain function registered under a name together with a DatasetInfo (what it is, its
licence, where it comes from). `load` checks the name and the arguments before calling the loader, so a
typo gives a message that lists what exists instead of a bare KeyError deep inside.
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Callable

import torch


class UnknownDatasetError(KeyError):
    """Raised for a dataset name that is not registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, so `data.available()` can print a table a student can choose from."""

    name: str
    kind: str  # "images" | "text" | "names" | "toy2d" | "captioned" | "music" | "records" | "table" | "molecules"
    description: str
    license: str
    source: str  # "bundled: <package>" | "download"
    size: str  # a human note, e.g. "1,797 images 8x8"
    splits: tuple[str, ...] = ("train",)


@dataclass
class ImageData:
    """A set of grey-scale images with labels, as every image notebook expects them.

    images: (N, 1, H, W) float32 in [0, 1]; labels: (N,) int64;
    levels: how many grey levels the raw data has (17 for sklearn digits, 256 for MNIST).
    """

    images: torch.Tensor  # (N, 1, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64
    levels: int
    name: str

    def __len__(self) -> int:
        return self.images.shape[0]

    def as_int(self) -> torch.Tensor:
        """The pixels as integer levels in [0, levels-1], for discrete likelihoods (bits/dim)."""
        return torch.round(self.images * (self.levels - 1)).long()  # (N, 1, H, W) int64

    def __repr__(self) -> str:
        return (f"ImageData(name={self.name!r}, images={tuple(self.images.shape)}, "
                f"labels={tuple(self.labels.shape)}, levels={self.levels})")


_LOADERS: dict[str, Callable] = {}
_INFOS: dict[str, DatasetInfo] = {}
_KINDS = ("images", "text", "names", "toy2d", "captioned", "music", "records", "table", "molecules")


def register(info: DatasetInfo, loader: Callable) -> None:
    """Add a dataset; the loader takes `split` plus its own keyword arguments."""
    if info.kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {info.kind!r}")
    _LOADERS[info.name] = loader
    _INFOS[info.name] = info


def names() -> list[str]:
    """All registered names, sorted."""
    return sorted(_INFOS)


def _unknown(name) -> UnknownDatasetError:
    close = difflib.get_close_matches(str(name), names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UnknownDatasetError(f"unknown dataset {name!r}{hint}; known datasets: {', '.join(names())}")


def info(name: str) -> DatasetInfo:
    """The DatasetInfo of one dataset."""
    if not isinstance(name, str) or name not in _INFOS:
        raise _unknown(name)
    return _INFOS[name]


def available() -> list[DatasetInfo]:
    """Every dataset the course knows, bundled ones first, then downloads."""
    return sorted(_INFOS.values(), key=lambda i: (i.source == "download", i.kind, i.name))


def check_split(name: str, split, splits) -> None:
    """Fail early with the allowed split names (loaders call this)."""
    if split not in splits:
        raise ValueError(f"dataset {name!r} has splits {', '.join(map(repr, splits))}; got split={split!r}")


def load(name: str, split: str = "train", **kwargs):
    """Load a dataset by name: images -> ImageData, text -> str, names -> list[str], toy2d -> Toy2D,
    captioned -> CaptionedData, music -> list of course_lib.music.abc.Tune,
    records -> a list of dataclass records (stocks: WeekRecord), table -> a pandas DataFrame (flchain),
    molecules -> list of canonical SMILES."""
    meta = info(name)
    check_split(name, split, meta.splits)
    loader = _LOADERS[name]
    params = inspect.signature(loader).parameters
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        allowed = [p for p in params if p != "split"]
        raise TypeError(f"dataset {name!r} got unexpected argument(s) {', '.join(unknown)}; "
                        f"it accepts: split{''.join(', ' + a for a in allowed)}")
    return loader(split=split, **kwargs)
