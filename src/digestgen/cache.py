"""Build caches, all inside `ROOT/.digestgen/` (a fresh copy of a repository builds cold).

- The *fingerprint* of a build is a hash of every input file's path, size and modification
  time, the settings, the options and digestgen's version. The output folder's marker file
  holds the fingerprint of the build that wrote it, so an unchanged repository is not rebuilt.
- The *record cache* keeps, per paper file (keyed by size and mtime), the validated record and
  its rendered Markdown, so an edit re-reads and re-renders one file, not ten thousand.
- The *search state* (`search.json`, kept by `search.Indexer`) records which document each page
  of the kept search index came from, so that an edit re-indexes only the changed documents.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from digestgen import __version__

CACHE_DIR = ".digestgen"
WATCHED = ("papers", "digests", "templates", "digestgen.toml")


def stamp(path: Path) -> tuple[int, int]:
    """A cheap identity for a file's content: (size, mtime in ns)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def fingerprint(root: Path, *options: object) -> str:
    """A hash of every input file's identity, the options and digestgen's version."""
    digest = hashlib.sha256(f"{__version__}|{options!r}".encode())
    for name in WATCHED:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for file in files:
            size, mtime = stamp(file)
            digest.update(f"{file.relative_to(root).as_posix()}|{size}|{mtime}\n".encode())
    return digest.hexdigest()


class RecordCache:
    """Validated records and their rendered Markdown, by file identity, pickled between builds."""

    def __init__(self, root: Path, context: object):
        self.path = root / CACHE_DIR / "records.pickle"
        self.header = f"{__version__}|{context!r}"
        self.entries: dict[str, tuple] = {}
        self.used: dict[str, tuple] = {}
        try:
            with open(self.path, "rb") as handle:
                header, entries = pickle.load(handle)
            if header == self.header:
                self.entries = entries
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            pass

    def get(self, rel: str, key: tuple) -> object | None:
        hit = self.entries.get(rel)
        if hit is not None and hit[0] == key:
            self.used[rel] = hit
            return hit[1]
        return None

    def put(self, rel: str, key: tuple, value: object) -> None:
        self.used[rel] = (key, value)

    def save(self) -> None:
        """Write the entries used by this build (so deleted files drop out), atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            pickle.dump((self.header, self.used), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, self.path)
