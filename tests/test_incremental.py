"""Incremental builds re-render only the pages whose inputs changed and rewrite only changed
files. The differential test here applies a sequence of editors' changes to a generated
repository and, after each, compares the incrementally built site, byte for byte, with a cold
build of the same content: a dependency missing from `Renderer.task_key` shows up as a stale page.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import shutil
import signal
import zlib

import pytest

import synth
from conftest import tree
from digestgen.pipeline import build, cache, content, manifest, output
from digestgen import config
from digestgen.pipeline.digest import CachedView
from digestgen.pipeline.render import renderer

BASE_URL = "https://example.org/d/"


def _build(root, out, *, search=False):
    settings = config.load(root, {"base_url": BASE_URL})
    return build.build(root, out, settings, search=search)


def _cold(root, tmp_path, name):
    """The site a fresh checkout of `root` builds (no caches, no previous output)."""
    copy = tmp_path / f"cold-{name}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".digestgen", "site"))
    _build(copy, copy / "site")
    return _site(copy / "site")


def _site(out):
    files = tree(out)
    files.pop(output.MARKER)
    return files


def _paper(root, pid):
    return root / "papers" / f"{pid}.yaml"


def _replace(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _issue(root, day):
    return root / "digests" / f"{day}.md"


def _edits(ids):
    """(name, change) pairs, applied in order to a repository of 50 papers in five weeks."""
    first, second, last = "2024-01-01", "2024-01-08", "2024-01-29"

    def title(root):  # shown on its page, its issue, its neighbours, its tags, feeds
        _replace(_paper(root, ids[13]), "title:\n  ko: ", "title:\n  ko: 고친제목 ")

    def summary(root):
        _replace(_paper(root, ids[45]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    새 문단입니다.\n\n")

    def tags(root):  # a new tag, and one tag fewer
        _replace(_paper(root, ids[7]), "tags: [", "tags: [brand-new-tag, ")
        text = _paper(root, ids[8]).read_text(encoding="utf-8")
        kept = re.search(r"tags: \[([^\]]*)\]", text)[1].split(", ")[0]
        _paper(root, ids[8]).write_text(re.sub(r"tags: \[[^\]]*\]", f"tags: [{kept}]", text), encoding="utf-8")

    def intro(root):  # an issue's intro and title
        _replace(_issue(root, second), "---\n", '---\ntitle: "고친 호 제목"\n', 1)
        _replace(_issue(root, second), "---\n", "---\n", 1)
        text = _issue(root, second).read_text(encoding="utf-8")
        _issue(root, second).write_text(text + "\n덧붙인 문단입니다.\n", encoding="utf-8")

    def move(root):  # a paper moves from the first issue to the last
        _replace(_issue(root, first), f'  - "{ids[4]}"\n', "")
        _replace(_issue(root, last), f'  - "{ids[40]}"\n', f'  - "{ids[40]}"\n  - "{ids[4]}"\n')

    def new_issue(root):  # the weekly flow: new papers, a new issue
        writer = synth.Writer(seed=99)
        new = [f"2402.2000{n}" for n in range(3)]
        for pid in new:
            _paper(root, pid).write_text(writer.paper(pid), encoding="utf-8")
        listed = "".join(f'  - "{pid}"\n' for pid in new)
        _issue(root, "2024-02-05").write_text(f"---\npapers:\n{listed}---\n{writer.korean(40)}\n", encoding="utf-8")

    def delete(root):  # a paper is dropped from its issue and deleted
        _replace(_issue(root, second), f'  - "{ids[15]}"\n', "")
        _paper(root, ids[15]).unlink()

    def draft(root):  # the newest issue goes back to draft: home, archive, feeds change
        _replace(_issue(root, "2024-02-05"), "---\npapers:", "---\ndraft: true\npapers:")

    def touch(root):  # a save without a change
        _paper(root, ids[20]).touch()

    def figure(root):  # local figures: one in figures/, one elsewhere in the repository
        (root / "figures").mkdir()
        (root / "img").mkdir()
        (root / "figures" / "a.png").write_bytes(png(10, 20))
        (root / "img" / "b.png").write_bytes(png(30, 40))
        text = _paper(root, ids[30]).read_text(encoding="utf-8")
        assert "figures:" not in text
        _paper(root, ids[30]).write_text(text + "figures:\n  - src: figures/a.png\n    alt: 그림\n"
                                          "  - src: img/b.png\n    alt: 다른 그림\n", encoding="utf-8")

    def figure_file(root):  # the image changes, the record does not
        (root / "figures" / "a.png").write_bytes(png(11, 20))

    def figure_elsewhere(root):
        (root / "img" / "b.png").write_bytes(png(31, 41))

    def settings(root):
        (root / "digestgen.toml").write_text('title = "다른 제목"\n', encoding="utf-8")

    def template(root):  # an overridden template may show anything: everything is rendered
        (root / "templates").mkdir()
        (root / "templates" / "404.html").write_text("{% extends 'base.html' %}{% block main %}없음{% endblock %}")

    def template_again(root):  # its compiled code, kept from the last build, is not used again
        (root / "templates" / "404.html").write_text("{% extends 'base.html' %}{% block main %}다시 없음{% endblock %}")

    return [title, summary, tags, intro, move, new_issue, delete, draft, touch, figure, figure_file,
            figure_elsewhere, settings, template, template_again]


def png(width: int, height: int) -> bytes:
    """A tiny valid PNG of the given size (one grey colour)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_incremental_builds_equal_cold_builds(tmp_path):
    root = tmp_path / "repo"
    ids = synth.generate(root, 50, start=dt.date(2024, 1, 1))
    out = root / "site"
    report = _build(root, out)
    assert report.rendered > 60  # the first build renders every page (50 papers, 5 issues, tags...)
    for edit in _edits(ids):
        edit(root)
        report = _build(root, out)
        assert _site(out) == _cold(root, tmp_path, edit.__name__), f"stale pages after '{edit.__name__}'"
        if edit.__name__ in ("title", "summary"):
            assert report.rendered < 20, (edit.__name__, report.rendered)  # not the whole site
        if edit.__name__ == "touch":
            assert report.written == 0
        if edit.__name__.startswith("figure"):
            page = (out / "papers" / ids[30] / "index.html").read_text(encoding="utf-8")
            assert re.search(r'src="/d/figures/a\.[0-9a-f]{10}\.png" alt="그림" width="1[01]" height="20"', page)
            assert report.written > 0 and not report.up_to_date, edit.__name__


def test_the_first_issue_puts_the_feeds_in_every_page(tmp_path):
    """Every page links the site's feeds once there are any: a page whose own key is unchanged
    (the 404 page) gets the links too."""
    root = tmp_path / "repo"
    synth.generate(root, 20, start=dt.date(2024, 1, 1))
    issues = sorted((root / "digests").glob("*.md"))
    for issue in issues:
        _replace(issue, "---\npapers:", "---\ndraft: true\npapers:")
    out = root / "site"
    _build(root, out)
    assert "feed.xml" not in (out / "404.html").read_text(encoding="utf-8")
    _replace(issues[0], "draft: true\n", "")
    _build(root, out)
    assert "feed.xml" in (out / "404.html").read_text(encoding="utf-8")
    assert _site(out) == _cold(root, tmp_path, "first-issue")


def test_an_edit_renders_and_writes_only_what_shows_it(tmp_path):
    root = tmp_path / "repo"
    ids = synth.generate(root, 50, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out)
    before = {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    _replace(_paper(root, ids[25]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    report = _build(root, out)
    after = {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    rewritten = sorted(p for p in after if before.get(p) != after[p] and p != output.MARKER)
    assert f"papers/{ids[25]}/index.html" in rewritten and "issues/2024-01-15/index.html" in rewritten
    assert f"papers/{ids[10]}/index.html" not in rewritten  # another issue's paper is left alone
    assert len(rewritten) == report.written < 15, rewritten
    assert report.rendered < 15  # of about 80 pages


def _keyed(monkeypatch) -> list:
    """The tasks the builds from now on compute dependency keys for."""
    from digestgen.pipeline.render import Renderer

    keyed, real = [], Renderer.task_key
    monkeypatch.setattr(Renderer, "task_key", lambda self, task, token: keyed.append(task) or real(self, task, token))
    return keyed


def test_an_edit_of_texts_keys_only_the_tasks_that_show_them(tmp_path, monkeypatch):
    """A paper's summary or an issue's intro changes only the pages that name the paper or the
    issue (see `depends`): only their keys are computed again. A changed title is shown in lists
    that do not name the paper, and a moved paper changes which pages exist: every task is keyed."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 50, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out)
    keyed = _keyed(monkeypatch)
    _replace(_paper(root, ids[25]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    report = _build(root, out)
    assert ("paper", ids[25]) in keyed and ("issue", "2024-01-15") in keyed
    assert ("paper", ids[24]) in keyed and ("paper", ids[26]) in keyed  # its neighbours show its title
    assert ("paper", ids[10]) not in keyed and ("papers", "") not in keyed
    assert 5 < len(keyed) < 20 and report.rendered == len(keyed) + 1  # and the search page
    assert _site(out) == _cold(root, tmp_path, "summary")
    keyed.clear()
    _replace(_issue(root, "2024-01-08"), "---\n", '---\ntitle: "고친 호 제목"\n', 1)
    _build(root, out)
    assert ("issue", "2024-01-08") in keyed and ("issue", "2024-01-15") in keyed  # the next issue links it
    assert ("paper", ids[12]) in keyed and ("paper", ids[30]) not in keyed and len(keyed) < 35
    assert _site(out) == _cold(root, tmp_path, "intro")
    keyed.clear()
    _replace(_paper(root, ids[40]), "title:\n  ko: ", "title:\n  ko: 고친제목 ")
    _build(root, out)
    assert ("papers", "") in keyed and len(keyed) > 90  # every task (50 papers, 5 issues...): lists show titles
    assert _site(out) == _cold(root, tmp_path, "title")


def test_an_edit_is_judged_against_the_build_of_the_same_output(tmp_path, monkeypatch):
    """A preview built into another folder reads the edited files first (and caches them): the
    next build of the site still sees that the title changed since that site was built."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 50, start=dt.date(2024, 1, 1))
    out, preview = root / "site", tmp_path / "preview"
    _build(root, out)
    _replace(_paper(root, ids[25]), "title:\n  ko: ", "title:\n  ko: 고친제목 ")
    _build(root, preview)
    _replace(_paper(root, ids[25]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, preview)  # here, only the summary changed
    keyed = _keyed(monkeypatch)
    _build(root, out)
    assert ("papers", "") in keyed  # the site's list of papers shows the old title
    assert _site(out) == _cold(root, tmp_path, "other-folder") == _site(preview)


def test_a_record_read_again_for_its_figure_is_keyed_again(tmp_path):
    """A record is read again when one of its local figures changed; for a figure outside the
    watched folders, the input stamps know only those the last build, of any output, used. Here a
    paper of a draft issue (shown only by a preview built with drafts) has one: the site's build in
    between leaves it out of that list, and the preview's next build sees only another paper's
    edit. The record read again is keyed all the same."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 20, start=dt.date(2024, 1, 1))
    _replace(_issue(root, "2024-01-08"), "---\npapers:", "---\ndraft: true\npapers:")
    shown = next(pid for pid in ids if f'"{pid}"' in _issue(root, "2024-01-08").read_text(encoding="utf-8"))
    (root / "img").mkdir()
    (root / "img" / "d.png").write_bytes(png(10, 20))
    paper = _paper(root, shown)
    paper.write_text(paper.read_text(encoding="utf-8") + "figures:\n  - src: img/d.png\n    alt: 그림\n",
                     encoding="utf-8")
    settings = config.load(root, {"base_url": BASE_URL})
    site, preview = root / "site", tmp_path / "preview"
    build.build(root, site, settings, search=False)
    build.build(root, preview, settings, drafts=True, search=False)
    build.build(root, site, settings, search=False)  # lists the figures of its own papers only
    (root / "img" / "d.png").write_bytes(png(11, 20))
    _replace(_paper(root, ids[0]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    build.build(root, preview, settings, drafts=True, search=False)
    copy = tmp_path / "cold-drafts"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".digestgen", "site"))
    build.build(copy, copy / "preview", settings, drafts=True, search=False)
    page = (preview / "papers" / shown / "index.html").read_text(encoding="utf-8")
    assert 'width="11"' in page
    assert _site(preview) == _site(copy / "preview")


def _built_with_manifest(tmp_path):
    """A built repository of 50 papers: (root, ids, out, the build's report, the manifest's folder)."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 50, start=dt.date(2024, 1, 1))
    out = root / "site"
    first = _build(root, out)
    return root, ids, out, first, cache.for_output(root, out, "pages")


def test_an_edit_writes_only_the_manifest_shards_it_changes(tmp_path):
    root, ids, out, first, folder = _built_with_manifest(tmp_path)
    before = set(os.listdir(folder))
    assert len(before) == manifest.SHARDS + 2  # and the index and the dependencies
    _replace(_paper(root, ids[25]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, out)
    after = set(os.listdir(folder))
    written = after - before
    assert len(after) == manifest.SHARDS + 2 and 0 < len(written) < manifest.SHARDS // 4, written
    _replace(_paper(root, ids[30]), "title:\n  ko: ", "title:\n  ko: 고친제목 ")  # a build from the shards
    report = _build(root, out)
    assert report.rendered < 20 and _site(out) == _cold(root, tmp_path, "shards")
    (folder / sorted(set(os.listdir(folder)) - {manifest.INDEX})[0]).unlink()  # a shard lost: all rendered again
    _replace(_paper(root, ids[31]), "title:\n  ko: ", "title:\n  ko: 또고친 ")
    report = _build(root, out)
    assert report.rendered == first.rendered and _site(out) == _cold(root, tmp_path, "lost")
    assert len(os.listdir(folder)) == manifest.SHARDS + 2


def test_a_deleted_paper_leaves_the_manifest(tmp_path):
    """A paper deleted (and dropped from its issue) leaves no task and no file in the manifest as
    saved, so that the next edit builds on it: only the pages that show the edited paper."""
    root, ids, out, _, folder = _built_with_manifest(tmp_path)
    gone = ids[20]
    issue = next(path for path in (root / "digests").glob("*.md") if f'"{gone}"' in path.read_text(encoding="utf-8"))
    _replace(issue, f'  - "{gone}"\n', "")
    _paper(root, gone).unlink()
    _build(root, out)
    with open(folder / manifest.INDEX, "rb") as handle:
        names = pickle.load(handle)[3]
    tasks, pages = {}, {}
    for name in names:
        with open(folder / name, "rb") as handle:
            part = pickle.load(handle)
        tasks.update(part[0])
        pages.update(part[1])
    assert manifest.Task("paper", gone) not in tasks and not [path for path in pages if gone in path]
    assert manifest.Task("paper", ids[21]) in tasks and f"papers/{ids[21]}/index.html" in pages
    _replace(_paper(root, ids[30]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    report = _build(root, out)
    assert report.rendered < 20 and _site(out) == _cold(root, tmp_path, "deleted")


def test_a_carried_manifest_gives_a_task_rendered_again_only_its_new_files():
    """A build with the last build's tasks starts its manifest from the last one (`carry`): a
    task rendered again replaces its files, and the files made outside the tasks are left for
    the build to add again."""
    Stored, Task = manifest.Stored, manifest.Task
    last = manifest.Manifest(extras=["sitemap.xml"])
    last.record(Task("paper", "a"), ("k1",), {"papers/a/index.html": Stored("h1"), "papers/a/a.bib": Stored("h2")})
    last.record(Task("paper", "b"), ("k2",), {"papers/b/index.html": Stored("h3")})
    last.record(Task("doc-paper", "a"), ("k3",), {"search/a.json": Stored("h4")}, documents=True)
    last.pages["sitemap.xml"] = Stored("h5")
    following = manifest.Manifest()
    following.carry(last)
    following.record(Task("paper", "a"), ("k1'",), {"papers/a/index.html": Stored("h6")})
    following.record(Task("doc-paper", "a"), ("k3'",), {"search/a2.json": Stored("h7")}, documents=True)
    assert following.pages == {"papers/a/index.html": Stored("h6"), "papers/b/index.html": Stored("h3")}
    assert following.documents == {"search/a2.json": "h7"}
    assert following.tasks[Task("paper", "b")] is last.tasks[Task("paper", "b")]  # kept as it was
    assert "papers/a/a.bib" in last.pages and last.tasks[Task("paper", "a")].key == manifest.digest(("k1",))  # the last one untouched


def test_a_key_digest_follows_the_value_not_the_objects():
    """The manifest keeps a digest of each task's key: equal keys give the same digest whatever
    their objects (copies, strings interned or not), and keys that differ in any part, or only in
    a value's type, give different ones."""
    kind, name = "".join(["pa", "per"]), "".join(["2507", ".16075"])  # noqa: FLY002 (made at run time: not interned)
    key = ("paper", ("2507.16075", (1200, 17)), ((b"\x01", 1), None))
    same = (kind, (name, (1200, 17)), ((b"\x01", 1), None))
    assert kind is not key[0] and name is not key[1][0] and manifest.digest(key) == manifest.digest(same)
    others = [("paper", ("2507.16075", (1200, 18)), ((b"\x01", 1), None)),
              ("paper", ("2507.16075", (1200, 17)), ((b"\x02", 1), None)),
              ("paper", ("2507.16075", (1200, 17)), (("\x01", 1), None)),
              ("paper", ("2507.16075", (1200, 17)), ((b"\x01", True), None)),
              ("paper", ("2507.16075", (1200, 17)), ((b"\x01", 1),)),
              ("issue", ("2507.16075", (1200, 17)), ((b"\x01", 1), None))]
    assert len({manifest.digest(k) for k in [key, *others]}) == len(others) + 1
    assert manifest.digest(None) is None and manifest.digest(("x", dt.date(2025, 7, 21))) != manifest.digest(("x", "2025-07-21"))


def test_a_torn_manifest_shard_is_written_again(tmp_path):
    """A shard file an OS crash left empty under its name is not taken for the shard of that name."""
    root, ids, out, first, folder = _built_with_manifest(tmp_path)
    path = f"papers/{ids[40]}/index.html"  # a page the edit below leaves as it is
    shard = next(name for name in os.listdir(folder) if name.startswith(f"{manifest._shard(path):03d}-"))
    (folder / shard).write_bytes(b"")
    _replace(_paper(root, ids[3]), "title:\n  ko: ", "title:\n  ko: 고친제목 ")
    report = _build(root, out)
    assert report.rendered == first.rendered  # the manifest could not be read: everything rendered
    assert shard in os.listdir(folder) and (folder / shard).stat().st_size > 0  # the same shard, written again
    _replace(_paper(root, ids[4]), "title:\n  ko: ", "title:\n  ko: 또고친 ")
    assert _build(root, out).rendered < 20  # and the next build builds on it


def test_an_edit_reads_only_the_fields_of_the_papers_its_pages_show(tmp_path, monkeypatch):
    """A cached paper's fields other than those that lay out the site (its title, tldr, links,
    authors; its summary and abstract) stay in the cache until a page shows them."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 250, start=dt.date(2024, 1, 1))  # the oldest week is in no feed
    out = root / "site"
    _build(root, out)
    blobs = {pickle.loads(shard.read_bytes())[2] for shard in (root / cache.CACHE_DIR / "records").glob("[0-9]*[0-9].pickle")}
    texts, light, loads = set(), set(), []
    real_texts, real_light, real_loads = cache.RecordCache.long_texts, cache.RecordCache.light, cache.pickle.loads
    monkeypatch.setattr(cache.RecordCache, "long_texts", lambda self, rel: texts.add(rel) or real_texts(self, rel))
    monkeypatch.setattr(cache.RecordCache, "light", lambda self, rel: light.add(rel) or real_light(self, rel))
    monkeypatch.setattr(cache.pickle, "loads", lambda data: loads.append(data) or real_loads(data))
    _replace(_paper(root, ids[2]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, out)
    for read in (texts, light):
        assert f"papers/{ids[3]}.yaml" in read  # its neighbour in the issue page
        assert f"papers/{ids[2]}.yaml" not in read  # read from its file, not from the cache
        assert 0 < len(read) < 25, sorted(read)  # of 250
    unpickled = [data for data in loads if data in blobs]  # the shards' light fields
    assert len(unpickled) == len(set(unpickled))  # each shard's once, when first used
    assert 0 < len(unpickled) <= len({cache.RecordCache(root, None)._shard(rel) for rel in light})
    assert _site(out) == _cold(root, tmp_path, "texts")


def test_lost_or_damaged_long_texts_are_read_again(tmp_path):
    from digestgen.errors import BuildError

    root, ids, out, first, _ = _built_with_manifest(tmp_path)
    records = root / cache.CACHE_DIR / "records"

    def texts_of(pid):
        shard = zlib.crc32(f"papers/{pid}.yaml".encode()) % cache.RecordCache.SHARDS
        return next(records.glob(f"{shard:03d}-*.texts.pickle"))

    texts_of(ids[3]).unlink()  # lost: those papers are read from their files again
    _replace(_paper(root, ids[2]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, out)
    assert _site(out) == _cold(root, tmp_path, "lost")
    texts_of(ids[3]).write_bytes(b"\x80")  # torn: the build stops, names it, and clears it
    _replace(_paper(root, ids[2]), "바뀐 문장입니다.", "또 바뀐 문장입니다.")
    with pytest.raises(BuildError, match=r"the build cache was damaged \(\.digestgen/records/\d{3}-.*: build again"):
        _build(root, out)
    _build(root, out)
    assert _site(out) == _cold(root, tmp_path, "torn")


def test_the_texts_an_earlier_version_names_stay_while_it_may_read_them(tmp_path):
    """A shard written by an earlier version (another header, and the layout of `records-3`,
    without light fields) is read again, but the texts file it names stays: a `serve` of that
    version may still be running."""
    root, ids, out, _, _ = _built_with_manifest(tmp_path)
    records = root / cache.CACHE_DIR / "records"
    rel = f"papers/{ids[2]}.yaml"
    shard = records / f"{zlib.crc32(rel.encode()) % cache.RecordCache.SHARDS:03d}.pickle"
    _, entries, _, texts = pickle.loads(shard.read_bytes())
    earlier = f"{shard.stem}-0123456789abcdef.texts.pickle"  # the texts file that version wrote
    shutil.copyfile(records / texts, records / earlier)
    shard.write_bytes(pickle.dumps(("records-3|0.0.9|earlier", entries, earlier)))
    os.utime(records / earlier, (0, 0))  # named by no shard of this version for long past `GRACE`
    settings = config.load(root, {"base_url": BASE_URL})
    loaded = build.record_cache(root, settings, cache.stamps(root))
    assert rel not in loaded.entries  # read again from its file
    _replace(_paper(root, ids[40]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, out)
    assert (records / earlier).exists()
    assert _site(out) == _cold(root, tmp_path, "earlier")


def test_replaced_long_texts_stay_while_another_build_may_read_them(tmp_path, monkeypatch):
    """`serve` and `build` share the record cache: a texts file that a save replaces stays for
    `RecordCache.GRACE` seconds, so that a build which loaded the cache before can still read it."""
    root, ids, out, first, _ = _built_with_manifest(tmp_path)
    records = root / cache.CACHE_DIR / "records"
    earlier = build.record_cache(root, config.load(root, {"base_url": BASE_URL}), cache.stamps(root))  # a build started before
    rel = f"papers/{ids[2]}.yaml"
    before = set(records.glob("*.texts.pickle"))
    _replace(_paper(root, ids[2]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, out)
    replaced = before - set(records.glob("*.texts.pickle"))
    assert replaced == set() and len(set(records.glob("*.texts.pickle")) - before) == 1  # the old one stays
    assert "바뀐" not in str(earlier.long_texts(rel)[0])  # the earlier build still reads what it loaded
    monkeypatch.setattr(cache.RecordCache, "GRACE", 0)
    _replace(_paper(root, ids[40]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    또 바뀐 문장입니다.\n\n")
    _build(root, out)
    named = set()
    for shard in records.glob("[0-9][0-9][0-9].pickle"):
        with open(shard, "rb") as handle:
            named.add(cache.unpickle(handle)[-1])  # (the texts file it names)
    assert {path.name for path in records.glob("*.texts.pickle")} == named - {""}  # the unnamed ones went
    assert _site(out) == _cold(root, tmp_path, "texts")


def test_builds_leave_the_collector_on_and_nothing_frozen(tmp_path):
    import gc

    from digestgen.errors import ContentError

    root = tmp_path / "repo"
    ids = synth.generate(root, 30, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out, search=True)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    _replace(_paper(root, ids[3]), "title:\n  ko: ", "title: [\n  ko: ")
    with pytest.raises(ContentError):
        _build(root, out)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    _replace(_paper(root, ids[3]), "title: [\n  ko: ", "title:\n  ko: ")
    build.check_internal_links(root, config.load(root, {"base_url": BASE_URL}))
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_lists_of_papers_are_rendered_again_only_when_what_they_list_changes(tmp_path, monkeypatch):
    """/papers/ and the tag pages show each paper's title and week: an edit of its texts leaves
    them alone (at 10,000 papers /papers/ alone took 1.7 s of an edit), an edit of its title does not."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 50, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out)
    rendered = []
    real = build.render_tasks

    def spy(site, tasks, *args, **kwargs):
        rendered.extend(tasks)
        return real(site, tasks, *args, **kwargs)

    monkeypatch.setattr(build, "render_tasks", spy)
    _replace(_paper(root, ids[25]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    _build(root, out)
    kinds = {task.kind for task in rendered}
    assert "paper" in kinds and "issue" in kinds and not kinds & {"papers", "tag", "archive"}, kinds
    rendered.clear()
    _replace(_paper(root, ids[25]), "title:\n  ko: ", "title:\n  ko: 고친제목 ")
    _build(root, out)
    assert {"papers", "tag"} <= {task.kind for task in rendered} and "archive" not in {task.kind for task in rendered}
    assert "고친제목" in (out / "papers" / "index.html").read_text(encoding="utf-8")
    rendered.clear()
    _replace(_issue(root, "2024-01-15"), "---\npapers:", "---\ntitle: 고친호제목\npapers:")  # the archive lists the titles
    _build(root, out)
    assert "archive" in {task.kind for task in rendered}
    assert "고친호제목" in (out / "archive" / "index.html").read_text(encoding="utf-8")


def test_search_documents_from_the_cache_are_the_current_ones(tmp_path):
    root = tmp_path / "repo"
    ids = synth.generate(root, 30, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out, search=True)
    _replace(_paper(root, ids[5]), "title:\n  ko: ", "title:\n  ko: 검색문서 ")
    _replace(_issue(root, "2024-01-08"), "---\npapers:", '---\ntitle: "제목 바뀐 호"\npapers:')
    _replace(_issue(root, "2024-01-01"), f'  - "{ids[2]}"\n', "")  # a paper moves: its week changes
    _replace(_issue(root, "2024-01-15"), "papers:\n", f'papers:\n  - "{ids[2]}"\n')
    report = _build(root, out, search=True)
    assert report.search_delta >= 2
    folder = cache.for_output(root, out, "pages")  # the manifest's shards, as the build saved them
    with open(folder / "index.pickle", "rb") as handle:
        names = pickle.load(handle)[3]  # (header, late context, stamp, names, ...)
    cached = {}
    for name in names:
        with open(folder / name, "rb") as handle:
            cached.update(pickle.load(handle)[2])
    settings = config.load(root, {"base_url": BASE_URL})
    digest, _ = build.load(root, settings)
    site = renderer(root, settings, digest)
    cold = build.render_tasks(site, site.document_tasks())  # as a cold build renders them
    expected = {path: file.stored.hash for files in cold.values() for path, file in files.items()}
    assert cached == expected and len(cached) > 30


@pytest.mark.parametrize("forked", [False, True])
def test_a_killed_update_or_a_changed_output_means_a_fresh_folder(tmp_path, monkeypatch, forked):
    """(`forked`: the output's files are looked up by a process of its own, as for a large site.)"""
    monkeypatch.setattr(manifest.Present, "FORK", 1 if forked else 10**9)
    root = tmp_path / "repo"
    ids = synth.generate(root, 30, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out)
    (out / output.MARKER).write_text(output.UPDATING)  # as a build killed while renaming leaves it
    _replace(_paper(root, ids[3]), "title:\n  ko: ", "title:\n  ko: 하나 ")
    report = _build(root, out)
    assert report.rendered > 30 and _site(out) == _cold(root, tmp_path, "killed")
    (out / f"papers/{ids[9]}/index.html").unlink()  # someone deleted a page by hand
    _replace(_paper(root, ids[3]), "하나 ", "둘 ")
    report = _build(root, out)
    assert report.rendered > 30 and _site(out) == _cold(root, tmp_path, "deleted")
    _replace(_paper(root, ids[3]), "둘 ", "셋 ")  # all there: only the pages that show the paper
    report = _build(root, out)
    assert report.rendered < 30 and _site(out) == _cold(root, tmp_path, "all there")
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no process of the look-up is left behind


def test_the_look_up_of_the_output_answers_when_its_process_cannot_be_waited_for(tmp_path, monkeypatch):
    """A process started with SIGCHLD ignored has its children reaped for it: the look-up of the
    output's files then answers in the build's own process."""
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "index.html").write_text("x")
    monkeypatch.setattr(manifest.Present, "FORK", 1)
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert manifest.Present(out, {"a/index.html": None})() is True
        assert manifest.Present(out, {"a/index.html": None, "b/index.html": None})() is False
    finally:
        signal.signal(signal.SIGCHLD, before)


def test_a_full_disk_during_an_update_leaves_the_site(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    ids = synth.generate(root, 30, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out)
    before = tree(out)

    def full(folder, files):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "write_tree", full)
    _replace(_paper(root, ids[3]), "title:\n  ko: ", "title:\n  ko: 가득 ")
    with pytest.raises(Exception, match="No space left"):
        _build(root, out)
    assert tree(out) == before
    monkeypatch.undo()
    report = _build(root, out)
    assert report.rendered < 20 and _site(out) == _cold(root, tmp_path, "after-full")  # still incremental


def test_kept_pages_are_link_checked_again_when_their_targets_change(tmp_path):
    root = tmp_path / "repo"
    ids = synth.generate(root, 30, start=dt.date(2024, 1, 1))
    out = root / "site"
    linking = _paper(root, ids[3])
    _replace(linking, "summary:\n  ko: |\n", f"summary:\n  ko: |\n    [관련 논문](../{ids[25]}/)과 [새 논문](../2402.20000/)을 보세요.\n\n")
    report = _build(root, out)
    assert [w.message for w in report.warnings] == ["broken link ../2402.20000/ (no such page)"]
    page = out / f"papers/{ids[3]}/index.html"
    inode = page.stat().st_ino

    writer = synth.Writer(seed=5)  # the missing paper arrives; the linking page itself is not re-rendered
    _paper(root, "2402.20000").write_text(writer.paper("2402.20000"), encoding="utf-8")
    _replace(_issue(root, "2024-01-15"), "papers:\n", 'papers:\n  - "2402.20000"\n')
    report = _build(root, out)
    assert report.warnings == [] and page.stat().st_ino == inode

    _replace(_issue(root, "2024-01-15"), f'  - "{ids[25]}"\n', "")  # the other target goes away
    _paper(root, ids[25]).unlink()
    report = _build(root, out)
    assert [(w.path, w.message) for w in report.warnings] == [
        (f"papers/{ids[3]}.yaml", f"broken link ../{ids[25]}/ (no such page)")]
    assert page.stat().st_ino == inode  # found by checking the kept page again, not by rendering it


def _fresh_checkout(root, copy, when):
    """A copy of `root` as a fresh checkout with the last build's caches restored (as CI restores
    `.digestgen/` and `site/`): the same bytes, but every file with a new mtime."""
    shutil.copytree(root, copy, copy_function=shutil.copyfile)
    for path in copy.rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))


def test_a_fresh_checkout_with_the_last_builds_caches_builds_like_the_repository(tmp_path):
    """CI builds each push in a fresh checkout, where every file has a new mtime; with the last
    run's `.digestgen/` and `site/` restored, it builds like the editor's own repository: nothing
    when nothing changed, and an edit renders, writes and indexes what it does there, to the same
    bytes. A paper with local figures (in figures/ and elsewhere) is not read again either."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 40, start=dt.date(2024, 1, 1))
    (root / "figures").mkdir()
    (root / "img").mkdir()
    (root / "figures" / "a.png").write_bytes(png(10, 20))
    (root / "img" / "b.png").write_bytes(png(30, 40))
    _replace(_paper(root, ids[5]), "summary:\n", "figures:\n  - src: figures/a.png\n    alt: 그림\n"
                                   "  - src: img/b.png\n    alt: 다른 그림\nsummary:\n")
    _build(root, root / "site", search=True)
    _build(root, root / "site", search=True)  # (the first learns of the figure outside figures/)
    copy = tmp_path / "checkout"
    _fresh_checkout(root, copy, (root / "papers").stat().st_mtime + 3600)
    assert cache.stamps(copy)["papers/" + f"{ids[5]}.yaml"] != cache.stamps(root)["papers/" + f"{ids[5]}.yaml"]
    assert _build(copy, copy / "site", search=True).up_to_date
    plans = [build.make_plan(repository, repository / "site", config.load(repository, {"base_url": BASE_URL}),
                             build.Options(force=True), lambda text: None) for repository in (root, copy)]
    assert len(plans[1].stale) == len(plans[0].stale) < 2  # no more is rendered again than there (the tag index),
    read = [view for view in plans[1].site.digest.papers.values() if type(view) is not CachedView]
    assert read == []  # and no record is read again: each comes from the record cache
    for repository in (root, copy):
        _replace(_paper(repository, ids[5]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    edited, checked = _build(root, root / "site", search=True), _build(copy, copy / "site", search=True)
    assert checked.rendered == edited.rendered < 15 and checked.written == edited.written
    assert checked.search_reused and checked.search_delta == edited.search_delta == 1
    assert _site(copy / "site") == _site(root / "site")


def test_a_file_saved_with_the_same_bytes_keeps_its_stamp_and_a_changed_one_never_gets_it_back(tmp_path):
    """`cache.Identities`: a new mtime with the same bytes keeps the settled stamp; new bytes get
    the new stamp; and a file that changes between the build's hash of it and the end of the build
    (what it hashed may not be what it read) is forgotten, so that its old stamp, which the caches
    tie to the old bytes, never comes back for other bytes, even the old ones written again."""
    root = tmp_path
    paper = root / "papers" / "a.yaml"
    paper.parent.mkdir()
    paper.write_bytes(b"title: one\n")
    first = cache.Identities(root, cache.stamps(root))
    first.save()
    os.utime(paper, ns=(paper.stat().st_mtime_ns + 10**9,) * 2)
    again = cache.Identities(root, cache.stamps(root))
    assert again.tokens == first.tokens and again.hashed  # read, and found the same
    again.save()
    quiet = cache.Identities(root, cache.stamps(root))
    assert quiet.tokens == first.tokens and not quiet.hashed  # the new mtime is known now: not read
    paper.write_bytes(b"title: two\n")  # the same size, other bytes
    os.utime(paper, ns=(paper.stat().st_mtime_ns + 2 * 10**9,) * 2)
    changed = cache.Identities(root, cache.stamps(root))
    assert changed.tokens["papers/a.yaml"] == cache.stamp(paper) != first.tokens["papers/a.yaml"]
    changed.save()
    now = paper.stat().st_mtime_ns
    paper.write_bytes(b"title: one\n")  # the first bytes again: a new stamp, not the old one (not kept)
    os.utime(paper, ns=(now + 10**9,) * 2)
    back = cache.Identities(root, cache.stamps(root))
    assert back.tokens["papers/a.yaml"] == cache.stamp(paper) != first.tokens["papers/a.yaml"]
    back.save()
    os.utime(paper, ns=(now + 2 * 10**9,) * 2)  # saved again with the same bytes
    during = cache.Identities(root, cache.stamps(root))
    assert during.tokens == back.tokens and during.hashed
    paper.write_bytes(b"title: six\n")  # ... and it changes while that build runs
    os.utime(paper, ns=(now + 3 * 10**9,) * 2)
    during.save()
    paper.write_bytes(b"title: one\n")  # the bytes that build hashed, written again
    os.utime(paper, ns=(now + 4 * 10**9,) * 2)
    after = cache.Identities(root, cache.stamps(root))
    assert after.tokens["papers/a.yaml"] == cache.stamp(paper) != back.tokens["papers/a.yaml"]
    after.save()
    quiet = cache.Identities(root, cache.stamps(root))  # not hashed: its stamp is the one seen
    assert not quiet.hashed
    paper.write_bytes(b"title: ten\n")  # changes while that build reads it
    os.utime(paper, ns=(now + 5 * 10**9,) * 2)
    assert quiet.moved("papers/a.yaml")
    quiet.save()  # (the build read it: it was not served from a cache)
    paper.write_bytes(b"title: one\n")
    os.utime(paper, ns=(now + 6 * 10**9,) * 2)
    assert cache.Identities(root, cache.stamps(root)).tokens["papers/a.yaml"] == cache.stamp(paper)


def test_the_code_stamp_follows_the_code_not_its_mtimes(tmp_path):
    """A fresh install of the same code (CI installs on every run) keeps the code stamp, so the
    caches stay; a change of one byte of code or theme changes it."""
    package = tmp_path / "package"
    (package / "theme" / "templates").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "theme" / "templates" / "page.html").write_text("<p>{{ x }}</p>\n")
    stamp = cache.code_stamp(package)
    for path in (package / "a.py", package / "theme" / "templates" / "page.html"):
        os.utime(path, (1, 1))
    assert cache.code_stamp(package) == stamp
    (package / "a.py").write_text("x = 2\n")
    assert cache.code_stamp(package) != stamp
    (package / "a.py").write_text("x = 1\n")
    (package / "theme" / "templates" / "page.html").write_text("<p>{{ y }}</p>\n")
    assert cache.code_stamp(package) != stamp


def test_a_file_changed_while_a_build_reads_it_never_brings_back_what_that_build_read(tmp_path, monkeypatch):
    """A paper unchanged since the last build (its stamp the one seen then: not hashed) is read
    again (the record cache is gone), but changes just before the read; then its first bytes are
    written back (a save and an undo). Its stamp must not be the old one again: the record cache
    would hold the other bytes under it, and the next build that renders its page (here, for a new
    site title) would show text that no file has."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 20, start=dt.date(2024, 1, 1))
    out = root / "site"
    _build(root, out)
    shutil.rmtree(root / cache.CACHE_DIR / "records")
    paper = _paper(root, ids[3])
    first = paper.read_bytes()
    other = first.replace(b"summary:\n  ko: |\n", "summary:\n  ko: |\n    중간에 바뀐 문장입니다.\n\n".encode(), 1)
    real, seen = content._read_paper, []

    def changed_first(root_, settings, record, file, stamps=None):
        if file == paper and paper.read_bytes() == first:
            paper.write_bytes(other)  # an editor's save, between the build's stat and its read
            seen.append(file)
        return real(root_, settings, record, file, stamps)

    monkeypatch.setattr(content, "_read_paper", changed_first)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    build.build(root, out, config.load(root, {"base_url": BASE_URL}), search=False, force=True)  # (else up to date)
    assert seen == [paper]
    kept = b"".join(f.read_bytes() for f in (root / cache.CACHE_DIR / "records").iterdir())
    assert "중간에 바뀐 문장입니다".encode() not in kept  # the record cache keeps no record whose file moved
    neighbour = _paper(root, ids[4]).read_bytes().split(b"summary:\n  ko: |\n")[1].split(b"\n")[0].strip()
    assert neighbour in kept  # (it keeps the others')
    monkeypatch.undo()
    paper.write_bytes(first)  # undone (a new mtime)
    (root / "digestgen.toml").write_text('title = "다른 제목"\n', encoding="utf-8")  # every page again
    _build(root, out)
    page = out / "papers" / ids[3] / "index.html"
    assert "다른 제목" in page.read_text(encoding="utf-8")
    assert "중간에 바뀐 문장입니다" not in page.read_text(encoding="utf-8")
    assert _site(out) == _cold(root, tmp_path, "undone")


def test_a_build_that_saves_later_does_not_bring_back_what_another_forgot(tmp_path):
    """Two builds (into two output folders) share the identities. One forgets a file that changed
    while it read it; the other, which took that file from its caches and saves later, must not
    write the file's old identity back: it writes only what it learned and forgot itself."""
    root = tmp_path
    (root / "papers").mkdir()
    first, second = root / "papers" / "a.yaml", root / "papers" / "b.yaml"
    first.write_bytes(b"title: one\n")
    second.write_bytes(b"title: two\n")
    cache.Identities(root, cache.stamps(root)).save()
    old = cache.Identities(root, cache.stamps(root)).tokens["papers/a.yaml"]
    now = first.stat().st_mtime_ns
    os.utime(second, ns=(now + 10**9,) * 2)  # saved again with the same bytes: the other build hashes it
    other = cache.Identities(root, cache.stamps(root))  # ... and takes a.yaml from its caches
    other.served = {"papers/a.yaml"}
    reading = cache.Identities(root, cache.stamps(root))  # reads a.yaml, which changes meanwhile
    first.write_bytes(b"title: six\n")
    os.utime(first, ns=(now + 2 * 10**9,) * 2)
    reading.save()
    other.save()  # later
    first.write_bytes(b"title: one\n")  # the first bytes again
    os.utime(first, ns=(now + 3 * 10**9,) * 2)
    assert cache.Identities(root, cache.stamps(root)).tokens["papers/a.yaml"] == cache.stamp(first) != old


def test_a_figure_changed_while_a_failed_build_read_it_is_read_again(tmp_path, monkeypatch):
    """A paper's local figure changes between the build's stamps and its read, and the build then
    fails (after the record cache was saved). When the figure's first bytes are written back, the
    paper must be read again: its record would name the other image's file and size."""
    root = tmp_path / "repo"
    ids = synth.generate(root, 20, start=dt.date(2024, 1, 1))
    (root / "figures").mkdir()
    image = root / "figures" / "x.png"
    image.write_bytes(png(10, 20))
    _replace(_paper(root, ids[3]), "summary:\n", "figures:\n  - src: figures/x.png\n    alt: 그림\nsummary:\n")
    out = root / "site"
    _build(root, out)
    _replace(_paper(root, ids[3]), "summary:\n  ko: |\n", "summary:\n  ko: |\n    바뀐 문장입니다.\n\n")
    first, real = image.read_bytes(), content._read_paper

    def figure_changes(root_, settings, record, file, stamps=None):
        if file == _paper(root, ids[3]):
            image.write_bytes(png(11, 20))  # between the build's stat of the figure and its read
        return real(root_, settings, record, file, stamps)

    def fails(*args, **kwargs):
        raise KeyboardInterrupt  # (Ctrl-C, say, after the record cache was saved)

    monkeypatch.setattr(content, "_read_paper", figure_changes)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.setattr(build, "check_links", fails)
    with pytest.raises(KeyboardInterrupt):
        _build(root, out)
    monkeypatch.undo()
    image.write_bytes(first)  # the first bytes again
    _build(root, out)
    page = (out / "papers" / ids[3] / "index.html").read_text(encoding="utf-8")
    assert 'width="10"' in page and "바뀐 문장입니다" in page
    assert _site(out) == _cold(root, tmp_path, "figure")
