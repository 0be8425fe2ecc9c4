"""Adopting digestgen: a folder that is not a digest, empty and first weeks, drafts, tags in any
script with their labels, and the publishing details (base-URL warning, /papers/, JSON Feed)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import feedparser
import pytest

import arxiv_server
from browser import browser, serve
from conftest import GOOD_PAPER, run_cli, tree, write
from digestgen import config
from digestgen.pipeline import links
from digestgen.pipeline.content import OUTLINE_PLACEHOLDERS
from digestgen.tools.editor import INTRO_OUTLINE

SITE = "https://example.org/sub/path/"


def _add(root: Path, server, *args: str):
    env = dict(os.environ, DIGESTGEN_ARXIV_API=f"{server.url}/api/query", DIGESTGEN_ARXIV_DELAY="0")
    return run_cli("add", "--root", str(root), *args, env=env)


# --- a folder that is not a digest ---------------------------------------------------------------

@pytest.mark.parametrize("command", [["validate"], ["build"], ["serve", "--port", "0"], ["check-links"]])
def test_a_folder_that_is_not_a_digest_is_refused(tmp_path, command):
    folder = tmp_path / "notes"
    write(folder, {"todo.txt": "not a digest"})
    done = run_cli(*command, "--root", str(folder))
    assert done.returncode == 2
    assert done.stderr == (f"digestgen: error: {folder} is not a digest: it has no papers/, no digests/ and no "
                           f"digestgen.toml; start one with 'digestgen init {folder}', or point --root at a digest\n")
    assert sorted(p.name for p in folder.iterdir()) == ["todo.txt"]  # nothing written


def test_any_one_mark_makes_a_digest(tmp_path):
    write(tmp_path / "d", {"digestgen.toml": 'title = "x"\n'})
    done = run_cli("validate", "--root", str(tmp_path / "d"))
    assert done.returncode == 0 and "ok: 0 papers, 0 issues" in done.stderr


# --- empty and first weeks ------------------------------------------------------------------------

def _says_nothing_yet(site: Path) -> None:
    assert "아직 발행된 호가 없습니다" in (site / "index.html").read_text()
    assert "아직 발행된 호가 없습니다" in (site / "archive/index.html").read_text()
    search = (site / "search/index.html").read_text()
    assert "검색할 내용이 없습니다" in search and "search.js" not in search and 'id="search-q"' not in search
    assert not (site / "pagefind").exists()


def test_an_empty_digest_builds_a_site_that_says_so(make_repo, tmp_path):
    root = make_repo(base=False)
    out = tmp_path / "site"
    done = run_cli("build", "--root", str(root), "--out", str(out), "--base-url", SITE, "--strict")
    assert done.returncode == 0, done.stderr
    _says_nothing_yet(out)
    files = tree(out)
    assert not any(path.endswith(("feed.xml", "feed.json")) for path in files)  # no feed yet, and none linked
    assert links.check_site(links.scan_pages(files), files, "/sub/path/", SITE)[0] == []


def test_a_first_week_of_drafts_builds_then_publishes_with_search(make_repo, tmp_path):
    root = make_repo(base=False)
    assert run_cli("new", "--root", str(root), "--week", "2025-07-21").returncode == 0
    with arxiv_server.running() as server:
        assert _add(root, server, "2506.10943", "--issue", "2025-07-21").returncode == 0
    out = tmp_path / "site"
    done = run_cli("build", "--root", str(root), "--out", str(out))
    assert done.returncode == 0, done.stderr
    _says_nothing_yet(out)
    # the week is finished: the record gets its Korean text, the issue its intro, both lose `draft: true`
    record = root / "papers/2506.10943.yaml"
    record.write_text(record.read_text().replace("draft: true", "draft: false")
                      .replace("# summary:\n#   ko: |\n#     논문 소개를 씁니다.\n", "summary:\n  ko: |\n    스스로 미세조정 데이터를 만드는 모델.\n"))
    write(root, {"digests/2025-07-21.md": '---\npapers: ["2506.10943"]\n---\n이번 주의 소개 글입니다.\n'})
    done = run_cli("build", "--root", str(root), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "pagefind/pagefind.js").exists() and "search.js" in (out / "search/index.html").read_text()
    assert "아직 발행된 호가 없습니다" not in (out / "index.html").read_text()


# --- drafts ---------------------------------------------------------------------------------------

def test_an_unlisted_draft_record_is_a_note_not_a_strict_error(make_repo):
    with arxiv_server.running() as server:
        root = make_repo()
        assert _add(root, server, "2506.10943").returncode == 0  # no --issue: listed nowhere yet
    done = run_cli("validate", "--root", str(root), "--strict")
    assert done.returncode == 0, done.stderr
    assert "papers/2506.10943.yaml:5:1: note: draft paper '2506.10943' is not listed in any issue yet" in done.stderr
    # a finished record that no issue lists is still a warning, and --strict fails on it
    write(root, {"papers/done.yaml": "title: {en: Done}\nsummary: {en: s}\nlinks: {paper: 'https://x.org'}\n"})
    strict = run_cli("validate", "--root", str(root), "--strict")
    assert strict.returncode == 1
    assert "papers/done.yaml:1:1: error: paper 'done' is not listed in any issue" in strict.stderr


def test_outline_placeholders_in_a_published_issue_are_errors(make_repo):
    assert all(placeholder in INTRO_OUTLINE for placeholder in OUTLINE_PLACEHOLDERS)
    root = make_repo()
    assert run_cli("new", "--root", str(root)).returncode == 0
    draft = root / "digests/2025-07-28.md"
    notes = run_cli("validate", "--root", str(root), "--strict")
    assert notes.returncode == 0 and "digests/2025-07-28.md:7:21: note: outline placeholder" in notes.stderr
    # published with the outline untouched (only the draft line deleted)
    draft.write_text(draft.read_text().replace("draft: true  # delete this line to publish the issue\n", ""))
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if ": error: " in line]
    assert errors == [
        "digests/2025-07-28.md:6:21: error: outline placeholder (이번 주의 흐름을 한두 문장으로 씁니다.) "
        "left in a published issue; write the text, or mark the issue `draft: true`",
        "digests/2025-07-28.md:8:5: error: outline placeholder (첫 번째 흐름과 대표 논문) left in a published issue; "
        "write the text, or mark the issue `draft: true`",
        "digests/2025-07-28.md:10:5: error: outline placeholder (두 번째 흐름과 대표 논문) left in a published issue; "
        "write the text, or mark the issue `draft: true`",
        "digests/2025-07-28.md:12:8: error: outline placeholder (나머지 논문과 의미) left in a published issue; "
        "write the text, or mark the issue `draft: true`",
    ]


def test_new_says_when_a_draft_week_exists(make_repo):
    root = make_repo()
    first = run_cli("new", "--root", str(root))
    assert first.returncode == 0 and first.stdout == "wrote digests/2025-07-28.md (draft)\n"
    again = run_cli("new", "--root", str(root))
    assert again.returncode == 1
    assert again.stderr == ("digestgen: error: digests/2025-07-28.md is a draft week already (`draft: true`); write "
                            "that week, and delete `draft: true` to publish it, before starting the next one (or "
                            "start another week anyway with --week DATE)\n")
    assert sorted(p.name for p in (root / "digests").iterdir()) == ["2025-07-21.md", "2025-07-28.md"]
    other = run_cli("new", "--root", str(root), "--week", "2025-08-04")
    assert other.returncode == 0 and other.stdout == "wrote digests/2025-08-04.md (draft)\n"


def test_add_into_a_published_issue_says_it_will_not_build(make_repo):
    root = make_repo()
    with arxiv_server.running() as server:
        done = _add(root, server, "2506.10943", "--issue", "2025-07-23")
        assert done.returncode == 0
        assert done.stderr == (
            "digestgen: warning: digests/2025-07-21.md is published (it has no `draft: true`), so it will not build "
            "until papers/2506.10943.yaml is finished: write the Korean text and delete `draft: true` in each, or "
            "add `draft: true` to the issue until then\n")
        quiet = _add(root, server, "hep-th/9901001", "--issue", "2025-08-06")  # a new week: created as a draft
        assert quiet.returncode == 0 and quiet.stderr == ""


def test_drafts_are_marked_where_they_are_shown(make_repo, tmp_path):
    root = make_repo({
        "papers/wip.yaml": "draft: true\ntitle: {en: Work in progress}\nlinks: {paper: 'https://x.org'}\n",
        "digests/2025-07-28.md": "---\ndraft: true\npapers: [wip]\n---\n초안\n",
    })
    assert run_cli("build", "--root", str(root), "--out", str(tmp_path / "preview"), "--drafts",
                   "--no-search").returncode == 0
    issue = (tmp_path / "preview/issues/2025-07-28/index.html").read_text()
    paper = (tmp_path / "preview/papers/wip/index.html").read_text()
    assert '<p class="draft-mark"><strong>초안</strong> 아직 발행되지 않은 호입니다.' in issue
    assert '<p class="draft-mark"><strong>초안</strong> 아직 다 쓰지 않은 논문 기록입니다' in issue
    assert '<p class="draft-mark"><strong>초안</strong> 아직 다 쓰지 않은 논문 기록입니다' in paper
    published = (tmp_path / "preview/issues/2025-07-21/index.html").read_text()
    assert "draft-mark" not in published


# --- tags in any script ---------------------------------------------------------------------------

TAGGED = {
    "digestgen.toml": f'base_url = "{SITE}"\n\n[tags]\nrl = "Reinforcement Learning"\n"강화학습" = "강화 학습"\n',
    "papers/a.yaml": GOOD_PAPER.replace("tags: [agents]", "tags: [강화학습, rl, llm-에이전트]").replace('id: "2507.16075"\n', ""),
    "papers/b.yaml": "title: {ko: 둘째 논문}\nsummary: {ko: 요약}\nlinks: {paper: 'https://x.org/b'}\ntags: [강화학습]\n",
    "digests/2025-07-21.md": "---\npapers: [a, b]\n---\n소개\n",
}


def test_tags_in_any_script_validate_and_capitals_do_not(make_repo):
    root = make_repo({**TAGGED, "papers/c.yaml": "title: {en: C}\nsummary: {en: s}\nlinks: {paper: 'https://x.org'}\n"
                                                 "tags: [Deep-RL, 강화_학습]\n",
                      "digests/2025-07-28.md": "---\npapers: [c]\n---\n"}, base=False)
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    assert ("papers/c.yaml:4:8: error: tags[0]: 'Deep-RL' is not a tag of lowercase letters, digits and hyphens "
            "(any script), like '강화학습' or 'deep-research'") in done.stderr
    assert "papers/c.yaml:4:17: error: tags[1]: '강화_학습' is not a tag" in done.stderr
    assert "papers/a.yaml" not in done.stderr and "papers/b.yaml" not in done.stderr


def test_tag_labels_are_checked(make_repo):
    root = make_repo({"digestgen.toml": '[tags]\n"Bad Tag" = "x"\nok = 3\n'})
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    assert done.stderr.splitlines()[:2] == [
        "digestgen.toml:2:1: error: tags.Bad Tag: 'Bad Tag' is not a tag of lowercase letters, digits and hyphens "
        "(any script), like '강화학습' or 'deep-research'",
        "digestgen.toml:3:1: error: tags.ok: expected the tag's label as text, got a number"]


@pytest.fixture(scope="module")
def tagged_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("tagged")
    write(root, TAGGED)
    out = root / "site"
    done = run_cli("build", "--root", str(root), "--out", str(out), "--strict")
    assert done.returncode == 0, done.stderr
    return out


def test_korean_tags_have_working_percent_encoded_urls_under_a_subpath(tagged_site):
    files = tree(tagged_site)
    assert "tags/강화학습/index.html" in files and "tags/llm-에이전트/index.html" in files
    paper = files["papers/a/index.html"].decode()
    encoded = "/sub/path/tags/%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5/"
    assert f'<a href="{encoded}" lang="ko">#강화 학습</a>' in paper
    assert '<a href="/sub/path/tags/rl/" lang="en">#Reinforcement Learning</a>' in paper
    tag_page = files["tags/강화학습/index.html"].decode()
    assert f'<link rel="canonical" href="https://example.org{encoded}">' in tag_page
    assert f"<loc>https://example.org{encoded}</loc>" in files["sitemap.xml"].decode()
    settings = config.load(tagged_site.parent)
    assert links.check_site(links.scan_pages(files), files, settings.base_path, settings.base_url)[0] == []
    assert links.check_site(links.scan_pages(files), files, "/elsewhere/")[0]  # the check is real


def test_tag_labels_on_pages_filters_and_feeds(tagged_site):
    tags = (tagged_site / "tags/index.html").read_text()
    assert '<span lang="ko">#강화 학습</span> <span class="count">2</span>' in tags
    assert '<span lang="ko">#llm-에이전트</span>' in tags  # no label: the tag itself
    assert "<h1>태그: <span lang=\"ko\">#강화 학습</span></h1>" in (tagged_site / "tags/강화학습/index.html").read_text()
    search = (tagged_site / "search/index.html").read_text()
    labels = json.loads(re.search(r'data-tag-labels="([^"]+)"', search)[1].replace("&#34;", '"'))
    assert labels == {"rl": "Reinforcement Learning", "강화학습": "강화 학습"}
    atom = feedparser.parse((tagged_site / "papers/feed.xml").read_bytes())
    entry = next(e for e in atom.entries if e.link.endswith("/papers/a/"))
    assert [(t.term, t.label) for t in entry.tags] == [("강화학습", "강화 학습"), ("rl", "Reinforcement Learning"),
                                                       ("llm-에이전트", None)]
    tag_feed = feedparser.parse((tagged_site / "tags/강화학습/feed.xml").read_bytes())
    assert tag_feed.feed.title.endswith("#강화 학습")
    assert tag_feed.feed.link == "https://example.org/sub/path/tags/%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5/"
    items = json.loads((tagged_site / "papers/feed.json").read_text())["items"]
    assert next(i for i in items if i["url"].endswith("/papers/a/"))["tags"] == ["강화 학습", "Reinforcement Learning",
                                                                                 "llm-에이전트"]


@pytest.mark.browser
def test_korean_tag_links_and_filter_labels_in_chromium(tagged_site):
    with serve(tagged_site, "/sub/path/") as base, browser() as chromium:
        page = chromium.new_page()
        page.goto(base + "papers/a/")
        page.locator(".paper-tags a", has_text="#강화 학습").click()
        page.wait_for_url("**/tags/%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5/")
        assert page.locator("h1").inner_text() == "태그: #강화 학습"
        assert page.locator(".paper-list li").count() == 2
        page.goto(base + "search/?q=논문")
        page.locator("#search-filters summary").click()
        page.locator("#search-filter-body fieldset").first.wait_for()
        shown = page.locator("#search-filter-body").inner_text()
        assert "강화 학습" in shown and "Reinforcement Learning" in shown


# --- publishing details ---------------------------------------------------------------------------

def test_relative_base_url_warns_once_per_build(make_repo, tmp_path):
    root = make_repo({"papers/x.yaml": "title: {en: X}\nsummary: {en: s}\nlinks: {paper: 'https://x.org'}\n",
                      "digests/2025-07-28.md": "---\npapers: [x]\n---\n"})
    done = run_cli("build", "--root", str(root), "--out", str(tmp_path / "a"), "--no-search")
    assert done.returncode == 0
    assert done.stderr.count("warning: base URL '/' is a path, not an absolute URL: feeds, sitemap.xml, "
                             "canonical links and social images are left out of the site") == 1
    strict = run_cli("build", "--root", str(root), "--out", str(tmp_path / "b"), "--no-search", "--strict")
    assert strict.returncode == 1 and "error: base URL '/' is a path" in strict.stderr
    assert not (tmp_path / "b").exists()
    absolute = run_cli("build", "--root", str(root), "--out", str(tmp_path / "c"), "--no-search",
                       "--base-url", SITE, "--strict")
    assert absolute.returncode == 0 and "base URL" not in absolute.stderr


def test_papers_page_lists_every_paper_newest_first(make_repo, tmp_path):
    root = make_repo({
        "papers/old.yaml": "title: {en: Old}\nsummary: {en: s}\nlinks: {paper: 'https://x.org/o'}\n",
        "papers/new.yaml": "title: {en: New}\nsummary: {en: s}\nlinks: {paper: 'https://x.org/n'}\n",
        "papers/loose.yaml": "title: {en: Loose}\nsummary: {en: s}\nlinks: {paper: 'https://x.org/l'}\n"
                             "published: 2020-01-01\n",
        "digests/2025-01-06.md": "---\npapers: [old]\n---\n",
        "digests/2025-09-01.md": "---\npapers: [new]\n---\n",
    })
    out = tmp_path / "site"
    assert run_cli("build", "--root", str(root), "--out", str(out), "--base-url", SITE).returncode == 0
    html = (out / "papers/index.html").read_text()
    assert re.findall(r'<li><a href="/sub/path/papers/([^/]+)/">', html) == ["new", "2507.16075", "old", "loose"]
    assert "소개한 논문 4편" in html
    home = json.loads((out / "papers/feed.json").read_text())["home_page_url"]
    assert home == SITE + "papers/" and (out / "papers/index.html").exists()  # the feed links to a page


def test_json_feed_has_no_empty_authors(make_repo, tmp_path):
    root = make_repo({"papers/anon.yaml": "title: {en: Anon}\nsummary: {en: s}\nlinks: {paper: 'https://x.org'}\n"
                                          "authors: [Kim]\n",
                      "digests/2025-07-28.md": "---\npapers: [anon]\n---\n"})
    out = tmp_path / "site"
    assert run_cli("build", "--root", str(root), "--out", str(out), "--base-url", SITE, "--no-search").returncode == 0
    for feed in ("feed.json", "papers/feed.json", "tags/agents/feed.json"):
        for item in json.loads((out / feed).read_text())["items"]:
            assert item.get("authors", None) != []  # JSON Feed 1.1: one or more, or no key
            if "authors" in item:
                assert all(a["name"] for a in item["authors"])
    items = {i["url"]: i for i in json.loads((out / "papers/feed.json").read_text())["items"]}
    assert items[SITE + "papers/anon/"]["authors"] == [{"name": "Kim"}]
    assert "authors" not in items[SITE + "papers/2507.16075/"]


@pytest.mark.browser
def test_scrolling_regions_are_keyboard_focusable(make_repo, tmp_path):
    from axe_playwright_python.sync_playwright import Axe

    long_title = "A Very Long Title " * 12
    wide = "x" * 300
    summary = f"summary:\n  en: |\n    ```\n    {wide}\n    ```\n\n    | {wide} | b |\n    |---|---|\n    | 1 | 2 |\n"
    root = make_repo({"papers/long.yaml": f"title: {{en: {long_title}}}\n{summary}"
                                          "links: {paper: 'https://arxiv.org/abs/2507.00001'}\nauthors: [Kim]\n",
                      "digests/2025-07-28.md": "---\npapers: [long]\n---\n"})
    out = tmp_path / "site"
    assert run_cli("build", "--root", str(root), "--out", str(out), "--no-search").returncode == 0
    with serve(out) as base, browser() as chromium:
        context = chromium.new_context(bypass_csp=True, viewport={"width": 360, "height": 800})
        page = context.new_page()
        page.goto(base + "papers/long/")
        pre = page.locator(".cite pre")
        assert pre.evaluate("e => e.scrollWidth > e.clientWidth")  # it does scroll
        page.keyboard.press("Tab")
        for _ in range(40):
            if page.evaluate("document.activeElement.tagName") == "PRE":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "코드"  # the summary's code
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == "BibTeX":
                break
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "BibTeX"
        assert page.locator("table").evaluate("e => e.scrollWidth > e.clientWidth")
        result = Axe().run(page, options={"runOnly": ["scrollable-region-focusable", "aria-allowed-attr",
                                                      "aria-prohibited-attr"]}).response
        assert result["violations"] == []
        context.close()
