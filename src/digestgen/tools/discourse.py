"""A small client of the Discourse API: read a topic (`import`), create and edit posts (`post`).

Requests go through `requests` with a timeout. Reads are retried with exponential backoff on
5xx answers, timeouts and connection errors, and topics are asked for at most one every DELAY
seconds (DIGESTGEN_DISCOURSE_DELAY, default 1), like `add` with arXiv; the timeout is
DIGESTGEN_DISCOURSE_TIMEOUT (default 20 seconds). Writes are retried only
when the request surely did not reach the forum (connection refused) or the forum says it is
overloaded (429, 502, 503, 504), so that a post is never created twice.

Endpoints used (https://docs.discourse.org): GET /t/{id}.json; POST /posts.json (a topic with
`title`, `raw`, `category`, or a reply with `topic_id`, `raw`); PUT /posts/{id}.json
(`post[raw]`); PUT /t/{id}.json (`title`); DELETE /posts/{id}.json. Writes carry the `Api-Key` and `Api-Username` headers.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import requests

from digestgen import __version__
from digestgen.tools.retry import Again, retried

USER_AGENT = f"digestgen/{__version__} (+https://github.com/digestgen/digestgen)"
TOPIC_URL = re.compile(r"^/t/(?:[^/]+/)?(\d+)(?:/\d+)?/?(?:\.json)?$")
RETRY_WRITE = (429, 502, 503, 504)


class ForumError(Exception):
    """The forum could not be reached or refused the request."""


def topic_id(url: str) -> tuple[str, int] | None:
    """('https://forum.example', 10709) from a topic URL in any of its forms, or None."""
    parts = urlsplit(url)
    match = TOPIC_URL.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or not match:
        return None
    return f"{parts.scheme}://{parts.netloc}", int(match[1])


@dataclass
class Client:
    """One forum. `key` and `username` are needed only for writes."""

    base: str
    key: str = ""
    username: str = ""
    timeout: float = 20.0
    retries: int = 3
    delay: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    _last: float = field(default=0.0, repr=False)

    def __post_init__(self):
        self.base = self.base.rstrip("/")
        self.delay = float(os.environ.get("DIGESTGEN_DISCOURSE_DELAY", self.delay))
        self.timeout = float(os.environ.get("DIGESTGEN_DISCOURSE_TIMEOUT", self.timeout))
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"

    def topic(self, number: int) -> dict:
        """GET /t/{id}.json (politely spaced; retried on 5xx, timeouts and connection errors)."""
        wait = self._last + self.delay - time.monotonic()
        if self._last and wait > 0:
            self.sleep(wait)
        try:
            return self._request("GET", f"/t/{number}.json", retry=lambda status: status >= 500, safe=True)
        finally:
            self._last = time.monotonic()

    def create(self, raw: str, title: str | None = None, category: int | None = None,
               topic: int | None = None) -> dict:
        """POST /posts.json: a new topic (title, category) or a reply (topic)."""
        body: dict = {"raw": raw}
        if topic is not None:
            body["topic_id"] = topic
        else:
            body["title"] = title
            if category is not None:
                body["category"] = category
        return self._request("POST", "/posts.json", json=body, auth=True)

    def edit(self, post: int, raw: str, reason: str = "digestgen post") -> dict:
        """PUT /posts/{id}.json with the new raw text."""
        return self._request("PUT", f"/posts/{post}.json", json={"post": {"raw": raw, "edit_reason": reason}},
                             auth=True)

    def rename(self, topic: int, title: str) -> None:
        """PUT /t/{id}.json with the topic's title (as Discourse's own API client sends it)."""
        self._request("PUT", f"/t/{topic}.json", json={"title": title}, auth=True)

    def delete(self, post: int) -> None:
        """DELETE /posts/{id}.json."""
        self._request("DELETE", f"/posts/{post}.json", auth=True)

    def _request(self, method: str, path: str, retry=lambda status: status in RETRY_WRITE,
                 safe: bool = False, auth: bool = False, **kwargs) -> dict:
        url = self.base + path
        headers = {"Api-Key": self.key, "Api-Username": self.username} if auth else {}

        def once() -> dict:
            try:
                response = self.session.request(method, url, timeout=self.timeout, headers=headers, **kwargs)
            except requests.exceptions.ConnectionError as exc:
                if isinstance(exc, requests.exceptions.ReadTimeout) or (not safe and _maybe_sent(exc)):
                    raise ForumError(f"{method} {url}: the forum did not answer within {self.timeout:g}s; "
                                     "check the forum before trying again") from None
                raise Again(f"could not connect to the forum at {self.base}") from None
            except requests.exceptions.Timeout:
                if not safe:
                    raise ForumError(f"{method} {url}: the forum did not answer within {self.timeout:g}s; "
                                     "check the forum before trying again") from None
                raise Again(f"the forum did not answer within {self.timeout:g}s") from None
            except requests.exceptions.RequestException as exc:
                raise ForumError(f"{method} {url}: {type(exc).__name__}") from None
            if not response.ok:
                problem = f"the forum answered HTTP {response.status_code}{_errors(response)}"
                if not retry(response.status_code):
                    raise ForumError(f"{method} {url}: {problem}")
                raise Again(problem)
            if not response.content:
                return {}
            try:
                data = response.json()
            except ValueError:
                raise ForumError(f"{method} {url}: the forum's answer is not JSON") from None
            if not isinstance(data, dict):
                raise ForumError(f"{method} {url}: unexpected answer from the forum")
            return data

        return retried(once, self.retries, self.delay, self.sleep, lambda problem: ForumError(f"{method} {url}: {problem}"))


def _maybe_sent(exc: Exception) -> bool:
    """Whether a failed write may have reached the forum (anything but a refused connection)."""
    text = str(exc)
    return not any(word in text for word in ("Connection refused", "Name or service not known",
                                             "Failed to establish a new connection", "No route to host"))


def _errors(response: requests.Response) -> str:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return ""
    return f" ({'; '.join(map(str, errors))})" if isinstance(errors, list) and errors else ""
