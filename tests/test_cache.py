"""Incremental builds: an unchanged repository is not rebuilt, caches never serve stale content,
parallel rendering gives the same bytes as serial rendering."""

from __future__ import annotations

import datetime as dt

import synth
from conftest import GOOD_PAPER, run_cli, tree
from digestgen import build, config
from digestgen.render import renderer


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
    (root / ".digestgen/records.pickle").write_bytes(b"not a pickle")  # a damaged cache is ignored
    paper.write_text(GOOD_PAPER, encoding="utf-8")
    _build(root, out, "--no-search")
    assert "초안을" in (out / "papers/2507.16075/index.html").read_text()


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
    _build(root, out)
    assert sorted(p.name for p in (out / "pagefind/index").iterdir()) != index


def test_parallel_rendering_matches_serial(tmp_path):
    root = tmp_path / "gen"
    synth.generate(root, 450, start=dt.date(2024, 1, 1))
    settings = config.load(root, {"base_url": "https://example.org/x/"})
    digest, _ = build.load(root, settings)
    site = renderer(root, settings, digest)
    parallel = build.render_parallel(site, workers=2)
    assert parallel == site.all()
    assert len([p for p in parallel if p.startswith("papers/") and p.endswith("index.html")]) == 450


def test_cached_build_equals_cold_build(tmp_path):
    root = tmp_path / "gen"
    synth.generate(root, 40, start=dt.date(2024, 1, 1))
    _build(root, tmp_path / "cold", "--no-search")
    (root / "papers" / sorted(p.name for p in (root / "papers").iterdir())[3]).touch()  # forces a rebuild
    _build(root, tmp_path / "cold", "--no-search")  # from the warm cache
    import shutil

    shutil.rmtree(root / ".digestgen")
    _build(root, tmp_path / "fresh", "--no-search")
    assert tree(tmp_path / "cold") == tree(tmp_path / "fresh")
