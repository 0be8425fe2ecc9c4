"""Search: a Pagefind bundle written from the search records, never from published pages.

Each paper and issue gets a search record (see `records`) at the same path as its page: what
readers search (titles, tldr, summary, abstracts as search tokens, see `korean`; authors, tags,
the arXiv id) and what a result shows. digestgen writes the bundle's data files from the records
itself (see `pfindex`), once the pages are rendered (its slices would otherwise hold memory
beside the render's worker processes, for no time won: both use every core); the Pagefind binary
only supplies its runtime (scripts and WebAssembly), once per version. Words in the index are
NFD-normalized: the Pagefind runtime decomposes a query the same way before it looks it up
(its diacritic folding), so Korean typed in NFC finds them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from digestgen import __version__, atomic
from digestgen.errors import BuildError
from digestgen.pipeline import budget, pfindex, records
from digestgen.pipeline.bundle import page_url, version
from digestgen.pipeline.cache import CACHE_DIR, for_output

BUNDLE_DIR = "pagefind"
FORMAT = "records-3"  # how the base was made: a base from before (exact page lengths, or hash-named pages and a sort table) is indexed again


def executable() -> Path:
    """The Pagefind binary (PAGEFIND_BINARY_PATH, else the one from pagefind_bin)."""
    from pagefind.service import get_executable

    found = get_executable()
    if found is None or not Path(found).exists():
        raise BuildError("the Pagefind binary is missing: install digestgen with its dependencies "
                         "(pip install 'pagefind[bin]')")
    return Path(found)


# --- a base bundle and a delta: edits re-index only what changed ------------------------------
#
# A full index of 10,000 papers takes Pagefind most of a minute. So the bundle in `pagefind/` (the
# *base*) is kept from build to build, and documents that changed since it was built are indexed
# on their own into `pagefind/delta/`, which the search page merges in the browser (Pagefind's
# `mergeIndex`; the WebAssembly is fetched once). The base's results for those pages (and for
# deleted ones) are *superseded*: the search page drops them by page id. A base's pages are named
# by a tag and their place in date order (see `pfindex.page_names`); a delta page gets the place it takes
# among them (its *rank*, between two of theirs), so the search page orders both by date without
# loading them. When the delta grows past
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
    delta_ranks: dict[str, float] = field(default_factory=dict)  # delta page id -> its place in the base's date order
    rebuilt: bool = True  # the base was indexed by this build (False: kept from the previous one)
    delta_documents: int = 0


class Indexer:
    """Indexes a build's search records, once its pages are rendered.

    The constructor picks a full index or a delta against the base in `out`; `wait` writes it and
    returns the `Segments` for the search page; `install(staging)` puts the bundle into
    the new site, and `commit(root)` records the base's state once that site is published.
    """

    def __init__(self, root: Path, out: Path, hashes: dict[str, str], documents: dict[str, bytes],
                 render=None, full: bool = False, language: str = "ko", memory: int | None = None):
        """`hashes`: every search record's `cache.content_hash`; `documents`: the bytes at hand (of the
        changed ones, at least); `render(paths)` gives the bytes of others when they are needed;
        `memory`: the bytes the build may use (None: no limit)."""
        self.root, self.out, self.hashes, self.documents = root, out, hashes, documents
        self.memory = memory
        self.render = render or (lambda paths: {})
        self.language = language
        self.runtime_cache = root / CACHE_DIR
        self.scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.search-", dir=out.parent))
        self.pending: pfindex.Pending | None = None  # the bundle to write (its records already in order)
        self.ids: dict[str, str] = {}  # page URL -> page id in the bundle this build wrote (a new base, or a delta)
        self.dates: list = []  # the date of each of its pages, in page order (None: undated)
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
        """Prepare the bundle of `documents` (see `pfindex.prepare`), to write when the build waits
        for it: a large one's records go to its slices' files now, before the pages are rendered,
        and this process lets go of them (a new base's are not kept here either)."""
        self.bundle = bundle
        if not delta:
            self.documents = {}
        # what the build holds already is not the slices' to use
        free = None if self.memory is None else max(0, self.memory - budget.resident())
        try:
            self.pending = pfindex.prepare((documents.pop(path) for path in sorted(documents)), bundle, self.language,
                                           fields=records.FIELDS, workers=os.cpu_count() or 1, memory=free, delta=delta)
        except OSError as exc:
            raise BuildError(f"cannot write the search index: {exc}") from None

    def _join(self) -> None:
        """Write the prepared bundle; remember its page ids."""
        pending, self.pending = self.pending, None
        try:
            self.ids, self.dates = pfindex.finish(pending, pfindex.runtime(executable(), self.runtime_cache))
        except OSError as exc:
            raise BuildError(f"cannot write the search index: {exc}") from None

    def wait(self) -> Segments:
        if self.pending is not None:
            self._join()
            if self.base is not None and version(self.bundle) != version(self.base):
                # another Pagefind wrote the base: the two would not merge, so index everything
                self.base, self.segments = None, Segments()
                shutil.rmtree(self.bundle, ignore_errors=True)
                self._start(self._documents(list(self.hashes)), self.scratch / BUNDLE_DIR)
                return self.wait()
        if self.base is None:  # a new base: remember each page's id
            ids = self.ids
            self.state = {"entry": (self.bundle / "pagefind-entry.json").read_text(),
                          "docs": {p: [h, ids.get(page_url(p), "")] for p, h in self.hashes.items()},
                          "dates": self.dates}
            return self.segments
        old_ids = {p: self.old["docs"][p][1] for p in self.changed + self.removed if p in self.old["docs"]}
        undated = self.old["dates"].count(None)
        dated = self.old["dates"][undated:]
        for page, date in zip(self.ids.values(), self.dates):
            # after the base's pages of its date and before the next: the base has no x.5
            self.segments.delta_ranks[page] = (undated + bisect_right(dated, date) if date is not None else 0) - 0.5
        self.segments.delta = bool(self.ids)
        self.segments.superseded = sorted(i for i in old_ids.values() if i)
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
        shutil.rmtree(self.scratch, ignore_errors=True)


def _drop_runtime(bundle: Path) -> None:
    """Remove a bundle's copies of Pagefind's scripts, styles and WebAssembly."""
    for extra in bundle.iterdir():
        if extra.is_file() and extra.suffix in (".js", ".css") or extra.name.startswith("wasm."):
            extra.unlink()


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
        if state.get("version") != __version__ or state.get("format") != FORMAT or state["entry"] != (base / "pagefind-entry.json").read_text() \
                or not isinstance(state.get("dates"), list):
            return None
        return state
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _save_state(root: Path, out: Path, state: dict) -> None:
    atomic.write(state_path(root, out), json.dumps({"version": __version__, "format": FORMAT, **state}, separators=(",", ":")).encode())
