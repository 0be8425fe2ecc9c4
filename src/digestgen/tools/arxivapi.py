"""Paper metadata from the arXiv API, through the `arxiv` package, politely and robustly.

One request carries many ids; requests are at least DELAY seconds apart (arXiv asks for 3);
each has a timeout; 5xx answers, timeouts and connection errors are retried with exponential
backoff. The endpoint comes from DIGESTGEN_ARXIV_API so that tests and mirrors can point
elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass
from typing import Callable

import arxiv
import requests
from lxml import etree

from digestgen.tools.retry import Again, retried

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


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

        self.last_body = b""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        response = super().request(*args, **kwargs)
        self.last_body = response.content
        return response


@dataclass
class Client:
    """Fetches papers by id in batches."""

    api: str = ""
    delay: float = 3.0
    timeout: float = 20.0
    retries: int = 3
    batch: int = 50
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self):
        self.api = self.api or os.environ.get("DIGESTGEN_ARXIV_API") or DEFAULT_API
        self.delay = float(os.environ.get("DIGESTGEN_ARXIV_DELAY", self.delay))
        self._client = arxiv.Client(page_size=self.batch, delay_seconds=self.delay, num_retries=0)
        self._client.query_url_format = self.api.split("?")[0] + "?{}"
        self._session = _TimeoutSession(self.timeout)
        self._client._session = self._session  # arxiv sets no timeout of its own

    def fetch(self, ids: list[str], progress: Callable[[int], None] | None = None) -> dict[str, Paper]:
        """Papers by id (unversioned). Ids arXiv does not return are missing from the result."""
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), self.batch):
            chunk = ids[start:start + self.batch]
            for result in self._with_retries(chunk):
                paper = _paper(result)
                if paper.id in chunk:
                    found[paper.id] = paper
            if progress:
                progress(len(chunk))
        return found

    def _with_retries(self, chunk: list[str]) -> list[arxiv.Result]:
        search = arxiv.Search(id_list=chunk, max_results=len(chunk))

        def once() -> list[arxiv.Result]:
            try:
                results = list(self._client.results(search))
            except arxiv.HTTPError as exc:
                if exc.status < 500:
                    raise FetchError(f"the arXiv API answered HTTP {exc.status}") from None
                raise Again(f"the arXiv API answered HTTP {exc.status}") from None
            except requests.exceptions.Timeout:
                raise Again(f"the arXiv API did not answer within {self.timeout:g}s") from None
            except requests.exceptions.ConnectionError:
                raise Again(f"could not connect to the arXiv API at {self.api}") from None
            except arxiv.UnexpectedEmptyPageError:
                raise Again("the arXiv API returned an empty page") from None
            except Exception as exc:  # noqa: BLE001 - a malformed answer from the network
                raise Again(f"the arXiv API sent an answer that could not be read ({type(exc).__name__})") from None
            if not _well_formed(self._session.last_body):
                raise Again("the arXiv API sent a malformed answer")
            return results

        return retried(once, self.retries, self.delay, self.sleep, FetchError)


def _well_formed(body: bytes) -> bool:
    """Whether `body` is a complete arXiv API Atom feed (the `arxiv` package recovers from broken XML)."""
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return False
    total = root.find("{http://a9.com/-/spec/opensearch/1.1/}totalResults")
    return root.tag == "{http://www.w3.org/2005/Atom}feed" and total is not None


def _paper(result: arxiv.Result) -> Paper:
    short = result.get_short_id()
    base = re.sub(r"v\d+$", "", short)
    return Paper(
        id=base,
        title=" ".join((result.title or "").split()),
        abstract=" ".join((result.summary or "").split()),
        authors=tuple(a.name for a in result.authors),
        published=result.published.date(),
        categories=tuple(result.categories),
        primary_category=result.primary_category,
        pdf_url=f"https://arxiv.org/pdf/{base}",
        comment=result.comment or "",
    )
