"""`digestgen serve`: build, serve on localhost, rebuild on change, and reload open pages.

The site is built (drafts included) into `.digestgen/preview/` and served from there. A watcher
(`watchfiles`: the OS's file events, nothing done while idle) waits for changes to the inputs
(`cache.WATCHED`: `papers/`, `digests/`, `templates/`, `digestgen.toml`); after a change it rebuilds, and
open pages, which the server gives a small script, reload through a server-sent event. When the
content is invalid the last good site stays up, the errors are printed, and pages show them in an
overlay until the file is fixed.
"""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
import time
from pathlib import Path

import watchfiles

from digestgen import build as pipeline
from digestgen import cache
from digestgen.config import replace
from digestgen.errors import BuildError, ContentError

LIVE_JS = """\
(function () {
  "use strict";
  var generation = null;
  function overlay(errors) {
    var box = document.getElementById("digestgen-overlay");
    if (!errors.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "digestgen-overlay";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "digestgen: 내용에 오류가 있어 마지막으로 성공한 빌드를 보여 줍니다";
    var list = document.createElement("pre");
    list.textContent = errors.join("\\n");
    box.appendChild(title);
    box.appendChild(list);
  }
  function check() {
    fetch("/__digestgen/status", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (s) {
      if (generation !== null && s.generation !== generation) { location.reload(); return; }
      generation = s.generation;
      overlay(s.errors);
    });
  }
  check();
  var events = new EventSource("/__digestgen/events");
  events.onmessage = check;
})();
"""

LIVE_CSS = """\
#digestgen-overlay { position: fixed; inset: auto 0 0 0; max-height: 60vh; overflow: auto; z-index: 9999;
  background: #2b0b0b; color: #ffdede; padding: 1rem 1.25rem; font: 14px/1.5 ui-monospace, monospace;
  border-top: 4px solid #ff6b6b; }
#digestgen-overlay pre { white-space: pre-wrap; margin: 0.5rem 0 0; }
"""

INJECT = (b'<link rel="stylesheet" href="/__digestgen/live.css">'
          b'<script src="/__digestgen/live.js" defer></script></body>')
class State:
    """The preview's build state, shared between the watcher and the request handlers."""

    def __init__(self) -> None:
        self.generation = 0
        self.errors: list[str] = []
        self.changed = threading.Condition()

    def update(self, ok: bool, errors: list[str]) -> None:
        with self.changed:
            if ok:
                self.generation += 1
            self.errors = errors
            self.changed.notify_all()

    def snapshot(self) -> dict:
        return {"generation": self.generation, "errors": list(self.errors)}


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def rebuild(root: Path, out: Path, state: State, log=_log) -> None:
    """Build the preview; on failure keep the old site and record the errors."""
    started = time.perf_counter()
    try:
        settings = replace(pipeline.settings_for(root), base_url="/")
        report = pipeline.build(root, out, settings, drafts=True)
    except ContentError as exc:
        lines = [str(e) for e in exc.errors]
        for line in lines:
            log(line)
        state.update(False, lines)
        return
    except BuildError as exc:
        log(f"digestgen: error: {exc}")
        state.update(False, [str(exc)])
        return
    log(f"rebuilt {report.pages} pages in {time.perf_counter() - started:.2f}s")
    state.update(True, [str(w) for w in report.warnings if w.severity == "error"])


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
    """A watchfiles filter that passes changes to the inputs (`cache.WATCHED`) only."""
    root = root.resolve()

    def accept(change: watchfiles.Change, path: str) -> bool:
        try:
            parts = Path(path).relative_to(root).parts
        except ValueError:
            return False
        return bool(parts) and parts[0] in cache.WATCHED

    return accept


def watch(root: Path, stop: threading.Event | None = None):
    """Yield once per batch of changes to the inputs (an editor's save is one batch), until `stop`."""
    for _ in watchfiles.watch(root, watch_filter=inputs_filter(root), stop_event=stop):
        yield


def serve(root: Path, port: int = 8000, host: str = "127.0.0.1", open_browser: bool = False) -> None:
    """Build, serve and watch until interrupted."""
    out = root / ".digestgen" / "preview"
    state = State()
    rebuild(root, out, state)
    out.mkdir(parents=True, exist_ok=True)
    handler = type("PreviewHandler", (Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(out)))
    server.daemon_threads = True
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
