"""Incremental builds: an unchanged repository is not rebuilt, caches never serve stale content,
parallel rendering gives the same bytes as serial rendering."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

import synth
from conftest import GOOD_PAPER, run_cli, tree
from digestgen.pipeline import build, cache, content, digest
from digestgen import config
from digestgen.pipeline.render import renderer


def _build(root, out, *extra):
    done = run_cli("build", "--root", str(root), "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_noop_rebuild_is_skipped_and_edits_are_not(make_repo, tmp_path):
    root = make_repo()
    out = tmp_path / "site"
    _build(root, out)
    marker = (out / ".digestgen-output").stat().st_ino
    assert "is up to date" in _build(root, out)
    assert (out / ".digestgen-output").stat().st_ino == marker  # nothing was rewritten
    assert "is up to date" not in _build(root, out, "--base-url", "/other/")  # options count
    paper = root / "papers/2507.16075.yaml"
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 개정"), encoding="utf-8")
    assert "is up to date" not in _build(root, out, "--base-url", "/other/")
    assert "딥 리서처 개정" in (out / "papers/2507.16075/index.html").read_text()


def test_record_cache_never_serves_stale_or_broken_content(make_repo, tmp_path):
    root = make_repo()
    out = tmp_path / "site"
    _build(root, out, "--no-search")
    paper = root / "papers/2507.16075.yaml"
    paper.write_text(GOOD_PAPER.replace("https://arxiv", "htp://arxiv"), encoding="utf-8")
    failed = run_cli("build", "--root", str(root), "--out", str(out), "--no-search")
    assert failed.returncode == 1 and "is not an http(s) URL" in failed.stderr
    paper.write_text(GOOD_PAPER.replace("초안을", "원고를"), encoding="utf-8")
    _build(root, out, "--no-search")
    assert "원고를" in (out / "papers/2507.16075/index.html").read_text()
    for shard in (root / ".digestgen/records").iterdir():
        shard.write_bytes(b"not a pickle")  # a damaged cache is ignored
    paper.write_text(GOOD_PAPER, encoding="utf-8")
    _build(root, out, "--no-search")
    assert "초안을" in (out / "papers/2507.16075/index.html").read_text()


def test_a_cached_issue_is_checked_again_against_the_papers(make_repo, tmp_path, monkeypatch):
    """An unchanged issue comes from the record cache, with its rendered intro; a paper it lists
    that is gone is still an error at its line, and its intro's edit still shows."""
    root = make_repo()
    out = tmp_path / "site"
    _build(root, out, "--no-search")
    issue = root / "digests/2025-07-21.md"
    issue.write_text(issue.read_text(encoding="utf-8") + "\n고친 소개 문장.\n", encoding="utf-8")
    _build(root, out, "--no-search")
    assert "고친 소개 문장." in (out / "issues/2025-07-21/index.html").read_text()
    settings = config.load(root)
    read, rendered = [], []
    real_read, real_render = content.read_front_matter_file, digest.render
    monkeypatch.setattr(content, "read_front_matter_file", lambda *a: read.append(a) or real_read(*a))
    monkeypatch.setattr(digest, "render", lambda text: rendered.append(text) or real_render(text))
    build.load(root, settings, use_cache=True)
    assert not read and not any("고친 소개 문장." in text for text in rendered)  # both from the cache
    issue.write_text(issue.read_text(encoding="utf-8").replace("고친 소개", "다시 고친 소개"), encoding="utf-8")
    loaded, _ = build.load(root, settings, use_cache=True)
    assert len(read) == 1 and "다시 고친 소개 문장." in loaded.issues[0].intro_html
    listed = (root / "papers/2507.16075.yaml").read_text(encoding="utf-8")
    (root / "papers/2507.16075.yaml").unlink()
    failed = run_cli("build", "--root", str(root), "--out", str(out), "--no-search")
    line = next(n for n, text in enumerate(issue.read_text(encoding="utf-8").splitlines(), 1) if "2507.16075" in text)
    assert failed.returncode == 1 and f"digests/2025-07-21.md:{line}:" in failed.stderr
    assert "no paper '2507.16075'" in failed.stderr
    (root / "papers/2507.16075.yaml").write_text(listed, encoding="utf-8")
    _build(root, out, "--no-search")
    assert "고친 소개 문장." in (out / "issues/2025-07-21/index.html").read_text()


def test_search_bundle_is_reused_only_when_search_documents_are_unchanged(make_repo, tmp_path):
    root = make_repo()
    out = tmp_path / "site"
    _build(root, out)
    index = sorted(p.name for p in (out / "pagefind/index").iterdir())
    (root / "templates").mkdir()
    (root / "templates/404.html").write_text("{% extends 'base.html' %}{% block main %}없음{% endblock %}")
    _build(root, out)  # a page template changed; the search documents did not
    assert sorted(p.name for p in (out / "pagefind/index").iterdir()) == index
    assert "없음" in (out / "404.html").read_text()
    (root / "papers/2507.16075.yaml").write_text(GOOD_PAPER.replace("에이전트", "에이전트 검색어새로움"),
                                                 encoding="utf-8")
    _build(root, out)  # the base is kept; the changed document goes into a delta
    assert sorted(p.name for p in (out / "pagefind/index").iterdir()) == index
    assert list((out / "pagefind/delta/index").iterdir())


def test_parallel_rendering_matches_serial(tmp_path):
    root = tmp_path / "gen"
    synth.generate(root, 450, start=dt.date(2024, 1, 1))
    settings = config.load(root, {"base_url": "https://example.org/x/"})
    digest, _ = build.load(root, settings)
    site = renderer(root, settings, digest)
    tasks = site.tasks() + site.document_tasks()
    parallel = build.render_tasks(site, tasks, workers=2)
    assert parallel == build.render_tasks(site, tasks, workers=1)
    assert len([t for t in parallel if t.kind == "paper"]) == 450


def test_a_render_worker_killed_fails_the_build_instead_of_hanging(tmp_path, monkeypatch):
    import os
    import signal

    from digestgen.errors import BuildError

    root = tmp_path / "gen"
    synth.generate(root, 450, start=dt.date(2024, 1, 1))
    settings = config.load(root, {"base_url": "https://example.org/x/"})
    digest, _ = build.load(root, settings)
    site = renderer(root, settings, digest)
    tasks = site.tasks()
    _KILL.update(parent=os.getpid(), task=tasks[300], real=build._render_task, signal=signal.SIGKILL)
    monkeypatch.setattr(build, "_render_task", _killed_in_a_worker)
    with pytest.raises(BuildError, match="a worker process was killed"):
        build.render_tasks(site, tasks, workers=2)


_KILL: dict = {}


def _killed_in_a_worker(task):
    """`build._render_task`, but a worker process is killed at one task, as the kernel's OOM killer would."""
    import os

    if os.getpid() != _KILL["parent"] and task == _KILL["task"]:
        os.kill(os.getpid(), _KILL["signal"])
    return _KILL["real"](task)


def test_a_compiled_template_that_cannot_be_kept_is_compiled_again(tmp_path):
    """The folder of compiled templates may vanish under a build (another version clears it)."""
    from digestgen.pipeline.render import environment

    settings = config.load(tmp_path, {})
    kept = tmp_path / "kept"
    kept.mkdir()
    env = environment(None, settings, kept)
    first = env.get_template("404.html").render(page_url="/", canonical=None, og=None, ld=None, asset=lambda p: p)
    assert list(kept.iterdir())  # kept
    gone = environment(None, settings, tmp_path / "gone")  # no such folder: nothing kept, no error
    assert gone.get_template("404.html").render(page_url="/", canonical=None, og=None, ld=None, asset=lambda p: p) == first


def test_cached_build_equals_cold_build(tmp_path):
    root = tmp_path / "gen"
    synth.generate(root, 40, start=dt.date(2024, 1, 1))
    _build(root, tmp_path / "cold", "--no-search")
    with open(root / "papers" / sorted(p.name for p in (root / "papers").iterdir())[3], "a") as paper:
        paper.write("# a comment: new bytes, the same record\n")  # forces a rebuild
    _build(root, tmp_path / "cold", "--no-search")  # from the warm cache
    import shutil

    shutil.rmtree(root / ".digestgen")
    _build(root, tmp_path / "fresh", "--no-search")
    assert tree(tmp_path / "cold") == tree(tmp_path / "fresh")


# --- search: a kept base and a delta of changed documents ------------------------------------

def _search_state(out):
    import json

    entry = json.loads((out / "pagefind/pagefind-entry.json").read_text())
    meta = entry["languages"]["ko"]["hash"]
    page = (out / "search/index.html").read_text()
    return meta, (out / "pagefind/delta").is_dir(), page


def test_an_edit_is_indexed_into_a_delta_and_the_old_page_is_superseded(make_repo, tmp_path):
    import json
    import re

    from digestgen.pipeline import pfindex, search

    root = make_repo()
    out = tmp_path / "site"
    _build(root, out)
    base, has_delta, page = _search_state(out)
    assert not has_delta and "data-delta" not in page and "data-superseded" not in page
    state = json.loads(search.state_path(root, out).read_text())
    old_id = state["docs"]["papers/2507.16075/index.html"][1]
    assert (out / f"pagefind/fragment/{old_id}.pf_fragment").exists()

    paper = root / "papers/2507.16075.yaml"
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 델타검증어"), encoding="utf-8")
    log = _build(root, out)
    assert "1 changed document(s) indexed, the rest kept" in log
    meta, has_delta, page = _search_state(out)
    assert meta == base and has_delta  # the base is kept as it was; the delta holds the new page
    superseded = json.loads(re.search(r'data-superseded="([^"]*)"', page).group(1).replace("&#34;", '"'))
    ranks = json.loads(re.search(r'data-delta-ranks="([^"]*)"', page).group(1).replace("&#34;", '"'))
    assert superseded == [old_id]
    (new_id, rank), = ranks.items()
    assert new_id.startswith("ko_d") and new_id not in {doc[1] for doc in state["docs"].values()}  # never a base's name
    # its place in the base's date order: after the base's pages of its date (its old self the
    # last of them), before the later ones
    dates = state["dates"]
    assert rank % 1 == 0.5 and pfindex.number_of(old_id) == rank - 0.5 < len(dates)
    assert dates[int(rank - 0.5)] == "2025-07-21" and all(d > "2025-07-21" for d in dates[int(rank + 0.5):])
    fragment = (out / f"pagefind/delta/fragment/{new_id}.pf_fragment").read_bytes()
    import gzip
    import unicodedata

    text = unicodedata.normalize("NFC", gzip.decompress(fragment).decode("utf-8", "replace"))
    assert "델타검증어" in text

    paper.write_text(GOOD_PAPER, encoding="utf-8")  # reverting the edit leaves nothing to supersede
    log = _build(root, out)
    assert "search index kept" in log
    meta, has_delta, page = _search_state(out)
    assert meta == base and not has_delta and "data-superseded" not in page


def test_a_large_change_a_lost_base_or_full_index_rebuild_the_base(make_repo, tmp_path, monkeypatch):
    from digestgen.pipeline import search

    root = make_repo()
    out = tmp_path / "site"
    _build(root, out)
    base, _, _ = _search_state(out)
    paper = root / "papers/2507.16075.yaml"
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 첫째"), encoding="utf-8")
    assert "changed document" not in _build(root, out, "--full-index")
    rebuilt, has_delta, _ = _search_state(out)
    assert rebuilt != base and not has_delta

    search.state_path(root, out).write_text("{broken")  # a damaged state: index everything
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 둘째"), encoding="utf-8")
    log = _build(root, out)
    assert "changed document" not in log and not _search_state(out)[1]

    settings = config.load(root, {})
    monkeypatch.setattr(search, "max_delta", lambda documents: 0)  # any change is "too large"
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 셋째"), encoding="utf-8")
    report = build.build(root, out, settings)
    assert not report.search_reused and report.search_delta == 0 and not _search_state(out)[1]
    monkeypatch.undo()
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 넷째"), encoding="utf-8")
    report = build.build(root, out, settings)
    assert report.search_reused and report.search_delta == 1 and _search_state(out)[1]


def test_a_deleted_page_is_superseded(make_repo, tmp_path):
    import json
    import re

    from digestgen.pipeline import search

    root = make_repo()
    out = tmp_path / "site"
    _build(root, out)
    state = json.loads(search.state_path(root, out).read_text())
    issue = next((root / "digests").glob("*.md"))
    issue_id = state["docs"][f"issues/{issue.stem}/index.html"][1]
    issue.rename(root / "digests" / "unlisted.txt")  # the issue is gone from the site
    _build(root, out)
    page = (out / "search/index.html").read_text()
    superseded = json.loads(re.search(r'data-superseded="([^"]*)"', page).group(1).replace("&#34;", '"'))
    assert issue_id in superseded


def test_a_base_from_another_pagefind_version_is_not_merged(make_repo, tmp_path):
    import json

    from digestgen.pipeline import search

    root = make_repo()
    out = tmp_path / "site"
    _build(root, out)
    entry_path = out / "pagefind/pagefind-entry.json"
    entry = json.loads(entry_path.read_text())
    entry["version"] = "0.9.0"  # as if an older Pagefind had written the base
    entry_path.write_text(json.dumps(entry))
    state_path = search.state_path(root, out)
    state = json.loads(state_path.read_text())
    state["entry"] = entry_path.read_text()
    state_path.write_text(json.dumps(state))
    (root / "papers/2507.16075.yaml").write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 판본"), encoding="utf-8")
    log = _build(root, out)
    assert "changed document" not in log and not (out / "pagefind/delta").exists()
    assert json.loads(entry_path.read_text())["version"] != "0.9.0"


def test_papers_read_by_worker_processes_are_those_read_here(tmp_path, monkeypatch):
    """A cold load of 400 papers or more reads them in forked processes, one per core: the same
    records, rendered Markdown and problems (with their files and lines) as one process reads."""
    import os

    from digestgen.errors import ContentError

    root = tmp_path / "repo"
    ids = synth.generate(root, 420, start=dt.date(2020, 1, 6))
    (root / "papers" / f"{ids[7]}.yaml").write_text(
        (root / "papers" / f"{ids[7]}.yaml").read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    settings = config.load(root)
    readers = tmp_path / "readers"  # the process id of each read, written by whichever process read
    real_read = content._read_paper

    def spy(*args):
        with open(readers, "a") as log:
            log.write(f"{os.getpid()}\n")
        return real_read(*args)

    monkeypatch.setattr(content, "_read_paper", spy)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(ContentError) as parallel:
        content.load(root, settings)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with pytest.raises(ContentError) as serial:
        content.load(root, settings)
    assert [str(e) for e in parallel.value.errors] == [str(e) for e in serial.value.errors]
    assert any(f"papers/{ids[7]}.yaml:" in str(e) and "colour" in str(e) for e in serial.value.errors)
    (root / "papers" / f"{ids[7]}.yaml").write_text(
        (root / "papers" / f"{ids[7]}.yaml").read_text(encoding="utf-8").replace("colour: blue\n", ""), encoding="utf-8")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    one = content.load(root, settings)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    other = content.load(root, settings)
    assert len(one.papers) == 420 and one.papers == other.papers and one.entries == other.entries
    assert one.entries[ids[3]]["html"][1]["ko"].startswith("<p>")  # the Markdown, rendered once, with the record
    pids = readers.read_text().split()
    assert len(pids) == 4 * 420 and pids.count(str(os.getpid())) == 2 * 420  # the serial loads, here
    assert len(set(pids) - {str(os.getpid())}) >= 2  # the others, in the forked loads' workers


def test_the_record_cache_writes_only_the_shards_whose_records_changed(tmp_path):
    """An edit rewrites the shard of the record it read again; a deleted file's record drops out
    of its shard; the other shards stay as they were written."""
    import pickle

    root = tmp_path / "repo"
    ids = synth.generate(root, 60, start=dt.date(2024, 1, 1))
    settings = config.load(root)
    build.load(root, settings, use_cache=True)
    folder = root / ".digestgen/records"

    def shards():
        return {path.name: path.stat().st_mtime_ns for path in folder.glob("[0-9][0-9][0-9].pickle")}

    def shard_of(pid, folder="papers", suffix=".yaml"):
        return f"{cache.RecordCache(root, None)._shard(f'{folder}/{pid}{suffix}'):03d}.pickle"

    def held(name):
        return set(pickle.loads((folder / name).read_bytes())[1])

    before = shards()
    edited, gone = ids[10], next(pid for pid in ids[30:] if shard_of(pid) != shard_of(ids[10]))
    paper = root / "papers" / f"{edited}.yaml"
    paper.write_text(paper.read_text(encoding="utf-8").replace("title:\n  ko: ", "title:\n  ko: 고친 "), encoding="utf-8")
    for issue in (root / "digests").glob("*.md"):  # the deleted paper is listed nowhere
        issue.write_text(issue.read_text(encoding="utf-8").replace(f'  - "{gone}"\n', ""), encoding="utf-8")
    (root / "papers" / f"{gone}.yaml").unlink()
    loaded, _ = build.load(root, settings, use_cache=True)
    after = shards()
    rewritten = {name for name in before | after if after.get(name) != before.get(name)} - {
        shard_of(issue.stem, "digests", ".md") for issue in (root / "digests").glob("*.md")}  # edited too
    assert {shard_of(edited), shard_of(gone)} <= rewritten
    assert rewritten <= {shard_of(edited), shard_of(gone)} | {name for name in after if name not in before}
    assert f"papers/{edited}.yaml" in held(shard_of(edited))
    assert shard_of(gone) not in after or f"papers/{gone}.yaml" not in held(shard_of(gone))  # (a shard left empty goes)
    assert loaded.papers[edited].paper.title["ko"].startswith("고친 ")
    again, _ = build.load(root, settings, use_cache=True)  # and read back from the cache
    assert again.papers[edited].paper.title["ko"].startswith("고친 ") and gone not in again.papers


def test_a_paper_from_the_record_cache_is_the_paper_read_from_its_file(tmp_path):
    """Every field of a cached paper and of its view (read from the cache when first used) is what
    reading its file gives; it pickles as a plain `Paper`."""
    import pickle

    from digestgen.pipeline.content import CachedPaper, Paper
    from digestgen.pipeline.digest import CachedView

    root = tmp_path / "repo"
    ids = synth.generate(root, 100, start=dt.date(2024, 1, 1))  # (two papers share a shard)
    (root / "papers" / f"{ids[4]}.yaml").write_text((root / "papers" / f"{ids[4]}.yaml").read_text(
        encoding="utf-8").replace("summary:\n  ko: |\n", "summary:\n  ko: |\n    [그림](figure.png)과 **굵게**.\n\n"),
        encoding="utf-8")
    assert {*cache.CORE, *cache.LIGHT, "summary", "abstract"} == {field.name for field in dataclasses.fields(Paper)}
    assert {"paper", "issues", "id", *CachedView.LAZY} == {field.name for field in dataclasses.fields(digest.PaperView)}
    settings = config.load(root)
    build.load(root, settings, use_cache=True)
    # a paper edited: its shard is written again, with the other papers of the shard kept as they were read
    shards = [_shard_of(root, pid) for pid in ids]
    edited = next(pid for pid, shard in zip(ids, shards) if shards.count(shard) > 1)
    kept = next(pid for pid, shard in zip(ids, shards) if shard == _shard_of(root, edited) and pid != edited)
    record = root / "papers" / f"{edited}.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("title:\n  ko: ", "title:\n  ko: 고친 "), encoding="utf-8")
    build.load(root, settings, use_cache=True)
    fresh, _ = build.load(root, settings)
    cached, _ = build.load(root, settings, use_cache=True)
    assert list(cached.papers) == list(fresh.papers) == sorted(ids)
    assert all(type(view) is CachedView and type(view.paper) is CachedPaper for view in cached.papers.values())
    for pid, view in cached.papers.items():
        want = fresh.papers[pid]
        for field in dataclasses.fields(Paper):
            assert getattr(view.paper, field.name) == getattr(want.paper, field.name), (pid, field.name)
        for name in ("summary_html", "abstract_html", "tldr_html", "repos", "written", "issues", "id"):
            assert getattr(view, name) == getattr(want, name), (pid, name)
    assert "figure.png" in "".join(cached.papers[ids[4]].written.values())  # a relative link, as written
    assert cached.papers[edited].paper.title["ko"].startswith("고친 ") and kept in cached.papers
    again = pickle.loads(pickle.dumps(cached.papers[ids[5]].paper))
    assert type(again) is Paper and again == fresh.papers[ids[5]].paper == cached.papers[ids[5]].paper
    assert cached.papers[ids[5]].paper != cached.papers[ids[6]].paper
    unread = build.load(root, settings, use_cache=True)[0].papers[ids[4]]
    assert "title" not in unread.paper.__dict__ and "summary_html" not in unread.__dict__
    view = pickle.loads(pickle.dumps(unread))  # a view not read yet pickles as a plain one, read whole
    assert type(view) is digest.PaperView and type(view.paper) is Paper and view == fresh.papers[ids[4]]


def _shard_of(root, pid: str) -> int:
    return cache.RecordCache(root, None)._shard(f"papers/{pid}.yaml")


def test_the_files_listed_from_the_stamps_are_those_in_the_folder(tmp_path):
    """A build lists `papers/` and `digests/` from the stamps it took of every input file (not by
    reading the folders again): the same files, in the same order, with the same warnings, as a
    listing of the folder finds, whatever else the folders hold."""
    root = tmp_path / "repo"
    synth.generate(root, 12, start=dt.date(2024, 1, 1))
    papers, digests = root / "papers", root / "digests"
    (papers / "notes.yml").write_text("id: x\n")  # warned about: not read
    (papers / "draft.md").write_text("# a draft\n")
    (papers / ".hidden.yaml").write_text("id: hidden\n")  # an editor's hidden file: left alone
    (papers / "old").mkdir()
    (papers / "old" / "2401.00001.yaml").write_text("id: '2401.00001'\n")  # in a subfolder: not a paper
    first = min(papers.glob("*.yaml"))
    (papers / "zz-link.yaml").symlink_to(first)  # a link to a record counts
    (papers / "broken.yaml").symlink_to(papers / "gone.yaml")  # a broken link does not
    (papers / "folder.yaml").symlink_to(papers / "old")  # nor a link to a folder
    (digests / "2024-09-09.markdown").write_text("---\n---\n")
    (digests / "README.txt").write_text("notes\n")
    stamps = cache.stamps(root)
    for folder, suffixes in (("papers", (".yaml",)), ("digests", (".md",))):
        listed, walked = [], []
        names = content._names(root, folder, suffixes, listed, stamps)
        assert names == content._names(root, folder, suffixes, walked)
        assert [str(e) for e in listed] == [str(e) for e in walked]
        assert len(names) >= 2 and names == sorted(names)
    assert "zz-link.yaml" in content._names(root, "papers", (".yaml",), [], stamps)
    assert not {"broken.yaml", "folder.yaml", ".hidden.yaml"} & set(content._names(root, "papers", (".yaml",), [], stamps))
    assert content._names(root, "papers", (".yaml",), [], {"digests/x.md": (1, 1)}) == []  # stamps of the other folder only


def test_a_file_removed_while_the_build_reads_is_a_located_error(tmp_path):
    """The build lists the records from the stamps it took first: a paper or an issue removed
    after that (a checkout while `serve` runs) is an error in its file ("build again"), not a
    crash; the next build, with new stamps, finds it gone."""
    from digestgen.errors import ContentError

    root = tmp_path / "repo"
    ids = synth.generate(root, 12, start=dt.date(2024, 1, 1))
    settings = config.load(root)
    stamps = cache.stamps(root)
    (root / "papers" / f"{ids[4]}.yaml").unlink()
    issue = max((root / "digests").glob("*.md"))
    issue.unlink()
    with pytest.raises(ContentError) as raised:
        content.load(root, settings, cache=build.record_cache(root, settings, stamps))
    messages = [str(e) for e in raised.value.errors]
    gone = "the file was moved or deleted while the build read it; build again"
    assert f"papers/{ids[4]}.yaml:1:1: error: {gone}" in messages
    assert f"digests/{issue.name}:1:1: error: {gone}" in messages
