"""Checksum-verified downloads, against a local HTTP server (never the real URLs)."""
import gzip
import hashlib
import re
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import torch

from course_lib import data
from course_lib.data import download, remote
from course_lib.data.download import DownloadError, fetch


class LocalServer:
    """Serves `files` (path -> bytes) on 127.0.0.1 and records every requested path."""

    def __init__(self):
        self.files, self.requests = {}, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes) -> str:
        """Serve body at path; return its SHA-256."""
        self.files[path] = body
        return hashlib.sha256(body).hexdigest()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache and starts online."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return tmp_path / "cache" / "datasets"


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part")) if folder.exists() else []


BODY = b"hello course " * 1000


# ----------------------------------------------------------------------------- fetch

def test_good_download_lands_and_verifies(server, cache):
    sha = server.add("/f.bin", BODY)
    path = fetch(server.url + "/f.bin", sha, "f.bin")
    assert path == cache / "f.bin" and path.read_bytes() == BODY
    assert server.requests == ["/f.bin"] and leftovers(cache) == []
    assert download.sha256_of(path) == sha


def test_cache_hit_makes_no_request_even_offline(server, cache, monkeypatch):
    sha = server.add("/f.bin", BODY)
    fetch(server.url + "/f.bin", sha, "f.bin")
    assert fetch(server.url + "/f.bin", sha.upper(), "f.bin").read_bytes() == BODY
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert fetch(server.url + "/f.bin", sha, "f.bin").read_bytes() == BODY
    assert server.requests == ["/f.bin"]  # only the first call touched the network


def test_checksum_mismatch_raises_and_leaves_nothing(server, cache):
    actual = server.add("/f.bin", BODY)
    wrong = "0" * 64
    with pytest.raises(DownloadError) as err:
        fetch(server.url + "/f.bin", wrong, "f.bin")
    msg = str(err.value)
    assert wrong in msg and actual in msg and "f.bin" in msg
    assert not (cache / "f.bin").exists() and leftovers(cache) == []
    assert list(cache.iterdir()) == []


def test_corrupt_cached_file_is_replaced(server, cache):
    sha = server.add("/f.bin", BODY)
    cache.mkdir(parents=True)
    (cache / "f.bin").write_bytes(b"half a file")
    assert fetch(server.url + "/f.bin", sha, "f.bin").read_bytes() == BODY
    assert server.requests == ["/f.bin"]


def test_offline_raises_a_clear_error_without_a_request(server, cache, monkeypatch):
    sha = server.add("/f.bin", BODY)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DownloadError) as err:
        fetch(server.url + "/f.bin", sha, "f.bin")
    msg = str(err.value)
    assert "COURSE_OFFLINE=1" in msg and "f.bin" in msg and server.url + "/f.bin" in msg
    assert str(cache / "f.bin") in msg and sha in msg  # where to put the file by hand, and its hash
    assert server.requests == [] and not cache.exists()


def test_server_404_raises_download_error(server, cache):
    with pytest.raises(DownloadError, match=r"(?s)could not download missing\.bin.*404"):
        fetch(server.url + "/missing.bin", "a" * 64, "missing.bin")
    assert server.requests == ["/missing.bin"]
    assert not (cache / "missing.bin").exists() and leftovers(cache) == []


def test_unreachable_server_raises_download_error(cache):
    gone = LocalServer()
    url = gone.url + "/f.bin"
    gone.close()  # nothing listens on that port any more
    with pytest.raises(DownloadError, match=re.escape(url)):
        fetch(url, "b" * 64, "f.bin")
    assert leftovers(cache) == []


def test_mirrors_are_tried_in_order(server, cache):
    sha = server.add("/good/f.bin", BODY)
    server.add("/bad/f.bin", b"tampered")
    path = fetch(server.url + "/gone/f.bin", sha, "f.bin",
                 mirrors=[server.url + "/bad/f.bin", server.url + "/good/f.bin"])
    assert path.read_bytes() == BODY
    assert server.requests == ["/gone/f.bin", "/bad/f.bin", "/good/f.bin"]
    assert leftovers(cache) == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(url="", sha256="a" * 64, filename="f"), "url must be a non-empty string"),
    (dict(url="http://x/f", sha256="abc", filename="f"), "sha256 must be 64 hex digits"),
    (dict(url="http://x/f", sha256="g" * 64, filename="f"), "sha256 must be 64 hex digits"),
    (dict(url="http://x/f", sha256="a" * 64, filename="../f"), "plain file name"),
    (dict(url="http://x/f", sha256="a" * 64, filename="sub/f"), "plain file name"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fetch(**kwargs)


# ----------------------------------------------------------------------------- IDX parser, registry entries

def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as a gzip'd IDX file (the MNIST format)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_read_idx_round_trip_and_bad_files(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    (tmp_path / "x.gz").write_bytes(idx_bytes(images))
    assert np.array_equal(remote.read_idx(tmp_path / "x.gz"), images)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"PK\x03\x04 not idx"))
    with pytest.raises(ValueError, match="is not an IDX file"):
        remote.read_idx(tmp_path / "bad.gz")
    (tmp_path / "short.gz").write_bytes(gzip.compress(gzip.decompress(idx_bytes(images))[:-10]))
    with pytest.raises(ValueError, match=r"header says shape \(5, 28, 28\)"):
        remote.read_idx(tmp_path / "short.gz")


def fake_mnist(server, prefix: str, n_train=20, n_test=10):
    """Serve four small IDX files under prefix; return (digests, arrays)."""
    rng = np.random.default_rng(1)
    arrays, digests = {}, {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{split}-images-idx3-ubyte.gz"] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays[f"{split}-labels-idx1-ubyte.gz"] = rng.integers(0, 10, size=(n,), dtype=np.uint8)
    for name, arr in arrays.items():
        digests[name] = server.add(f"{prefix}/{name}", idx_bytes(arr))
    return digests, arrays


def test_mnist_loads_end_to_end_from_a_mirror(server, cache, monkeypatch):
    digests, arrays = fake_mnist(server, "/mirror")
    monkeypatch.setattr(remote, "MNIST_SHA256", digests)  # the real digests are for the real files
    train = data.load("mnist", split="train", base_urls=[server.url + "/mirror/"])
    assert isinstance(train, data.ImageData) and train.name == "mnist" and train.levels == 256
    assert train.images.shape == (20, 1, 28, 28) and train.images.dtype == torch.float32
    assert train.labels.dtype == torch.int64
    assert torch.equal(train.as_int()[:, 0], torch.from_numpy(arrays["train-images-idx3-ubyte.gz"]).long())
    assert train.labels.tolist() == arrays["train-labels-idx1-ubyte.gz"].tolist()
    test = data.load("mnist", split="test", base_urls=server.url + "/mirror")  # a str and no slash work too
    assert len(test) == 10
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"mnist-{n}" for n in digests)
    n_requests = len(server.requests)
    data.load("mnist", split="train", base_urls=[server.url + "/mirror/"])
    assert len(server.requests) == n_requests == 4  # second load: all from the cache
    with pytest.raises(ValueError, match="'mnist' has splits 'train', 'test'"):
        data.load("mnist", split="val")


def test_fashion_mnist_uses_the_module_level_urls(server, cache, monkeypatch):
    digests, _ = fake_mnist(server, "/fm", n_train=3, n_test=2)
    monkeypatch.setattr(remote, "FASHION_MNIST_SHA256", digests)
    monkeypatch.setattr(remote, "FASHION_MNIST_URLS", (server.url + "/nothing-here/", server.url + "/fm/"))
    test = data.load("fashion_mnist", split="test")
    assert test.images.shape == (2, 1, 28, 28) and test.name == "fashion_mnist"
    assert (cache / "fashion_mnist-t10k-images-idx3-ubyte.gz").exists()


def test_mnist_with_wrong_digest_fails_cleanly(server, cache):
    fake_mnist(server, "/mirror")  # served files do not match the real MNIST digests
    with pytest.raises(DownloadError, match=remote.MNIST_SHA256["train-images-idx3-ubyte.gz"]):
        data.load("mnist", base_urls=[server.url + "/mirror/"])
    assert not cache.exists() or (list(cache.iterdir()) == [])


def test_tiny_shakespeare_split_by_position(server, cache, monkeypatch):
    text = "".join(f"LINE {i}: to be or not to be\n" for i in range(1000))
    sha = server.add("/ts/input.txt", text.encode())
    monkeypatch.setattr(remote, "TINY_SHAKESPEARE_SHA256", sha)
    train = data.load("tiny_shakespeare", base_urls=[server.url + "/ts/"])
    val = data.load("tiny_shakespeare", split="val", base_urls=[server.url + "/ts/"])
    assert train + val == text and len(train) == int(0.9 * len(text))
    assert data.load("tiny_shakespeare", split="all", base_urls=[server.url + "/ts/"]) == text
    assert server.requests == ["/ts/input.txt"]


def test_offline_registry_load_names_the_file(cache, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DownloadError, match=r"fashion_mnist-train-images-idx3-ubyte\.gz"):
        data.load("fashion_mnist")


def test_published_digests_are_well_formed():
    digests = [*remote.MNIST_SHA256.values(), *remote.FASHION_MNIST_SHA256.values(),
               remote.TINY_SHAKESPEARE_SHA256]
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)
    assert len(set(digests)) == 9
    names = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz"}
    assert set(remote.MNIST_SHA256) == set(remote.FASHION_MNIST_SHA256) == names
