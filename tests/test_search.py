"""Search: Korean tokens and particles, the lean search documents, and real searches in Chromium
against a built site served on localhost, at the root and under a subpath."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from browser import browser, serve
from conftest import HERE, run_cli, tree
from digestgen.pipeline import budget, build, records
from digestgen import config
from digestgen.pipeline.korean import arxiv_token, index_tokens, stem
from digestgen.pipeline.records import FIELDS
from digestgen.pipeline.render import renderer

FIXTURE = HERE / "fixtures" / "search"


@pytest.mark.parametrize("word,expected", [
    ("하이퍼파라미터를", "하이퍼파라미터"), ("하이퍼파라미터가", "하이퍼파라미터"), ("모델에서는", "모델"),
    ("강화학습으로", "강화학습"), ("아이", "아이"), ("나이", "나이"), ("model", "model"), ("모델", "모델"),
])
def test_stem(word, expected):
    assert stem(word) == expected


def test_index_tokens_are_stems_once_then_tails_and_ids():
    tokens = index_tokens("온디바이스 학습을 하고 학습이 동역학을 디노이징(denoising)으로 Qwen2.5-7B를 "
                          "[논문](https://arxiv.org/abs/2507.16075) arXiv:2504.13837v2 살핍니다")
    words = tokens[:tokens.index("살핍니다") + 1]
    assert words == ["온디바이스", "학습", "하고", "동역학", "디노이징", "denoising", "qwen2.5-7b", "논문",
                     "arxiv:2504.13837v2", "살핍니다"]  # each once, in order, particles off, no URL
    extra = tokens[len(words):]
    assert {"디바이스", "역학", "arxivcfahbgahf", "arxivcfaebdidh"} <= set(extra) and extra == sorted(extra)
    assert not set(extra) & set(words)


@pytest.mark.parametrize("written", ["2507.16075", "arXiv:2507.16075", "2507.16075v2", "arxiv: 2507.16075v12",
                                     "https://arxiv.org/abs/2507.16075", "https://arxiv.org/pdf/2507.16075v1"])
def test_arxiv_ids_in_any_form_give_one_token(written):
    assert arxiv_token(written) == "arxivcfahbgahf"
    assert arxiv_token("hep-th/9901001v1") == "arxivhepthjjabaab" and arxiv_token("ondevice") == ""


def test_memory_setting_is_checked(make_repo):
    root = make_repo({"digestgen.toml": "search_memory = \"lots\"\n"})
    done = run_cli("build", "--root", str(root))
    assert done.returncode == 1 and "digestgen.toml:1:1: error: search_memory: expected a whole number" in done.stderr
    (root / "digestgen.toml").write_text("memory = -1\n")
    done = run_cli("build", "--root", str(root))
    assert done.returncode == 1 and "digestgen.toml:1:1: error: memory: expected a whole number" in done.stderr


def test_the_memory_budget_is_the_setting_or_half_the_available_memory(make_repo):
    root = make_repo({"digestgen.toml": "search_memory = 700\n"})  # the setting's old name
    assert budget.limit(config.load(root)) == 700 * 2**20
    (root / "digestgen.toml").write_text("memory = 1536\nsearch_memory = 700\n")
    assert budget.limit(config.load(root)) == 1536 * 2**20
    (root / "digestgen.toml").write_text("")
    info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in open("/proc/meminfo")}
    before = info["MemAvailable"]
    found = budget.limit(config.load(root))  # half of what is available (read at a moment of its own)
    assert 0 < found <= info["MemTotal"] // 2 and abs(found - before // 2) < info["MemTotal"] // 8


def test_render_workers_fit_the_budget_beside_the_build():
    gb = 2**30
    assert budget.render_workers(8 * gb, gb // 2, 2) == 2  # room for both
    assert budget.render_workers(int(1.5 * gb), int(0.7 * gb), 2) == 2  # 20,000 papers in 1.5 GB
    assert budget.render_workers(int(1.5 * gb), gb, 2) == 1  # no room for two: render here
    assert budget.render_workers(int(1.5 * gb), int(0.55 * gb), 4) == 3
    # and the results the workers send back, which this process keeps: 22,000 records at 20,000 papers
    assert budget.render_workers(int(1.5 * gb), int(0.74 * gb), 2) == 2
    assert budget.render_workers(int(1.5 * gb), int(0.74 * gb), 2, 22000 * budget.KEPT_RECORD) == 1
    assert budget.render_workers(8 * gb, gb, 1) == 1 and budget.render_workers(gb // 2, gb, 2) == 1


def test_forked_workers_are_replaced_by_fresh_ones_and_keep_the_order(monkeypatch):
    """A render worker's memory grows with what it touches: after FRESH_AFTER items it makes way
    for a fresh fork. The results still come in the items' order."""
    monkeypatch.setattr(budget, "FRESH_AFTER", 3)
    results = list(budget.forked(_pid_and_square, list(range(20)), 2, "testing"))
    assert [square for _, square in results] == [n * n for n in range(20)]
    rounds = [{pid for pid, _ in results[start:start + 6]} for start in range(0, 20, 6)]
    assert all(len(pids) <= 2 for pids in rounds)  # two workers at a time ...
    assert all(a.isdisjoint(b) for n, a in enumerate(rounds) for b in rounds[n + 1:])  # ... never the same twice


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def test_search_records_hold_tokens_and_pages_are_clean():
    settings = config.load(FIXTURE)
    digest, _ = build.load(FIXTURE, settings)
    site = renderer(FIXTURE, settings, digest)
    docs = {p: f.data for part in build.render_tasks(site, site.document_tasks()).values() for p, f in part.items()}
    pages = {p: f.data for part in build.render_tasks(site, site.tasks()).values() for p, f in part.items()}
    record = records.decode(docs["papers/ondevice/index.html"])
    searched = " ".join(text for _, text in record["blocks"])
    assert [weight for weight, _ in record["blocks"][:2]] == [10, 10]  # the title and the arXiv id weigh most
    assert "디바이스" in searched and "arxivcgabaaaab" in searched  # a compound tail; the id token
    assert "메모리" in searched and "사용량을" not in searched  # stems, not the words as written
    assert "메모리 사용량을 줄이는" in record["meta"]["text"]  # the excerpt, as written
    assert record["filters"]["tag"] and record["sort"]["date"] == record["meta"]["date"]
    issue = records.decode(docs["issues/2026-01-05/index.html"])
    assert set(record["meta"]) | set(issue["meta"]) <= set(FIELDS)  # the index numbers the fields from FIELDS
    page = pages["papers/ondevice/index.html"].decode()
    assert "pagefind" not in page and "arxivcgabaaaab" not in page  # readers never see index-only tokens


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
    from digestgen.pipeline.bundle import _read

    bundle = Path(sites["/"]) / "pagefind"
    filters = sorted((bundle / "filter").glob("*.pf_filter"))
    assert filters and list(bundle.glob("pagefind.*.pf_meta"))
    for path in [*bundle.glob("pagefind.*.pf_meta"), *filters]:
        _read(path)  # raises unless cbor2 re-encodes the file byte for byte
    values = [[pair[0] for pair in _read(path)[1]] for path in filters]
    assert all(v == sorted(v) for v in values)  # in order, so that the file is the same every build
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


# --- the query set: realistic papers, searched in Chromium -------------------------------------

SET = HERE / "fixtures" / "search-set"
TTD, RLVR, LORA, LIMA, ASR, ROBOT = ("papers/2507.16075", "papers/2504.13837", "papers/2506.01001",
                                     "papers/2506.02002", "papers/2505.03003", "papers/2505.04004")
GROK, HYPER, DISTILL, RM, LONG, VLM = ("papers/2504.05005", "papers/2504.06006", "papers/2503.07007",
                                       "papers/2503.08008", "papers/2502.09009", "papers/2502.10010")
REASONING_ISSUE = "issues/2026-01-05"

# (kind, query, must be among the first twelve results, must come first (or None), must not be found)
SEARCH_SET = [
    ("exact word", "강화학습", [RLVR, REASONING_ISSUE], RLVR, [GROK, ASR]),
    ("exact word", "양자화", [LORA, ASR], None, [ROBOT]),
    ("exact word", "그로킹", [GROK], GROK, [HYPER, RLVR]),
    ("exact word", "멀티모달", [VLM, "issues/2026-01-19"], None, [ROBOT]),
    ("other particle", "하이퍼파라미터가", [HYPER, ASR], None, [RLVR]),
    ("other particle", "동역학으로", [GROK], GROK, [RLVR]),
    ("other particle", "에이전트는", [TTD], TTD, [LORA]),
    ("other particle", "양자화를", [LORA, ASR], None, [GROK]),
    ("other particle", "환각을", [VLM], VLM, [LONG]),
    ("other particles, two words", "보상 모델이", [RM], RM, [GROK]),
    ("compound tail", "디바이스", [ASR], ASR, [ROBOT]),
    ("compound tail", "역학", [GROK], GROK, [RLVR]),
    ("compound tail", "파라미터", [HYPER, ASR, LORA], None, [ROBOT]),
    ("compound tail", "최적화", [RM], RM, [ROBOT]),
    ("spacing: joined finds spaced", "강화학습", [RLVR, ROBOT], None, [GROK]),
    ("spacing: spaced finds joined", "강화 학습", [RLVR, ROBOT], None, [ASR]),
    ("spacing: joined finds spaced", "미세조정", [LIMA, LORA], None, [GROK, ROBOT]),
    ("spacing: spaced finds joined", "미세 조정", [LORA, LIMA], None, [GROK, ROBOT]),
    ("spacing: joined finds spaced", "언어모델", [LONG, LORA], None, [ROBOT]),
    ("spacing: spaced finds joined", "언어 모델", [LONG, LORA], None, [ROBOT]),
    ("English word", "diffusion", [ROBOT, TTD], None, [ASR]),
    ("English in Korean parentheses", "denoising", [TTD], TTD, [ROBOT]),
    ("English inflection", "models", [ROBOT, LONG], None, []),
    ("English inflection", "quantized", [LORA, ASR], None, [ROBOT]),
    ("English inflection", "distilling", [DISTILL], DISTILL, [ROBOT]),
    ("English inflection", "rewards", [RLVR, RM], None, [ROBOT]),
    ("English inflection", "hallucinations", [VLM], VLM, [LONG]),
    ("English inflection", "trained", [ROBOT, LORA], None, []),
    ("cross-language", "reinforcement", [RLVR], RLVR, [ASR]),
    ("cross-language", "증류", [DISTILL, REASONING_ISSUE], None, [ROBOT]),
    ("cross-language", "distillation", [DISTILL], DISTILL, [ROBOT]),
    ("cross-language", "음성 인식", [ASR], ASR, [ROBOT]),
    ("cross-language", "speech recognition", [ASR], ASR, [ROBOT]),
    ("Latin term in Korean text", "LoRA", [LORA], LORA, [ROBOT]),
    ("model name with a particle", "Qwen2.5-7B를", [DISTILL], DISTILL, [ROBOT]),
    ("title (Korean)", "검증 가능한 보상을 쓰는 강화학습은 추론 능력을 새로 만드는가", [RLVR], RLVR, []),
    ("title (English)", "Lost in the Middle of Long Contexts", [LONG], LONG, []),
    ("title (English)", "Diffusion Policies for Robot Manipulation", [ROBOT], ROBOT, []),
    ("arXiv id", "2507.16075", [TTD], TTD, [RLVR, ROBOT]),
    ("arXiv id with prefix", "arXiv:2507.16075", [TTD], TTD, [RLVR, ROBOT]),
    ("arXiv id with version", "2507.16075v2", [TTD], TTD, [RLVR, ROBOT]),
    ("arXiv URL", "https://arxiv.org/abs/2504.13837", [RLVR], RLVR, [TTD]),
    ("arXiv id from the paper link only", "2506.01001", [LORA], LORA, [LIMA]),
    ("author", "Jiwon Park", [ASR], ASR, [ROBOT]),
    ("author", "Schulman", [RM], RM, [ROBOT]),
    ("two words", "로봇 조작", [ROBOT], ROBOT, [RLVR]),
    ("two words", "긴 문맥", [LONG], LONG, [ROBOT]),
    ("issue intro", "증류로", [REASONING_ISSUE], None, [ROBOT]),
]


@pytest.fixture(scope="module")
def set_site(tmp_path_factory):
    """The query-set fixture, built."""
    target = tmp_path_factory.mktemp("search-set") / "site"
    done = run_cli("build", "--root", str(SET), "--out", str(target))
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture(scope="module")
def set_server(set_site):
    with serve(set_site) as base:
        yield base


@pytest.mark.browser
@pytest.mark.parametrize("kind,query,expected,first,absent", SEARCH_SET, ids=[f"{q[0]}: {q[1]}" for q in SEARCH_SET])
def test_search_set(set_server, chromium, kind, query, expected, first, absent):
    from urllib.parse import quote

    page = chromium.new_page()
    page.goto(f"{set_server}search/?q={quote(query)}")
    found = result_ids(page, want=12)
    page.close()
    assert set(expected) <= set(found[:12]), found
    assert first is None or found[0] == first, found
    assert not set(absent) & set(found), found


@pytest.mark.browser
def test_newest_first(set_server, chromium):
    page = chromium.new_page()
    page.goto(f"{set_server}search/?q=모델&sort=date")
    found = result_ids(page, want=100)
    weeks = page.locator(".result-week").all_inner_texts()
    page.goto(f"{set_server}search/?q=모델")
    relevance = result_ids(page, want=100)
    page.close()
    assert len(found) >= 8 and sorted(found) == sorted(relevance)  # the same pages, once each
    assert weeks == sorted(weeks, reverse=True) and len(set(weeks)) == 3  # newest week first, every week
