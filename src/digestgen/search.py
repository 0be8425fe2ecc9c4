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
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import cbor2 as cbor

from digestgen import __version__, atomic
from digestgen.cache import for_output
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
_DATE = re.compile(rb'data-pagefind-sort="date\[content\]" content="([0-9-]+)"')


def max_delta(documents: int) -> int:
    """The most documents a delta may hold before the base is rebuilt."""
    return max(100, documents // 50)


def page_url(path: str) -> str:
    """The URL Pagefind records for a document at `path` ('papers/x/index.html' -> '/papers/x/')."""
    return "/" + path.removesuffix("index.html")


def page_ids(bundle: Path) -> dict[str, str]:
    """{Pagefind URL: page id} of a bundle, read from its fragment files."""
    ids = {}
    for fragment in (bundle / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(fragment.read_bytes()).removeprefix(HEADER)  # signature, then JSON
        ids[json.loads(data)["url"]] = fragment.name.removesuffix(".pf_fragment")
    return ids


@dataclass
class Segments:
    """What the search page must know about the bundle it searches."""

    delta: bool = False  # `pagefind/delta/` exists and is merged in
    superseded: list[str] = field(default_factory=list)  # base page ids to drop from results
    delta_dates: dict[str, str] = field(default_factory=dict)  # delta page id -> ISO date, for date sort
    rebuilt: bool = True  # the base was indexed by this build (False: kept from the previous one)
    delta_documents: int = 0


class Indexer:
    """Indexes a build's search documents in the background while the pages are rendered.

    `start` picks a full index or a delta against the base in `out`, and starts Pagefind;
    `wait` returns the `Segments` for the search page; `install(staging)` puts the bundle into
    the new site, and `commit(root)` records the base's state once that site is published.
    """

    def __init__(self, root: Path, out: Path, hashes: dict[str, str], documents: dict[str, bytes],
                 render=None, full: bool = False):
        """`hashes`: every search document's `cache.content_hash`; `documents`: the bytes at hand (of the
        changed ones, at least); `render(paths)` gives the bytes of others when they are needed."""
        self.root, self.out, self.hashes, self.documents = root, out, hashes, documents
        self.render = render or (lambda paths: {})
        self.scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.search-", dir=out.parent))
        self.process: subprocess.Popen | None = None
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
                    self._start(self._documents(changed), self.scratch / DELTA_DIR)
                return
        self.base = None
        self._start(self._documents(list(hashes)), self.scratch / BUNDLE_DIR)

    def _documents(self, paths: list[str]) -> dict[str, bytes]:
        missing = [p for p in paths if p not in self.documents]
        if missing:
            self.documents.update(self.render(missing))
        return {p: self.documents[p] for p in paths}

    def _start(self, documents: dict[str, bytes], bundle: Path) -> None:
        self.bundle = bundle
        write_tree(self.scratch / "docs", documents)
        self.process = _run(self.scratch / "docs", bundle)

    def wait(self) -> Segments:
        if self.process is not None:
            _finish(self.process, self.scratch / "docs", self.bundle)
            shutil.rmtree(self.scratch / "docs", ignore_errors=True)
            if self.base is not None and _version(self.bundle) != _version(self.base):
                # another Pagefind wrote the base: the two would not merge, so index everything
                self.base, self.segments = None, Segments()
                self._start(self._documents(list(self.hashes)), self.scratch / BUNDLE_DIR)
                return self.wait()
        if self.base is None:  # a new base: remember each page's id
            ids = page_ids(self.bundle)
            self.state = {"entry": (self.bundle / "pagefind-entry.json").read_text(),
                          "docs": {p: [h, ids.get(page_url(p), "")] for p, h in self.hashes.items()}}
            return self.segments
        old_ids = {p: self.old["docs"][p][1] for p in self.changed + self.removed if p in self.old["docs"]}
        delta_ids = page_ids(self.bundle) if self.process is not None else {}
        for path in self.changed:
            page = delta_ids.get(page_url(path))
            if page is not None:
                found = _DATE.search(self.documents[path])
                self.segments.delta_dates[page] = found.group(1).decode() if found else ""
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
            for extra in self.bundle.iterdir():  # the base's scripts and WebAssembly serve the delta too
                if extra.is_file() and extra.suffix in (".js", ".css") or extra.name.startswith("wasm."):
                    extra.unlink()
            os.rename(self.bundle, target / DELTA_DIR)

    def commit(self) -> None:
        """Record the base's state, after the site holding it was published."""
        if self.state is not None:
            _save_state(self.root, self.out, self.state)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _version(bundle: Path) -> str | None:
    """The Pagefind version that wrote `bundle`."""
    try:
        return json.loads((bundle / "pagefind-entry.json").read_text()).get("version")
    except (OSError, ValueError, AttributeError):
        return None


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
