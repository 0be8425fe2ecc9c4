"""Build caches, all inside `ROOT/.digestgen/` (a fresh copy of a repository builds cold, unless
the caches and the output are copied with it: see `Identities`).

- The *identities* (`Identities`): every input file's stamp (size and modification time) is
  settled on its bytes, so that a file rewritten with the same bytes (a fresh checkout) keeps
  the stamp the caches below know it by.
- The *fingerprint* of a build is a hash of every input file's path and settled stamp, the
  settings, the options and digestgen's version. The output folder's marker file
  holds the fingerprint of the build that wrote it, so an unchanged repository is not rebuilt.
- The *record cache* (`records/`) keeps, per paper and issue file (keyed by its settled stamp), the validated record and
  its rendered Markdown, so an edit re-reads and re-renders one file, not ten thousand. Of a
  paper, only what lays out the site (`CORE`) is read by every build; the rest is read when a
  page shows the paper (`content.CachedPaper`).
- The templates' compiled code (`templates-*/`, see `compiled_templates`).
- The *manifest* (`pages-*/`, one per output folder, in shards; see `manifest`) keeps each render
  task's dependency key and files, and each file's content hash, link scan and link-check result,
  so that a build re-renders, re-checks and rewrites only what changed.
- The *search state* (`search-*.json`, kept by `search.Indexer`) records which document each page
  of the kept search index came from, so that an edit re-indexes only the changed documents.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import os
import pickle
import posixpath
import shutil
import stat
import time
import zlib
from pathlib import Path

import digestgen
from digestgen import __version__, atomic
from digestgen.errors import BuildError

CACHE_DIR = ".digestgen"
# what reading a cache file that is missing, torn, or of another version may raise
UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError)
WATCHED = ("papers", "digests", "templates", "figures", "digestgen.toml")


def stamp(path: str | Path) -> tuple[int, int]:
    """A cheap identity for a file's content: (size, mtime in ns)."""
    info = os.stat(path)
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


def figures_elsewhere(root: Path) -> list[str]:
    """The local figures the last build used outside the watched folders (a figure may be any
    image in the repository), relative to `root`."""
    import json

    try:
        paths = json.loads((root / CACHE_DIR / FIGURES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = (posixpath.normpath(rel) for rel in (paths if isinstance(paths, list) else []) if isinstance(rel, str))
    return [rel for rel in found if rel.split("/")[0] not in WATCHED]  # `./img/a.png` as `img/a.png`


def figure_stamps(root: Path) -> dict[str, tuple[int, int]]:
    """Stamps of `figures_elsewhere`, so that editing one is noticed like editing a record."""
    found = {}
    for rel in figures_elsewhere(root):
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


def code_stamp(package: Path | None = None) -> str:
    """A hash of digestgen's own files (code and theme; `package`: another folder, for tests), so
    that a changed installation (an editable install being worked on, say) never reuses pages
    rendered by the old one. Of their bytes, not their times: a fresh `pip install` of the same
    code (as CI does on every run) writes new files, and must not cost a full build (3.5 ms)."""
    package = Path(digestgen.__file__).parent if package is None else package
    digest = hashlib.sha256(f"{__version__}|{_rendering_versions()}".encode())
    files = list(stamps(package, ("theme",))) + [p.relative_to(package).as_posix() for p in package.rglob("*.py")]
    for rel in sorted(files):
        data = (package / rel).read_bytes()
        digest.update(f"{rel}|{len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


# the distributions whose code shapes what a build writes besides digestgen's own: CI installs
# afresh on every run, and a newer one (say, markdown-it-py) must not reuse what the old one made
RENDERING = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pyyaml", "emoji", "pagefind")


def _rendering_versions() -> str:
    import importlib.metadata

    found = []
    for name in RENDERING:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return ",".join(found)


IDENTITIES_FILE = "identities.pickle"
IDENTITIES_FORMAT = "identities-1"


class Identities:
    """The stamps a build goes by (`tokens`), settled on content: a file whose stamp changed but
    whose bytes did not keeps the stamp it had (`_settle`).

    Every cache here is keyed by the input files' stamps (size and mtime), which cost one stat.
    But a fresh checkout gives every file a new mtime, so the caches of the last build, restored
    into it (CI keeps `.digestgen/` and `site/` from run to run), would all miss. So the build
    keeps, per file, (stamp seen, content hash, settled stamp) in `.digestgen/identities.pickle`:
    a file whose stamp is the one seen last time is not read; one whose stamp differs is hashed,
    and if its bytes are the same it keeps its settled stamp, else its new stamp is its settled
    one. Like git's index: only files whose stat changed are read.

    A file that changes while the build reads it must never leave its old settled stamp tied to
    new content: `save` (once the build has read everything, before it writes the output's
    marker, and on any failure) stats again every file the build read (all but the records
    `served` from the record cache) and every file it hashed, and forgets those whose stat moved,
    so their next build gives them a fresh stamp (the caches' entries under the old one are then
    never hit again); the record cache, saved earlier, keeps no record whose file or local figure
    `moved` (`RecordCache.save`). Builds into other output folders share the file: a save writes
    only what its build learned and forgot, into the file as it is then, under a lock."""

    def __init__(self, root: Path, found: dict[str, tuple[int, int]]):
        self.root = root
        self.file = root / CACHE_DIR / IDENTITIES_FILE
        known = self._read()
        self.found = found  # the stamps seen
        self.hashed: set[str] = set()  # files read to settle them
        self.learned: dict[str, tuple] = {}  # rel -> (seen, hash, settled), for the files hashed
        self.forgotten: set[str] = set()
        self.tokens: dict[str, tuple[int, int]] = {}
        self.served: set[str] = set()  # files whose content came from the caches: the build did not read them
        self.saved = False
        self.gone = not known.keys() <= found.keys()  # files removed since
        for rel, seen in found.items():
            entry = known.get(rel)
            if entry is not None and entry[0] == seen:
                self.tokens[rel] = entry[2]
            else:
                self.tokens[rel] = self._settle(rel, seen, entry)

    def _read(self) -> dict:
        try:
            with open(self.file, "rb") as handle:
                form, known = unpickle(handle)
        except UNREADABLE:
            return {}
        return known if form == IDENTITIES_FORMAT and isinstance(known, dict) else {}

    def _settle(self, rel: str, seen: tuple[int, int], entry: tuple | None) -> tuple[int, int]:
        try:
            with open(self.root / rel, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").digest()
            after = stamp(self.root / rel)
        except OSError:
            return seen  # gone, or unreadable: the build that reads it says so
        if after != seen:  # changing now: as it was stamped, and nothing remembered of it
            self.forgotten.add(rel)
            return seen
        settled = entry[2] if entry is not None and entry[1] == digest else seen
        self.learned[rel] = (seen, digest, settled)
        self.hashed.add(rel)
        return settled

    def moved(self, rel: str) -> bool:
        """Whether the file `rel` changed (or went) since its stamp was taken: what the build read
        of it may not be what its settled stamp stands for."""
        try:
            return stamp(self.root / rel) != self.found.get(rel)
        except OSError:
            return True

    def save(self, read: bool = True) -> None:
        """Remember the identities, once the build has read its files (see the class): the files
        it hashed, and (`read`: it read the content) every other file but those `served` from the
        caches, are stat'ed again, and those that moved are forgotten. Once per build."""
        if self.saved:
            return
        self.saved = True
        for rel in self.hashed | (self.tokens.keys() - self.served if read else set()):
            if self.moved(rel):
                self.forgotten.add(rel)
                self.learned.pop(rel, None)
        if not (self.learned or self.forgotten or self.gone):
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with open(self.file.with_suffix(".lock"), "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # another output's build may save at once
                known = {rel: entry for rel, entry in self._read().items()
                         if rel in self.tokens and rel not in self.forgotten}
                known.update(self.learned)
                atomic.write(self.file, pickle.dumps((IDENTITIES_FORMAT, known), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a cache: the next build hashes these files again


def compiled_templates(root: Path, code: str) -> Path | None:
    """The folder for the templates' compiled code (see `render.environment`), one per version of
    digestgen and Jinja (the code Jinja makes depends on both; the folders of others go), or None
    when it cannot be made."""
    import jinja2

    name = f"templates-{hashlib.sha256(f'{code}|{jinja2.__version__}'.encode()).hexdigest()[:10]}"
    folder = root / CACHE_DIR / name
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            for old in (root / CACHE_DIR).glob("templates-*"):
                if old.name != name:
                    shutil.rmtree(old, ignore_errors=True)
    except OSError:
        return None
    return folder


# The fields of a cached paper that a build reads of every paper: what decides which pages there
# are and in what order (`content.CachedPaper` reads the others when a page shows the paper).
CORE = ("id", "source", "draft", "tags", "published", "figures")
LIGHT = ("title", "links", "tldr", "repos", "authors", "arxiv", "extra")  # and the long texts (below)


class RecordCache:
    """Validated records and their rendered Markdown, by file identity, pickled between builds.

    Kept in SHARDS files by a hash of the path, so that an edit rewrites two small files rather
    than every record (143 MB at 10,000 papers). An edit loads every record to lay out the site,
    but renders a few dozen pages; so a shard holds, per paper, only its `CORE` fields as objects,
    and its other fields (`light`) as one pickle for the whole shard, unpickled the first time a
    page shows one of its papers; its long texts (summary and abstract, as written and rendered:
    most of the bytes) are in a second file per shard (`long_texts`), read the same way.
    """

    SHARDS = 512
    FORMAT = "records-4"

    def __init__(self, root: Path, context: object, stamps: dict[str, tuple[int, int]] | None = None,
                 moved=None):
        """`stamps`: the build's (settled) stamps of the files; `moved(rel)`: whether a file changed
        since (see `Identities.moved`): a record read from it then is not kept."""
        self.root, self.folder = root, root / CACHE_DIR / "records"
        self.moved = moved
        self.header = f"{self.FORMAT}|{__version__}|{context!r}"
        self.stamps = stamps or {}
        self.entries: dict[str, tuple] = {}
        self.used: dict[str, tuple] = {}
        self.loaded: dict[int, set[str]] = {}  # shard -> the paths it held
        self.added: set[str] = set()  # the records read again (`put`)
        self.lights: dict[int, bytes | dict] = {}  # shard -> its papers' light fields, pickled until first used
        self.texts_files: dict[int, str] = {}  # shard -> the file of its papers' long texts
        self.texts: dict[int, dict[str, tuple]] = {}  # shard -> {path: long texts}, once read
        self.others: dict[int, str] = {}  # shard -> the texts file a shard of another version names
        try:
            names = set(os.listdir(self.folder))
        except OSError:
            names = set()
        for shard in range(self.SHARDS):
            if self._file(shard).name not in names:
                continue
            try:
                with open(self._file(shard), "rb") as handle:
                    header, entries, *light, texts = unpickle(handle)  # (an earlier layout had no `light`)
            except UNREADABLE:
                continue
            if header != self.header or not isinstance(entries, dict) or len(light) != 1 or (texts and texts not in names):
                if isinstance(texts, str) and texts in names:
                    self.others[shard] = texts
                continue  # another version's, or its texts are gone: those records are read again
            self.entries.update(entries)
            self.loaded[shard] = set(entries)
            self.lights[shard] = light[0]
            self.texts_files[shard] = texts

    def _file(self, shard: int) -> Path:
        return self.folder / f"{shard:03d}.pickle"

    def _shard(self, rel: str) -> int:
        return zlib.crc32(rel.encode()) % self.SHARDS

    def key(self, rel: str) -> tuple[int, int]:
        """The identity of the file `rel` (under the root), from the stamps the build already took
        when it has them."""
        found = self.stamps.get(rel)
        return found if found is not None else stamp(self.root / rel)

    def get(self, rel: str, key: tuple) -> object | None:
        hit = self.entries.get(rel)
        if hit is not None and hit[0] == key:
            self.used[rel] = hit
            return hit[1]
        return None

    def put(self, rel: str, key: tuple, value: object) -> None:
        self.used[rel] = (key, value)
        self.added.add(rel)

    def light(self, rel: str) -> tuple:
        """A cached paper's (values of its `LIGHT` fields, tldr HTML, links as written, `digest.Link`s
        of its repos), unpickled with its shard's the first time one of them is needed."""
        shard = self._shard(rel)
        table = self.lights[shard]
        if type(table) is bytes:
            with collector_paused():
                table = self.lights[shard] = pickle.loads(table)
        return table[rel]

    def long_texts(self, rel: str) -> tuple:
        """A cached paper's (summary, abstract, summary HTML, abstract HTML), read from its shard's
        texts file the first time one of them is needed."""
        shard = self._shard(rel)
        texts = self.texts.get(shard)
        if texts is None:
            path = self.folder / self.texts_files[shard]
            try:
                with open(path, "rb") as handle:
                    header, texts = unpickle(handle)
                if header != self.header or rel not in texts:
                    raise ValueError("another build's")
            except UNREADABLE:
                if self._names_texts(shard) == self.texts_files[shard]:  # not since replaced by another build
                    self._file(shard).unlink(missing_ok=True)  # the next build reads these papers again
                raise BuildError(f"the build cache was damaged ({path.relative_to(self.folder.parent.parent)}); "
                                 "it is cleared now: build again") from None
            self.texts[shard] = texts
        return texts[rel]

    def _names_texts(self, shard: int) -> str | None:
        """The texts file the shard's file on disk names now (None if unreadable)."""
        try:
            with open(self._file(shard), "rb") as handle:
                return unpickle(handle)[-1]
        except UNREADABLE:
            return None

    GRACE = 3600  # seconds a texts file no shard names is kept: a build that started before may need it

    def save(self) -> None:
        """Write the shards whose entries changed (deleted files drop out): first each one's long
        texts, into a new file named by their hash, then the shard naming it, each atomically.

        The texts file a shard named before stays for `GRACE` seconds (the cache is shared by every
        output folder, so `serve` and `build` may run at once, and the other may still read it);
        then a later save removes it."""
        if self.moved is not None:  # a file that changed while it was read: read again next time
            for rel in [rel for rel in self.added if self._moved(rel)]:
                self.added.discard(rel)
                del self.used[rel]
        # the shards that changed: those with a record read again, or that lost one (an edit of
        # one paper sorts none of the other papers into shards)
        changed = {self._shard(rel) for rel in self.added | (self.entries.keys() - self.used.keys())}
        groups: dict[int, dict] = {shard: {} for shard in changed}
        for rel in self.added:
            groups[self._shard(rel)][rel] = self.used[rel]
        for shard in changed & self.loaded.keys():
            group = groups[shard]
            group.update((rel, self.used[rel]) for rel in self.loaded[shard] if rel in self.used and rel not in group)
        self.folder.mkdir(parents=True, exist_ok=True)
        for shard in sorted(changed):
            group = groups[shard]
            old = self.texts_files.get(shard)
            if not group:
                self._file(shard).unlink(missing_ok=True)
                self.texts_files.pop(shard, None)
            else:
                entries, lights, texts = {}, {}, {}
                for rel, (key, value) in group.items():
                    entries[rel] = key, self._split(rel, value, lights, texts)
                data = pickle.dumps((self.header, texts), protocol=pickle.HIGHEST_PROTOCOL)
                name = f"{shard:03d}-{hashlib.sha256(data).hexdigest()[:16]}.texts.pickle" if texts else ""
                if name and (name != old or shard not in self.texts):  # a file of that name not read whole may be torn
                    atomic.write(self.folder / name, data)
                light = pickle.dumps(lights, protocol=pickle.HIGHEST_PROTOCOL)
                atomic.write(self._file(shard), pickle.dumps((self.header, entries, light, name),
                                                             protocol=pickle.HIGHEST_PROTOCOL))
                self.texts_files[shard] = name
            for left in {old, self.others.pop(shard, None)} - {None, "", self.texts_files.get(shard)}:
                with contextlib.suppress(OSError):
                    os.utime(self.folder / left)  # named by no shard from now: `GRACE` counts from here
        self._sweep()

    def _moved(self, rel: str) -> bool:
        """Whether the file of a record read again, or one of its local figures (among the
        build's stamps), changed since the build took its stamp (see `Identities.moved`)."""
        value = self.used[rel][1]
        figures = (value.get("figures") if isinstance(value, dict) else None) or {}
        return self.moved(rel) or any(self.moved(src) for src in map(posixpath.normpath, figures) if src in self.stamps)

    def _sweep(self) -> None:
        """Remove the texts files that no shard names and that have not been named for `GRACE`
        seconds, and the files of earlier versions."""
        named = set(self.texts_files.values()) | set(self.others.values())
        now = time.time()
        for name in os.listdir(self.folder):
            path = self.folder / name
            with contextlib.suppress(OSError):
                if len(name) == len("00.pickle") and name.endswith(".pickle"):  # the 64 shards of earlier formats
                    path.unlink()
                elif name.endswith(".texts.pickle") and name not in named and now - path.stat().st_mtime > self.GRACE:
                    path.unlink()


    def _split(self, rel: str, value: dict, lights: dict, texts: dict) -> dict:
        """The entry to keep in a shard for a record's cache entry `value`; a paper's light fields
        and long texts go into `lights` and `texts`. An entry read from the cache (`"core"`) keeps
        what it had."""
        if "core" in value:
            lights[rel], texts[rel] = self.light(rel), self.long_texts(rel)
            return {name: value[name] for name in KEPT}
        if "paper" not in value:  # an issue's
            return value
        paper, html = value["paper"], value["html"]
        lights[rel] = tuple(getattr(paper, name) for name in LIGHT), html[3], html[4], value["repos"]
        texts[rel] = dict(paper.summary), dict(paper.abstract), dict(html[1]), dict(html[2])
        return {"core": tuple(getattr(paper, name) for name in CORE), "base": html[0], "problems": value["problems"],
                "root": value["root"], "figures": value["figures"]}


KEPT = ("core", "base", "problems", "root", "figures")  # what a shard keeps of a paper's entry as objects


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
    out, root = out.resolve(), root.resolve()
    # an output folder inside the repository by its path there, so that a copy of the repository
    # with its caches (CI restores them into a fresh checkout) finds them
    where = out.relative_to(root).as_posix() if out.is_relative_to(root) else str(out)
    tag = hashlib.sha256(where.encode()).hexdigest()[:10]
    return root / CACHE_DIR / f"{stem}-{tag}{dot}{suffix}"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]
