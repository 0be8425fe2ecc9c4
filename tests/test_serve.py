"""`digestgen serve`: a real preview server, real files edited on disk, and Chromium watching."""

from __future__ import annotations

import json
import re
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


def _ctrl_c() -> None:
    """In the server's process: Ctrl+C (SIGINT) stops it, as in a terminal. A test run started in
    the background by a shell without job control (`pytest &` in a script) ignores SIGINT, and
    every process it starts would inherit that: `serve` would never stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def preview(make_repo):
    root = make_repo()
    process = subprocess.Popen([sys.executable, "-m", "digestgen", "serve", "--root", str(root), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c)
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
        assert "papers/2507.16075.yaml:1:8: error: YAML syntax: the '[' opened here is not closed" in overlay.inner_text()
        paper.write_text(GOOD_PAPER, encoding="utf-8")
        overlay.wait_for(state="detached", timeout=30000)
        page.locator("h1", has_text="딥 리서처").wait_for()
        assert "v2" not in page.locator("h1").inner_text()


BROKEN = "---\npapers: [\"2507.16075\"]\n---\n[지난 호](../../issues/2020-01-06/)를 보세요.\n"
DRAFT = "draft: true\ntitle: {en: Draft}\nlinks: {paper: 'https://x.org'}\n"


def _start(root, *extra):
    process = subprocess.Popen([sys.executable, "-m", "digestgen", "serve", "--root", str(root), "--port", "0", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c)
    line = process.stdout.readline()
    assert line.startswith("serving http://127.0.0.1:"), line + process.stderr.read()
    return process, line.split()[1]


def _stop(process) -> str:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    return err


def test_serve_shows_what_strict_would_fail_on(make_repo):
    """A broken internal link (a warning, which `build --strict` fails on) and a draft's note are in
    the terminal and in the status the overlay shows, each in its own list; start-up says what it built."""
    root = make_repo({"digests/2025-07-21.md": BROKEN, "papers/wip.yaml": DRAFT})
    process, base = _start(root)
    try:
        status = _status(base)
        warning = "digests/2025-07-21.md:4:8: warning: broken link ../../issues/2020-01-06/ (no such page)"
        assert status["errors"] == [] and status["warnings"] == [warning]
        assert status["notes"] == ["papers/wip.yaml:1:1: note: draft paper 'wip' is not listed in any issue yet",
                                   "papers/wip.yaml:1:1: note: draft: draft record; still missing title.ko, summary.ko, abstract.ko"]
    finally:
        err = _stop(process)
    assert warning in err.splitlines()
    assert "rebuilt 0 pages" not in err and re.search(r"^built the preview: \d+ pages in", err, re.M)
    assert "`digestgen build --strict` (the publish workflow) fails until they are fixed" in err
    # a second start on an unchanged folder still reports them (the preview is not skipped as up to date)
    process, base = _start(root)
    try:
        assert _status(base)["warnings"] == [warning]
    finally:
        assert warning in _stop(process)


def test_busy_port_names_the_port(make_repo):
    import socket

    root = make_repo()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "digestgen", "serve", "--root", str(root), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == (f"digestgen: error: port {port} on 127.0.0.1 is already in use (another `digestgen serve`?); "
                           f"stop that one, or pick another port: digestgen serve --port {port + 1} "
                           "(--port 0 picks a free one)\n")
    assert not (root / ".digestgen/preview").exists()  # said at once, before any build


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_overlay_is_readable_and_separates_errors_warnings_notes(make_repo, scheme):
    from axe_playwright_python.sync_playwright import Axe

    root = make_repo({"digests/2025-07-21.md": BROKEN, "papers/wip.yaml": DRAFT})
    process, base = _start(root)
    try:
        with browser() as chromium:
            context = chromium.new_context(bypass_csp=True, color_scheme=scheme)
            page = context.new_page()
            page.goto(base + "issues/2025-07-21/")
            overlay = page.locator("#digestgen-overlay")
            overlay.wait_for()
            assert overlay.locator(".digestgen-errors").count() == 0
            warnings = overlay.locator(".digestgen-warnings")
            assert "경고 1건" in warnings.inner_text() and "build --strict" in warnings.inner_text()
            assert "broken link ../../issues/2020-01-06/" in warnings.locator("pre").inner_text()
            notes = overlay.locator(".digestgen-notes")
            assert "참고 2건" in notes.inner_text() and "draft paper 'wip'" in notes.inner_text()
            assert "broken link" not in notes.inner_text() and "draft" not in warnings.inner_text()
            (root / "papers/2507.16075.yaml").write_text("title: [unclosed\n", encoding="utf-8")
            overlay.locator(".digestgen-errors").wait_for(timeout=30000)
            assert "오류 1건" in overlay.locator(".digestgen-errors").inner_text()
            # page and overlay colours are in the scheme asked for; every text meets WCAG AA
            dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            assert dark == (scheme == "dark")
            result = Axe().run(page, context="#digestgen-overlay",
                               options={"runOnly": ["color-contrast", "scrollable-region-focusable"]}).response
            assert result["violations"] == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
            assert len(result["passes"]) >= 1  # the contrast check did look at the overlay's text
            overlay.get_by_role("button", name="닫기").click()
            overlay.wait_for(state="detached")
            context.close()
    finally:
        _stop(process)


def test_the_watcher_wakes_for_inputs_only(make_repo):
    import threading

    from digestgen.tools import preview

    root = make_repo()
    (root / "img").mkdir()
    (root / "img" / "a.png").write_bytes(b"a figure outside figures/")
    (root / ".digestgen").mkdir()
    (root / ".digestgen" / "figures.json").write_text('["./img/a.png"]')  # as a record wrote it, a build kept it
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
    (root / "img" / "b.png").write_bytes(b"an image no record uses")
    time.sleep(2.5)
    assert woke == []
    (root / "papers" / "2507.16075.yaml").write_text("title: {en: x}\n")
    deadline = time.monotonic() + 10
    while not woke and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(woke) == 1
    time.sleep(1)
    (root / "img" / "a.png").write_bytes(b"the figure, edited")
    deadline = time.monotonic() + 10
    while len(woke) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert len(woke) == 2


def test_a_file_error_during_a_rebuild_keeps_the_preview(make_repo, tmp_path, monkeypatch):
    """A rebuild that fails on a file (a paper gone mid-build, a full disk) is reported like a
    content error, and the preview goes on with the last good build."""
    from digestgen.tools import preview as served

    root = make_repo()
    state, lines = served.State(), []

    def failing(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", str(root / "papers" / "gone.yaml"))

    monkeypatch.setattr(served.pipeline, "build", failing)  # (the preview's name for `pipeline.build`, the module)
    served.rebuild(root, tmp_path / "out", state, log=lines.append)
    assert state.errors == [f"No such file or directory: {root / 'papers' / 'gone.yaml'}"]
    assert state.generation == 0 and "the preview shows the last good build" in lines[-1]
