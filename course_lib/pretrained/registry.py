"""The zoo's catalogue: one Entry per pretrained model, read from the manifest or added with `register`.

The shipped entries come from weights/manifest.json, which scripts/train_pretrained.py writes beside the
weights it trains (file, SHA-256, size, the figures it measured and how). Later modules add their own
entries with `register(...)`: shipped in the package like these, or too big to ship and downloaded once
from a URL, checked against its SHA-256 (course_lib.data's download helper).
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from importlib import resources

MANIFEST = "manifest.json"


class UnknownModelError(KeyError):
    """A name that is not in the zoo; the message lists the names that are."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Entry:
    """One pretrained model: where its weights are, how to check them, and what it scored.

    metrics: name -> {"value", "how"} as measured by the training script (RESULTS.md shows them);
    check: name -> {"value", "how"[, "abs_tol"]}: the small seeded evaluation tests/test_pretrained.py
    reruns on the shipped file, so a corrupted or stale file fails.
    url: None for weights shipped in the package; else where to download `file` (cached, SHA-256 checked).
    """

    name: str
    family: str
    dataset: str
    file: str
    sha256: str
    size_bytes: int
    description: str
    data_licence: str
    metrics: dict = field(default_factory=dict)
    check: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    url: str | None = None

    def __post_init__(self):
        for what in ("name", "family", "dataset", "file", "description", "data_licence"):
            value = getattr(self, what)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"pretrained entry {self.name!r}: {what} must be a non-empty string, got {value!r}")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", self.name):
            raise ValueError(f"pretrained entry name must be lower-case letters, digits, '-', '_' or '.', "
                             f"got {self.name!r}")
        if "/" in self.file or "\\" in self.file or self.file in (".", ".."):
            raise ValueError(f"pretrained entry {self.name!r}: file must be a plain file name, got {self.file!r}")
        if not isinstance(self.sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"pretrained entry {self.name!r}: sha256 must be 64 lower-case hex digits, "
                             f"got {self.sha256!r}")
        if isinstance(self.size_bytes, bool) or not isinstance(self.size_bytes, int) or self.size_bytes < 1:
            raise ValueError(f"pretrained entry {self.name!r}: size_bytes must be a positive int, "
                             f"got {self.size_bytes!r}")
        if self.url is not None and not (isinstance(self.url, str) and re.match(r"[a-z]+://", self.url)):
            raise ValueError(f"pretrained entry {self.name!r}: url must be None (shipped) or an http(s)/file URL, "
                             f"got {self.url!r}")

    @property
    def shipped(self) -> bool:
        """True when the weights are package data (no download)."""
        return self.url is None

    def to_json(self) -> dict:
        return asdict(self)

    def headline(self) -> str:
        """One recorded figure as `name value` for the catalogue table: the FD ratio where there is one."""
        if not self.metrics:
            return "-"
        key = "fd_ratio" if "fd_ratio" in self.metrics else next(iter(self.metrics))
        return f"{key} {self.metrics[key]['value']}"


_ENTRIES: dict[str, Entry] = {}


def weights_dir():
    """The package folder holding the shipped weights and manifest.json (a Traversable)."""
    return resources.files("course_lib.pretrained").joinpath("weights")


def read_manifest() -> list[dict]:
    """The shipped entries as plain dicts (empty when the manifest is missing: nothing trained yet)."""
    path = weights_dir().joinpath(MANIFEST)
    if not path.is_file():
        return []
    payload = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(payload, dict) or not isinstance(payload.get("entries"), list):
        raise ValueError(f"{path} must hold {{'entries': [...]}}; was it written by scripts/train_pretrained.py?")
    return payload["entries"]


def register(entry: Entry | None = None, *, replace: bool = False, **fields) -> Entry:
    """Add a model to the zoo: `register(Entry(...))` or `register(name=..., family=..., ...)`.

    A name registered twice is refused unless replace=True (two modules must not silently shadow each
    other's models).
    """
    if entry is None:
        entry = Entry(**fields)
    elif fields:
        raise TypeError(f"pass an Entry or keyword fields, not both (got extra {sorted(fields)})")
    if not isinstance(entry, Entry):
        raise TypeError(f"register expects a course_lib.pretrained.Entry, got {type(entry).__name__}")
    if entry.name in _ENTRIES and not replace and _ENTRIES[entry.name] != entry:
        raise ValueError(f"a pretrained model named {entry.name!r} is already registered; choose another name "
                         "or pass replace=True")
    _ENTRIES[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove an entry (tests, or a module replacing its own)."""
    _ENTRIES.pop(name, None)


def names() -> list[str]:
    """Every registered name, sorted."""
    return sorted(_ENTRIES)


def info(name: str) -> Entry:
    """The Entry of one model; an unknown name raises UnknownModelError listing the known ones."""
    if isinstance(name, str) and name in _ENTRIES:
        return _ENTRIES[name]
    close = difflib.get_close_matches(str(name), names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(names()) or "none (run scripts/train_pretrained.py)"
    raise UnknownModelError(f"no pretrained model named {name!r}{hint}; available: {known}")


class Catalogue(list):
    """A list of Entry that prints as a table (name, family, dataset, size, a figure, description)."""

    COLUMNS = ("name", "family", "dataset", "size", "figure", "description")

    def rows(self) -> list[tuple[str, ...]]:
        return [(e.name, e.family, e.dataset, f"{e.size_bytes / 1e6:.1f} MB" + ("" if e.shipped else " (download)"),
                 e.headline(), e.description) for e in self]

    def __repr__(self) -> str:
        rows = [self.COLUMNS, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS) - 1)]
        fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1]
        return "\n".join([fmt(rows[0]), fmt(tuple("-" * w for w in widths) + ("-" * 11,))]
                         + [fmt(r) for r in rows[1:]])

    __str__ = __repr__

    def _repr_markdown_(self) -> str:
        lines = ["| " + " | ".join(self.COLUMNS) + " |", "|" + "---|" * len(self.COLUMNS)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in self.rows()])


def available() -> Catalogue:
    """Every model in the zoo, as a list of Entry that a notebook displays as a table."""
    return Catalogue(_ENTRIES[n] for n in names())


def _register_shipped() -> None:
    for record in read_manifest():
        register(Entry(**record), replace=True)


_register_shipped()
