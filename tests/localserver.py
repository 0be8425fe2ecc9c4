"""The HTTP plumbing the tests' local servers share (recorded arXiv API, test forum): they stand in
for the internet, which the test machines do not have."""

from __future__ import annotations

import contextlib
import http.server
import threading


class Replying(http.server.BaseHTTPRequestHandler):
    """A request handler with one way to answer, and no request log on stderr."""

    def _reply(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler], state):
    """Serve `handler` on a free port of 127.0.0.1 in a thread; yield `state` with its `url` set."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
