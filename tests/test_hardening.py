"""Hardening: hostile content stays inert in a real browser, faults never lose a site, builds
never mix, and no generated input produces a traceback or a hang."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import synth
from browser import browser, serve
from conftest import GOOD_PAPER, run_cli, tree, write
from digestgen.pipeline import output
from digestgen.cli import main
from test_validation import CASES

# --- hostile content ------------------------------------------------------------------------------

PAYLOADS = [
    "<script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='onerror'\">",
    '"><script>window.__pwned="attr"</script>',
    "</title><script>window.__pwned='title'</script>",
    "</script><script>window.__pwned='jsonld'</script>",
    "</textarea><svg onload=\"window.__pwned='svg'\">",
    "[x](javascript:window.__pwned='md') [y](JaVaScRiPt:alert(1)) [z](java\tscript:alert(1))",
    "[a](vbscript:msgbox) [b](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) <javascript:alert(1)>",
    "[c](&#106;avascript:alert(1)) [d](jav&#x09;ascript:alert(1))",
    "{{ 7*7 }} {% raw %} {{ site.title }} ${7*7}",
]
HOSTILE = " ".join(PAYLOADS)


def _yaml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    paper = (f"title:\n  ko: {_yaml('악성 ' + PAYLOADS[3])}\n  en: {_yaml(PAYLOADS[4] + PAYLOADS[2])}\n"
             f"tldr:\n  ko: {_yaml(PAYLOADS[6])}\n"
             f"summary:\n  ko: {_yaml(HOSTILE)}\nabstract:\n  en: {_yaml(HOSTILE)}\n"
             f"links:\n  paper: \"https://example.org/?q=</script><script>window.__pwned='url'</script>\"\n"
             f"repos:\n  - \"https://github.com/a/b?x=\\\"><script>window.__pwned='repo'</script>\"\n"
             f"figures:\n  - src: \"https://example.org/x.png\\\"onerror=\\\"window.__pwned='fig'\"\n"
             f"    alt: {_yaml(PAYLOADS[1])}\n"
             f"authors: [{_yaml(PAYLOADS[0])}]\ntags: [safe]\n")
    write(root, {
        "papers/evil.yaml": paper,
        "digests/2025-07-21.md": f"---\ntitle: {_yaml(PAYLOADS[3])}\npapers: [evil]\n---\n{HOSTILE}\n",
        "digestgen.toml": f"title = {_yaml('사이트 ' + PAYLOADS[3])}\neditors = [{_yaml(PAYLOADS[2])}]\n",
    })
    out = root / "site"
    done = run_cli("build", "--root", str(root), "--out", str(out), "--base-url", "https://example.org/d/")
    assert done.returncode == 0, done.stderr
    return out


def test_hostile_markup_is_escaped_everywhere(hostile_site):
    for path, data in tree(hostile_site).items():
        if path.startswith("pagefind/"):
            continue
        if path.endswith(".json"):  # plain-text fields are data; the HTML ones must be escaped
            for item in json.loads(data)["items"]:
                tags = _tags(item["content_html"])
                assert not [t for t, attrs in tags if t in ("script", "svg") or any(n.startswith("on") for n, _ in attrs)]
            continue
        if not path.endswith((".html", ".xml")):
            continue
        text = data.decode()
        assert not re.search(r"<script>window", text), path
        if path.endswith(".html"):
            tags = _tags(text)
            assert not [t for t, attrs in tags if any(name.startswith("on") for name, _ in attrs)], path
            assert not [t for t, attrs in tags if t in ("svg", "iframe", "object", "embed")], path
            scripts = [dict(attrs) for t, attrs in tags if t == "script"]
            assert all(s.get("type") == "application/ld+json" or s.get("src", "").startswith("/d/") for s in scripts)
            hrefs = [v for _, attrs in tags for name, v in attrs if name in ("href", "src") and v]
            assert not [h for h in hrefs if re.match(r"\s*(javascript|vbscript|data):", h, re.I)], path
    issue = (hostile_site / "issues/2025-07-21/index.html").read_text()
    # template-looking text is shown, not evaluated (Markdown may pair the asterisks as emphasis)
    intro = re.search(r'<div class="prose intro"[^>]*>(.*?)</div>', issue, re.S)[1]
    assert "{{ 7" in intro and "{% raw %}" in intro and "{{ site.title }}" in intro and "49" not in intro


@pytest.mark.browser
def test_nothing_runs_in_any_page(hostile_site):
    pages = [p for p in tree(hostile_site) if p.endswith(".html") and not p.startswith("pagefind/")]
    with serve(hostile_site, "/d/") as base, browser() as chromium:
        # CSP off: the markup itself must be inert, not only blocked by the policy
        context = chromium.new_context(bypass_csp=True)
        dialogs: list[str] = []
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in pages:
            page.goto(base + path.removesuffix("index.html"))
            assert page.evaluate("window.__pwned === undefined"), path
            assert page.evaluate("""() => [...document.querySelectorAll('*')].every(el =>
                [...el.attributes].every(a => !a.name.startsWith('on')))"""), path
            assert page.evaluate("""() => [...document.querySelectorAll('a[href]')].every(a =>
                /^(https?:|mailto:|\\/|#)/i.test(a.getAttribute('href')))"""), path
            scripts = page.evaluate("[...document.scripts].map(s => s.src || s.type)")
            assert all(s.endswith(".js") or "search.js" in s or s == "application/ld+json" or "pagefind" in s
                       for s in scripts), (path, scripts)
        assert dialogs == []
        context.close()
        # CSP on: the search page runs with no violations
        page = chromium.new_page()
        violations: list[str] = []
        page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
        page.goto(base + "search/?q=악성")
        page.locator("#search-status", has_text="결과").wait_for(timeout=20000)
        assert page.evaluate("window.__pwned === undefined")
        assert violations == []


def test_feeds_and_json_ld_stay_well_formed(hostile_site):
    import feedparser

    for feed in ("feed.xml", "rss.xml", "papers/feed.xml"):
        parsed = feedparser.parse((hostile_site / feed).read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
    json.loads((hostile_site / "feed.json").read_text())
    html = (hostile_site / "papers/evil/index.html").read_text()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    data = json.loads(block)
    assert data["sameAs"][0].startswith("https://example.org/")
    assert "<" not in block


def _tags(html: str) -> list[tuple[str, list]]:
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


# --- the corpus: every invalid repository leaves the output folder untouched --------------------

@pytest.mark.parametrize("name,files,expected", CASES, ids=[c[0] for c in CASES])
def test_invalid_build_leaves_output_untouched(make_repo, tmp_path, capsys, name, files, expected):
    root = make_repo(files)
    out = tmp_path / "out"
    write(out, {"index.html": "old site", output.MARKER: ""})
    before = tree(out)
    assert main(["build", "--root", str(root), "--out", str(out), "--no-search"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1].endswith("nothing was written")
    assert tree(out) == before


@pytest.mark.parametrize("name,files", [
    ("1 MB summary", {"papers/big.yaml": "title: {en: Big}\nsummary:\n  ko: |\n" + ("    긴 요약 문장입니다.\n" * 40000)
                      + "links: {paper: 'https://x.org'}\n"}),
    ("huge file", {"papers/huge.yaml": "title: {en: Huge}\n# " + "x" * (9 * 1024 * 1024) + "\n"}),
])
def test_large_inputs(make_repo, capsys, name, files):
    root = make_repo(files)
    status = main(["validate", "--root", str(root)])
    err = capsys.readouterr().err
    if name == "huge file":
        assert status == 1 and "papers/huge.yaml:1:1: error: file is 9,437,205 bytes; the limit is 8,388,608" in err
    else:
        assert status == 0, err


# --- faults ------------------------------------------------------------------------------------------

def _synth_repo(tmp_path, papers=200):
    root = tmp_path / "gen"
    synth.generate(root, papers, start=dt.date(2024, 1, 1))
    return root


def test_killed_builds_leave_the_previous_site(tmp_path):
    root = _synth_repo(tmp_path)
    out = tmp_path / "site"
    assert run_cli("build", "--root", str(root), "--out", str(out)).returncode == 0
    before = tree(out)
    with open(root / "papers" / sorted(p.name for p in (root / "papers").iterdir())[0], "a") as paper:
        paper.write("# a comment: new bytes, so the next build is not a no-op\n")
    for delay in (0.3, 0.8, 1.5, 2.5, 4.0):
        process = subprocess.Popen([sys.executable, "-m", "digestgen", "build", "--root", str(root), "--out", str(out)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        current = tree(out)
        current.pop(output.MARKER), before.pop(output.MARKER, None)  # only the build fingerprint may differ
        assert current == before, f"the site changed after a kill at {delay}s"
    done = run_cli("build", "--root", str(root), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.new-")]


def test_disk_full_is_one_clear_error(make_repo, tmp_path, capsys, monkeypatch):
    root = make_repo()
    out = tmp_path / "site"
    assert main(["build", "--root", str(root), "--out", str(out), "--no-search"]) == 0
    before = tree(out)
    (root / "papers/2507.16075.yaml").write_text(GOOD_PAPER.replace("딥", "깊은"), encoding="utf-8")

    def full(folder, files):
        (folder / "partial.html").write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "write_tree", full)
    capsys.readouterr()
    assert main(["build", "--root", str(root), "--out", str(out), "--no-search"]) == 1
    assert capsys.readouterr().err == f"digestgen: error: could not write the site to {out}: No space left on device\n"
    assert tree(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.new-")]


def test_unwritable_output_is_a_clear_error(make_repo, tmp_path):
    root = make_repo()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = run_cli("build", "--root", str(root), "--out", str(blocker / "site"), "--no-search")
    assert done.returncode == 1
    assert done.stderr.startswith("digestgen: error: ") and "Traceback" not in done.stderr


def test_concurrent_builds_never_mix(tmp_path):
    root = _synth_repo(tmp_path, 150)
    out = tmp_path / "site"
    processes = [subprocess.Popen([sys.executable, "-m", "digestgen", "build", "--root", str(root), "--out", str(out)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    single = tmp_path / "single"
    assert run_cli("build", "--root", str(root), "--out", str(single)).returncode == 0
    assert sorted(tree(out)) == sorted(tree(single))
    assert {k: v for k, v in tree(out).items() if not k.startswith("pagefind/")} == \
           {k: v for k, v in tree(single).items() if not k.startswith("pagefind/")}


# --- property tests ------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60)
WORDS = TEXT.filter(str.strip)  # a required text: blank is (rightly) an error, not an unmutated record
VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                     max_leaves=8)


@st.composite
def records(draw):
    record = {
        "title": {"ko": draw(WORDS), "en": draw(WORDS)},
        "summary": {"ko": draw(WORDS)},
        "links": {"paper": "https://arxiv.org/abs/" + draw(st.from_regex(r"[0-9]{4}\.[0-9]{5}", fullmatch=True))},
        "tags": draw(st.lists(st.from_regex(r"[a-z]{1,8}(-[a-z]{1,5})?", fullmatch=True), max_size=3, unique=True)),
    }
    mutation = draw(st.sampled_from(["none", "drop", "replace", "add", "bytes"]))
    if mutation == "drop":
        record.pop(draw(st.sampled_from(sorted(record))))
    elif mutation == "replace":
        record[draw(st.sampled_from(sorted(record)))] = draw(VALUE)
    elif mutation == "add":
        record[draw(TEXT)] = draw(VALUE)
    text = json.dumps(record, ensure_ascii=False)  # JSON is YAML
    if mutation == "bytes":
        data = text.encode()
        at = draw(st.integers(0, len(data)))
        return mutation, data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return mutation, text.encode()


LOCATED = re.compile(r"^(papers|digests)/[^:]+:\d+:\d+: (error|warning|note): .+$")


@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records(), st.text(max_size=200))
def test_generated_records_build_or_fail_located(tmp_path_factory, capsys, generated, intro):
    mutation, data = generated
    root = tmp_path_factory.mktemp("prop")
    write(root, {"papers/p.yaml": data, "digests/2025-07-21.md": "---\npapers: [p]\n---\n" + intro})
    out = root / "site"
    status = main(["build", "--root", str(root), "--out", str(out), "--no-search"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    if status == 0:
        assert (out / "papers/p/index.html").exists()
    else:
        assert status == 1
        lines = [line for line in err.splitlines() if not line.startswith("digestgen: ")]
        assert lines and all(LOCATED.match(line) for line in lines), err
    if mutation == "none":
        assert status == 0, err


def test_malformed_url_in_markdown_is_not_an_internal_error(make_repo, tmp_path):
    root = make_repo({"papers/m.yaml": "title: {en: M}\nsummary: {en: '[x](http://[bad/) and [y]([z)'}\n"
                                       "links: {paper: 'https://x.org'}\n",
                      "digests/2025-07-28.md": "---\npapers: [m]\n---\n"})
    done = run_cli("build", "--root", str(root), "--out", str(tmp_path / "s"), "--no-search",
                   "--base-url", "https://example.org/")
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
