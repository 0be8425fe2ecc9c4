"""A Pagefind bundle's data files: read, made reproducible, and its page ids.

Pagefind's data files are gzip, a 12-byte signature, then CBOR (fragments: JSON).
"""

from __future__ import annotations

import gzip
import hashlib
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


def _write(folder: Path, stem: str, suffix: str, value, digits: int) -> str:
    body = cbor.dumps(value)
    name = f"{stem}_{hashlib.sha256(body).hexdigest()[:digits]}"
    (folder / f"{name}{suffix}").write_bytes(gzip.compress(HEADER + body, mtime=0))
    return name


def normalize_bundle(bundle: Path) -> None:
    """Make Pagefind's output reproducible.

    Pagefind 1.5 writes each filter's values, and the list of filters in the meta file, in hash-map
    order, which changes from run to run; the file names are content hashes, so the names and
    `pagefind-entry.json` change too. Sort both, and rename by the hash of the sorted content.
    The index chunks and fragments are already reproducible and are left alone.
    """
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text())
    for language, info in entry["languages"].items():
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = _read(meta_path)
        renamed = {}
        for name, old_hash in meta[3]:
            path = bundle / "filter" / f"{old_hash}.pf_filter"
            filter_name, values = _read(path)
            values.sort(key=lambda pair: pair[0])
            path.unlink()
            renamed[old_hash] = _write(bundle / "filter", language, ".pf_filter", [filter_name, values], 7)
        meta[3] = sorted([name, renamed[old]] for name, old in meta[3])
        meta_path.unlink()
        info["hash"] = _write(bundle, f"pagefind.{language}", ".pf_meta", meta, 10).removeprefix("pagefind.")
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


def page_url(path: str) -> str:
    """The URL Pagefind records for a document at `path` ('papers/x/index.html' -> '/papers/x/')."""
    return "/" + path.removesuffix("index.html")


def page_ids(bundle: Path) -> dict[str, str]:
    """{Pagefind URL: page id} of a bundle, read from its fragment files."""
    ids = {}
    fragments = [*bundle.glob("fragment/*.pf_fragment"), *bundle.glob("shard-*/fragment/*.pf_fragment")]
    for fragment in fragments:
        data = gzip.decompress(fragment.read_bytes()).removeprefix(HEADER)  # signature, then JSON
        ids[json.loads(data)["url"]] = fragment.name.removesuffix(".pf_fragment")
    return ids


def version(bundle: Path) -> str | None:
    """The Pagefind version that wrote `bundle`."""
    try:
        return json.loads((bundle / "pagefind-entry.json").read_text()).get("version")
    except (OSError, ValueError, AttributeError):
        return None
