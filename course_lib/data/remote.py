"""Optional datasets that are downloaded once (full MNIST, Fashion-MNIST, tiny-shakespeare).

Every file has a published SHA-256 (sources cited next to each digest); download.fetch refuses anything
else. The default URL lists are module-level tuples, and each loader takes `base_urls=` to use a local
mirror instead (a class server, or the tests' local HTTP server).
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .download import fetch
from .registry import DatasetInfo, ImageData, check_split, register

# Base URLs, tried in order; each is followed by the file name.
MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FASHION_MNIST_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
TINY_SHAKESPEARE_URLS = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",)

# SHA-256 of the original gzip'd IDX files. Published e.g. in Britefury/batchup
# (batchup/datasets/mnist.py, commit 8fff1a1); the same four digests appear in many other public
# repositories, some next to the sizes 9,912,422 / 28,881 / 1,648,877 / 4,542 bytes.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Published in Britefury/batchup (batchup/datasets/fashion_mnist.py, commit 06e1261) and in several other
# public repositories, one of which lists them beside Zalando's official MD5 sums (8d4fb7e6..., 25c81989...,
# bef4ecab..., bb300cfd...) and the size 26,421,880 bytes for the training images.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
# Karpathy's char-rnn data/tinyshakespeare/input.txt (1,115,394 bytes); this digest is published in
# several public repositories that pin the file (some pin it at a fixed char-rnn commit).
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"

# IDX type byte -> big-endian numpy dtype (the format's own table)
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Parse an IDX file (gzip'd or not): 0, 0, type byte, ndim, ndim big-endian uint32 sizes, data."""
    path = Path(path)
    with (gzip.open(path) if path.suffix == ".gz" else open(path, "rb")) as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (its header starts {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    body = raw[4 + 4 * ndim:]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(body) != expected:
        raise ValueError(f"{path}: header says shape {shape} ({expected} bytes of data), "
                         f"but the file holds {len(body)} bytes")
    return np.frombuffer(body, dtype=dtype).reshape(shape)


@lru_cache(maxsize=8)
def _read_idx_cached(path: str, sha256: str) -> np.ndarray:
    return read_idx(path)  # keyed by the verified digest, so a cached parse always matches the file


def _fetch(name: str, remote: str, sha256: str, base_urls) -> Path:
    if isinstance(base_urls, str):
        base_urls = (base_urls,)
    urls = [b if b.endswith("/") else b + "/" for b in base_urls]
    urls = [b + remote for b in urls]
    return fetch(urls[0], sha256, f"{name}-{remote}", mirrors=urls[1:])


def _load_idx_images(name: str, split: str, base_urls, digests: dict) -> ImageData:
    check_split(name, split, ("train", "test"))
    prefix = "train" if split == "train" else "t10k"
    arrays = []
    for kind in ("images-idx3", "labels-idx1"):
        remote = f"{prefix}-{kind}-ubyte.gz"
        path = _fetch(name, remote, digests[remote], base_urls)
        arrays.append(_read_idx_cached(str(path), digests[remote]))
    pixels, labels = arrays  # (N, 28, 28) uint8, (N,) uint8
    if pixels.ndim != 3 or labels.shape != pixels.shape[:1]:
        raise ValueError(f"{name}: images {pixels.shape} and labels {labels.shape} do not match")
    images = torch.from_numpy(pixels.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    return ImageData(images=images, labels=torch.from_numpy(labels.astype(np.int64)), levels=256, name=name)


def load_mnist(split: str = "train", base_urls=None) -> ImageData:
    """Full MNIST: 60,000 train / 10,000 test 28x28 digits (downloaded once, ~11 MB)."""
    return _load_idx_images("mnist", split, base_urls or MNIST_URLS, MNIST_SHA256)


def load_fashion_mnist(split: str = "train", base_urls=None) -> ImageData:
    """Fashion-MNIST: 60,000 train / 10,000 test 28x28 clothing images (downloaded once, ~30 MB)."""
    return _load_idx_images("fashion_mnist", split, base_urls or FASHION_MNIST_URLS, FASHION_MNIST_SHA256)


def load_tiny_shakespeare(split: str = "train", base_urls=None) -> str:
    """Karpathy's tiny-shakespeare (1.1 M characters); train = first 90%, val = last 10%."""
    check_split("tiny_shakespeare", split, ("train", "val", "all"))
    urls = base_urls or TINY_SHAKESPEARE_URLS
    path = _fetch("tiny_shakespeare", "input.txt", TINY_SHAKESPEARE_SHA256, urls)
    text = path.read_text(encoding="utf-8")
    cut = int(0.9 * len(text))
    return {"train": text[:cut], "val": text[cut:], "all": text}[split]


register(DatasetInfo("mnist", "images", "full MNIST handwritten digits, 28x28, 256 grey levels",
                     "CC BY-SA 3.0 (LeCun, Cortes, Burges)", "download",
                     "70,000 images (60,000 train / 10,000 test), ~11 MB", ("train", "test")), load_mnist)
register(DatasetInfo("fashion_mnist", "images", "Zalando's Fashion-MNIST clothing images, 28x28",
                     "MIT (Zalando Research)", "download",
                     "70,000 images (60,000 train / 10,000 test), ~30 MB", ("train", "test")),
         load_fashion_mnist)
register(DatasetInfo("tiny_shakespeare", "text", "Karpathy's tiny-shakespeare (char-rnn), split by position",
                     "public domain text; MIT (char-rnn)", "download", "1,115,394 characters, ~1.1 MB",
                     ("train", "val", "all")), load_tiny_shakespeare)
