"""Publishing: feeds, sitemap, robots, OpenGraph, JSON-LD, BibTeX, exports, workflow, link checks."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
import time
from pathlib import Path

import feedparser
import pytest
import yaml

from conftest import HERE, PROJECT, run_cli, tree, write

SITE_URL = "https://example.org/digest/"
BASIC = HERE / "fixtures" / "basic"
EXPORTS = HERE / "golden" / "exports"
EXPORT_FILES = {"discourse": "discourse.md", "markdown": "markdown.md", "email": "email.html",
                "email-text": "email-text.txt"}


def render_exports() -> dict[str, bytes]:
    """Every export format of the basic fixture's first issue (also used by regen_golden.py)."""
    out = {}
    for fmt, name in EXPORT_FILES.items():
        done = run_cli("export", "2025-07-21", "--root", str(BASIC), "--format", fmt, "--base-url", SITE_URL)
        assert done.returncode == 0, done.stderr
        out[name] = done.stdout.encode()
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish") / "site"
    done = run_cli("build", "--root", str(BASIC), "--out", str(out), "--base-url", SITE_URL)
    assert done.returncode == 0, done.stderr
    return out


def _resolves(site: Path, url: str) -> bool:
    assert url.startswith(SITE_URL), url
    rel = url[len(SITE_URL):]
    return (site / rel).is_file() or (site / rel / "index.html").is_file()


FEEDS = ["feed.xml", "rss.xml", "papers/feed.xml", "papers/rss.xml", "tags/agents/feed.xml", "tags/agents/rss.xml"]


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_are_valid_and_link_to_built_pages(site, path):
    parsed = feedparser.parse((site / path).read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.entries
    assert parsed.feed.get("language", "ko").startswith("ko")
    for entry in parsed.entries:
        assert _resolves(site, entry.link)
        assert entry.get("id", entry.link) == entry.link  # the page URL: stable across edits
        for href in re.findall(r'href="([^"]+)"', entry.get("summary", "") + "".join(
                c.value for c in entry.get("content", []))):
            assert href.startswith(("https://", "http://", "mailto:")), href


def test_feed_content_and_dates(site):
    issues = feedparser.parse((site / "feed.xml").read_bytes())
    assert [e.title for e in issues.entries] == ["[2025/12/29 ~ 2026/01/04] 연말 특집",
                                                  "[2025/07/21 ~ 27] 이번 주에 살펴볼 만한 AI/ML 논문 모음"]
    assert issues.entries[1].published == "2025-07-21T00:00:00+09:00"
    assert "Deep Researcher with Test-Time Diffusion" in issues.entries[1].content[0].value
    papers = feedparser.parse((site / "papers/feed.xml").read_bytes())
    assert [e.link for e in papers.entries] == [SITE_URL + "papers/only-en/", SITE_URL + "papers/2507.16075/",
                                                SITE_URL + "papers/2506.10943/"]
    atom = (site / "feed.xml").read_text()
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ko">' in atom
    for path in ("feed.json", "papers/feed.json", "tags/agents/feed.json"):
        document = json.loads((site / path).read_text())
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["feed_url"] == SITE_URL + path
        assert all(_resolves(site, item["url"]) for item in document["items"])


def test_feed_ids_do_not_change_when_a_record_is_edited(tmp_path):
    root = tmp_path / "repo"
    write(root, {k: v.decode() for k, v in tree(BASIC).items()})
    out = tmp_path / "site"
    assert run_cli("build", "--root", str(root), "--out", str(out), "--no-search").returncode == 0
    before = [(e.id, e.published) for e in feedparser.parse((out / "papers/feed.xml").read_bytes()).entries]
    record = root / "papers/2507.16075.yaml"
    record.write_text(record.read_text().replace("초안을 **되풀이해**", "초안을 고쳐"), encoding="utf-8")
    assert run_cli("build", "--root", str(root), "--out", str(out), "--no-search").returncode == 0
    after = feedparser.parse((out / "papers/feed.xml").read_bytes()).entries
    assert [(e.id, e.published) for e in after] == before
    assert "초안을 고쳐" in (out / "papers/feed.xml").read_text()


def test_every_page_links_its_feeds_and_has_cards(site):
    for page in [p for p in site.rglob("*.html") if "pagefind" not in p.parts]:
        html = page.read_text()
        assert f'<link rel="alternate" type="application/atom+xml" title="테스트 다이제스트: 새 호 (Atom)" href="{SITE_URL}feed.xml">' in html, page
        assert '<meta property="og:title"' in html and '<meta name="twitter:card"' in html, page
        assert re.search(r'<meta property="og:image" content="https://', html), page
    paper = (site / "papers/2507.16075/index.html").read_text()
    assert '<meta property="og:image" content="https://example.org/fig1.png">' in paper
    assert f'<meta property="og:url" content="{SITE_URL}papers/2507.16075/">' in paper
    assert f'<meta property="og:image" content="{SITE_URL}assets/og-default.png">' in (site / "index.html").read_text()
    assert (site / "assets/og-default.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tag = (site / "tags/agents/index.html").read_text()
    assert f'href="{SITE_URL}tags/agents/feed.xml"' in tag


def test_sitemap_and_robots(site):
    sitemap = (site / "sitemap.xml").read_text()
    urls = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert SITE_URL in urls and SITE_URL + "archive/" in urls and SITE_URL + "tags/agents/" in urls
    assert SITE_URL + "issues/2025-07-21/" in urls and SITE_URL + "papers/only-en/" in urls
    assert all(_resolves(site, url) for url in urls)
    assert not any(url.endswith(("404.html", "/search/")) for url in urls)
    assert len(urls) == len(set(urls)) == 11  # home, archive, papers, 3 tag pages, 2 issues, 3 papers
    assert (site / "robots.txt").read_text() == f"User-agent: *\nAllow: /\nSitemap: {SITE_URL}sitemap.xml\n"


def _ld(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1])


def test_json_ld(site):
    paper = _ld((site / "papers/2507.16075/index.html").read_text())
    assert paper["@type"] == "ScholarlyArticle"
    assert paper["name"] == [{"@language": "en", "@value": "Deep Researcher with Test-Time Diffusion"},
                             {"@language": "ko", "@value": "테스트 시점 확산 기반 딥 리서처"}]
    assert paper["author"] == [{"@type": "Person", "name": "Rujun Han"}, {"@type": "Person", "name": "홍길동"}]
    assert paper["sameAs"] == ["https://arxiv.org/abs/2507.16075"]
    assert paper["subjectOf"] == [{"@type": "SoftwareSourceCode", "codeRepository": "https://github.com/google/ttd-dr"}]
    issue = _ld((site / "issues/2025-07-21/index.html").read_text())
    assert issue["@type"] == "PublicationIssue" and len(issue["hasPart"]) == 2
    assert _ld((site / "index.html").read_text())["@type"] == "WebSite"


def test_json_ld_cannot_be_broken_out_of(tmp_path):
    root = tmp_path / "repo"
    write(root, {"papers/x.yaml": 'title: {en: "</script><script>alert(1)</script>"}\nsummary: {en: s}\n'
                                  'links: {paper: "https://x.org/?a=1&b=<2>"}\n',
                 "digests/2025-07-21.md": "---\npapers: [x]\n---\n"})
    out = tmp_path / "site"
    assert run_cli("build", "--root", str(root), "--out", str(out), "--base-url", SITE_URL, "--no-search").returncode == 0
    html = (out / "papers/x/index.html").read_text()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    assert "<" not in block and "\\u003c/script\\u003e" in block
    assert json.loads(block)["name"][0]["@value"] == "</script><script>alert(1)</script>"
    assert html.count("<script") == 1  # only the JSON-LD block itself


def test_bibtex(site):
    bib = (site / "papers/2507.16075/2507.16075.bib").read_text()
    assert bib.startswith("@misc{handeep,\n  title = {{Deep Researcher with Test-Time Diffusion}},\n")
    assert "year" not in bib  # the record gives no date: none is made up
    assert "  author = {Rujun Han and 홍길동}," in bib and "  url = {https://arxiv.org/abs/2507.16075}," in bib
    page = (site / "papers/2507.16075/index.html").read_text()
    assert "@misc{handeep," in page and 'href="/digest/papers/2507.16075/2507.16075.bib" download' in page
    issue_bib = (site / "issues/2025-07-21/2025-07-21.bib").read_text()
    assert issue_bib.count("@misc{") == 2


def test_relative_base_url_writes_no_absolute_metadata(make_repo, tmp_path):
    out = tmp_path / "s"
    assert run_cli("build", "--root", str(make_repo()), "--out", str(out), "--no-search").returncode == 0
    assert not (out / "feed.xml").exists() and not (out / "sitemap.xml").exists()
    assert (out / "robots.txt").read_text() == "User-agent: *\nAllow: /\n"
    html = (out / "index.html").read_text()
    assert "og:image" not in html and "application/ld+json" not in html and 'rel="alternate"' not in html


@pytest.mark.parametrize("fmt", list(EXPORT_FILES))
def test_exports_match_golden(fmt):
    name = EXPORT_FILES[fmt]
    assert render_exports()[name] == (EXPORTS / name).read_bytes(), f"run python tests/regen_golden.py and review {name}"


def test_email_is_self_contained():
    html = render_exports()["email.html"].decode()
    assert "<script" not in html and "<style" not in html and "<link" not in html
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(h.startswith(("https://", "#")) for h in hrefs)
    assert 'role="presentation"' in html


@pytest.mark.parametrize("args,message", [
    (["2025-07-21", "--format", "email"], "--format email links to the site: give an absolute --base-url"),
    (["2024-01-01", "--format", "discourse"], "no published issue for the week of 2024-01-01"),
    (["2025-07-21", "--format", "pdf"], "invalid choice: 'pdf'"),
])
def test_export_errors(make_repo, args, message):
    done = run_cli("export", "--root", str(make_repo()), *args)
    assert done.returncode == 2 and message in done.stderr


def test_publish_workflow():
    flow = yaml.safe_load((PROJECT / ".github/workflows/publish.yml").read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"]["group"].startswith("pages-")
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    uses = [step.get("uses", "") for step in build["steps"]]
    assert any(u.startswith("actions/configure-pages@") for u in uses)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    setup = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    runs = " ".join(step.get("run", "") for step in build["steps"])
    for command in ("digestgen validate --strict", "digestgen build --strict", "--base-url"):
        assert command in runs
    assert "pytest" not in runs and "paths" not in triggers["push"]  # content pushes always publish
    assert deploy["needs"] == "build" and "pull_request" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site"


def test_tool_tests_run_only_when_the_tool_changes():
    flow = yaml.safe_load((PROJECT / ".github/workflows/tests.yml").read_text())
    triggers = flow[True]
    for event in ("push", "pull_request"):
        paths = triggers[event]["paths"]
        assert {"src/**", "tests/**", "pyproject.toml"} <= set(paths)
        assert not any(p.startswith(("papers", "digests")) for p in paths)
    runs = " ".join(step.get("run", "") for step in flow["jobs"]["test"]["steps"])
    assert "python -m pytest" in runs and "chromium" in runs


def test_broken_internal_link_is_located(make_repo, tmp_path):
    paper = ('title: {en: T}\nsummary:\n  ko: |\n    본문.\n\n    [없는 호](../../issues/2020-01-06/) 와 [앵커](#nope)\n'
             'links: {paper: "https://x.org"}\n')
    root = make_repo({"papers/b.yaml": paper, "digests/2025-07-28.md": "---\npapers: [b]\n---\n"})
    out = tmp_path / "s"
    done = run_cli("build", "--root", str(root), "--out", str(out), "--no-search")
    assert done.returncode == 0
    assert "papers/b.yaml:6:12: warning: broken link ../../issues/2020-01-06/ (no such page)" in done.stderr
    assert "papers/b.yaml:6:45: warning: broken link #nope (no element with id 'nope')" in done.stderr
    before = tree(out)
    strict = run_cli("build", "--root", str(root), "--out", str(out), "--no-search", "--strict",
                     "--base-url", "https://example.org/")
    assert strict.returncode == 1 and "papers/b.yaml:6:12: error: broken link" in strict.stderr
    assert tree(out) == before
    checked = run_cli("check-links", "--root", str(root))  # the same check, on the site rendered in memory
    assert checked.returncode == 1
    assert [line for line in checked.stderr.splitlines() if ": error: " in line] == [
        "papers/b.yaml:6:12: error: broken link ../../issues/2020-01-06/ (no such page)",
        "papers/b.yaml:6:45: error: broken link #nope (no element with id 'nope')",
    ]


class _Links(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_HEAD(self):  # noqa: N802
        self.hits.append(self.path)
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/redirect":
            self.send_response(301)
            self.send_header("Location", "/ok")
            self.end_headers()
            return
        if self.path == "/no-head":
            self.send_response(405)
            self.end_headers()
            return
        status = {"/ok": 200, "/missing": 404, "/boom": 500}.get(self.path, 200)
        self.send_response(status)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        self.hits.append("GET " + self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def link_server():
    _Links.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Links)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_check_links_external(make_repo):
    with link_server() as base:
        paper = (f'title: {{en: T}}\nsummary:\n  en: "see [boom]({base}/boom) and [ok]({base}/ok)"\n'
                 f'links:\n  paper: "{base}/ok"\n  code: "{base}/redirect"\nrepos:\n  - "{base}/missing"\n'
                 f'  - "{base}/no-head"\n  - "{base}/slow"\n')
        root = make_repo({"papers/c.yaml": paper, "digests/2025-07-28.md": "---\npapers: [c]\n---\n"}, base=False)
        done = run_cli("check-links", "--root", str(root), "--external", "--timeout", "1")
        assert done.returncode == 1
        errors = [line for line in done.stderr.splitlines() if ": error: " in line]
        assert errors == [
            f"papers/c.yaml:3:19: error: {base}/boom is broken (HTTP 500)",
            f"papers/c.yaml:8:6: error: {base}/missing is broken (HTTP 404)",
            f"papers/c.yaml:10:6: error: {base}/slow is broken (timed out after 1s)",
        ]
        assert "GET /no-head" in _Links.hits  # HEAD refused: asked again with GET
        _Links.hits.clear()
        again = run_cli("check-links", "--root", str(root), "--external", "--timeout", "1")
        assert again.returncode == 1
        assert "/ok" not in _Links.hits and "/boom" in _Links.hits  # good answers are cached, bad ones asked again
