"""Search: Korean tokens and particles, the lean search documents, and real searches in Chromium
against a built site served on localhost, at the root and under a subpath."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from browser import browser, serve
from conftest import HERE, run_cli, tree
from digestgen import build, config
from digestgen.korean import index_tokens, stem
from digestgen.render import renderer

FIXTURE = HERE / "fixtures" / "search"


@pytest.mark.parametrize("word,expected", [
    ("하이퍼파라미터를", "하이퍼파라미터"), ("하이퍼파라미터가", "하이퍼파라미터"), ("모델에서는", "모델"),
    ("강화학습으로", "강화학습"), ("아이", "아이"), ("나이", "나이"), ("model", "model"), ("모델", "모델"),
])
def test_stem(word, expected):
    assert stem(word) == expected


def test_index_tokens_cover_compound_tails_and_glued_latin():
    tokens = index_tokens("온디바이스 학습 동역학을 디노이징(denoising)으로 살핍니다")
    assert {"디바이스", "역학", "denoising", "디노이징"} <= set(tokens)
    assert "학습" not in tokens and "온디바이스" not in tokens  # words Pagefind already has
    assert tokens == sorted(set(tokens))


def test_search_documents_are_lean_nfd_and_pages_are_clean():
    settings = config.load(FIXTURE)
    digest, _ = build.load(FIXTURE, settings)
    site = renderer(FIXTURE, settings, digest)
    docs = {p: f.data for part in build.render_tasks(site, site.document_tasks()).values() for p, f in part.items()}
    pages = {p: f.data for part in build.render_tasks(site, site.tasks()).values() for p, f in part.items()}
    nfd = docs["papers/ondevice/index.html"].decode()
    assert unicodedata.is_normalized("NFD", nfd) and not unicodedata.is_normalized("NFC", nfd)
    doc = unicodedata.normalize("NFC", nfd)
    assert "디바이스" in doc and "data-pagefind-body" in doc and 'data-pagefind-filter="tag[content]"' in doc
    assert "site-header" not in doc  # navigation is not indexed
    page = pages["papers/ondevice/index.html"].decode()
    assert "pagefind" not in page and "\u2042" not in page  # readers never see index-only tokens


# --- in a real browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The search fixture built twice: for the root and for the subpath /digest/."""
    out = tmp_path_factory.mktemp("search")
    built = {}
    for prefix in ("/", "/digest/"):
        target = out / prefix.strip("/").replace("/", "_") / "site" if prefix != "/" else out / "root" / "site"
        done = run_cli("build", "--root", str(FIXTURE), "--out", str(target), "--base-url", prefix)
        assert done.returncode == 0, done.stderr
        built[prefix] = target
    return built


@pytest.fixture(scope="module")
def chromium():
    with browser() as instance:
        yield instance


def result_ids(page, want: int = 10) -> list[str]:
    """Paper/issue slugs of the results shown, loading more until `want` or the end."""
    status = page.locator("#search-status")
    status.filter(has_text="결과").wait_for(timeout=20000)
    more = page.locator("#search-more")
    while page.locator(".result").count() < want and more.is_visible():
        count = page.locator(".result").count()
        more.click()
        for _ in range(100):
            if page.locator(".result").count() > count:
                break
            page.wait_for_timeout(50)
    hrefs = page.locator(".result-title a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [re.sub(r"^.*/(papers|issues)/([^/]+)/$", r"\1/\2", h) for h in hrefs]


QUERY_SET = [
    # (kind, query, must be in the top ten, must not be found)
    ("exact word", "강화학습", ["papers/rl", "papers/robot", "issues/2026-01-12"], ["papers/ondevice"]),
    ("other particle", "하이퍼파라미터가", ["papers/ondevice", "papers/hyper"], ["papers/rl"]),
    ("particle on stem", "동역학으로", ["papers/dynamics"], ["papers/rl"]),
    ("compound tail", "디바이스", ["papers/ondevice"], ["papers/dynamics"]),
    ("compound tail", "역학", ["papers/dynamics"], ["papers/rl"]),
    ("English word", "diffusion", ["papers/robot"], ["papers/ondevice"]),
    ("English in Korean parentheses", "denoising", ["papers/denoise"], ["papers/robot"]),
    ("two words", "로봇 조작", ["papers/robot"], ["papers/rl"]),
    ("title word", "grokking", ["papers/dynamics"], ["papers/hyper"]),
]


@pytest.mark.browser
@pytest.mark.parametrize("kind,query,expected,absent", QUERY_SET, ids=[f"{q[0]}: {q[1]}" for q in QUERY_SET])
def test_query_set(sites, chromium, kind, query, expected, absent):
    with serve(sites["/"]) as base:
        page = chromium.new_page()
        page.goto(f"{base}search/?q={query}")
        found = result_ids(page)
        page.close()
    assert set(expected) <= set(found[:10]), found
    assert not set(absent) & set(found), found


@pytest.mark.browser
@pytest.mark.parametrize("prefix", ["/", "/digest/"])
def test_type_a_query_and_follow_a_result(sites, chromium, prefix):
    with serve(sites[prefix], prefix) as base:
        page = chromium.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{base}papers/rl/")
        page.fill("#site-search-q", "그로킹")
        page.press("#site-search-q", "Enter")
        page.wait_for_url(re.compile(re.escape(base) + r"search/\?q="))
        assert result_ids(page) == ["papers/dynamics"]
        page.fill("#search-q", "양자화")  # typing in the search page's own box searches as you type
        page.locator(".result-title a", has_text="온디바이스").wait_for(timeout=10000)
        assert "q=%EC%96%91%EC%9E%90%ED%99%94" in page.url  # the URL follows the box: shareable
        page.locator(".result-title a").first.click()
        page.wait_for_url(f"{base}papers/ondevice/")
        assert "작은 언어 모델을 위한 온디바이스 추론 최적화" in page.locator("h1").inner_text()
        assert errors == []
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("prefix", ["/", "/digest/"])
def test_filter_by_tag(sites, chromium, prefix):
    with serve(sites[prefix], prefix) as base:
        page = chromium.new_page()
        page.goto(f"{base}search/?q=모델")
        assert len(result_ids(page)) >= 2
        page.locator("#search-filters summary").click()
        page.locator("#search-filter-body label", has_text="on-device").click()
        page.locator("#search-status", has_text="결과 1건").wait_for(timeout=10000)
        assert result_ids(page) == ["papers/ondevice"]
        assert "tag=on-device" in page.url
        page.close()


@pytest.mark.browser
def test_deep_link_with_filters_and_sort(sites, chromium):
    with serve(sites["/"]) as base:
        page = chromium.new_page()
        page.goto(f"{base}search/?tag=theory&sort=date")
        ids = result_ids(page)
        assert ids == ["papers/hyper", "papers/dynamics"]  # both theory papers, newest week first
        assert page.locator("#search-filters").get_attribute("open") is not None
        assert page.locator("#search-sort").input_value() == "date"
        page.goto(f"{base}search/?q=로봇&week=2026/01/05 ~ 11")
        page.locator("#search-status", has_text="결과가 없습니다").wait_for(timeout=10000)
        page.close()


@pytest.mark.browser
def test_results_show_both_titles_and_week(sites, chromium):
    with serve(sites["/"]) as base:
        page = chromium.new_page()
        page.goto(f"{base}search/?q=그로킹")
        result_ids(page)
        first = page.locator(".result").first
        assert first.locator('.result-title [lang="ko"]').inner_text() == "학습 동역학으로 본 그로킹 현상"
        assert first.locator('.result-title [lang="en"]').inner_text() == "Grokking Through the Lens of Training Dynamics"
        assert first.locator(".result-week").inner_text() == "2026/01/05 ~ 11"
        assert first.locator("mark").first.inner_text() == "그로킹"
        page.close()


@pytest.mark.browser
def test_keyboard_only_search(sites, chromium):
    with serve(sites["/"]) as base:
        page = chromium.new_page()
        page.goto(f"{base}search/")
        assert page.evaluate("document.activeElement.id") == "search-q"  # focused on arrival
        page.keyboard.type("강화학습")
        page.keyboard.press("Enter")
        result_ids(page)
        for _ in range(4):  # sort select, submit button, filter summary, first result
            page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('.result') !== null")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/(papers|issues)/"))
        page.close()


@pytest.mark.browser
def test_search_page_accessibility(sites, chromium):
    from axe_playwright_python.sync_playwright import Axe

    with serve(sites["/"]) as base:
        context = chromium.new_context(bypass_csp=True)  # axe injects its script by evaluation
        page = context.new_page()
        page.goto(f"{base}search/?q=강화학습")
        result_ids(page)
        page.locator("#search-filters summary").click()
        page.locator("#search-filter-body fieldset").first.wait_for()
        violations = Axe().run(page).response["violations"]
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
                   if v["impact"] in ("serious", "critical")]
        assert serious == []
        context.close()


@pytest.mark.browser
def test_pages_work_without_javascript(sites, chromium):
    with serve(sites["/"]) as base:
        context = chromium.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{base}papers/rl/")
        assert "검증 가능한 보상으로 하는 강화학습의 한계" in page.locator("h1").inner_text()
        page.goto(f"{base}search/?q=x")
        assert "검색에는 자바스크립트가 필요합니다" in page.locator("main").inner_text()
        context.close()


def test_bundle_is_written_and_stale_index_disappears(sites):
    files = tree(sites["/"])
    assert any(p.startswith("pagefind/index/") for p in files)
    assert any(p.startswith("pagefind/filter/") for p in files)
    assert "pagefind/pagefind.js" in files
    assert not list(Path(sites["/"]).parent.glob(f".{Path(sites['/']).name}.search-*"))  # scratch removed


def test_bundle_data_round_trips_and_rebuilds_identically(sites, tmp_path):
    from digestgen.search import _read

    bundle = Path(sites["/"]) / "pagefind"
    filters = sorted((bundle / "filter").glob("*.pf_filter"))
    assert filters and list(bundle.glob("pagefind.*.pf_meta"))
    for path in [*bundle.glob("pagefind.*.pf_meta"), *filters]:
        _read(path)  # raises unless cbor2 re-encodes the file byte for byte
    values = [[pair[0] for pair in _read(path)[1]] for path in filters]
    assert all(v == sorted(v) for v in values)  # normalize_bundle sorted them (it skips what does not round-trip)
    assert max(map(len, values)) > 3
    again = tmp_path / "site"
    done = run_cli("build", "--root", str(FIXTURE), "--out", str(again), "--base-url", "/")
    assert done.returncode == 0, done.stderr
    assert tree(again / "pagefind") == tree(bundle)


# --- after an incremental build: the base bundle and a delta ----------------------------------

@pytest.mark.browser
def test_edits_found_through_the_delta_in_the_right_place(tmp_path, chromium):
    import datetime as dt

    import synth

    root = tmp_path / "repo"
    ids = synth.generate(root, 60, start=dt.date(2025, 1, 6))
    edited = root / "papers" / f"{ids[25]}.yaml"  # in the third of six weeks
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("summary:\n  ko: |\n", "summary:\n  ko: |\n    옛표지어 모델 문장입니다.\n\n", 1),
                      encoding="utf-8")
    out = root / "site"
    done = run_cli("build", "--root", str(root), "--out", str(out))
    assert done.returncode == 0, done.stderr
    edited.write_text(edited.read_text(encoding="utf-8").replace("옛표지어", "새표지어"), encoding="utf-8")
    done = run_cli("build", "--root", str(root), "--out", str(out))
    assert "1 changed document(s) indexed" in done.stderr, done.stderr
    target = f"papers/{ids[25]}"
    with serve(out) as base:
        page = chromium.new_page()
        page.goto(f"{base}search/?q=새표지어")
        assert result_ids(page) == [target]  # only the delta has the new word
        page.goto(f"{base}search/?q=옛표지어")  # only the superseded base page had the old one
        page.locator("#search-status", has_text="결과가 없습니다").wait_for(timeout=10000)
        page.goto(f"{base}search/?q=모델&sort=date")
        found = result_ids(page, want=1000)
        weeks = page.locator(".result-week").all_inner_texts()
        page.close()
    assert found.count(target) == 1  # once, from the delta, not again from the base
    assert len(found) > 30 and weeks == sorted(weeks, reverse=True)  # the delta's page among the base's by date
    position = found.index(target)
    assert 0 < position < len(found) - 1
