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

import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

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


def index(documents: dict[str, bytes], bundle: Path) -> None:
    """Index `documents` ({page path: HTML}) with Pagefind, writing the bundle to `bundle`."""
    scratch = Path(tempfile.mkdtemp(prefix=".search-docs-", dir=bundle.parent))
    try:
        write_tree(scratch, normalize(documents))
        command = [str(executable()), "--site", str(scratch), "--output-path", str(bundle), "--quiet"]
        result = subprocess.run(command, capture_output=True, text=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BuildError(f"Pagefind failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")
