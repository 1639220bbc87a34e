"""The detector's fingerprint: everything besides a text and its request that decides what is
found in it, folded into every key of the detection cache (``DetectionCache``).

Entries live up to ``PII_CACHE_TTL_S``, and the Redis tier is shared by every instance that holds
the same ``PII_CACHE_SECRET``. Without a fingerprint, an instance with other settings (another
``PII_MIN_SCORE``), or the previous release during a rolling deploy or a slot swap, would serve
its verdicts to this one: a detector fix undone for the cache lifetime. With it, the entries of
another fingerprint are misses.

Computed once at start-up (``runtime``): the settings that change findings, the versions of the
libraries that decide them, and a build id, a SHA-256 of every file of the ``redaction`` package
(the detector's code and name model, and the planning code that shapes chunks and seams).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
# Distributions whose version changes what the embedded detector finds, always; the extras'
# (names, addresses, a spaCy model) are added by the caller when they are switched on. Each
# look-up costs about 3 ms at start-up.
LIBRARIES = ("phonenumberslite", "python-stdnum", "regex")


@functools.cache
def build_id(root: Path = PACKAGE) -> str:
    """SHA-256 of the path and bytes of every file under ``root`` (compiled files left out)."""
    digest = hashlib.sha256()
    for name in _files(root):
        content = (root / name).read_bytes()
        encoded = name.encode("utf-8", "surrogateescape")
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def _files(root: Path) -> list[str]:
    """Every file under ``root`` as a POSIX path relative to it, sorted (``os.walk``: a tenth of
    ``Path.rglob``'s time, at start-up)."""
    found: list[str] = []
    for folder, folders, names in os.walk(root):
        folders[:] = [name for name in folders if name != "__pycache__"]
        base = Path(folder).relative_to(root)
        found.extend((base / name).as_posix() for name in names if not name.endswith(".pyc"))
    return sorted(found)


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """The installed version of each distribution, or ``""`` when it is not installed."""
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def fingerprint(settings: Mapping[str, object], libraries: Iterable[str] = LIBRARIES) -> bytes:
    """SHA-256 of ``settings`` (the values that change findings), the libraries' versions and
    the build id."""
    described = {
        "build": build_id(),
        "libraries": library_versions(libraries),
        "settings": {name: str(value) for name, value in settings.items()},
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode("utf-8")).digest()
