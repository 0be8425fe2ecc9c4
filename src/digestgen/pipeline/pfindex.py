"""Write a Pagefind 1.5 bundle directly from search records, without Pagefind's indexer.

Pagefind's indexer reads HTML, and on an archive of 10,000 papers it needs minutes of CPU and
gigabytes of memory (it keeps every page's words and positions in memory at once, and NFD Korean
costs it more still). digestgen already knows every word it wants indexed (see `korean`), so it
writes the bundle's data files itself: the word index in chunks, one fragment per page, the
filters and the meta file, in the format the Pagefind 1.5 runtime reads. The
runtime (`pagefind.js`, its worker and WebAssembly, and the UI files) is Pagefind's own: the real
binary writes it once per Pagefind version into a cache (`runtime`).

A *record* is what the index holds of one page (see `records`):

    {"url": "/papers/x/", "blocks": [[weight, text], ...], "meta": {...}, "filters": {name: [values]},
     "sort": {name: value}}

Words are made the way Pagefind's indexer makes them from the same text (`words_of`): split on
white space; lower-cased letters and digits form the word; a word with punctuation or capitals
in it is also indexed by its parts (`on-policy` -> `onpolicy`, `on`, `policy`); the words of the
metadata are indexed too, by field. Words are NFD (see `search`): the runtime normalizes a query
the same way. `tests/test_pfindex.py` checks the result, word for word, against what the real
Pagefind binary writes for the same records. A large bundle is indexed in slices, each in a
process of its own, and joined (`write_bundle`).

One departure from Pagefind: the meta file has no sort table. A base bundle's pages are numbered
in date order (undated ones first) and *named* by a tag and their numbers, so the search page orders
results by date from their names alone (see `page_names`); a sort table listing every page
would be 47 KB of the first search at 22,000 pages, and random fragment names 27 KB more.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zlib
from collections import Counter, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import compress, groupby, pairwise, repeat
from operator import add, and_, itemgetter, not_, sub
from pathlib import Path

import cbor2

from digestgen.errors import BuildError
from digestgen.pipeline import budget
from digestgen.pipeline.bundle import HEADER

FORMAT = "1.5."  # the Pagefind versions whose format this module writes
INCLUDE = frozenset("_\u203f\u2040\u2054\ufe33\ufe34\ufe4d\ufe4e\ufe4f\uff3f")  # Pagefind's include_characters
WEIGHT = 24  # Pagefind stores a weight w as w * 24
CHUNK = 40000  # bytes of page entries per index chunk (before gzip): small chunks keep a first search light
_ASCII_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
# where convert_case (Pagefind's splitter of compound words) breaks a word: lower|Upper,
# ACRONYM|Word, letter|digit and digit|letter
_CASE_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def _normal(word: str) -> str:
    return "".join(c.lower() for c in word if c.isalnum() or c in INCLUDE)


def _discrete(word: str) -> list[str]:
    """The parts of a word as Pagefind's compound splitter gives them: ASCII punctuation is a
    break, and so are case and digit changes (`TreeRL` -> `tree rl`, `GPT4o` -> `gpt 4 o`).
    Combining marks are dropped: Pagefind keeps `café` only as a variant of `cafe`."""
    plain = "".join(c for c in word if not unicodedata.combining(c))
    return [p.lower() for piece in _ASCII_PUNCT.sub(" ", plain).split() for p in _CASE_BREAK.split(piece) if p]


def words_of(word: str) -> tuple[str, list[str]]:
    """(the word Pagefind indexes for a white-space-separated `word` (NFD), its extra parts).

    A word with punctuation or capitals in it is also indexed by its parts of two bytes or more
    (`on-policy` -> `onpolicy`, `on`, `policy`; `LLMs` -> `llms`, `ll`, `ms`); the parts share the
    word's weight (see `Index.add`)."""
    if word.isalnum() and word == word.lower():  # most words: no capitals, letters and digits only
        return word, []
    normal = _normal(word)
    parts = _discrete(word)
    if len(parts) < 2 and (not parts or normal.startswith(parts[0])):
        return normal, []
    return normal, [p for p in parts if len(p.encode()) > 1 and p != normal]


LENGTH_STEP = 1.1  # see `ranked_length`


def ranked_length(words: int) -> int:
    """A page's word count as the meta file gives it to the ranking (BM25's page length): rounded
    to the nearest power of LENGTH_STEP (within 6%; exact below 16). Every first search loads the
    meta file, and exact counts, one per page, were a quarter of it: 34 of 130 KB at 22,000 pages;
    rounded, they take 10 KB. (A fragment keeps the exact count.)"""
    if words < 16:
        return words
    return round(LENGTH_STEP ** round(math.log(words, LENGTH_STEP)))


def _head(major: int, value: int) -> bytes:
    """A CBOR item head: major type and length or value."""
    if value < 24:
        return bytes([major << 5 | value])
    for code, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | code]) + value.to_bytes(size, "big")
    raise ValueError(value)


class _Table(dict):
    """Bytes by a number, made by `make` when first asked for (for C-level lookups)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, value: int) -> bytes:
        made = self[value] = self.make(value)
        return made


_UINT = _Table(lambda value: _head(0, value))  # CBOR of unsigned integers
_MARK = [_head(1, w) for w in range(256)]  # weight changes -(w + 1), for every weight Pagefind stores
_ONE = [b"\x82" + m for m in _MARK]  # the locations of a word that is once on a page: [-(w + 1), position]
_HEAD = _Table(lambda delta: b"\x83" + _UINT[delta])  # a page entry's start: its page delta
_TAIL = _Table(lambda position: _ONE[WEIGHT] + _UINT[position] + b"\x80")  # the rest, for one plain word


def _array(length: int) -> bytes:
    return _head(4, length)


def _text(value: str) -> bytes:
    data = value.encode()
    return _head(3, len(data)) + data


class Index:
    """The pages of a bundle, added one record at a time; `write_fragments` and `write_index`
    put the bundle on disk.

    The word index is kept as CBOR from the start: each word's page entries are encoded when its
    page is added (pages come in order, so each entry's page delta is known then), and a chunk is
    only the concatenation of its words' entries. So memory is about the size of the index, and the
    work per word on a page is a few byte operations.
    """

    def __init__(self, language: str, fields, first: int = 0, extra: dict | None = None):
        """`fields`: every metadata field the records may have (Pagefind indexes their words too,
        by the field's number in this list); `first`: the number of the first page (a slice of a
        bundle, see `write_bundle`); `extra`: filters every page gets."""
        self.language = language
        self.first = first
        self.extra = extra or {}
        self.field_names = sorted(fields)
        self.fields = {name: number for number, name in enumerate(self.field_names)}
        self.entries: defaultdict[str, bytearray] = defaultdict(bytearray)  # word -> its page entries, CBOR
        self.counts: Counter[str] = Counter()  # word -> pages it is on
        self.last: dict[str, int] = {}  # word -> the last page it is on (for the next delta)
        self.pages: list = []  # (fragment JSON, word count) per page; once written, [name, word count]
        self.urls: list[str] = []  # each page's URL
        self.filters: dict[str, dict[str, list[int]]] = {}
        self._words: dict[str, tuple[str, list[str]]] = {}  # memo of words_of
        self.slices: list[str] = []  # the files of merged slices' word entries (see `merge`)

    def add(self, record: dict) -> None:
        number = self.first + len(self.pages)
        found: dict[str, list[int]] = {}  # word -> weight, position, weight, position ...
        bulk: list = []  # (word, position) of plain words seen once on the page, at the default weight
        position = 0
        blocks = [(weight, text.split()) for weight, text in record["blocks"]]
        blocks = [(weight, words) for weight, words in blocks if words]
        for index, (weight, words) in enumerate(blocks):
            stored = max(1, int(min(float(weight), 10.0) * WEIGHT))
            if index < len(blocks) - 1 and words[-1][-1].isalnum():
                words[-1] += "."  # Pagefind ends a block like a sentence
            text = unicodedata.normalize("NFD", " ".join(words))
            decomposed, lowered = text.split(), text.lower().split()
            places = range(position, position + len(words))
            plain = list(map(and_, map(str.isalnum, decomposed), map(str.__eq__, decomposed, lowered)))
            if stored == WEIGHT and len(set(lowered)) == len(lowered):
                # the search tokens (see `korean`): each word once, so plain words go in bulk
                bulk += compress(zip(lowered, places), plain)
                slow = compress(zip(decomposed, places), map(not_, plain))
            else:
                slow = zip(decomposed, places)
            for word, at in slow:
                self._found(found, word, stored, at)
            position += len(words)
        if len(bulk) != len({word for word, _ in bulk}):  # a plain word in two blocks: one entry for both
            twice = {word for word, seen in Counter(word for word, _ in bulk).items() if seen > 1}
            for word, at in bulk:
                if word in twice:
                    found.setdefault(word, []).extend((WEIGHT, at))
            bulk = [item for item in bulk if item[0] not in twice]
        meta = {k: " ".join(str(v).split()) for k, v in sorted(record.get("meta", {}).items())}
        in_meta: dict[str, list[int]] = {}  # word -> field, position, field, position ...
        for name, value in meta.items():
            field = self.fields.get(name)
            if field is None:
                raise BuildError(f"search record {record['url']}: metadata field '{name}' is not one of {sorted(self.fields)}")
            for at, word in enumerate(unicodedata.normalize("NFD", value).split()):
                self._found(in_meta, word, field, at, meta=True)
        if found or in_meta:  # a word also met outside the bulk gets all its locations in one entry
            for word, at in bulk:
                if word in found or word in in_meta:
                    found.setdefault(word, []).extend((WEIGHT, at))
            bulk = [item for item in bulk if item[0] not in found]
        self._post(found, in_meta, number)
        self._bulk(bulk, number)
        filters = {k: list(v) for k, v in sorted((record.get("filters", {}) | self.extra).items()) if v}
        # the readable excerpt stands in for the page's text: the search page shows no other, and
        # a first search loads a fragment per result
        fragment = {"url": record["url"], "content": meta.get("text", ""), "word_count": position,
                    "filters": filters, "meta": meta, "anchors": []}
        data = json.dumps(fragment, ensure_ascii=False, separators=(",", ":")).encode()
        self.pages.append((data, ranked_length(position)))
        self.urls.append(record["url"])
        for name, values in filters.items():
            for value in values:
                self.filters.setdefault(name, {}).setdefault(value, []).append(number)

    def _found(self, found: dict[str, list[int]], word: str, key: int, position: int, meta: bool = False) -> None:
        """Note the words Pagefind makes of `word` (see `words_of`) at `position`, with `key` (a
        weight, which the parts share; or a metadata field's number, `meta`)."""
        made = self._words.get(word)
        if made is None:
            made = self._words[word] = words_of(word)
        normal, parts = made
        if normal:
            at = found.get(normal)
            if at is None:
                found[normal] = [key, position]
            else:
                at += (key, position)
        if parts:
            share = key if meta else max(1, key // len(parts))
            for part in parts:
                at = found.get(part)
                if at is None:
                    found[part] = [share, position]
                else:
                    at += (share, position)

    def _bulk(self, items: list[tuple[str, int]], page: int) -> None:
        """`_post` for words once on the page at the default weight, in C-level loops (they are
        most of the index: the search tokens)."""
        if not items:
            return
        words, places = zip(*items)
        deltas = map(sub, repeat(page), map(self.last.get, words, repeat(0)))
        encoded = map(add, map(_HEAD.__getitem__, deltas), map(_TAIL.__getitem__, places))
        deque(map(bytearray.extend, map(self.entries.__getitem__, words), encoded), maxlen=0)
        self.last.update(zip(words, repeat(page)))
        self.counts.update(words)

    def _post(self, found: dict[str, list[int]], in_meta: dict[str, list[int]], page: int) -> None:
        """Encode the page entry [page delta, locations, meta locations] of each word on `page`.
        Locations are positions in runs of one weight, lightest first, each run after its weight
        as -(weight + 1), its first position as it is and the others as the step from the last;
        meta locations are the same with metadata fields (by number, see `fields`) for weights."""
        entries, counts, last, uint, one = self.entries, self.counts, self.last, _UINT, _ONE
        empty = b"\x80"  # []
        for word in found.keys() | in_meta.keys():
            at = found.get(word)
            if at is None:
                locations = empty
            elif len(at) == 2:
                locations = one[at[0]] + uint[at[1]]
            else:
                locations = _runs(at)
            where = in_meta.get(word)
            entries[word] += (b"\x83" + uint[page - last.get(word, 0)] + locations
                              + (_runs(where) if where else empty))
            counts[word] += 1
            last[word] = page

    def digests(self) -> list[str]:
        """The hash of each page's fragment."""
        return [hashlib.sha256(data).hexdigest() for data, _ in self.pages]

    def write_fragments(self, bundle: Path, names: list[str]) -> None:
        """Write each page's fragment under its name (see `page_names`)."""
        (bundle / "fragment").mkdir(parents=True, exist_ok=True)
        names = [f"{self.language}_{name}" for name in names]
        with ThreadPoolExecutor(2) as pool:  # zlib lets go of the GIL while it compresses
            written = [pool.submit(_gzip_to, bundle / "fragment" / f"{name}.pf_fragment", data)
                       for (data, _), name in zip(self.pages, names)]
        for future in written:
            future.result()  # raises the first OSError
        self.pages = [[name, count] for name, (_, count) in zip(names, self.pages)]

    def write_index(self, bundle: Path, version: str) -> dict:
        """Write the word index, the filters and the meta file (after `write_fragments`)."""
        for folder in ("index", "filter"):
            (bundle / folder).mkdir(parents=True, exist_ok=True)
        chunks = self._chunks(bundle)
        filters = []
        for name in sorted(self.filters):
            values = [[value, pages_] for value, pages_ in sorted(self.filters[name].items())]
            filters.append([name, self._file(bundle / "filter", ".pf_filter", cbor2.dumps([name, values]), 7)])
        meta = [version, self.pages, chunks, filters, [], self.field_names]  # no sort table: see above
        digest = self._file(bundle, ".pf_meta", cbor2.dumps(meta), 10, prefix="pagefind.")
        return {"hash": digest.removeprefix("pagefind."), "wasm": None, "page_count": len(self.pages)}

    def export(self, folder: Path) -> dict:
        """What a slice sends back to be merged (see `merge`): its pages and filters;
        and the file in `folder` where it wrote each word's page count, last page and page entries,
        in word order and in batches (the main process reads them as it writes the chunks, so it
        never holds every slice's entries at once)."""
        path = folder / "entries.pickle"
        with open(path, "wb") as out:
            batch = []
            for word in sorted(self.entries):
                batch.append((word, self.counts[word], self.last[word], bytes(self.entries.pop(word))))
                if len(batch) == ENTRY_BATCH:
                    pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
                    batch = []
            for last in (batch, []) if batch else ([],):  # an empty batch ends the file
                pickle.dump(last, out, protocol=pickle.HIGHEST_PROTOCOL)
        return {"pages": self.pages, "urls": self.urls, "filters": self.filters, "entries": str(path)}

    def merge(self, part: dict) -> None:
        """Append a slice (`export`) of the pages that follow this index's."""
        self.pages += part["pages"]
        self.urls += part["urls"]
        for name, values in part["filters"].items():
            for value, pages in values.items():
                self.filters.setdefault(name, {}).setdefault(value, []).extend(pages)
        self.slices.append(part["entries"])  # merged word by word as the chunks are written

    def _entries(self):
        """(word, pages it is on, its page entries) in word order, each let go of once given: this
        index's own, or its slices' joined (a slice's first entry holds its page number, which
        becomes the step from the word's last page in the slices before)."""
        if not self.slices:
            for word in sorted(self.entries):
                yield word, self.counts[word], self.entries.pop(word)
            return
        streams = [_read_entries(path, number) for number, path in enumerate(self.slices)]
        for word, found in groupby(heapq.merge(*streams), key=itemgetter(0)):
            joined, total, before = bytearray(), 0, None
            for _, _, count, end, data in found:  # in slice order
                if before is None:
                    joined += data
                else:
                    first, size = _read_uint(data, 1)
                    joined += _HEAD[first - before]
                    joined += memoryview(data)[1 + size:]
                total, before = total + count, end
            yield word, total, joined

    def _file(self, folder: Path, suffix: str, body: bytes, digits: int, prefix: str = "") -> str:
        name = f"{prefix}{self.language}_{hashlib.sha256(body).hexdigest()[:digits]}"
        _gzip_to(folder / f"{name}{suffix}", body)
        return name

    def _chunks(self, bundle: Path) -> list[list[str]]:
        """Write the word index in chunks of about CHUNK bytes, in word order; their meta entries.
        A word whose entries alone are a chunk's worth (a common one: `학습` is on 21,500 of 22,000
        pages) starts a chunk of its own, so that a search for it does not load the words before it
        (at 20,000 papers, the chunks a search for `강화학습` loads fell from 132 to 102 KB, for
        500 more chunks, 7 KB, in the meta file)."""
        futures: list = []
        parts: list[bytes] = []
        first = last = ""
        size = 0
        with ThreadPoolExecutor(2) as pool:  # hashing and zlib let go of the GIL

            def flush():
                body = b"\x81" + _array(len(parts) // 2) + b"".join(parts)  # [[word, ...], ...]
                futures.append([first, last, pool.submit(self._file, bundle / "index", ".pf_index", body, 7)])

            for word, count, data in self._entries():
                if parts and len(data) >= CHUNK:  # a chunk's worth alone: a chunk of its own, loaded alone
                    flush()
                    parts, size = [], 0
                if not parts:
                    first = word
                parts.append(b"\x83" + _text(word) + _array(count))
                parts.append(bytes(data) + b"\x80")  # ... then no diacritic variants
                last = word
                size += len(data)
                if size >= CHUNK:
                    flush()
                    parts, size = [], 0
            if parts:
                flush()
        meta = [[one, two, future.result()] for one, two, future in futures]
        for one, two in pairwise(meta):
            one[1], two[0] = _prefixes(one[1], two[0])
        return meta


ENTRY_BATCH = 20000  # words per batch of a slice's entries file


def _read_entries(path: str, number: int):
    """(word, `number`, page count, last page, entries) of a slice's words (see `Index.export`),
    one batch in memory at a time."""
    with open(path, "rb") as entries:
        while batch := pickle.load(entries):
            for word, count, end, data in batch:
                yield word, number, count, end, data


def _gzip_to(path: Path, body: bytes) -> None:
    path.write_bytes(gzip.compress(HEADER + body, compresslevel=6, mtime=0))


def _read_uint(data: bytes, at: int) -> tuple[int, int]:
    """(value, size in bytes) of the CBOR unsigned integer at `at`."""
    head = data[at] & 31
    if head < 24:
        return head, 1
    size = 1 << (head - 24)
    return int.from_bytes(data[at + 1:at + 1 + size], "big"), 1 + size


def _runs(at: list[int]) -> bytes:
    """CBOR of locations given as [key, position, key, position ...]: runs of one key (a weight,
    or a metadata field's number), in order, each after its key as -(key + 1); in a run, the first
    position as it is, then the steps from the last."""
    items, key, before = [], None, 0
    for k, where in sorted(zip(at[::2], at[1::2])):
        if k != key:
            items.append(_MARK[k])
            key, before = k, 0
        items.append(_UINT[where - before])
        before = where
    return _array(len(items)) + b"".join(items)


def _prefixes(a: str, b: str) -> tuple[str, str]:
    """The shortest prefixes that still tell the last word of a chunk from the first of the next."""
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return a[:common + 1], b[:common + 1]


TAG_LETTERS = "ghijklmnopqrstuvwxyz"  # a base's tag: letters that are not hex digits, nor a delta's `d`


def page_names(digests: list[str], delta: bool = False) -> list[str]:
    """The names of a bundle's pages (the hex hashes of their fragments, in page order), which
    the browser tells pages apart by. A base's pages are named by a tag of three letters, the same
    for all of them, and their numbers, which are in date order (see `write_bundle`): the search
    page orders results by date from their names, and counting numbers compress where hashes do
    not (the meta file a first search loads lists every name; the shared tag costs 0.3 KB of it
    at 22,000 pages). The tag comes from every fragment's hash, so a base whose pages changed has
    other names, and a browser never takes a fragment it cached from an earlier base for a page
    that now has its number. A delta's pages are named 'd' and a short hash (`short_names`):
    never a base's name."""
    if delta:
        return ["d" + name for name in short_names(digests)]
    whole = int(hashlib.sha256("".join(digests).encode()).hexdigest(), 16)
    tag = ""
    for _ in range(3):
        whole, letter = divmod(whole, len(TAG_LETTERS))
        tag += TAG_LETTERS[letter]
    return [f"{tag}{number}" for number in range(len(digests))]


def number_of(name: str) -> int:
    """A base page's number, from its name (`ko_qxz123` -> 123)."""
    return int(name.rpartition("_")[2].lstrip(TAG_LETTERS))


def short_names(digests: list[str]) -> list[str]:
    """Names from full hex hashes: the shortest prefix (at least MIN_NAME characters) that no
    other hash shares. They depend only on the set of hashes, not on their order."""
    ordered = sorted(set(digests))
    length = {}
    for at, digest in enumerate(ordered):
        shared = 0
        for other in ordered[max(0, at - 1):at] + ordered[at + 1:at + 2]:
            shared = max(shared, len(os.path.commonprefix([digest, other])))
        length[digest] = max(MIN_NAME, shared + 1)
    return [digest[:length[digest]] for digest in digests]


MIN_NAME = 4
SLICE = 2500  # the fewest pages worth a process of their own (see `write_bundle`)
# What a slice's process holds, measured on the benchmark corpus (tests/synth.py): 266 MB for
# 2,500 records of 16 MB of JSON, 363 MB for 5,000 of 38 MB, about 750 MB for 11,000 of 75 MB (its
# words grow with it). Estimated, on the safe side, as 200 MB and 7 bytes per byte of JSON.
SLICE_BASE, SLICE_FACTOR = 200 * 2**20, 7
# The most pages of one slice when the budget leaves room for bigger ones: a larger site is cut into
# more slices, still indexed `workers` at a time, so that its slices' processes hold about what
# 10,000 papers' do (at 20,000 papers, two slices of 11,000 pages held 450 MB each at once;
# merging more slices costs little, see `Index._entries`).
SLICE_MOST = 6000
JOB = "job.pickle"  # a slice's records and settings, handed to its process (see `_in_process`)


def plan_slices(count: int, size: int, workers: int, memory: int | None) -> tuple[int, int]:
    """(slices, how many run at once) for `count` records of `size` bytes of JSON: one slice per
    worker (or more, of at most SLICE_MOST records each, one per worker at a time) when they fit
    in `memory` bytes (None: no limit); else more, smaller slices, with as many at once as fit
    (the fewest slices for the most at once); at worst one at a time, each of at least SLICE / 5
    records."""
    slices = max(1, min(workers, count // SLICE))
    if slices > 1:
        slices = max(slices, -(-count // SLICE_MOST))
    at_once = min(workers, slices)
    if memory is None or at_once * (SLICE_BASE + SLICE_FACTOR * size // slices) <= memory:
        return slices, at_once
    most = max(1, count // (SLICE // 5))
    for at_once in range(min(workers, most), 0, -1):
        for slices in range(at_once, most + 1):
            if at_once * (SLICE_BASE + SLICE_FACTOR * size // slices) <= memory:
                return slices, at_once
    return most, 1


def write_bundle(records, bundle: Path, runtime_files: Path, language: str, fields=None,
                 extra: dict | None = None, workers: int = 1, memory: int | None = None,
                 delta: bool = False) -> tuple[dict[str, str], list]:
    """A whole bundle at `bundle`: the data files of `records` (dicts, or their JSON, as it is or
    compressed with zlib: a slice's job file holds them as given) and the runtime from
    `runtime_files`. `fields`: the metadata fields records may have (default: those they have);
    `extra`: filters every page gets.

    With `workers` > 1 and enough records, the pages are indexed in slices, `workers` at a time,
    each in a new process of its own (it holds only its records and their index), and the
    slices are merged here: each word's entries are concatenated, and the first entry of a slice
    gets its page's step from the word's last page in the slices before. `memory` (bytes, None
    for no limit) bounds what the slices hold at once (see `plan_slices`); `delta`: the bundle is
    searched beside a base (its pages are named apart, see `page_names`).

    Pages are numbered in the order of their first sort value (the date; undated pages first).
    Returns {URL: page id}, and each page's sort value in page order. (`prepare`, then `finish`.)"""
    return finish(prepare(records, bundle, language, fields, extra, workers, memory, delta), runtime_files)


@dataclass
class Pending:
    """A bundle `prepare`d and not yet written: its records in page order, held here (a small
    bundle, indexed in this process) or already in its slices' job files (a large one)."""

    bundle: Path
    language: str
    fields: set
    extra: dict | None
    delta: bool
    values: list  # each page's sort value, in page order
    records: list  # the records, when indexed in this process
    folders: list[Path]  # the slices' folders (each with its job), when indexed in slices
    at_once: int  # slices indexed at once


def prepare(records, bundle: Path, language: str, fields=None, extra: dict | None = None, workers: int = 1,
            memory: int | None = None, delta: bool = False) -> Pending:
    """The first half of `write_bundle`: order the records, plan the slices, and write each
    slice's job, so that the caller need not hold the records until the bundle is written (a
    build renders its pages in between: 115 MB of compressed records at 20,000 papers)."""
    records = list(records)
    if fields is None:
        fields = {name for item in records for name in _record(item).get("meta", {})}
    records, values, size = _by_sort_value(records)
    slices, at_once = plan_slices(len(records), size, workers, memory)
    bundle.mkdir(parents=True)
    (bundle / "fragment").mkdir()
    if slices == 1:
        return Pending(bundle, language, fields, extra, delta, values, [_record(item) for item in records], [], 1)
    bounds = [len(records) * i // slices for i in range(slices + 1)]
    folders = [bundle / f".slice-{a}" for a in bounds[:-1]]
    for (a, b), folder in zip(pairwise(bounds), folders):
        _write_job(folder, (records[a:b], a, language, sorted(fields), extra, str(folder)))
    del records  # the slices' processes read them from their job files
    budget.give_back()
    return Pending(bundle, language, fields, extra, delta, values, [], folders, at_once)


def finish(pending: Pending, runtime_files: Path) -> tuple[dict[str, str], list]:
    """The second half of `write_bundle`: index the records (here, or in the slices' processes),
    and write the bundle with the runtime from `runtime_files`."""
    bundle, language = pending.bundle, pending.language
    version = json.loads((runtime_files / "pagefind-entry.json").read_text())["version"]
    index = Index(language, pending.fields, extra=pending.extra)
    if not pending.folders:
        for item in pending.records:
            index.add(item)
        pending.records = []
        index.write_fragments(bundle, page_names(index.digests(), pending.delta))
    else:
        with ThreadPoolExecutor(pending.at_once) as pool:
            results = list(pool.map(_in_process, pending.folders))
        names = iter(page_names([digest for part in results for digest in part["digests"]], pending.delta))
        for folder, part in zip(pending.folders, results):
            _adopt(bundle, folder, part, names, language)
            index.merge(part)
    if len(set(index.urls)) != len(index.urls):
        raise BuildError("two search records have the same URL")
    entry = {"version": version, "languages": {language: index.write_index(bundle, version)},
             "include_characters": sorted(INCLUDE)}
    for folder in bundle.glob(".slice-*"):
        shutil.rmtree(folder)
    for item in runtime_files.iterdir():
        if item.is_file() and item.name != "pagefind-entry.json" and not item.name.endswith(".pf_meta"):
            shutil.copyfile(item, bundle / item.name)
    (bundle / "pagefind-entry.json").write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
    return {url: page[0] for url, page in zip(index.urls, index.pages)}, pending.values


def _json(item) -> bytes | str | None:
    """A record's JSON (None for a dict): as given, or decompressed. A JSON text never starts with
    `x`; a zlib stream (of the default window, as `zlib.compress` writes) always does."""
    if isinstance(item, bytes) and item[:1] == b"x":
        return zlib.decompress(item)
    return item if isinstance(item, (bytes, str)) else None


def _record(item) -> dict:
    text = _json(item)
    return item if text is None else json.loads(text)


def _by_sort_value(records: list) -> tuple[list, list, int]:
    """The records in the order of their first sort value (those without one first), otherwise as
    given; those values, in that order (None for a record without one); and the bytes of their
    JSON (0 for dicts)."""
    keyed, size = [], 0
    for at, item in enumerate(records):
        text = _json(item)
        sort = (item if text is None else json.loads(text)).get("sort") or {}
        size += len(text or "")
        keyed.append((sort[min(sort)] if sort else None, at))
    keyed.sort(key=lambda pair: (pair[0] is not None, str(pair[0] or ""), pair[1]))
    return [records[at] for _, at in keyed], [found for found, _ in keyed], size


def _write_job(folder: Path, job: tuple) -> None:
    """Keep a slice's job (see `_index_slice`) in its folder, for `_in_process`."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / JOB, "wb") as handle:
        pickle.dump(job, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _in_process(folder: Path) -> dict:
    """Run `_index_slice` on the job in `folder` (see `_write_job`) in a new Python process
    (`python -m digestgen.pipeline.pfindex`, the job file as its standard input, the result pickled
    through its standard output): a process of its own, that imports nothing of the program that
    started it. (The job is a file, not bytes piped from here: those were a second copy of the
    slice's records in this process while it ran, 260 MB at 20,000 papers.)"""
    with open(folder / JOB, "rb") as job:
        done = subprocess.run([sys.executable, "-m", "digestgen.pipeline.pfindex"], stdin=job,
                              capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise BuildError(f"indexing a slice of the search index failed: {detail[-1] if detail else done.returncode}")
    try:
        return pickle.loads(done.stdout)
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise BuildError(f"indexing a slice of the search index failed: unreadable result ({exc})") from None


def _index_slice(job) -> dict:
    """Index a slice of the pages and write their fragments, named by their full hashes (the
    bundle's short names need every slice's hashes; see `_adopt`)."""
    records, first, language, fields, extra, bundle = job
    index = Index(language, fields, first=first, extra=extra)
    for item in records:
        index.add(_record(item))
    del records
    digests = index.digests()
    index.write_fragments(Path(bundle), digests)
    return index.export(Path(bundle)) | {"digests": digests}


def _adopt(bundle: Path, folder: Path, part: dict, names, language: str) -> None:
    """Move a slice's fragments from its own `folder` into the bundle, each under its short name
    (the next of `names`)."""
    for page in part["pages"]:
        name = f"{language}_{next(names)}"
        os.replace(folder / "fragment" / f"{page[0]}.pf_fragment", bundle / "fragment" / f"{name}.pf_fragment")
        page[0] = name
    shutil.rmtree(folder / "fragment")  # its entries are read while the chunks are written


def runtime(executable: Path, cache: Path) -> Path:
    """Pagefind's runtime files (scripts, styles, WebAssembly) for this binary, written once by
    the binary itself into `cache` and kept there; BuildError if its format is not FORMAT."""
    version = subprocess.run([str(executable), "--version"], capture_output=True, text=True, check=False).stdout.split()
    version = version[-1] if version else "unknown"
    target = cache / f"pagefind-runtime-{version}"
    if (target / "pagefind-entry.json").exists():
        return target
    with tempfile.TemporaryDirectory(dir=cache.parent if cache.parent.exists() else None) as scratch:
        site = Path(scratch) / "site"
        site.mkdir()
        (site / "index.html").write_text('<!doctype html><html lang="ko"><body><main>x</main></body></html>')
        done = subprocess.run([str(executable), "--site", str(site), "--output-path", str(Path(scratch) / "out"),
                               "--quiet"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildError(f"Pagefind failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        written = json.loads((Path(scratch) / "out" / "pagefind-entry.json").read_text())["version"]
        if not written.startswith(FORMAT):
            raise BuildError(f"Pagefind {written} is installed, but digestgen writes the index format of "
                             f"Pagefind {FORMAT}x: install digestgen's pinned 'pagefind[bin]'")
        cache.mkdir(parents=True, exist_ok=True)
        files = Path(scratch) / "files"
        files.mkdir()
        for item in (Path(scratch) / "out").iterdir():
            if item.is_file() and not item.name.endswith(".pf_meta"):
                shutil.copyfile(item, files / item.name)
        shutil.rmtree(target, ignore_errors=True)
        files.rename(target)
    return target


if __name__ == "__main__":  # a slice of a large index (see `_in_process`)
    result = _index_slice(pickle.load(sys.stdin.buffer))
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
