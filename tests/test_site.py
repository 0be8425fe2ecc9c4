"""Whole builds: every page exists, every internal link resolves (at the root and under a
subpath), output is deterministic and atomic, and content can never inject markup."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

import synth
from conftest import HERE, PROJECT, run_cli, tree, write
from digestgen import config
from digestgen.pipeline import links, output
from digestgen.pipeline.content import week_label
from digestgen.pipeline.digest import link_label
from digestgen.pipeline.markup import render, safe_link


@pytest.mark.parametrize("start,label", [
    ("2025-07-21", "2025/07/21 ~ 27"),
    ("2025-07-28", "2025/07/28 ~ 08/03"),
    ("2025-12-29", "2025/12/29 ~ 2026/01/04"),
    ("2024-02-26", "2024/02/26 ~ 03/03"),
])
def test_week_label(start, label):
    assert week_label(dt.date.fromisoformat(start)) == label


@pytest.mark.parametrize("url,label", [
    ("https://github.com/Continual-Intelligence/SEAL", "Continual-Intelligence/SEAL"),
    ("https://github.com/THUDM/TreeRL/tree/main/src", "THUDM/TreeRL"),
    ("https://www.example.org/project", "example.org"),
    ("https://jyopari.github.io/posts/seal", "jyopari.github.io"),
    ("https://huggingface.co/datasets/org/name", "huggingface.co/datasets/org"),
])
def test_link_labels(url, label):
    assert link_label(url) == label


@pytest.mark.parametrize("url,ok", [
    ("https://a.org", True), ("mailto:a@b.org", True), ("../x/", True), ("#frag", True), ("x:y/z", False),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("java\tscript:alert(1)", False),
    ("vbscript:x", False), ("data:text/html,<b>", False), (" javascript:x", False),
])
def test_safe_link(url, ok):
    assert safe_link(url) is ok


def test_markdown_is_inert():
    html = render('<script>alert(1)</script> <img src=x onerror=alert(1)> [a](javascript:alert(1)) '
                  '[b](JAVASCRIPT&#58;alert(1)) <javascript:alert(1)> {{ 7*7 }}')
    assert "<script" not in html and "<img" not in html and "href=\"javascript" not in html.lower()
    assert "&lt;script&gt;" in html and "{{ 7*7 }}" in html
    assert "<a " not in html


def _build(root: Path, out: Path, *extra: str) -> None:
    done = run_cli("build", "--root", str(root), "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr


WEEK = HERE / "fixtures" / "week"  # a frozen copy of one real week (ten papers); the tests own it


@pytest.fixture(scope="module")
def own_site(tmp_path_factory):
    """The `week` fixture, built as a fresh checkout would."""
    out = tmp_path_factory.mktemp("own") / "site"
    _build(WEEK, out)
    return out


def test_this_repositorys_digest_validates():
    """The only test that reads this repository's papers/ and digests/: editors change them every
    week, so it checks that they are valid, never what or how many they are."""
    done = run_cli("validate", "--root", str(PROJECT))
    assert done.returncode == 0, done.stderr


def test_own_digest_has_every_page(own_site):
    files = tree(own_site)
    issue = files["issues/2025-07-21/index.html"].decode()
    assert "[2025/07/21 ~ 27] 이번 주에 살펴볼 만한 AI/ML 논문 모음" in issue
    ids = [p.stem for p in (WEEK / "papers").glob("*.yaml")]
    assert len(ids) == 10
    for pid in ids:
        assert f"papers/{pid}/index.html" in files
        assert f'id="p-{pid}"' in issue
    for page in ("index.html", "archive/index.html", "tags/index.html", "tags/reasoning/index.html",
                 "404.html", "search/index.html", "assets/style.css", "pagefind/pagefind.js"):
        assert page in files, page
    # papers appear in the issue in the order the editors listed them
    order = re.findall(r'<article class="paper" id="p-([^"]+)"', issue)
    listed = re.findall(r'- "([^"]+)"', (WEEK / "digests/2025-07-21.md").read_text())
    assert order == listed


def test_paper_page_content_and_languages(own_site):
    html = (own_site / "papers/2506.10943/index.html").read_text()
    assert '<span lang="ko">자가 적응 언어 모델</span> <span class="sep" aria-hidden="true">/</span> ' \
           '<span lang="en">Self-Adapting Language Models</span>' in html
    for section in ("논문 소개", "논문 초록(Abstract)", "논문 링크", "더 읽어보기", "실린 호"):
        assert f">{section}</h2>" in html
    assert '<a href="https://github.com/Continual-Intelligence/SEAL" lang="en">Continual-Intelligence/SEAL</a>' in html
    assert '<div class="prose" lang="ko">' in html and '<blockquote class="prose original" lang="en">' in html
    # Korean abstract comes before the English original
    assert html.index('class="prose" lang="ko"><p>LLM은') < html.index('lang="en"><p>Large language models')
    # previous and next paper of the issue
    assert 'rel="prev" href="/papers/2507.13575/"' in html and 'rel="next" href="/papers/2506.10947/"' in html


def test_every_text_block_has_a_language(own_site):
    for page in ("index.html", "papers/2507.14417/index.html"):
        html = (own_site / page).read_text()
        assert '<html lang="ko">' in html
        for block in re.findall(r'<(?:div|blockquote) class="prose[^"]*"([^>]*)>', html):
            assert 'lang="' in block


def _generated(tmp_path: Path, papers: int = 60) -> Path:
    root = tmp_path / "gen"
    synth.generate(root, papers, per_issue=10, start=dt.date(2025, 11, 24))
    return root


@pytest.mark.parametrize("base_url", [None, "https://example.org/digest/", "/sub/path/"])
def test_every_internal_link_resolves(tmp_path, base_url):
    root = _generated(tmp_path)
    out = tmp_path / "out"
    _build(root, out, *(["--base-url", base_url] if base_url else []))
    files = tree(out)
    settings = config.load(root, {"base_url": base_url})
    scans = links.scan_pages(files)
    assert links.check_site(scans, files, settings.base_path, settings.base_url if settings.absolute else None)[0] == []
    # the check is real: the same site checked under the wrong base path is full of broken links
    assert links.check_site(scans, files, "/elsewhere/")[0]
    assert len([f for f in files if f.startswith("issues/") and f.endswith("/index.html")]) == 6
    assert len([f for f in files if f.startswith("papers/") and f.endswith("/index.html")]) == 60 + 1  # + /papers/


def test_packed_scans_and_records_check_as_the_scans_do():
    """The manifest keeps scans and link records packed (`links.pack`): a check over them, with
    records reused or checked again, finds what a check over the scans finds."""
    files = {"index.html": b'<a href="/a/#top">a</a> <a href="/a/#gone">x</a> <a href="/b/">b</a> <p id="here"></p>',
             "a/index.html": b'<h1 id="top">A</h1> <a href="/#here">home</a> <a href="/c/">c</a>',
             "b/index.html": b'<a href="/a/">a</a>'}
    scans = links.scan_pages(files)
    broken, records = links.check_site(scans, files)
    assert sorted((b.page, b.target) for b in broken) == [("a/index.html", "/c/"), ("index.html", "/a/#gone")]
    packed = {path: links.pack(scan) for path, scan in scans.items()}
    assert links.unpack(packed["a/index.html"]) == links.scan(files["a/index.html"].decode())
    assert links.check_site(packed, files) == (broken, records)
    kept = {path: links.pack_record(record) for path, record in records.items()}
    again, reused = links.check_site(packed, files, reuse=kept)
    assert again == broken and reused == kept  # nothing changed: every record stands, packed as it was
    files["c/index.html"] = b"<p>c</p>"  # a new page: the pages that link to it are checked again
    scans["c/index.html"] = links.scan_file("c/index.html", files["c/index.html"])
    again, checked = links.check_site(packed | {"c/index.html": scans["c/index.html"]}, files, reuse=kept,
                                      changed={"c/index.html"})
    assert [(b.page, b.target) for b in again] == [("index.html", "/a/#gone")]
    assert checked["a/index.html"].problems == () and checked["b/index.html"] is kept["b/index.html"]


def test_subpath_links_are_prefixed(tmp_path):
    root = _generated(tmp_path, 10)
    out = tmp_path / "out"
    _build(root, out, "--base-url", "https://example.org/digest/")
    html = (out / "index.html").read_text()
    assert '<link rel="canonical" href="https://example.org/digest/">' in html
    hrefs = re.findall(r'(?:href|src|action)="([^"]+)"', html)
    internal = [h for h in hrefs if not h.startswith(("http", "#", "mailto:"))]
    assert internal and all(h.startswith("/digest/") for h in internal)


def test_two_builds_are_byte_identical(tmp_path):
    root = _generated(tmp_path, 30)
    _build(root, tmp_path / "a", "--no-search")
    _build(root, tmp_path / "b", "--no-search")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_stale_files_disappear_and_failed_builds_keep_the_old_site(make_repo, tmp_path):
    root = make_repo({"papers/extra.yaml": "title: {en: X}\nsummary: {en: y}\nlinks: {paper: 'https://x.org'}\n"})
    out = tmp_path / "site"
    _build(root, out, "--no-search")
    assert (out / "papers/extra/index.html").exists()
    (root / "papers/extra.yaml").unlink()
    _build(root, out, "--no-search")
    assert not (out / "papers/extra").exists()
    before = tree(out)
    write(root, {"templates/paper.html": "{% extends 'base.html' %}{% block main %}{{ paper.nope }}{% endblock %}"})
    failed = run_cli("build", "--root", str(root), "--out", str(out), "--no-search")
    assert failed.returncode == 1
    assert failed.stderr.strip() == ("digestgen: error: paper.html:1: template error: "
                                     "'digestgen.pipeline.digest.PaperView object' has no attribute 'nope'")
    assert tree(out) == before
    assert not list(tmp_path.glob(".site.new-*"))


def test_template_syntax_error_is_located(make_repo, tmp_path):
    root = make_repo({"templates/tag.html": "line one\n{% if %}\n"})
    done = run_cli("build", "--root", str(root), "--out", str(tmp_path / "o"), "--no-search")
    assert done.returncode == 1
    assert re.fullmatch(r"digestgen: error: .*templates/tag\.html:2: template error: .+\n", done.stderr)


def test_template_override_is_used(make_repo, tmp_path):
    root = make_repo({"templates/404.html": "{% extends 'base.html' %}{% block main %}<p>길을 잃으셨군요</p>{% endblock %}"})
    _build(root, tmp_path / "o", "--no-search")
    assert "길을 잃으셨군요" in (tmp_path / "o/404.html").read_text()
    assert "Deep Researcher" in (tmp_path / "o/papers/2507.16075/index.html").read_text()  # others built-in


def test_refuses_to_replace_a_folder_it_did_not_write(make_repo, tmp_path):
    root = make_repo()
    precious = tmp_path / "precious"
    write(precious, {"notes.txt": "keep me"})
    done = run_cli("build", "--root", str(root), "--out", str(precious))
    assert done.returncode == 2
    assert "refusing to replace" in done.stderr
    assert (precious / "notes.txt").read_text() == "keep me"
    done = run_cli("build", "--root", str(root), "--out", str(root))
    assert done.returncode == 2 and "it contains the content" in done.stderr


def test_drafts_are_built_only_when_asked(make_repo, tmp_path):
    root = make_repo({
        "papers/wip.yaml": "title: {en: WIP}\nsummary: {en: y}\nlinks: {paper: 'https://x.org'}\n",
        "digests/2025-07-28.md": "---\ndraft: true\npapers: [wip]\n---\n초안\n",
    })
    _build(root, tmp_path / "pub", "--no-search")
    assert not (tmp_path / "pub/issues/2025-07-28").exists()
    assert not (tmp_path / "pub/papers/wip").exists()  # waits for its issue
    _build(root, tmp_path / "all", "--no-search", "--drafts")
    assert (tmp_path / "all/issues/2025-07-28/index.html").exists()
    assert (tmp_path / "all/papers/wip/index.html").exists()


def test_summary_headings_fit_the_outline(tmp_path):
    from test_golden import build_fixture

    files = build_fixture("basic", tmp_path)
    for page in ("issues/2025-07-21/index.html", "papers/2507.16075/index.html", "index.html"):
        levels = [int(n) for n in re.findall(r"<h([1-6])", files[page].decode())]
        assert levels[0] == 1 and levels.count(1) == 1, page
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (page, levels)


def test_exchange_swaps_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, {"x": "a"})
    write(b, {"x": "b"})
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")
    assert output._exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
