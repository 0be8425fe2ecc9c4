"""`digestgen serve`: build, serve on localhost, rebuild on change, and reload open pages.

The site is built (drafts included) into `.digestgen/preview/` and served from there. A watcher
(`watchfiles`: the OS's file events, nothing done while idle) waits for changes to the inputs
(`cache.WATCHED`: `papers/`, `digests/`, `templates/`, `figures/`, `digestgen.toml`, and the figures
the last build used elsewhere); after a change it rebuilds, and
open pages, which the server gives a small script, reload through a server-sent event. When the
content is invalid the last good site stays up, the errors are printed, and pages show them in an
overlay until the file is fixed.
"""

from __future__ import annotations

import errno
import functools
import gc
import http.server
import json
import sys
import threading
import time
from pathlib import Path

import watchfiles

from digestgen.pipeline import build as pipeline
from digestgen.pipeline import cache
from digestgen.config import replace
from digestgen.errors import BuildError, ContentError, UsageError

LIVE_JS = """\
(function () {
  "use strict";
  var generation = null, dismissed = null;
  var SECTIONS = [
    ["errors", "오류", "고칠 때까지 마지막으로 성공한 빌드를 보여 줍니다."],
    ["warnings", "경고", "이대로는 build --strict(CI의 발행)가 실패합니다."],
    ["notes", "참고", "초안에 남은 일입니다. 발행을 막지는 않습니다."]
  ];
  function overlay(s) {
    var box = document.getElementById("digestgen-overlay");
    var key = JSON.stringify([s.errors, s.warnings]);
    if ((!s.errors.length && !s.warnings.length) || key === dismissed) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "digestgen-overlay";
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "digestgen 빌드 결과");
      box.setAttribute("lang", "ko");
      document.body.appendChild(box);
    }
    box.textContent = "";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "닫기";
    close.addEventListener("click", function () { dismissed = key; box.remove(); });
    box.appendChild(close);
    SECTIONS.forEach(function (section) {
      var lines = s[section[0]] || [];
      if (!lines.length) return;
      var part = document.createElement("section");
      part.className = "digestgen-" + section[0];
      if (section[0] === "errors") part.setAttribute("role", "alert");
      var title = document.createElement("p");
      title.className = "digestgen-title";
      var name = document.createElement("strong");
      name.textContent = section[1] + " " + lines.length + "건";
      title.appendChild(name);
      title.appendChild(document.createTextNode(" " + section[2]));
      var list = document.createElement("pre");
      list.setAttribute("tabindex", "0");
      list.setAttribute("aria-label", section[1]);
      list.setAttribute("lang", "en");
      list.textContent = lines.join("\\n");
      part.appendChild(title);
      part.appendChild(list);
      box.appendChild(part);
    });
  }
  function check() {
    fetch("/__digestgen/status", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      if (generation !== null && s.generation !== generation) { location.reload(); return; }
      generation = s.generation;
      overlay(s);
    });
  }
  check();
  var events = new EventSource("/__digestgen/events");
  events.onmessage = check;
})();
"""

# Explicit colours for every element of the overlay, so that the site's own styles (a light
# `pre` background, link colours) never show through; both schemes meet WCAG AA (4.5:1).
LIVE_CSS = """\
#digestgen-overlay { position: fixed; inset: auto 0 0 0; max-height: 60vh; overflow: auto; z-index: 9999;
  background: #ffffff; color: #1b1d21; padding: 0.75rem 1.25rem 1rem; font: 14px/1.5 system-ui, sans-serif;
  border-top: 4px solid #b3261e; box-shadow: 0 -4px 16px rgba(0, 0, 0, 0.25); word-break: keep-all; }
#digestgen-overlay section { margin: 0.5rem 0 0; padding-left: 0.75rem; border-left: 4px solid #5f6368; }
#digestgen-overlay .digestgen-title { margin: 0; color: #1b1d21; background: transparent; }
#digestgen-overlay pre { white-space: pre-wrap; margin: 0.25rem 0 0; padding: 0; background: transparent;
  color: #1b1d21; font: 13px/1.5 ui-monospace, monospace; border: 0; overflow: visible; }
#digestgen-overlay .digestgen-errors { border-left-color: #b3261e; }
#digestgen-overlay .digestgen-errors strong { color: #a50e0e; }
#digestgen-overlay .digestgen-warnings { border-left-color: #b06000; }
#digestgen-overlay .digestgen-warnings strong { color: #7a4100; }
#digestgen-overlay .digestgen-notes { border-left-color: #1a5fb4; }
#digestgen-overlay .digestgen-notes strong { color: #174ea6; }
#digestgen-overlay button { float: right; font: inherit; color: #1b1d21; background: #f1f3f4;
  border: 1px solid #5f6368; border-radius: 4px; padding: 0.15rem 0.75rem; cursor: pointer; }
#digestgen-overlay :focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
@media (prefers-color-scheme: dark) {
  #digestgen-overlay { background: #1b1d21; color: #f1f3f4; border-top-color: #ff8a80; }
  #digestgen-overlay .digestgen-title, #digestgen-overlay pre { color: #f1f3f4; }
  #digestgen-overlay .digestgen-errors strong { color: #ffb4ab; }
  #digestgen-overlay .digestgen-warnings strong { color: #fdd663; }
  #digestgen-overlay .digestgen-notes strong { color: #a8c7fa; }
  #digestgen-overlay button { color: #f1f3f4; background: #303338; border-color: #9aa0a6; }
  #digestgen-overlay :focus-visible { outline-color: #8ab4f8; }
}
"""

INJECT = (b'<link rel="stylesheet" href="/__digestgen/live.css">'
          b'<script src="/__digestgen/live.js" defer></script></body>')


class State:
    """The preview's build state, shared between the watcher and the request handlers."""

    def __init__(self) -> None:
        self.generation = 0
        self.errors: list[str] = []
        self.warnings: list[str] = []  # what `build --strict` (CI) would fail on
        self.notes: list[str] = []
        self.changed = threading.Condition()

    def update(self, ok: bool, errors: list[str], warnings: list[str] = (), notes: list[str] = ()) -> None:
        with self.changed:
            if ok:
                self.generation += 1
            self.errors, self.warnings, self.notes = list(errors), list(warnings), list(notes)
            self.changed.notify_all()

    def snapshot(self) -> dict:
        return {"generation": self.generation, "errors": list(self.errors), "warnings": list(self.warnings),
                "notes": list(self.notes)}


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _split(problems) -> tuple[list[str], list[str], list[str]]:
    """Problems as printed lines: (errors, warnings, notes)."""
    by = {"error": [], "warning": [], "note": []}
    for problem in sorted(problems):
        by.get(problem.severity, by["note"]).append(str(problem))
    return by["error"], by["warning"], by["note"]


def rebuild(root: Path, out: Path, state: State, log=_log, first: bool = False) -> None:
    """Build the preview; on failure keep the old site and record the errors. Every warning that
    `build --strict` would fail on (broken internal links included) is printed and shown too."""
    try:
        _rebuild(root, out, state, log, first)
    finally:
        gc.collect()  # the build's cyclic garbage (a build keeps collections off what it loaded), while the preview waits


def _rebuild(root: Path, out: Path, state: State, log, first: bool) -> None:
    started = time.perf_counter()
    try:
        settings = replace(pipeline.settings_for(root), base_url="/")
        report = pipeline.build(root, out, settings, drafts=True, force=first)
    except ContentError as exc:

        errors, warnings, notes = _split(exc.errors)
        for line in errors + warnings + notes:
            log(line)
        log(f"digestgen: {len(errors)} error{'s' if len(errors) != 1 else ''}; the preview shows the last good build")
        state.update(False, errors, warnings, notes)
        return
    except BuildError as exc:
        log(f"digestgen: error: {exc}")
        state.update(False, [str(exc)])
        return
    except OSError as exc:  # a file the build needed went while it ran, or the disk is full: the next change builds again
        message = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        log(f"digestgen: error: {message}; the preview shows the last good build")
        state.update(False, [message])
        return
    errors, warnings, notes = _split(report.warnings)
    for line in errors + warnings + notes:
        log(line)
    seconds = time.perf_counter() - started
    if report.up_to_date:
        log("the preview is up to date")
        return
    if first:
        log(f"built the preview: {report.pages} pages in {seconds:.2f}s")
    else:
        log(f"rebuilt in {seconds:.2f}s ({report.rendered} of the pages and search documents changed)")
    if warnings:
        log(f"digestgen: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}: "
            "`digestgen build --strict` (the publish workflow) fails until they are fixed")
    state.update(True, errors, warnings, notes)


class Handler(http.server.SimpleHTTPRequestHandler):
    state: State

    def do_GET(self):  # noqa: N802 - the http.server name
        path = self.path.split("?")[0]
        if path == "/__digestgen/status":
            return self._send(json.dumps(self.state.snapshot()).encode(), "application/json")
        if path == "/__digestgen/live.js":
            return self._send(LIVE_JS.encode(), "text/javascript")
        if path == "/__digestgen/live.css":
            return self._send(LIVE_CSS.encode(), "text/css")
        if path == "/__digestgen/events":
            return self._events()
        file = Path(self.translate_path(path))
        if file.is_dir():
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            return self._send(file.read_bytes().replace(b"</body>", INJECT, 1), "text/html; charset=utf-8")
        if not file.exists():
            page = Path(self.directory) / "404.html"
            if page.is_file():
                return self._send(page.read_bytes().replace(b"</body>", INJECT, 1), "text/html; charset=utf-8", 404)
        return super().do_GET()

    def _send(self, body: bytes, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = self.state.snapshot()
        try:
            while True:
                with self.state.changed:
                    self.state.changed.wait(timeout=15)
                now = self.state.snapshot()
                message = b"data: change\n\n" if now != seen else b": keep-alive\n\n"
                seen = now
                self.wfile.write(message)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


def inputs_filter(root: Path):
    """A watchfiles filter that passes changes to the inputs only: `cache.WATCHED`, and the local
    figures the last build used elsewhere in the repository (`cache.figures_elsewhere`)."""
    root = root.resolve()

    def accept(change: watchfiles.Change, path: str) -> bool:
        try:
            rel = Path(path).relative_to(root)
        except ValueError:
            return False
        if not rel.parts or rel.parts[0] == cache.CACHE_DIR:  # the preview's own files among them
            return False
        return rel.parts[0] in cache.WATCHED or rel.as_posix() in cache.figures_elsewhere(root)

    return accept


def watch(root: Path, stop: threading.Event | None = None):
    """Yield once per batch of changes to the inputs (an editor's save is one batch), until `stop`."""
    for _ in watchfiles.watch(root, watch_filter=inputs_filter(root), stop_event=stop):
        yield


def serve(root: Path, port: int = 8000, host: str = "127.0.0.1", open_browser: bool = False) -> None:
    """Build, serve and watch until interrupted."""
    out = root / ".digestgen" / "preview"
    state = State()
    handler = type("PreviewHandler", (Handler,), {"state": state})
    try:  # take the port first: a busy port is said at once, before a build
        server = http.server.ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(out)))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use (another `digestgen serve`?); "
                             f"stop that one, or pick another port: digestgen serve --port {port + 1} "
                             "(--port 0 picks a free one)") from None
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    rebuild(root, out, state, first=True)
    out.mkdir(parents=True, exist_ok=True)
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"serving {url} (Ctrl+C to stop)", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        for _ in watch(root):
            rebuild(root, out, state)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.shutdown()
