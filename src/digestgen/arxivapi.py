"""Paper metadata from the arXiv API, politely and robustly.

One request carries many ids; requests are at least DELAY seconds apart (arXiv asks for 3);
each has a timeout; 5xx answers, timeouts and connection errors are retried with exponential
backoff. The endpoint comes from DIGESTGEN_ARXIV_API so that tests and mirrors can point
elsewhere.

The request is the standard library's (with a timeout) and the Atom answer is read with
feedparser, which also says whether it was well-formed. The `arxiv` package was used before,
but it offers neither a timeout nor a way to reject a truncated answer (which it reads as a
shorter list) without reaching into its private session.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

import feedparser

from digestgen import __version__

DEFAULT_API = "https://export.arxiv.org/api/query"
NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
OLD_ID = re.compile(r"^([a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_URL = re.compile(r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(.+?)(?:\.pdf)?/?$", re.I)


class FetchError(Exception):
    """The API could not be reached or did not answer usefully (applies to every id asked)."""


@dataclass(frozen=True)
class Paper:
    """What arXiv says about one paper."""

    id: str  # without version: 2507.16075 or hep-th/9901001
    title: str
    abstract: str
    authors: tuple[str, ...]
    published: dt.date
    categories: tuple[str, ...]
    primary_category: str
    pdf_url: str
    comment: str

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def withdrawn(self) -> bool:
        return "withdrawn" in self.comment.lower()


def parse_id(text: str) -> str | None:
    """An arXiv id (without version) from anything editors paste, or None.

    '2507.16075', '2507.16075v2', 'arXiv:2507.16075', 'https://arxiv.org/abs/2507.16075',
    'https://arxiv.org/pdf/2507.16075v1', 'hep-th/9901001'.
    """
    text = text.strip()
    match = _URL.match(text)
    if match:
        text = match[1]
    text = re.sub(r"^arxiv:", "", text, flags=re.I)
    for pattern in (NEW_ID, OLD_ID):
        found = pattern.match(text)
        if found:
            return found[1]
    return None


def file_stem(arxiv_id: str) -> str:
    """The paper id used for the file name: 'hep-th/9901001' -> 'hep-th_9901001'."""
    return arxiv_id.replace("/", "_").lower()


@dataclass
class Client:
    """Fetches papers by id in batches."""

    api: str = ""
    delay: float = 3.0
    timeout: float = 20.0
    retries: int = 3
    batch: int = 50
    sleep: Callable[[float], None] = time.sleep  # the backoff between tries
    _last: float | None = field(default=None, repr=False)  # when the last request was made

    def __post_init__(self):
        self.api = self.api or os.environ.get("DIGESTGEN_ARXIV_API") or DEFAULT_API
        self.delay = float(os.environ.get("DIGESTGEN_ARXIV_DELAY", self.delay))

    def fetch(self, ids: list[str], progress: Callable[[int], None] | None = None) -> dict[str, Paper]:
        """Papers by id (unversioned). Ids arXiv does not return are missing from the result."""
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), self.batch):
            chunk = ids[start:start + self.batch]
            for entry in self._with_retries(chunk):
                paper = _paper(entry)
                if paper.id in chunk:
                    found[paper.id] = paper
            if progress:
                progress(len(chunk))
        return found

    def _with_retries(self, chunk: list[str]) -> list:
        """The Atom entries for `chunk`, asking again after a server error, timeout or malformed answer."""
        query = urllib.parse.urlencode({"id_list": ",".join(chunk), "max_results": len(chunk)})
        url = f"{self.api.split('?')[0]}?{query}"
        for attempt in range(self.retries + 1):
            try:
                feed = feedparser.parse(self._get(url))
                if not feed.bozo and feed.version.startswith("atom") and "opensearch_totalresults" in feed.feed:
                    return feed.entries
                problem = "the arXiv API sent a malformed answer"
            except urllib.error.HTTPError as exc:
                problem = f"the arXiv API answered HTTP {exc.code}"
                if exc.code < 500:
                    raise FetchError(problem) from None
            except (TimeoutError, socket.timeout):
                problem = f"the arXiv API did not answer within {self.timeout:g}s"
            except (urllib.error.URLError, OSError) as exc:
                timed_out = isinstance(getattr(exc, "reason", None), TimeoutError)
                problem = (f"the arXiv API did not answer within {self.timeout:g}s" if timed_out
                           else f"could not connect to the arXiv API at {self.api}")
            if attempt < self.retries:
                self.sleep(self.delay * 2 ** attempt)
        raise FetchError(f"{problem} (after {self.retries + 1} tries)")

    def _get(self, url: str) -> bytes:
        """One request, at least `delay` seconds after the previous one."""
        if self._last is not None:
            time.sleep(max(0.0, self._last + self.delay - time.monotonic()))
        request = urllib.request.Request(url, headers={"User-Agent": f"digestgen/{__version__}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        finally:
            self._last = time.monotonic()


def _paper(entry) -> Paper:
    """A Paper from one feedparser entry of an arXiv API answer."""
    short = entry.get("id", "").split("/abs/")[-1]
    base = re.sub(r"v\d+$", "", short)
    return Paper(
        id=base,
        title=" ".join(entry.get("title", "").split()),
        abstract=" ".join(entry.get("summary", "").split()),
        authors=tuple(a.get("name", "") for a in entry.get("authors", [])),
        published=dt.date.fromisoformat(entry.get("published", "")[:10]),
        categories=tuple(t["term"] for t in entry.get("tags", []) if t.get("term")),
        primary_category=entry.get("arxiv_primary_category", {}).get("term", ""),
        pdf_url=f"https://arxiv.org/pdf/{base}",
        comment=entry.get("arxiv_comment", ""),
    )
