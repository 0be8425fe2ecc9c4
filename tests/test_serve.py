"""`digestgen serve`: a real preview server, real files edited on disk, and Chromium watching."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from browser import browser
from conftest import GOOD_PAPER


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _status(base: str) -> dict:
    return json.loads(_get(base + "__digestgen/status")[1])


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture
def preview(make_repo):
    root = make_repo()
    process = subprocess.Popen([sys.executable, "-m", "digestgen", "serve", "--root", str(root), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield root, line.split()[1], process
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_preview_rebuilds_reports_errors_and_recovers(preview):
    root, base, process = preview
    status, html = _get(base + "papers/2507.16075/")
    assert status == 200 and "테스트 시점 확산 기반 딥 리서처" in html and "/__digestgen/live.js" in html
    assert _get(base + "pagefind/pagefind.js")[0] == 200  # search works in the preview
    assert _get(base + "no/such/page/")[0] == 404
    first = _status(base)
    assert first["errors"] == []
    paper = root / "papers/2507.16075.yaml"
    paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 개정판"), encoding="utf-8")
    _until(lambda: _status(base)["generation"] > first["generation"])
    assert "딥 리서처 개정판" in _get(base + "papers/2507.16075/")[1]
    paper.write_text(GOOD_PAPER.replace("https://arxiv.org", "htp://arxiv.org"), encoding="utf-8")
    errors = _until(lambda: _status(base)["errors"])
    assert errors == ["papers/2507.16075.yaml:8:3: error: links.paper: 'htp://arxiv.org/abs/2507.16075' "
                      "is not an http(s) URL"]
    assert "딥 리서처 개정판" in _get(base + "papers/2507.16075/")[1]  # the last good site stays up
    paper.write_text(GOOD_PAPER, encoding="utf-8")
    _until(lambda: _status(base)["errors"] == [])
    assert "개정판" not in _get(base + "papers/2507.16075/")[1]
    assert process.poll() is None


@pytest.mark.browser
def test_open_pages_reload_and_show_errors(preview):
    root, base, _ = preview
    paper = root / "papers/2507.16075.yaml"
    with browser() as chromium:
        page = chromium.new_page()
        page.goto(base + "papers/2507.16075/")
        page.locator("h1", has_text="딥 리서처").wait_for()
        paper.write_text(GOOD_PAPER.replace("딥 리서처", "딥 리서처 v2"), encoding="utf-8")
        page.locator("h1", has_text="딥 리서처 v2").wait_for(timeout=30000)  # reloaded by itself
        paper.write_text("title: [unclosed\n", encoding="utf-8")
        overlay = page.locator("#digestgen-overlay")
        overlay.wait_for(timeout=30000)
        assert "papers/2507.16075.yaml:2:1: error: YAML syntax" in overlay.inner_text()
        paper.write_text(GOOD_PAPER, encoding="utf-8")
        overlay.wait_for(state="detached", timeout=30000)
        page.locator("h1", has_text="딥 리서처").wait_for()
        assert "v2" not in page.locator("h1").inner_text()


def test_the_watcher_wakes_for_inputs_only(make_repo):
    import threading

    from digestgen import preview

    root = make_repo()
    stop, woke = threading.Event(), []

    def watcher():
        for _ in preview.watch(root, stop):
            woke.append(time.monotonic())

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    time.sleep(0.5)
    (root / ".digestgen" / "preview").mkdir(parents=True)
    (root / ".digestgen" / "preview" / "index.html").write_text("built")  # the build's own output
    (root / "notes.txt").write_text("not an input")
    time.sleep(2.5)
    assert woke == []
    (root / "papers" / "2507.16075.yaml").write_text("title: {en: x}\n")
    deadline = time.monotonic() + 10
    while not woke and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert len(woke) == 1
