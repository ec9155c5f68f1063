"""Download a file once, check it against a known SHA-256, and keep it in the course's cache.

Why so careful: a half-downloaded or tampered file must never be parsed as data, and a student offline
must get a message that says what to do, not a stack trace from deep inside urllib. So a download goes
to a temporary file in the cache folder, is hashed while it streams, and only a verified file is moved
into place (os.replace is atomic: the cache holds either the whole good file or nothing).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path



from .. import config

CHUNK = 1 << 16  # bytes per read
TIMEOUT_S = 60  # seconds to wait for a server before giving up on it


class DownloadError(RuntimeError):
    """A file could not be fetched and verified; the message says what to do about it."""


def cache_dir() -> Path:
    """Where downloaded files live: config.data_dir()/"datasets" (COURSE_DATA_DIR moves it)."""
    return config.data_dir() / "datasets"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_args(url, sha256, filename) -> None:
    if not isinstance(url, str) or not url:
        raise ValueError(f"url must be a non-empty string, got {url!r}")
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(f"sha256 must be 64 hex digits (a SHA-256 digest), got {sha256!r}")
    if not isinstance(filename, str) or filename in ("", ".", "..") or Path(filename).name != filename:
        raise ValueError(f"filename must be a plain file name without folders, got {filename!r}")


def _download_one(url: str, sha256: str, target: Path) -> None:
    """Stream url into a temp file next to target, verify, then move it into place atomically."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with config.progress(total=total, unit="B", unit_scale=True, desc=target.name, leave=False) as bar:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        actual = digest.hexdigest()
        if actual != sha256.lower():
            raise DownloadError(f"checksum mismatch for {target.name} from {url}: "
                                f"expected SHA-256 {sha256.lower()}, got {actual}; the file was discarded")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache shared by a class must be readable
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # no-op after a successful os.replace


def fetch(url: str, sha256: str, filename: str, *, mirrors=()) -> Path:
    """Path of a verified local copy of `url`, downloading it only when the cache lacks it.

    url: where to get the file; mirrors: more URLs with the same file, tried in order after url.
    sha256: the file's published SHA-256; filename: its name inside cache_dir().
    Raises DownloadError when offline (COURSE_OFFLINE=1), on network errors or on a checksum mismatch.
    """
    _check_args(url, sha256, filename)
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    target = cache_dir() / filename
    if target.is_file():
        if sha256_of(target) == sha256.lower():
            return target  # cache hit: no network at all
        bad = "it is corrupt or a different version (its SHA-256 does not match)"
    else:
        bad = None

    manual = (f"to use it without a network, download {url} yourself and save it as {target} "
              f"(it must have SHA-256 {sha256.lower()})")
    if config.is_offline():
        why = f"the cached copy at {target} cannot be used: {bad}" if bad else "it is not in the cache"
        raise DownloadError(f"COURSE_OFFLINE=1, so {filename} was not downloaded ({why}); {manual}")

    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for source in (url, *mirrors):
        try:
            _download_one(source, sha256, target)
            return target
        except DownloadError as err:
            errors.append(str(err))
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:  # 404, timeout
            errors.append(f"{source}: {err}")
    raise DownloadError(f"could not download {filename}:\n  " + "\n  ".join(errors) + f"\n{manual}")
