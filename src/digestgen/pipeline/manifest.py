"""What the build that wrote an output folder made, so that the next build redoes only what changed.

The manifest of an output folder (`.digestgen/pages-<folder hash>/`) holds, per render task, a
digest of its dependency key and the paths it produced; per site file, its content hash and
link scan; per search document, its content hash; and per page, its link-check record. A build
`read`s the manifest of the folder it writes (ignored unless it matches the folder's marker and
the code, settings and options of the build; then, once the build knows the rest of its
context, unless that matches too: `usable`), asks it which tasks are `stale`, fills in the next
one (from a copy of the last one's tables when it has the same tasks, `carry`; else with the
tasks it `keep`s) with what it rendered (`record`), and `save`s it. `tests/test_incremental.py`
checks that the result equals a cold build.

It is kept in SHARDS files by a hash of each task's name and each file's path, and a small index
naming them: an edit of a paper's summary changes some twenty entries (its page, its neighbours'
keys, its issue, the home page, feeds), so only those shards are written again (at 10,000 papers
the whole manifest is 16 MB, and pickling it took an edit about a second). A shard is written
again only when it holds an entry this build did not keep from the last manifest (the same
object), or lost one; the pages' link scans and link records are kept packed (`links.pack`).

The index also holds the input files' stamps and names the tasks' dependencies (`depends`), by
which an edit of a paper's texts keys only the tasks that show the paper.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import attrgetter, is_not
from pathlib import Path
from typing import NamedTuple

from digestgen import __version__, atomic
from digestgen.pipeline import links
from digestgen.pipeline.cache import UNREADABLE, for_output, unpickle


class Task(NamedTuple):
    """One unit of rendering: a page kind (see `render.KINDS`) and which one ('' for single pages)."""

    kind: str
    name: str = ""


class Stored(NamedTuple):
    """What the manifest keeps of a file: its content hash and, for an HTML page, its `links.Scan`
    (packed, once saved: see `links.pack`). (A tuple: the manifest of a large site unpickles tens
    of thousands of these at every build.)"""

    hash: str
    scan: tuple | bytes | None = None


@dataclass(slots=True)
class File:
    """A file rendered by this build: its bytes (emptied once a fresh build has written them, see
    `build.Streamed`), and what the manifest keeps of it."""

    data: bytes
    stored: Stored


class Entry(NamedTuple):
    """A task's record: its dependency key's digest (`digest`) and the paths of its files. (A tuple,
    like `Stored`: a dataclass's state is set field by field in Python as it is unpickled.)"""

    key: bytes | None
    paths: tuple[str, ...]


def digest(key: tuple | None) -> bytes | None:
    """What the manifest keeps of a task's dependency key: a hash of its value. (The keys
    themselves, nested tuples of stamps and ids, were half the time of loading the manifest: 0.15
    s of an edit at 20,000 papers. `marshal` version 0 writes a value the same way whatever its
    objects' identity or interning; a key it cannot write is pickled, which at worst renders a
    task again that did not change.)"""
    if key is None:
        return None
    try:
        data = marshal.dumps(key, 0)
    except ValueError:
        data = pickle.dumps(key, protocol=4)
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class Manifest:
    """Tasks, site files, search documents and link-check records of one output folder."""

    tasks: dict[Task, Entry] = field(default_factory=dict)
    pages: dict[str, Stored] = field(default_factory=dict)  # site file -> its hash and scan
    documents: dict[str, str] = field(default_factory=dict)  # search document path -> content hash
    links: dict[str, tuple] = field(default_factory=dict)  # page -> its `links.check_site` record
    shards: dict[int, tuple[str, tuple]] = field(default_factory=dict, repr=False, compare=False)  # as loaded: shard -> (its file, its part)
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)  # the input files' stamps (`cache.stamps`)
    extras: list[str] = field(default_factory=list, repr=False)  # the site files made outside the tasks (`build.add_files`)
    carried: bool = field(default=False, repr=False, compare=False)  # started from the last manifest's tables (`carry`)
    dependencies: object = None  # the tasks' `depends.Dependencies` (None: unknown, as with overridden templates)
    dependencies_file: str | None = field(default=None, repr=False, compare=False)  # its file, as loaded
    late: str | None = field(default=None, repr=False, compare=False)  # as read: the late context that made it (`usable`)
    present: Present | None = field(default=None, repr=False, compare=False)  # as read: are its files still in the output?

    @property
    def valid(self) -> bool:
        """Whether there is a previous build to build on (else everything is rendered)."""
        return bool(self.tasks)

    def stale(self, keys: dict[Task, tuple | None]) -> set[Task]:
        """The tasks to render: those whose key changed, and those without one (always rendered)."""
        return {task for task, key in keys.items()
                if key is None or (entry := self.tasks.get(task)) is None or entry.key != digest(key)}

    def keep(self, last: Manifest, tasks: list[Task], documents: bool) -> None:
        """Remember unchanged tasks and their files as the `last` manifest has them (the same
        objects). (In bulk, without a Python loop: an edit keeps every task but a few, 44,000 at
        20,000 papers.)"""
        entries = list(map(last.tasks.__getitem__, tasks))
        self.tasks.update(zip(tasks, entries))
        paths = list(chain.from_iterable(map(attrgetter("paths"), entries)))
        table, mine = (last.documents, self.documents) if documents else (last.pages, self.pages)
        mine.update(zip(paths, map(table.__getitem__, paths)))

    def carry(self, last: Manifest) -> None:
        """Start from the `last` manifest's tasks and files (the same objects, copied in bulk: an
        edit of a build with the same tasks keeps all but a few, and even `keep` took an edit at
        20,000 papers 0.15 s), less the files made outside the tasks, which the build adds again.
        Each task rendered again then replaces its entry and its files (`record`)."""
        self.tasks, self.pages, self.documents = last.tasks.copy(), last.pages.copy(), last.documents.copy()
        for path in last.extras:
            self.pages.pop(path, None)
        self.carried = True

    def record(self, task: Task, key: tuple | None, files: dict[str, Stored], documents: bool = False) -> None:
        """Remember a task's key and its files (in place of those it had, if carried over: a path
        belongs to one task, so no other task lists the files it no longer makes)."""
        before = self.tasks.get(task) if self.carried else None
        if before is not None:
            table = self.documents if documents else self.pages
            for path in before.paths:
                table.pop(path, None)
        self.tasks[task] = Entry(digest(key), tuple(files))
        if documents:
            self.documents.update((path, stored.hash) for path, stored in files.items())
        else:
            self.pages.update(files)

    def differences(self, pages: dict[str, Stored]) -> tuple[list[str], list[str]]:
        """The paths of a new site (`pages`) whose bytes differ from this one's, and this one's
        paths that the new site no longer has."""
        old = self.pages
        changed = [path for path, stored in pages.items() if path not in old or old[path].hash != stored.hash]
        return changed, [path for path in old if path not in pages]


SHARDS = 256
INDEX = "index.pickle"


def _folder(root: Path, out: Path) -> Path:
    return for_output(root, out, "pages")


def _shard(name: str) -> int:
    return zlib.crc32(name.encode()) % SHARDS


def _name(key) -> str:
    return f"{key.kind}/{key.name}" if isinstance(key, Task) else key


def _tables(manifest: Manifest) -> tuple[dict, dict, dict, dict]:
    return manifest.tasks, manifest.pages, manifest.documents, manifest.links


def _parts(manifest: Manifest, last: Manifest) -> dict[int, tuple[dict, dict, dict, dict]]:
    """The parts (tasks, pages, documents, links) of the manifest's shards that differ from the
    `last` one's, by shard. An edit keeps most of the last manifest's entries as they are (the
    same objects): only the others are compared, and only the shards that hold a changed, added
    or removed entry are cut out again."""
    tables, before = _tables(manifest), _tables(last)
    whole = len(last.shards) != SHARDS  # no last manifest (or not all of it): every shard is new
    changed: list[dict] = [{}, {}, {}, {}]
    dirty: set[int] = set(range(SHARDS)) if whole else set()
    for at, (table, old) in enumerate(zip(tables, before)):
        added = 0
        # the keys whose entry is not the one the last manifest had (a loop in C: 44,000 tasks)
        for key in compress(table, map(is_not, map(old.get, table), table.values())):
            value, was = _packed(at, table[key]), old.get(key)
            added += was is None
            if whole or was != value:
                changed[at][key] = value
                dirty.add(_shard(_name(key)))
        if not whole and len(table) - added < len(old):  # some keys of the last one are gone
            dirty.update(_shard(_name(key)) for key in old.keys() - table.keys())
    parts: dict[int, tuple[dict, dict, dict, dict]] = {shard: ({}, {}, {}, {}) for shard in dirty}
    if not whole:
        for shard in dirty:  # the entries of a changed shard that stay as they were
            for at, kept in enumerate(last.shards[shard][1]):
                table, part = tables[at], parts[shard][at]
                part.update((key, value) for key, value in kept.items() if key in table)
    for at, found in enumerate(changed):
        for key, value in found.items():
            parts[_shard(_name(key))][at][key] = value
    return parts


def _packed(at: int, value):
    """An entry as a shard file keeps it: pages' scans and link records packed (see `links.pack`)."""
    if at == 1 and value.scan is not None and not isinstance(value.scan, bytes):
        return Stored(value.hash, links.pack(value.scan))
    if at == 3:
        return links.pack_record(value)
    return value


def read(root: Path, out: Path, out_stamp: str | None, early: tuple) -> Manifest:
    """The manifest of the build that wrote `out` (whose marker holds `out_stamp`), if it was made
    by the same code with the same settings and options (`early`, the context a build knows
    before it reads the content); else an empty one. Whether the build may use it is for `usable`
    to say, once the build knows the rest of its context: meanwhile (in a forked process, when
    there are many) the files it lists are looked up in `out` (`Present`)."""
    if not out_stamp:
        return Manifest()
    folder = _folder(root, out)
    manifest = Manifest()
    try:
        with open(folder / INDEX, "rb") as handle:
            header, manifest.late, stamp, names, manifest.tokens, manifest.dependencies_file, manifest.extras = \
                unpickle(handle)
        if header != f"{__version__}|{early!r}" or stamp != out_stamp or len(names) != SHARDS:
            return Manifest()
        for shard, name in enumerate(names):
            with open(folder / name, "rb") as handle:
                part = unpickle(handle)
            for table, values in zip((manifest.tasks, manifest.pages, manifest.documents, manifest.links), part):
                table.update(values)
            manifest.shards[shard] = (name, part)
    except UNREADABLE:
        return Manifest()
    if manifest.dependencies_file:
        try:
            with open(folder / manifest.dependencies_file, "rb") as handle:
                manifest.dependencies = unpickle(handle)
        except UNREADABLE:
            manifest.dependencies_file = None  # then this build keys every task, and writes them again
    manifest.present = Present(out, manifest.pages)
    return manifest


def usable(manifest: Manifest, late: tuple) -> Manifest:
    """`manifest` (see `read`) if it was made in the same `late` context (what the build knows once
    it has read the content) and every file it lists is still there; else an empty one
    (everything is rendered)."""
    present = manifest.present() if manifest.present is not None else True
    if manifest.late != repr(late) or not present:
        return Manifest()  # another build's, or someone removed a file from the output
    return manifest


class Present:
    """Whether the folder `out` still has each of `paths`, known when called. With many paths it is
    found out by a forked process, while the build reads its content: the 44,000 files of
    20,000 papers took an edit 0.12-0.16 s to look up one by one (see `_all_there`)."""

    FORK = 5000  # paths worth a process of their own

    def __init__(self, out: Path, paths: Collection[str]):
        self.out, self.paths, self.pid, self.result = out, paths, 0, None
        if len(paths) >= self.FORK and hasattr(os, "fork"):
            try:
                self.pid = os.fork()
            except OSError:
                self.pid = 0
            else:
                if self.pid == 0:  # the child: it only looks the files up, and says so by its exit status
                    status = 1
                    try:
                        status = 0 if _all_there(out, paths) else 1
                    finally:
                        os._exit(status)
                return
        self.result = _all_there(out, paths)

    def __call__(self) -> bool:
        """The answer (waiting for the process, if it is not in yet). A build calls this whether it
        goes on or not, so that no process is left unwaited for."""
        if self.result is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.result = os.waitstatus_to_exitcode(status) == 0
            except ChildProcessError:  # reaped already (this process was started with SIGCHLD ignored)
                self.result = _all_there(self.out, self.paths)
        return self.result


def _all_there(out: Path, paths) -> bool:
    """Whether the folder `out` still has each of `paths`. Each is looked up from the folder where
    the system allows it: half the time of `isfile(join(out, path))`, which took an edit at 20,000
    papers 0.2 s for its 44,000 files."""
    if os.access not in os.supports_dir_fd:
        return all(os.path.exists(os.path.join(out, path)) for path in paths)
    try:
        folder = os.open(out, os.O_RDONLY)
    except OSError:
        return False
    try:
        return all(os.access(path, os.F_OK, dir_fd=folder) for path in paths)
    finally:
        os.close(folder)


def save(root: Path, out: Path, context: tuple[tuple, tuple], out_stamp: str, manifest: Manifest, last: Manifest) -> None:
    """Keep `manifest` as the record of the build that wrote `out` with `out_stamp`: the shards that
    differ from the `last` one's, each in a new file, then the index naming them all (atomically:
    a build killed before it leaves the last manifest whole); then the files no longer named go."""
    folder = _folder(root, out)
    folder.mkdir(parents=True, exist_ok=True)
    loaded = {name for name, _ in last.shards.values()}  # files read whole by this build
    names = []
    changed = _parts(manifest, last)
    for shard in range(SHARDS):
        part = changed.get(shard)
        if part is None:
            names.append(last.shards[shard][0])
            continue
        data = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
        names.append(f"{shard:03d}-{hashlib.sha256(data).hexdigest()[:16]}.pickle")
        if names[-1] not in loaded:  # a file of that name that this build did not read may be torn
            atomic.write(folder / names[-1], data)
    dependencies = None
    if manifest.dependencies is not None and manifest.dependencies is last.dependencies and last.dependencies_file:
        dependencies = last.dependencies_file  # kept as the last build read it
    elif manifest.dependencies is not None:
        data = pickle.dumps(manifest.dependencies, protocol=pickle.HIGHEST_PROTOCOL)
        dependencies = f"dependencies-{hashlib.sha256(data).hexdigest()[:16]}.pickle"
        if dependencies != last.dependencies_file:
            atomic.write(folder / dependencies, data)
    early, late = context  # (see `read` and `usable`)
    atomic.write(folder / INDEX, pickle.dumps((f"{__version__}|{early!r}", repr(late), out_stamp, names, manifest.tokens,
                                               dependencies, manifest.extras), protocol=pickle.HIGHEST_PROTOCOL))
    for old in set(os.listdir(folder)) - set(names) - {INDEX, dependencies}:
        (folder / old).unlink(missing_ok=True)
    for_output(root, out, "pages.pickle").unlink(missing_ok=True)  # the single file of earlier versions
