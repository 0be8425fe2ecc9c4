"""digestgen writes the Pagefind bundle itself (digestgen/pipeline/pfindex.py): the same index the
real Pagefind binary makes of the same search records, in the format its runtime reads."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import unicodedata
from pathlib import Path

import cbor2
import pytest

from conftest import HERE
from digestgen import config
from digestgen.errors import BuildError
from digestgen.pipeline import build, pfindex, search
from digestgen.pipeline import records as search_records
from digestgen.pipeline.render import renderer
from digestgen.pipeline.search import executable
from pagefind_compare import _read, decoded, pagefind_bundle

SET = HERE / "fixtures" / "search-set"


def records_of(root: Path) -> list[dict]:
    settings = config.load(root)
    digest, _ = build.load(root, settings)
    site = renderer(root, settings, digest)
    docs = {p: f.data for part in build.render_tasks(site, site.document_tasks(), workers=1).values()
            for p, f in part.items()}
    return [search_records.decode(docs[path]) for path in sorted(docs)]


def _listing(folder: Path) -> dict[str, bytes]:
    """Every file of a bundle, by its path in it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The search-set fixture's records, indexed by Pagefind and by digestgen."""
    work = tmp_path_factory.mktemp("pfindex")
    records = records_of(SET)
    theirs = decoded(pagefind_bundle(records, work / "pagefind", executable(), meta=True))
    files = pfindex.runtime(executable(), work / "cache")
    pfindex.write_bundle(records, work / "ours", files, "ko")
    return records, theirs, decoded(work / "ours")


def test_same_words_on_the_same_pages_as_pagefind(both):
    records, theirs, ours = both
    assert len(records) > 10 and len(ours["words"]) > 500
    assert set(ours["words"]) == set(theirs["words"])
    different = {w for w in theirs["words"] if set(theirs["words"][w]) != set(ours["words"][w])}
    assert not different
    # the length BM25 ranks by, rounded (see `ranked_length`)
    assert ours["word_count"] == {url: pfindex.ranked_length(n) for url, n in theirs["word_count"].items()}
    assert ours["in_meta"] == theirs["in_meta"] and len(ours["in_meta"]) > 100  # words of titles and excerpts


def test_same_locations_and_weights_as_pagefind(both):
    _, theirs, ours = both
    same = sum(theirs["words"][w] == ours["words"][w] for w in theirs["words"])
    assert same == len(theirs["words"])


def test_same_filters_as_pagefind_and_the_date_order_in_the_names(both):
    records, theirs, ours = both
    assert ours["filters"] == theirs["filters"] and {"tag", "week", "year"} <= set(ours["filters"])
    # no sort table: a base's pages are named by their place in date order, which Pagefind's table gives
    assert ours["sort"] == {} and len(theirs["sort"]["date"]) == len(records)
    by_name = sorted(ours["names"], key=lambda url: pfindex.number_of(ours["names"][url]))
    assert by_name == list(ours["names"])  # the meta file lists them in that order
    dates = [ours["meta"][url]["date"] for url in by_name]
    assert dates == sorted(dates) and len(set(dates)) == 3  # the fixture's three weeks
    assert [ours["meta"][url]["date"] for url in theirs["sort"]["date"]] == dates


def test_undated_pages_come_first_and_every_base_name_is_its_number(tmp_path):
    records = records_of(SET)
    undated = {"url": "/about/", "blocks": [[1, "undated page"]], "meta": {"title": "about"}, "filters": {}, "sort": {}}
    files = pfindex.runtime(executable(), tmp_path / "cache")
    ids, dates = pfindex.write_bundle(list(reversed(records)) + [undated], tmp_path / "ours", files, "ko")
    tag = ids["/about/"].removeprefix("ko_").removesuffix("0")  # the base's tag, then its number
    assert len(tag) == 3 and set(tag) <= set(pfindex.TAG_LETTERS) and dates[0] is None
    assert list(ids.values()) == [f"ko_{tag}{n}" for n in range(len(records) + 1)]
    assert [pfindex.number_of(name) for name in ids.values()] == list(range(len(records) + 1))
    other, _ = pfindex.write_bundle(list(reversed(records)), tmp_path / "fewer", files, "ko")  # other pages, other tag
    assert not set(other.values()) & set(ids.values())
    assert dates[1:] == sorted(r["sort"]["date"] for r in records)
    entry = json.loads((tmp_path / "ours" / "pagefind-entry.json").read_text())
    meta = _read(tmp_path / "ours" / f"pagefind.{entry['languages']['ko']['hash']}.pf_meta")
    assert meta[4] == [] and [name for name, _ in meta[1]] == list(ids.values())


def test_base_pages_are_named_by_a_tag_and_their_number_and_delta_pages_apart():
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(3000)]
    base = pfindex.page_names(digests)
    tag = base[0].removesuffix("0")
    assert len(tag) == 3 and set(tag) <= set(pfindex.TAG_LETTERS) and "d" not in pfindex.TAG_LETTERS
    assert base == [f"{tag}{n}" for n in range(3000)] and base == pfindex.page_names(list(digests))
    assert [pfindex.number_of(f"ko_{name}") for name in base] == list(range(3000))
    assert not pfindex.page_names(digests[:-1])[0].startswith(tag)  # other pages: another tag, other names
    delta = pfindex.page_names(digests[:50], delta=True)
    assert all(n.startswith("d") and digest.startswith(n[1:]) for n, digest in zip(delta, digests))
    assert not set(delta) & set(base) and len(set(delta)) == 50


def test_short_names_are_the_shortest_unique_prefixes():
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(3000)]
    digests += ["abcdef" + "0" * 58, "abcdef" + "1" * 58, "abcd" + "2" * 60]  # prefixes shared at length 6 and 4
    names = pfindex.short_names(digests)
    assert len(set(names)) == len(names) and all(d.startswith(n) for d, n in zip(digests, names))
    assert names[-3:] == ["abcdef0", "abcdef1", "abcd2"]
    for name in names:  # one character less would be too short, or shared with another page
        assert len(name) == pfindex.MIN_NAME or sum(d.startswith(name[:-1]) for d in digests) > 1
    assert max(map(len, names[:-3])) < 7  # Pagefind's own names have 7
    shuffled = list(reversed(digests))
    assert dict(zip(shuffled, pfindex.short_names(shuffled))) == dict(zip(digests, names))


def test_words_are_nfd_and_fragments_nfc(both):
    _, _, ours = both
    korean = [w for w in ours["words"] if "\u1100" <= w[0] <= "\u11ff"]
    assert korean and all(unicodedata.is_normalized("NFD", w) for w in korean)
    assert not any("\uac00" <= c <= "\ud7a3" for w in ours["words"] for c in w)  # no precomposed Hangul
    texts = [m["text"] for m in ours["meta"].values()]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts) and any("강화학습" in t for t in texts)


def test_chunk_ranges_cover_every_word_in_order(both):
    _, _, ours = both
    chunks = ours["chunks"]
    assert [c[0] for c in chunks] == sorted(c[0] for c in chunks)
    for first, second in zip(chunks, chunks[1:]):
        assert first[1] < second[0]  # the prefixes tell neighbouring chunks apart


def test_small_chunks_split_the_index(tmp_path, monkeypatch):
    monkeypatch.setattr(pfindex, "CHUNK", 300)
    records = records_of(SET)
    files = pfindex.runtime(executable(), tmp_path / "cache")
    pfindex.write_bundle(records, tmp_path / "ours", files, "ko")
    ours = decoded(tmp_path / "ours")
    assert len(ours["chunks"]) > 5
    words = sorted(ours["words"])
    for word in words[:: max(1, len(words) // 50)]:  # each word sits in the one chunk its range names
        holding = [c for c in ours["chunks"] if c[0] <= word[: len(c[0])] and word[: len(c[1])] <= c[1]]
        assert len(holding) >= 1


def test_a_common_word_has_a_chunk_of_its_own(tmp_path, monkeypatch):
    """A word whose page entries alone are a chunk's worth is the only word of its chunk: a search
    for it loads no other word's entries."""
    monkeypatch.setattr(pfindex, "CHUNK", 80)  # the fixture's most common words have 80 to 140 bytes of entries
    files = pfindex.runtime(executable(), tmp_path / "cache")
    pfindex.write_bundle(records_of(SET), tmp_path / "ours", files, "ko")
    alone = together = 0
    for _, _, name in decoded(tmp_path / "ours")["chunks"]:
        words = _read(tmp_path / "ours" / "index" / f"{name}.pf_index")[0]
        # a word's entries as the chunk holds them: the CBOR of its pages, less their array's head
        sizes = [len(cbor2.dumps(pages)) - len(cbor2.dumps([None] * len(pages))) + len(pages) for _, pages, _ in words]
        if len(words) > 1:
            assert max(sizes) < pfindex.CHUNK, [w for w, *_ in words]
            together += 1
        else:
            alone += sizes[0] >= pfindex.CHUNK
    assert alone >= 3 and together >= 3


def test_ranked_lengths_are_few_and_close_to_the_count():
    lengths = [pfindex.ranked_length(n) for n in range(1, 40000)]
    assert lengths[:15] == list(range(1, 16))  # exact below 16
    assert all(abs(length - n) <= 0.06 * n for n, length in enumerate(lengths, start=1))
    assert len(set(lengths)) < 110 and lengths == sorted(lengths)


def test_the_bundle_is_the_same_every_time(tmp_path):
    records = records_of(SET)
    files = pfindex.runtime(executable(), tmp_path / "cache")
    for name in ("a", "b"):
        pfindex.write_bundle(records, tmp_path / name, files, "ko")
    listing, again = _listing(tmp_path / "a"), _listing(tmp_path / "b")
    assert listing == again and any(name.startswith("index/") for name in listing)


def test_another_pagefind_format_is_refused(tmp_path):
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\n"
                    "if [ \"$1\" = --version ]; then echo 'pagefind 9.0.0'; exit 0; fi\n"
                    "while [ $# -gt 0 ]; do [ \"$1\" = --output-path ] && out=\"$2\"; shift; done\n"
                    "mkdir -p \"$out\"; echo '{\"version\":\"9.0.0\",\"languages\":{}}' > \"$out/pagefind-entry.json\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(BuildError, match=r"Pagefind 9\.0\.0 is installed, but digestgen writes the index format of Pagefind 1\.5"):
        pfindex.runtime(fake, tmp_path / "cache")
    assert not (tmp_path / "cache" / "pagefind-runtime-9.0.0").exists()


def test_the_runtime_is_written_once_per_version(tmp_path):
    first = pfindex.runtime(executable(), tmp_path / "cache")
    assert (first / "pagefind.js").exists() and list(first.glob("wasm.*"))
    os.utime(first / "pagefind.js", (1, 1))
    assert pfindex.runtime(executable(), tmp_path / "cache") == first
    assert (first / "pagefind.js").stat().st_mtime == 1  # kept, not written again


def test_punctuation_capitals_digits_and_symbols_as_pagefind(tmp_path):
    """Words that Pagefind also indexes by their parts, and words it does not split."""
    text = ("van 학습 LLMs TreeRL GPT-4o grpo·ppo on-policy Qwen2.5-7B model's AlphaGo iPhone (LLMs)은 e.g., 100% "
            "x→y α-β 3D gpt4o qwen25math15b Akyürek café 12k·example GPT4o 강화학습을(RL) 미세 조정")
    record = {"url": "/a/", "blocks": [[10, "Title: On-Device LLMs"], [1, text], [1, "Ashish Vaswani, Niki van Parmar"],
                                       [1, "#long-context #강화학습 #강화 학습 van"]],
              "meta": {"title": "Title: On-Device LLMs", "text": text + " aa bb aa", "week": "2025/07/21 ~ 27"},
              "filters": {}, "sort": {}}
    theirs = decoded(pagefind_bundle([record], tmp_path / "pagefind", executable(), meta=True))
    pfindex.write_bundle([record], tmp_path / "ours", pfindex.runtime(executable(), tmp_path / "cache"), "ko")
    ours = decoded(tmp_path / "ours")
    assert ours["words"] == theirs["words"] and ours["in_meta"] == theirs["in_meta"]
    assert {"tree", "rl", "ll", "ms", "grpo·ppo", "phone", "on", "policy"} <= set(ours["words"])


def test_slices_indexed_in_processes_give_the_same_bundle(tmp_path, monkeypatch):
    """A large site is indexed in slices, each in a spawned process, then merged: the bundle is
    byte for byte the one a single process writes, whether the records come as JSON, as dicts or
    compressed, as a build keeps them."""
    found = records_of(SET)
    records = [json.dumps(r).encode() for r in found]
    files = pfindex.runtime(executable(), tmp_path / "cache")
    pfindex.write_bundle(records, tmp_path / "one", files, "ko")
    pfindex.write_bundle(found, tmp_path / "dicts", files, "ko")
    monkeypatch.setattr(pfindex, "SLICE", 4)
    pfindex.write_bundle([search_records.encode(r) for r in found], tmp_path / "three", files, "ko", workers=3)

    one, three = _listing(tmp_path / "one"), _listing(tmp_path / "three")
    assert one == three == _listing(tmp_path / "dicts") and sum(name.startswith("fragment/") for name in one) == len(records)
    assert not list((tmp_path / "three").glob(".slice-*"))


def test_a_sliced_bundle_hands_its_records_to_job_files_before_it_is_written(tmp_path, monkeypatch):
    """A build prepares the search index before it renders the pages, and must not hold the records
    meanwhile: a sliced bundle's records are in its slices' job files, the index's lists of them are
    empty, and the bundle written from the files is the one a single process writes."""
    records = [search_records.encode(r) for r in records_of(SET)]  # compressed, as a build keeps them
    files = pfindex.runtime(executable(), tmp_path / "cache")
    pfindex.write_bundle(records, tmp_path / "one", files, "ko")
    monkeypatch.setattr(pfindex, "SLICE", 4)
    pending = pfindex.prepare(iter(records), tmp_path / "sliced", "ko", workers=2)
    assert pending.records == [] and len(pending.folders) >= 2
    jobs = [pickle.loads((folder / pfindex.JOB).read_bytes()) for folder in pending.folders]
    assert sorted(item for job in jobs for item in job[0]) == sorted(records)  # as given: still compressed
    pfindex.finish(pending, files)

    assert _listing(tmp_path / "one") == _listing(tmp_path / "sliced")

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    documents = {f"doc/{n}.json": data for n, data in enumerate(records)}
    indexer = search.Indexer(tmp_path, tmp_path / "site", {path: str(n) for n, path in enumerate(documents)}, dict(documents))
    try:
        assert indexer.documents == {} and indexer.pending.records == [] and len(indexer.pending.folders) >= 2
    finally:
        indexer.close()


def test_slices_are_planned_within_the_memory_budget():
    mb = 2**20
    # unbounded, a large site is still cut into slices of at most SLICE_MOST pages, a core's worth at a time
    assert pfindex.plan_slices(20000, 150 * mb, 2, None) == (4, 2)
    assert pfindex.plan_slices(10000, 75 * mb, 2, None) == (2, 2)
    assert pfindex.plan_slices(20000, 150 * mb, 2, 4000 * mb) == (4, 2)  # 2 x (200 + 262) MB fit
    assert pfindex.plan_slices(20000, 150 * mb, 4, None) == (4, 4)
    slices, at_once = pfindex.plan_slices(20000, 150 * mb, 2, 800 * mb)
    assert (slices, at_once) == (6, 2) and at_once * (200 + 7 * 150 / slices) <= 800
    assert pfindex.plan_slices(20000, 150 * mb, 2, 500 * mb) == (21, 2)  # both cores, smaller slices
    assert pfindex.plan_slices(20000, 150 * mb, 2, 400 * mb) == (6, 1)  # one at a time
    assert pfindex.plan_slices(20000, 150 * mb, 2, 10 * mb) == (40, 1)  # at worst: the smallest slices
    assert pfindex.plan_slices(100, 1 * mb, 2, 10 * mb) == (1, 1)  # too few to slice


def test_slices_run_one_at_a_time_in_a_small_budget_give_the_same_bundle(tmp_path, monkeypatch):
    records = [json.dumps(r).encode() for r in records_of(SET)]
    files = pfindex.runtime(executable(), tmp_path / "cache")
    pfindex.write_bundle(records, tmp_path / "one", files, "ko")
    size = sum(map(len, records))
    monkeypatch.setattr(pfindex, "SLICE", 5)  # slices of one record or more
    monkeypatch.setattr(pfindex, "SLICE_BASE", size)
    budget = size + 7 * size // 4 + 1  # four slices, one at a time
    assert pfindex.plan_slices(len(records), size, 2, budget) == (4, 1)
    pfindex.write_bundle(records, tmp_path / "small", files, "ko", workers=2, memory=budget)

    assert _listing(tmp_path / "one") == _listing(tmp_path / "small")


@pytest.mark.parametrize("batch", [1, 7, "all", "more"])
def test_a_slice_hands_over_its_words_in_order_and_in_batches(tmp_path, monkeypatch, batch):
    records = records_of(SET)
    index = pfindex.Index("ko", {name for record in records for name in record["meta"]})
    for record in records:
        index.add(record)
    words = len(index.entries)  # "all": the last batch is full; "more": one partial batch
    monkeypatch.setattr(pfindex, "ENTRY_BATCH", {"all": words, "more": words + 1}.get(batch, batch))
    expected = {word: (index.counts[word], index.last[word], bytes(data)) for word, data in index.entries.items()}
    part = index.export(tmp_path)
    read = list(pfindex._read_entries(part["entries"], 3))
    assert len(read) == len(expected) > 100
    assert [word for word, *_ in read] == sorted(expected)
    assert all(number == 3 and expected[word] == (count, end, data) for word, number, count, end, data in read)


def test_a_failing_slice_is_a_build_error(tmp_path):
    folder = tmp_path / ".slice-0"
    pfindex._write_job(folder, ([b"{not json"], 0, "ko", ["title"], None, str(folder)))
    with pytest.raises(BuildError, match="indexing a slice of the search index failed: .*JSONDecodeError"):
        pfindex._in_process(folder)


def test_a_metadata_field_the_index_does_not_know_is_a_build_error(tmp_path):
    record = {"url": "/a/", "blocks": [[1, "word"]], "meta": {"title": "x", "colour": "blue"}, "filters": {}, "sort": {}}
    files = pfindex.runtime(executable(), tmp_path / "cache")
    with pytest.raises(BuildError, match=r"search record /a/: metadata field 'colour' is not one of \['title'\]"):
        pfindex.write_bundle([record], tmp_path / "ours", files, "ko", fields=["title"])
