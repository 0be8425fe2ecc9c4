"""A Pagefind bundle's data files, read; the URL of a record's page; the version that wrote a bundle.

Pagefind's data files are gzip, a 12-byte signature, then CBOR (fragments: JSON).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import cbor2 as cbor

HEADER = b"pagefind_dcd"


def _read(path: Path):
    """A Pagefind data file: gzip, a 12-byte signature, then CBOR."""
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(HEADER):
        raise ValueError(f"{path.name}: not a Pagefind data file")
    body = raw[len(HEADER):]
    value = cbor.loads(body)
    if cbor.dumps(value) != body:  # only rewrite what we can reproduce exactly
        raise ValueError(f"{path.name}: CBOR does not round-trip")
    return value


def page_url(path: str) -> str:
    """The URL Pagefind records for a document at `path` ('papers/x/index.html' -> '/papers/x/')."""
    return "/" + path.removesuffix("index.html")


def version(bundle: Path) -> str | None:
    """The Pagefind version that wrote `bundle`."""
    try:
        return json.loads((bundle / "pagefind-entry.json").read_text()).get("version")
    except (OSError, ValueError, AttributeError):
        return None
