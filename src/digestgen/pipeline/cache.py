"""Build caches, all inside `ROOT/.digestgen/` (a fresh copy of a repository builds cold).

- The *fingerprint* of a build is a hash of every input file's path, size and modification
  time, the settings, the options and digestgen's version. The output folder's marker file
  holds the fingerprint of the build that wrote it, so an unchanged repository is not rebuilt.
- The *record cache* (`records/`) keeps, per paper and issue file (keyed by size and mtime), the validated record and
  its rendered Markdown, so an edit re-reads and re-renders one file, not ten thousand.
- The *manifest* (`pages-*/`, one per output folder, in shards; see `manifest`) keeps each render
  task's dependency key and files, and each file's content hash, link scan and link-check result,
  so that a build re-renders, re-checks and rewrites only what changed.
- The *search state* (`search-*.json`, kept by `search.Indexer`) records which document each page
  of the kept search index came from, so that an edit re-indexes only the changed documents.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import stat
import zlib
from pathlib import Path

import digestgen
from digestgen import __version__, atomic

CACHE_DIR = ".digestgen"
WATCHED = ("papers", "digests", "templates", "figures", "digestgen.toml")


def stamp(path: Path) -> tuple[int, int]:
    """A cheap identity for a file's content: (size, mtime in ns)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def stamps(root: Path, names=WATCHED) -> dict[str, tuple[int, int]]:
    """{path relative to `root`: stamp} of every file under `names`, sorted by path. (A no-op build
    of 20,000 papers does little else: one scandir per folder, one stat per file.)"""
    found: list[tuple[str, tuple[int, int]]] = []
    for name in names:
        path = root / name
        if path.is_file():
            found.append((name, stamp(path)))
        elif path.is_dir():
            _walk(str(path), name, found)
    found.sort()
    return dict(found)


def _walk(folder: str, rel: str, found: list) -> None:
    """Add the stamps of the files under `folder` (named `rel`) to `found`. Like Path.rglob, a
    link to a file counts and a link to a folder is not followed."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _walk(entry.path, f"{rel}/{entry.name}", found)
                continue
            try:
                info = entry.stat()
            except OSError:  # a broken link
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((f"{rel}/{entry.name}", (info.st_size, info.st_mtime_ns)))


FIGURES_FILE = "figures.json"


def figure_stamps(root: Path) -> dict[str, tuple[int, int]]:
    """Stamps of the local figures the last build used outside the watched folders (a figure may
    be any image in the repository), so that editing one is noticed like editing a record."""
    import json

    try:
        paths = json.loads((root / CACHE_DIR / FIGURES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for rel in paths if isinstance(paths, list) else []:
        if isinstance(rel, str) and rel.split("/")[0] not in WATCHED:
            try:
                found[rel] = stamp(root / rel)
            except OSError:
                found[rel] = (-1, -1)
    return found


def remember_figures(root: Path, paths: list[str]) -> None:
    """Record the local figures of this build (see `figure_stamps`), when they changed."""
    import json

    text = json.dumps(sorted(set(paths)))
    file = root / CACHE_DIR / FIGURES_FILE
    try:
        if file.read_text(encoding="utf-8") == text:
            return
    except OSError:
        if not paths:
            return
    atomic.write(file, text.encode("utf-8"))


def fingerprint(root: Path, *options: object, found: dict[str, tuple[int, int]] | None = None) -> str:
    """A hash of every input file's identity (`found`: their `stamps`, if already taken), the
    options and digestgen's version."""
    digest = hashlib.sha256(f"{__version__}|{options!r}".encode())
    for rel, (size, mtime) in (stamps(root) if found is None else found).items():
        digest.update(f"{rel}|{size}|{mtime}\n".encode())
    return digest.hexdigest()


def code_stamp() -> str:
    """A hash of digestgen's own files (code and theme), so that a changed installation
    (an editable install being worked on, say) never reuses pages rendered by the old one."""
    package = Path(digestgen.__file__).parent
    digest = hashlib.sha256(__version__.encode())
    files = stamps(package, ("theme",)) | {p.relative_to(package).as_posix(): stamp(p) for p in package.rglob("*.py")}
    for rel, (size, mtime) in sorted(files.items()):
        digest.update(f"{rel}|{size}|{mtime}\n".encode())
    return digest.hexdigest()


class RecordCache:
    """Validated records and their rendered Markdown, by file identity, pickled between builds.

    Kept in SHARDS files by a hash of the path, so that an edit rewrites one small file rather
    than every record (128 MB at 10,000 papers).
    """

    SHARDS = 64

    def __init__(self, root: Path, context: object, stamps: dict[str, tuple[int, int]] | None = None):
        self.folder = root / CACHE_DIR / "records"
        self.header = f"{__version__}|{context!r}"
        self.stamps = stamps or {}
        self.entries: dict[str, tuple] = {}
        self.used: dict[str, tuple] = {}
        self.loaded: dict[int, set[str]] = {}  # shard -> the paths it held
        self.dirty: set[int] = set()
        for shard in range(self.SHARDS):
            try:
                with open(self._file(shard), "rb") as handle:
                    header, entries = unpickle(handle)
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
                continue
            if header == self.header and isinstance(entries, dict):
                self.entries.update(entries)
                self.loaded[shard] = set(entries)

    def _file(self, shard: int) -> Path:
        return self.folder / f"{shard:02d}.pickle"

    def _shard(self, rel: str) -> int:
        return zlib.crc32(rel.encode()) % self.SHARDS

    def key(self, rel: str, file: Path) -> tuple[int, int]:
        """The file's identity, from the stamps the build already took when it has them."""
        return self.stamps.get(rel) or stamp(file)

    def get(self, rel: str, key: tuple) -> object | None:
        hit = self.entries.get(rel)
        if hit is not None and hit[0] == key:
            self.used[rel] = hit
            return hit[1]
        return None

    def put(self, rel: str, key: tuple, value: object) -> None:
        self.used[rel] = (key, value)
        self.dirty.add(self._shard(rel))

    def save(self) -> None:
        """Write the shards whose entries changed (deleted files drop out), each atomically."""
        groups: dict[int, dict] = {}
        for rel, entry in self.used.items():
            groups.setdefault(self._shard(rel), {})[rel] = entry
        self.folder.mkdir(parents=True, exist_ok=True)
        for shard in range(self.SHARDS):
            group = groups.get(shard, {})
            if shard not in self.dirty and set(group) == self.loaded.get(shard, set()):
                continue
            path = self._file(shard)
            if not group:
                path.unlink(missing_ok=True)
                continue
            atomic.write(path, pickle.dumps((self.header, group), protocol=pickle.HIGHEST_PROTOCOL))


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cycle collector. Loading a large digest's caches and manifest makes millions
    of objects that live to the end of the build, and every collection their allocations set off
    walks all of them again: an edit at 10,000 papers spent 2.5 s of its 6.5 s so."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def unpickle(handle):
    """`pickle.load` without collections (see `collector_paused`)."""
    with collector_paused():
        return pickle.load(handle)


def for_output(root: Path, out: Path, name: str) -> Path:
    """A cache file about the output folder `out` ('search.json' -> '.digestgen/search-1a2b3c4d5e.json'),
    so that building into two folders (`build` and `serve`'s preview) keeps two caches."""
    stem, dot, suffix = name.partition(".")
    tag = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:10]
    return root / CACHE_DIR / f"{stem}-{tag}{dot}{suffix}"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]
