"""Search: Pagefind indexes lean search documents, written beside the site and never published.

Each paper and issue gets a small document at the same path as its page, holding what readers
search as search tokens (titles, tldr, summary, abstracts, authors, tags, the arXiv id; an
issue's title and intro; see `korean`) and, as metadata, the text that result excerpts are cut
from. The documents are indexed in *shards*, each a Pagefind bundle of a contiguous range of
dates, several at once within a memory budget (see `shards`); the search page merges them in the
browser (the bundle's files are made reproducible by `bundle`). Documents are NFD-normalized:
Pagefind 1.5 files every precomposed Hangul word as a "diacritic variant" of its NFD form and
does not count variants when it splits the index into chunks, so NFC Korean text ends up in one
chunk that a first search downloads whole (6.8 MB at 10,000 papers). In NFD the words are their
own normalized form, the index splits normally, and queries typed in NFC still match because
Pagefind normalizes them the same way. The search page turns results back into NFC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from digestgen import __version__, atomic
from digestgen.errors import BuildError
from digestgen.pipeline.bundle import normalize_bundle, page_ids, page_url, version
from digestgen.pipeline.cache import for_output
from digestgen.pipeline.output import write_tree
from digestgen.pipeline.shards import date_of, memory_budget, plan

BUNDLE_DIR = "pagefind"
SHARD_DIR = "shard-{}"  # shard i > 0 of the base, inside the base folder (shard 0 is the base folder)

def _mark(document: bytes, part: str) -> bytes:
    """Add the `part` filter (the shard a page is in), which the search page uses to sort by date."""
    return document.replace(b"</head>", f'<meta data-pagefind-filter="part[content]" content="{part}">\n</head>'.encode(), 1)


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


def _run(site: Path, bundle: Path) -> subprocess.Popen:
    """Start Pagefind on the documents in `site`; its output goes to a log file beside them."""
    command = [str(executable()), "--site", str(site), "--output-path", str(bundle), "--quiet"]
    with open(site.parent / f"{site.name}.log", "wb") as log:  # not a pipe: nobody reads it until the end
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _finish(process: subprocess.Popen, site: Path, bundle: Path) -> None:
    process.wait()
    if process.returncode != 0:
        log = (site.parent / f"{site.name}.log").read_text(errors="replace")
        detail = [line for line in log.strip().splitlines() if line.strip()]
        raise BuildError(f"Pagefind failed: {detail[-1] if detail else 'exit ' + str(process.returncode)}")
    try:
        normalize_bundle(bundle)
    except (OSError, ValueError, KeyError, IndexError) as exc:  # an unknown Pagefind format: leave as written
        print(f"digestgen: warning: search bundle left as Pagefind wrote it ({exc})", file=sys.stderr)


# --- a base bundle and a delta: edits re-index only what changed ------------------------------
#
# A full index of 10,000 papers takes Pagefind most of a minute. So the bundle in `pagefind/` (the
# *base*) is kept from build to build, and documents that changed since it was built are indexed
# on their own into `pagefind/delta/`, which the search page merges in the browser (Pagefind's
# `mergeIndex`; the WebAssembly is fetched once). The base's results for those pages (and for
# deleted ones) are *superseded*: the search page drops them by page id. When the delta grows past
# `max_delta` documents, or with `--full-index`, or when the state in `.digestgen/search-*.json` does
# not match the base in the output, the build indexes everything again into a new base.

DELTA_DIR = "delta"
STATE_FILE = "search.json"


def max_delta(documents: int) -> int:
    """The most documents a delta may hold before the base is rebuilt."""
    return max(100, documents // 50)


@dataclass
class Segments:
    """What the search page must know about the bundle it searches."""

    delta: bool = False  # `pagefind/delta/` exists and is merged in
    superseded: list[str] = field(default_factory=list)  # base page ids to drop from results
    delta_dates: dict[str, str] = field(default_factory=dict)  # delta page id -> ISO date, for date sort
    rebuilt: bool = True  # the base was indexed by this build (False: kept from the previous one)
    delta_documents: int = 0
    shards: list[str] = field(default_factory=list)  # folders of the base's other shards, newest first
    parallel: int = 1  # shards indexed at once by this build


class Indexer:
    """Indexes a build's search documents in the background while the pages are rendered.

    `start` picks a full index or a delta against the base in `out`, and starts Pagefind (a full
    index: one process per shard, as many at once as the memory budget allows, see `plan`);
    `wait` returns the `Segments` for the search page; `install(staging)` puts the bundle into
    the new site, and `commit(root)` records the base's state once that site is published.
    """

    def __init__(self, root: Path, out: Path, hashes: dict[str, str], documents: dict[str, bytes],
                 render=None, full: bool = False, memory: int = 0):
        """`hashes`: every search document's `cache.content_hash`; `documents`: the bytes at hand (of the
        changed ones, at least); `render(paths)` gives the bytes of others when they are needed;
        `memory`: the `search_memory` setting (see `memory_budget`)."""
        self.root, self.out, self.hashes, self.documents = root, out, hashes, documents
        self.render = render or (lambda paths: {})
        self.budget = memory_budget(memory)
        self.scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.search-", dir=out.parent))
        self.jobs: list[tuple[Path, Path]] = []  # (documents folder, bundle folder) of each process
        self.running: list[subprocess.Popen] = []
        self.failed: list[str] = []
        self.thread: threading.Thread | None = None
        self.stop = threading.Event()
        self.state: dict | None = None  # a new base's state, saved by `commit`
        self.old: dict = {}  # the kept base's state
        self.changed: list[str] = []
        self.removed: list[str] = []
        self.segments = Segments()
        base = out / BUNDLE_DIR
        old = None if full else _load_state(root, out)
        if old is not None:
            changed = [p for p, h in self.hashes.items() if old["docs"].get(p, ("",))[0] != h]
            removed = [p for p in old["docs"] if p not in self.hashes]
            if len(changed) + len(removed) <= max_delta(len(hashes)):
                self.base = base
                self.old = old
                self.changed, self.removed = changed, removed
                self.segments.rebuilt = False
                self.segments.delta_documents = len(changed)
                self.segments.shards = _shards(base)
                if changed:
                    self._start(self._documents(changed), self.scratch / DELTA_DIR, delta=True)
                return
        self.base = None
        self._start(self._documents(list(hashes)), self.scratch / BUNDLE_DIR)

    def _documents(self, paths: list[str]) -> dict[str, bytes]:
        missing = [p for p in paths if p not in self.documents]
        if missing:
            self.documents.update(self.render(missing))
        return {p: self.documents[p] for p in paths}

    def _start(self, documents: dict[str, bytes], bundle: Path, delta: bool = False) -> None:
        """Write the documents in shards and start indexing them in a background thread."""
        self.bundle = bundle
        if delta:
            shards, parallel = [sorted(documents)], 1
        else:
            shards, parallel = plan(documents, self.budget)
        self.segments.parallel = parallel
        self.jobs = []
        for number, paths in enumerate(shards):
            folder = self.scratch / f"docs-{number}"
            part = "delta" if delta else str(number)
            write_tree(folder, {p: _mark(documents[p], part) for p in paths})
            self.jobs.append((folder, self.scratch / f"bundle-{number}"))
        self.thread = threading.Thread(target=self._index, args=(parallel,), daemon=True)
        self.thread.start()

    def _index(self, parallel: int) -> None:
        """Run Pagefind on each shard, `parallel` at a time (in the background thread)."""
        waiting = list(self.jobs)
        active: list[tuple[subprocess.Popen, Path, Path]] = []
        while (waiting or active) and not self.stop.is_set():
            while waiting and len(active) < parallel:
                folder, bundle = waiting.pop(0)
                try:
                    process = _run(folder, bundle)
                except (BuildError, OSError) as exc:
                    self.failed.append(str(exc))
                    self.stop.set()
                    break
                self.running.append(process)
                active.append((process, folder, bundle))
            for item in list(active):
                process, folder, bundle = item
                if process.poll() is not None:
                    active.remove(item)
                    try:
                        _finish(process, folder, bundle)
                    except BuildError as exc:
                        self.failed.append(str(exc))
                        self.stop.set()
                    shutil.rmtree(folder, ignore_errors=True)
            time.sleep(0.02)

    def _join(self) -> None:
        """Wait for every shard; put shard 0 at `self.bundle` and the others in it (`shard-N/`)."""
        self.thread.join()
        if self.failed:
            raise BuildError(self.failed[0])
        first = self.jobs[0][1]
        os.rename(first, self.bundle)
        for number, (_, bundle) in enumerate(self.jobs[1:], 1):
            _drop_runtime(bundle)  # shard 0's scripts and WebAssembly serve every shard
            os.rename(bundle, self.bundle / SHARD_DIR.format(number))

    def wait(self) -> Segments:
        if self.thread is not None:
            self._join()
            if self.base is not None and version(self.bundle) != version(self.base):
                # another Pagefind wrote the base: the two would not merge, so index everything
                self.base, self.segments = None, Segments()
                shutil.rmtree(self.bundle, ignore_errors=True)
                self._start(self._documents(list(self.hashes)), self.scratch / BUNDLE_DIR)
                return self.wait()
        if self.base is None:  # a new base: remember each page's id
            ids = page_ids(self.bundle)
            self.segments.shards = _shards(self.bundle)
            self.state = {"entry": (self.bundle / "pagefind-entry.json").read_text(),
                          "docs": {p: [h, ids.get(page_url(p), "")] for p, h in self.hashes.items()}}
            return self.segments
        old_ids = {p: self.old["docs"][p][1] for p in self.changed + self.removed if p in self.old["docs"]}
        delta_ids = page_ids(self.bundle) if self.thread is not None else {}
        for path in self.changed:
            page = delta_ids.get(page_url(path))
            if page is not None:
                self.segments.delta_dates[page] = date_of(self.documents[path])
        self.segments.delta = bool(delta_ids)
        # a page whose id did not change is the same page in both bundles: the browser dedupes it
        self.segments.superseded = sorted(i for i in old_ids.values() if i and i not in self.segments.delta_dates)
        return self.segments

    def install(self, staging: Path) -> None:
        """Put the bundle at `staging/pagefind/`: the new base, or the kept base and the delta."""
        target = staging / BUNDLE_DIR
        if self.base is None:
            os.rename(self.bundle, target)
            return
        shutil.copytree(self.base, target, copy_function=_link, ignore=_skip_delta(self.base))
        self._install_delta(target)

    def install_in_place(self, out: Path) -> None:
        """Put the bundle into the existing site `out` (an incremental build's in-place update)."""
        target = out / BUNDLE_DIR
        trash = self.scratch / "old"
        trash.mkdir(exist_ok=True)
        if self.base is None:
            if target.exists():
                os.rename(target, trash / BUNDLE_DIR)
            os.rename(self.bundle, target)
            return
        if (target / DELTA_DIR).exists():
            os.rename(target / DELTA_DIR, trash / DELTA_DIR)
        self._install_delta(target)

    def _install_delta(self, target: Path) -> None:
        if self.segments.delta:
            _drop_runtime(self.bundle)  # the base's scripts and WebAssembly serve the delta too
            os.rename(self.bundle, target / DELTA_DIR)

    def commit(self) -> None:
        """Record the base's state, after the site holding it was published."""
        if self.state is not None:
            _save_state(self.root, self.out, self.state)

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _drop_runtime(bundle: Path) -> None:
    """Remove a bundle's copies of Pagefind's scripts, styles and WebAssembly."""
    for extra in bundle.iterdir():
        if extra.is_file() and extra.suffix in (".js", ".css") or extra.name.startswith("wasm."):
            extra.unlink()


def _shards(base: Path) -> list[str]:
    """The shard folders inside a base bundle, in order (newest dates first)."""
    found = [p.name for p in base.glob("shard-*") if p.is_dir()] if base.is_dir() else []
    return sorted(found, key=lambda name: int(name.removeprefix("shard-")))


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _skip_delta(base: Path):
    return lambda folder, names: [DELTA_DIR] if Path(folder) == base else []


def state_path(root: Path, out: Path) -> Path:
    """Where the state of the search base in the output folder `out` is kept."""
    return for_output(root, out, STATE_FILE)


def _load_state(root: Path, out: Path) -> dict | None:
    """The recorded state of the base in `out`, if it is still the one the output holds."""
    base = out / BUNDLE_DIR
    try:
        state = json.loads(state_path(root, out).read_text())
        if state.get("version") != __version__ or state["entry"] != (base / "pagefind-entry.json").read_text():
            return None
        return state
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _save_state(root: Path, out: Path, state: dict) -> None:
    atomic.write(state_path(root, out), json.dumps({"version": __version__, **state}, separators=(",", ":")).encode())
