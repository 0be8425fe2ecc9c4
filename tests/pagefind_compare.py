"""Compare digestgen's own Pagefind bundle with what the real Pagefind binary writes for the same
search records (see digestgen/pipeline/pfindex.py): used by tests/test_pfindex.py."""

from __future__ import annotations

import gzip
import html
import json
import subprocess
import unicodedata
from pathlib import Path

import cbor2

from digestgen.pipeline.bundle import HEADER


def record_html(record: dict, meta: bool = True) -> str:
    """A search record as the HTML document Pagefind's own indexer would read (without `meta`:
    without its metadata, whose words Pagefind 1.5 indexes too)."""
    e = lambda text: html.escape(str(text), quote=True)
    head = [f'<meta data-pagefind-meta="{k}[content]" content="{e(v)}">' for k, v in record["meta"].items() if k != "title" and meta]
    head += [f'<meta data-pagefind-filter="{k}[content]" content="{e(v)}">' for k, vs in record["filters"].items() for v in vs]
    head += [f'<meta data-pagefind-sort="{k}[content]" content="{e(v)}">' for k, v in record["sort"].items()]
    body = [f'<p data-pagefind-weight="{w}">{e(t)}</p>' if w != 1 else f"<p>{e(t)}</p>" for w, t in record["blocks"]]
    page = (f'<!doctype html><html lang="ko"><head><meta charset="utf-8">' + (f'<title>{e(record["meta"]["title"])}</title>' if meta else "")
            + "".join(head) + "</head><body><main data-pagefind-body>" + "".join(body) + "</main></body></html>")
    return unicodedata.normalize("NFD", page)


def pagefind_bundle(records: list[dict], work: Path, executable: Path, meta: bool = True) -> Path:
    site = work / "docs"
    for record in records:
        target = site / record["url"].strip("/") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(record_html(record, meta), encoding="utf-8")
    subprocess.run([str(executable), "--site", str(site), "--output-path", str(work / "bundle"), "--quiet"], check=True)
    return work / "bundle"


def _read(path: Path):
    return cbor2.loads(gzip.decompress(path.read_bytes())[len(HEADER):])


def _positions(locations: list[int]) -> list[tuple[int, int]]:
    """(weight, position) of a page entry's locations: runs of one weight, each after its weight
    as -(weight + 1); in a run, the first position as it is, then steps from the last."""
    found, weight, last = [], None, 0
    for value in locations:
        if value < 0:
            weight, last = -value - 1, 0
        else:
            last += value
            found.append((weight, last))
    return sorted(found, key=lambda item: (item[1], item[0]))


def decoded(bundle: Path) -> dict:
    """A bundle's content by page URL: {"words": {word: {url: [(weight, position)]}}, "filters": ..., "sort": ...,
    "word_count": {url: n}, "meta": {url: meta}, "names": {url: page name}}, pages in the order the meta file lists them."""
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    (language, info), = entry["languages"].items()
    meta = _read(bundle / f"pagefind.{info['hash']}.pf_meta")
    urls, counts, metas = [], {}, {}
    for name, count in meta[1]:
        fragment = json.loads(gzip.decompress((bundle / "fragment" / f"{name}.pf_fragment").read_bytes())[len(HEADER):])
        urls.append(fragment["url"])
        counts[fragment["url"]] = count
        metas[fragment["url"]] = fragment["meta"]
    words: dict[str, dict[str, list[int]]] = {}
    in_meta: dict[str, dict[str, list]] = {}
    for _, _, name in meta[2]:
        for word, pages, _variants in _read(bundle / "index" / f"{name}.pf_index")[0]:
            page = 0
            for delta, locations, meta_locations in pages:
                page += delta
                if urls[page] in words.get(word, {}):
                    raise ValueError(f"{word!r}: two entries for {urls[page]}")
                words.setdefault(word, {})[urls[page]] = _positions(locations)
                if meta_locations:
                    in_meta.setdefault(word, {})[urls[page]] = [(meta[5][field], at) for field, at in _positions(meta_locations)]
    filters = {}
    for name, file in meta[3]:
        filter_name, values = _read(bundle / "filter" / f"{file}.pf_filter")
        filters[filter_name] = {value: sorted(urls[p] for p in pages) for value, pages in values}
    sorts = {name: [urls[p] for p in pages] for name, pages in meta[4]}
    return {"words": words, "in_meta": in_meta, "filters": filters, "sort": sorts, "word_count": counts, "meta": metas,
            "chunks": meta[2], "names": {url: name for url, (name, _) in zip(urls, meta[1])}}
