"""The forum both ways: `import` of Discourse topics, the Discourse export from its template
(split at paper boundaries), `post` through the API, and emoji shortcodes.

Fixtures in tests/fixtures/discourse/ follow the structure of a real topic page of the digest,
written in our own words. The forum is tests/discourse_server.py, a local server implementing
the documented endpoints.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
from pathlib import Path

import pytest
import yaml

import discourse_server
from conftest import HERE, run_cli, tree, write

FIXTURES = HERE / "fixtures" / "discourse"
PAGE = FIXTURES / "topic-page.html"
EARLIER = FIXTURES / "earlier-series.json"
SITE = "https://example.org/digest/"
HEADER = "### 테스트포럼 :fire::south_korea:"
FOOTER = "[테스트 포럼](/)에서 정리한 글입니다 :heart:"


def _env(**extra) -> dict:
    env = dict(os.environ, DIGESTGEN_DISCOURSE_DELAY="0", DIGESTGEN_DISCOURSE_TIMEOUT="1")
    env.pop("DISCOURSE_API_KEY", None)
    env.pop("DISCOURSE_API_USERNAME", None)
    env.update(extra)
    return env


def _empty(tmp_path: Path, toml: str = "") -> Path:
    root = tmp_path / "repo"
    (root / "papers").mkdir(parents=True)
    (root / "digests").mkdir()
    if toml:
        write(root, {"digestgen.toml": toml})
    return root


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- import ----------------------------------------------------------------------------------

def test_import_maps_every_field_of_a_topic_page(tmp_path):
    root = _empty(tmp_path)
    done = run_cli("import", str(PAGE), "--root", str(root))
    assert done.returncode == 0, done.stderr
    paper = _yaml(root / "papers/2606.02859.yaml")
    assert paper["title"] == {"ko": "마음의 경제: 경제적 상호작용",
                              "en": "Economy of Minds: Emerging Multi-Agent Intelligence with Economic Interactions"}
    assert paper["tldr"] == {"ko": "**Economy of Minds** 는 경매와 지불만으로 에이전트 무리를 조율하는 방법을 시험합니다."}
    summary = paper["summary"]["ko"]
    assert summary.startswith("에이전트마다 **지갑**을 주고, 행동할 권리를 *경매*로 사게 합니다. 보상 `R_t`는")
    assert "\n\n- 부유한 에이전트는 변이되어 살아남고,\n- 파산한 에이전트는 [탐색](https://example.org/explore)으로" in summary
    assert "$\\mathbb{E}[R]$" in summary
    assert "```python\ndef bid(agent):\n    return agent.wealth * 0.1\n```" in summary
    assert paper["abstract"]["ko"].startswith("중앙의 통제 없이")
    assert paper["abstract"]["en"] == ("Can a crowd of agents get stronger with no one in charge? We let them bid and pay."
                                       "\n\nA second paragraph of our own abstract.\n")
    assert paper["links"] == {"paper": "https://arxiv.org/abs/2606.02859"} and paper["arxiv"] == "2606.02859"
    assert paper["repos"] == ["https://zhentingqi.github.io/internal/projects/EoM/", "https://github.com/zhentingqi/EoM"]
    assert paper["figures"] == [
        {"src": "https://forum.example.org/uploads/default/original/3X/a/b/figure-one.png", "alt": "경매 구조 그림"},
        {"src": "https://forum.example.org/uploads/default/original/3X/c/d/figure-two.png", "alt": "결과 표"}]
    assert "draft" not in paper
    assert paper["tags"] == ["economy-of-minds"]  # the topic tag that names the paper
    assert re.search(r"topic-page\.html:15:1: warning: topic tags that name no paper are not imported \(paper\)", done.stderr)
    second = _yaml(root / "papers/2512.22857.yaml")
    assert second["tldr"]["ko"].startswith("**AutoForge** 는") and second["abstract"]["en"].startswith("We synthesize")
    issue = root / "digests/2026-06-08.md"
    front = _front(issue)
    assert front == {"papers": ["2606.02859", "2512.22857"], "discourse": {"topic": 10709, "posts": [20463]}}
    intro = issue.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert intro.startswith("이번 주의 두 논문은")
    assert ":one: **시장처럼 움직이는 에이전트**: **Economy of Minds**는" in intro
    assert "[논문 페이지](/papers/2606.02859/)" in intro and ":two:" in intro
    assert "테스트포럼" not in intro and "가입" not in intro  # header and footer are not content
    # What could not be mapped is reported at its line of the page.
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    for needle, message in [("<h3><a name=\"p-20463-forum-2\"", "community header"),
                            ("실험 메모</h3>", "section '실험 메모' has no place"),
                            ("<strong>Unlisted Paper</strong>", "summary line for 'Unlisted Paper' matches no paper"),
                            ("테스트 포럼</a>에서", "community footer")]:
        line = next(i for i, text in enumerate(lines, 1) if needle in text)
        assert re.search(rf"{re.escape(str(PAGE))}:{line}:1: warning: {re.escape(message)}", done.stderr), (needle, done.stderr)
    # The import validates and builds, and the emoji show as Unicode.
    assert run_cli("validate", "--root", str(root), "--strict").returncode == 0
    built = run_cli("build", "--root", str(root), "--no-search", "--base-url", SITE)
    assert built.returncode == 0, built.stderr
    page = (root / "site/issues/2026-06-08/index.html").read_text(encoding="utf-8")
    assert "1️⃣" in page and ":one:" not in page


def test_import_earlier_series_json_and_drafts(tmp_path):
    root = _empty(tmp_path)
    done = run_cli("import", str(EARLIER), "--root", str(root))
    assert done.returncode == 0, done.stderr
    paper = _yaml(root / "papers/2507.16075.yaml")
    assert paper["abstract"] == {"ko": "보고서 작성을 확산 과정처럼 다룹니다.", "en": "We treat report writing as a diffusion process."}
    assert paper["repos"] == ["https://github.com/google/ttd-dr"] and "tldr" not in paper and "draft" not in paper
    other = _yaml(root / "papers/abc_12-x.yaml")  # not on arXiv: the id comes from the OpenReview URL
    assert other["links"]["paper"] == "https://openreview.net/forum?id=AbC_12-x" and "arxiv" not in other
    assert other["draft"] is True  # no abstract: a draft, and so is its issue
    front = _front(root / "digests/2025-07-21.md")
    assert front["draft"] is True and front["discourse"] == {"topic": 7001, "posts": [15001]}
    assert "abstract.ko" in done.stdout
    assert run_cli("validate", "--root", str(root)).returncode == 0


def test_import_never_overwrites_and_reimport_is_a_no_op(tmp_path):
    root = _empty(tmp_path)
    write(root, {"papers/2512.22857.yaml": "# the editor's own record\n"})
    assert run_cli("import", str(PAGE), "--root", str(root)).returncode == 0
    assert (root / "papers/2512.22857.yaml").read_text() == "# the editor's own record\n"
    before = tree(root)
    again = run_cli("import", str(PAGE), "--root", str(root))
    assert again.returncode == 0 and "already imported as digests/2026-06-08.md (topic 10709); nothing written" in again.stdout
    assert tree(root) == before
    # A week that already has an issue of another origin: nothing written, exit 1.
    other = _empty(tmp_path / "other")
    write(other, {"digests/2026-06-08.md": "---\npapers: []\n---\n손으로 쓴 호\n"})
    clash = run_cli("import", str(PAGE), "--root", str(other))
    assert clash.returncode == 1 and "digests/2026-06-08.md already exists; not overwritten" in clash.stderr
    assert sorted(p.name for p in (other / "papers").iterdir()) == []


@pytest.mark.parametrize("content,name,message", [
    ("{\"id\": 3}", "topic.json", "no first post with `cooked` HTML"),
    ("{not json", "topic.json", "topic.json:1:2: error: not valid JSON"),
    ("<html><body><p>hello</p></body></html>", "page.html", "page.html:1:1: error: no first post"),
    (json.dumps({"id": 4, "title": "Weekly papers", "post_stream": {"posts": [{"id": 1, "cooked": "<h2>A / B</h2>"}]}}),
     "topic.json", "does not start with a week like [2026/06/08 ~ 14]"),
    ("", "notes.txt", "expected a topic page (.html), a topic JSON file (.json) or a topic URL"),
])
def test_import_bad_sources_are_located_errors(tmp_path, content, name, message):
    root = _empty(tmp_path)
    write(tmp_path, {name: content})
    done = run_cli("import", str(tmp_path / name), "--root", str(root))
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert not any((root / "digests").iterdir())


def test_import_topic_url_through_the_json_api(tmp_path):
    root = _empty(tmp_path)
    with discourse_server.running() as forum:
        forum.topics[7001] = EARLIER.read_bytes()
        forum.faults = [503]  # one 5xx: retried
        done = run_cli("import", f"{forum.url}/t/2025-07-21-27-ai-ml/7001", "--root", str(root), env=_env())
        assert done.returncode == 0, done.stderr
        assert [entry for entry in forum.log if entry[0] == "GET"] == [("GET", "/t/7001.json")] * 2
        missing = run_cli("import", f"{forum.url}/t/x/404", "--root", str(_empty(tmp_path / "b")), env=_env())
        assert missing.returncode == 1 and "HTTP 404" in missing.stderr
        forum.faults = ["slow"] * 4
        slow = run_cli("import", f"{forum.url}/t/x/7001", "--root", str(_empty(tmp_path / "c")), env=_env())
        assert slow.returncode == 1 and "did not answer within 1s" in slow.stderr
        assert not any((tmp_path / "c/repo/digests").iterdir())
    assert _front(root / "digests/2025-07-21.md")["discourse"]["topic"] == 7001
    offline = run_cli("import", f"http://127.0.0.1:{_closed_port()}/t/x/7001", "--root", str(_empty(tmp_path / "d")),
                      env=_env())
    assert offline.returncode == 1 and "could not connect to the forum" in offline.stderr
    assert "nothing written" in offline.stderr and not any((tmp_path / "d/repo/papers").iterdir())


# --- export ----------------------------------------------------------------------------------

def _imported(tmp_path, toml: str = "") -> Path:
    root = _empty(tmp_path, toml or f'[discourse]\nheader = "{HEADER}"\nfooter = "{FOOTER}"\nurl = "https://forum.example.org"\n')
    assert run_cli("import", str(PAGE), "--root", str(root)).returncode == 0
    return root


def test_discourse_export_reproduces_the_post(tmp_path):
    root = _imported(tmp_path)
    done = run_cli("export", "2026-06-10", "--format", "discourse", "--root", str(root), "--base-url", SITE)
    assert done.returncode == 0, done.stderr
    post = done.stdout
    headings = re.findall(r"^(#{1,3} .*|---)$", post, re.M)
    assert headings == [
        "# [2026/06/08 ~ 14] 이번 주에 살펴볼 만한 AI/ML 논문 모음", HEADER, "## 논문별 핵심 요약",
        "---", "## 마음의 경제: 경제적 상호작용 / Economy of Minds: Emerging Multi-Agent Intelligence with Economic Interactions",
        "### 논문 소개", "### 초록(Abstract)", "### 논문 링크", "### 더 읽어보기",
        "---", "## AutoForge: 에이전트 강화학습을 위한 자동 환경 합성 / AutoForge: Automated Environment Synthesis for Agentic Reinforcement Learning",
        "### 논문 소개", "### 초록(Abstract)", "### 논문 링크", "---"]
    assert "* **Economy of Minds** 는 경매와 지불만으로" in post and "* **AutoForge** 는" in post
    assert "![경매 구조 그림](https://forum.example.org/uploads/default/original/3X/a/b/figure-one.png)" in post
    assert "[논문 페이지](https://example.org/papers/2606.02859/)" in post  # relative intro link made absolute
    assert "> Can a crowd of agents get stronger" in post
    assert "\n\nhttps://zhentingqi.github.io/internal/projects/EoM/\n\nhttps://github.com/zhentingqi/EoM\n" in post
    assert post.endswith("[테스트 포럼](https://forum.example.org/)에서 정리한 글입니다 :heart:\n")
    assert ":one:" in post and "1️⃣" not in post  # the forum gets shortcodes
    # Without an absolute base URL the relative intro link cannot be made absolute: a clear error.
    relative = run_cli("export", "2026-06-10", "--format", "discourse", "--root", str(root))
    assert relative.returncode == 2 and "relative links: give an absolute --base-url" in relative.stderr


def test_long_posts_split_at_paper_boundaries(tmp_path):
    root = _imported(tmp_path, "[discourse]\nmax_post_length = 1000\n")
    old = os.umask(0o022)
    try:
        done = run_cli("export", "2026-06-08", "--format", "discourse", "--root", str(root), "--base-url", SITE,
                       "--out", str(tmp_path / "post.md"))
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    files = sorted(tmp_path.glob("post*.md"))
    assert [f.name for f in files] == ["post.2.md", "post.3.md", "post.md"]
    parts = [(tmp_path / n).read_text(encoding="utf-8") for n in ("post.md", "post.2.md", "post.3.md")]
    assert all(len(part) <= 1000 for part in parts)
    assert parts[0].startswith("# [2026/06/08") and "## 논문별 핵심 요약" in parts[0] and "Economy" not in parts[0].split("요약")[-1].split("\n---\n")[-1][:0]
    assert parts[1].startswith("---\n\n## 마음의 경제") and parts[2].startswith("---\n\n## AutoForge")
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in files)
    printed = run_cli("export", "2026-06-08", "--format", "discourse", "--root", str(root), "--base-url", SITE)
    assert printed.stdout.count("----- 8< ----- digestgen: post") == 2 and "post 3 of 3" in printed.stdout
    assert "split into 3 posts" in printed.stderr
    # A shorter export later: the reply file left from this one is pointed out (and not deleted).
    write(root, {"digestgen.toml": "[discourse]\nmax_post_length = 32000\n"})
    one = run_cli("export", "2026-06-08", "--format", "discourse", "--root", str(root), "--base-url", SITE,
                  "--out", str(tmp_path / "post.md"))
    assert one.returncode == 0 and f"{tmp_path / 'post.2.md'} is left from an earlier export" in one.stderr
    # A single paper longer than the limit cannot be split: a clear error, nothing written.
    write(root, {"digestgen.toml": "[discourse]\nmax_post_length = 300\n"})
    too = run_cli("export", "2026-06-08", "--format", "discourse", "--root", str(root), "--base-url", SITE,
                  "--out", str(tmp_path / "x.md"))
    assert too.returncode == 1 and "over max_post_length (300)" in too.stderr and not (tmp_path / "x.md").exists()


def test_markdown_export_makes_intro_links_absolute(tmp_path):
    root = _imported(tmp_path)
    done = run_cli("export", "2026-06-08", "--format", "markdown", "--root", str(root), "--base-url", SITE)
    assert done.returncode == 0 and "[논문 페이지](https://example.org/papers/2606.02859/)" in done.stdout


def test_email_text_keeps_paragraphs_and_shows_emoji(tmp_path):
    root = _imported(tmp_path)
    done = run_cli("export", "2026-06-08", "--format", "email-text", "--root", str(root), "--base-url", SITE)
    assert done.returncode == 0, done.stderr
    assert "만들어 가는 이야기로" not in done.stdout
    assert "묶을 수 있습니다.\n\n1️⃣ 시장처럼 움직이는 에이전트:" in done.stdout
    assert "\n- 부유한 에이전트는 변이되어 살아남고,\n- 파산한 에이전트는" in done.stdout


def test_export_template_can_be_overridden(tmp_path):
    root = _imported(tmp_path)
    write(root, {"templates/export-discourse.md": "{{ issue.issue.label }}{% for p in papers %}{{ paper_break }}\n{{ p.id }}{% endfor %}\n"})
    done = run_cli("export", "2026-06-08", "--format", "discourse", "--root", str(root), "--base-url", SITE)
    assert done.stdout == "2026/06/08 ~ 14\n\n2606.02859\n\n2512.22857\n"


# --- emoji -----------------------------------------------------------------------------------

def test_emoji_shortcodes_render_everywhere_readers_look(make_repo, tmp_path):
    root = make_repo({"digests/2025-07-21.md": "---\ntitle: \"불타는 :fire: 호\"\npapers: [\"2507.16075\"]\n---\n"
                                                ":one: 첫째 :fire::south_korea: 그리고 `:fire:` 는 코드 :not_an_emoji:\n"})
    done = run_cli("build", "--root", str(root), "--no-search", "--base-url", SITE)
    assert done.returncode == 0, done.stderr
    page = (root / "site/issues/2025-07-21/index.html").read_text(encoding="utf-8")
    assert "<p>1️⃣ 첫째 🔥🇰🇷 그리고 <code>:fire:</code> 는 코드 :not_an_emoji:</p>" in page
    assert 'content="1️⃣ 첫째 🔥🇰🇷' in page  # social description
    feed = json.loads((root / "site/feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["summary"].startswith("1️⃣ 첫째 🔥🇰🇷")
    assert "<title>[2025/07/21 ~ 27] 불타는 🔥 호" in page and ":fire:" not in re.sub(
        r"<script.*?</script>", "", page.replace("<code>:fire:</code>", ""), flags=re.S)  # JSON-LD keeps the data
    mail = run_cli("export", "2025-07-21", "--format", "email", "--root", str(root), "--base-url", SITE)
    assert "1️⃣ 첫째 🔥🇰🇷" in mail.stdout and "불타는 🔥 호" in mail.stdout
    post = run_cli("export", "2025-07-21", "--format", "discourse", "--root", str(root), "--base-url", SITE)
    assert post.stdout.startswith("# [2025/07/21 ~ 27] 불타는 :fire: 호\n") and ":one: 첫째 :fire::south_korea:" in post.stdout


# --- post ------------------------------------------------------------------------------------

def _forum_repo(tmp_path, forum, limit: int = 32000) -> Path:
    return _imported_fresh(tmp_path, f'[discourse]\nurl = "{forum.url}"\ncategory = 14\nmax_post_length = {limit}\n'
                                     f'footer = "{FOOTER}"\n')


def _imported_fresh(tmp_path, toml: str) -> Path:
    """The fixture imported, then made a new issue of our own (no topic id yet)."""
    root = _imported(tmp_path, toml)
    issue = root / "digests/2026-06-08.md"
    issue.write_text(issue.read_text(encoding="utf-8").replace("discourse: {topic: 10709, posts: [20463]}\n", ""),
                     encoding="utf-8")
    return root


AUTH = dict(DISCOURSE_API_KEY=discourse_server.KEY, DISCOURSE_API_USERNAME=discourse_server.USER)


def test_post_creates_then_updates_the_topic(tmp_path):
    with discourse_server.running() as forum:
        root = _forum_repo(tmp_path, forum, limit=1000)
        issue = root / "digests/2026-06-08.md"
        original = issue.read_text(encoding="utf-8")
        done = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env(**AUTH))
        assert done.returncode == 0, done.stderr
        assert list(forum.titles.values()) == [("[2026/06/08 ~ 14] 이번 주에 살펴볼 만한 AI/ML 논문 모음", 14)]
        topic = next(iter(forum.titles))
        ids = sorted(forum.posts)
        assert len(ids) == 3 and all(forum.posts[i]["topic_id"] == topic for i in ids)
        assert forum.posts[ids[1]]["raw"].startswith("---\n\n## 마음의 경제")
        text = issue.read_text(encoding="utf-8")
        assert _front(issue)["discourse"] == {"topic": topic, "posts": ids}
        assert text.replace(f"discourse: {{topic: {topic}, posts: [{', '.join(map(str, ids))}]}}\n", "") == original
        # Posting again edits the same posts: no new topic, no new post.
        issue.write_text(text.replace("이번 주의 두 논문은", "이번 주에 고른 두 논문은").replace(
            "papers:\n", 'title: "고친 제목"\npapers:\n', 1), encoding="utf-8")
        again = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env(**AUTH))
        assert again.returncode == 0, again.stderr
        assert len(forum.titles) == 1 and sorted(forum.posts) == ids
        assert "이번 주에 고른 두 논문은" in forum.posts[ids[0]]["raw"]
        assert [entry for entry in forum.log if entry[0] == "PUT"] == [("PUT", f"/posts/{i}.json") for i in ids] + [
            ("PUT", f"/t/{topic}.json")]
        assert forum.titles[topic] == ("[2026/06/08 ~ 14] 고친 제목", 14)
        # A larger limit needs fewer posts: the replies no longer needed are deleted.
        write(root, {"digestgen.toml": f'[discourse]\nurl = "{forum.url}"\ncategory = 14\n'})
        shorter = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env(**AUTH))
        assert shorter.returncode == 0, shorter.stderr
        assert sorted(forum.posts) == ids[:1] and _front(issue)["discourse"] == {"topic": topic, "posts": ids[:1]}
        assert "## AutoForge" in forum.posts[ids[0]]["raw"]


def test_post_fails_cleanly_and_writes_nothing(tmp_path):
    with discourse_server.running() as forum:
        root = _forum_repo(tmp_path, forum)
        before = tree(root)
        dry = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, "--dry-run", env=_env())
        assert dry.returncode == 0 and "would create a topic in category 14" in dry.stdout and forum.log == []
        missing = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env())
        assert missing.returncode == 2 and "set DISCOURSE_API_KEY and DISCOURSE_API_USERNAME" in missing.stderr
        refused = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE,
                          env=_env(DISCOURSE_API_KEY="wrong", DISCOURSE_API_USERNAME="editor"))
        assert refused.returncode == 1 and "HTTP 403" in refused.stderr and "nothing was posted or written" in refused.stderr
        assert forum.posts == {} and tree(root) == before
    offline = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env(**AUTH))
    assert offline.returncode == 1 and "could not connect to the forum" in offline.stderr
    assert tree(root) == before and "Traceback" not in offline.stderr


def test_post_that_fails_half_way_records_what_exists_and_continues(tmp_path):
    with discourse_server.running() as forum:
        root = _forum_repo(tmp_path, forum, limit=1000)
        forum.faults = [None, 500]  # the topic is created, the first reply fails
        done = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env(**AUTH))
        assert done.returncode == 1 and "HTTP 500" in done.stderr and "posting again continues" in done.stderr
        topic = next(iter(forum.titles))
        first = next(iter(forum.posts))
        assert _front(root / "digests/2026-06-08.md")["discourse"] == {"topic": topic, "posts": [first]}
        again = run_cli("post", "2026-06-08", "--root", str(root), "--base-url", SITE, env=_env(**AUTH))
        assert again.returncode == 0, again.stderr
        assert len(forum.titles) == 1 and len(forum.posts) == 3
        assert _front(root / "digests/2026-06-08.md")["discourse"] == {"topic": topic, "posts": sorted(forum.posts)}


def test_discourse_front_matter_is_checked(make_repo):
    root = make_repo({"digests/2025-07-21.md": "---\npapers: [\"2507.16075\"]\ndiscourse: {topic: x, postz: []}\n---\n글\n"})
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    assert "digests/2025-07-21.md:3:13: error: discourse.topic: expected a topic id, got text" in done.stderr
    assert "discourse.postz: unknown key 'postz' (did you mean 'posts'?)" in done.stderr


@pytest.mark.browser
def test_readers_see_emoji_and_local_figures_in_chromium(tmp_path):
    import browser
    from test_incremental import png

    root = _imported(tmp_path)
    write(root, {"figures/eom.png": png(64, 48)})
    record = root / "papers/2606.02859.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace(
        "figures:\n", "figures:\n  - src: figures/eom.png\n    alt: 로컬 그림\n", 1), encoding="utf-8")
    built = run_cli("build", "--root", str(root), "--no-search", "--base-url", "/digest/")
    assert built.returncode == 0, built.stderr
    with browser.serve(root / "site", "/digest/") as url, browser.browser() as chromium:
        page = chromium.new_page()
        page.goto(url + "issues/2026-06-08/")
        text = page.inner_text("main")
        assert "1️⃣ 시장처럼 움직이는 에이전트" in text and ":one:" not in text and ":fire:" not in text
        figure = page.locator("img[alt='로컬 그림']").first
        figure.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=figure.element_handle())
        assert figure.evaluate("img => [img.naturalWidth, img.naturalHeight, img.getAttribute('width')]") == [64, 48, "64"]
