"""Search: Pagefind indexes lean search documents, written beside the site and never published.

Each paper and issue gets a small document at the same path as its page, holding only what
readers search (titles, tldr, summary, abstracts, authors, tags; an issue's title and intro)
plus index-only Korean tokens after a sentinel (see `korean`). Documents are NFD-normalized:
Pagefind 1.5 files every precomposed Hangul word as a "diacritic variant" of its NFD form and
does not count variants when it splits the index into chunks, so NFC Korean text ends up in one
chunk that a first search downloads whole (6.8 MB at 10,000 papers). In NFD the words are their
own normalized form, the index splits normally, and queries typed in NFC still match because
Pagefind normalizes them the same way. The search page turns results back into NFC.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

from digestgen import cbor
from digestgen.errors import BuildError
from digestgen.output import write_tree

BUNDLE_DIR = "pagefind"


def executable() -> Path:
    """The Pagefind binary (PAGEFIND_BINARY_PATH, else the one from pagefind_bin)."""
    from pagefind.service import get_executable

    found = get_executable()
    if found is None or not Path(found).exists():
        raise BuildError("the Pagefind binary is missing: install digestgen with its dependencies "
                         "(pip install 'pagefind[bin]')")
    return Path(found)


def normalize(documents: dict[str, bytes]) -> dict[str, bytes]:
    """NFD-normalize search documents (see the module docstring for why)."""
    return {path: unicodedata.normalize("NFD", data.decode("utf-8")).encode("utf-8")
            for path, data in documents.items()}


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


def index(documents: dict[str, bytes], bundle: Path) -> None:
    """Index NFD-normalized `documents` ({page path: HTML}; see `normalize`) with Pagefind into `bundle`."""
    scratch = Path(tempfile.mkdtemp(prefix=".search-docs-", dir=bundle.parent))
    try:
        write_tree(scratch, documents)
        command = [str(executable()), "--site", str(scratch), "--output-path", str(bundle), "--quiet"]
        result = subprocess.run(command, capture_output=True, text=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BuildError(f"Pagefind failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")
    try:
        normalize_bundle(bundle)
    except (OSError, ValueError, KeyError, IndexError) as exc:  # an unknown Pagefind format: leave as written
        print(f"digestgen: warning: search bundle left as Pagefind wrote it ({exc})", file=sys.stderr)
