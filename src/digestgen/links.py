"""Check the internal links of a rendered site: every href/src under the base path must resolve."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit


@dataclass(frozen=True)
class BrokenLink:
    page: str  # the site-relative file that holds the link
    target: str  # the link as written
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: broken link {self.target} ({self.reason})"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag in ("a", "link", "area") and values.get("href"):
            if tag == "link" and values.get("rel") in ("canonical", "alternate") and "://" in values["href"]:
                return
            self.links.append(values["href"])
        if tag in ("img", "script", "source", "iframe") and values.get("src"):
            self.links.append(values["src"])
        if tag == "form" and values.get("action"):
            self.links.append(values["action"])


def scan(html: bytes) -> tuple[list[str], set[str]]:
    """The links and element ids of one HTML page."""
    collector = _Collector()
    collector.feed(html.decode("utf-8", errors="replace"))
    return collector.links, collector.ids


def check(files: dict[str, bytes], base_path: str = "/", site_url: str | None = None) -> list[BrokenLink]:
    """Links in `files` (site-relative path -> bytes) that point inside the site but do not resolve.

    `base_path` is where the site is served ('/digest/'); absolute URLs under `site_url` count as internal.
    """
    pages = {path: scan(data) for path, data in files.items() if path.endswith(".html")}
    broken = []
    for page, (links, _) in sorted(pages.items()):
        page_url = base_path + page.removesuffix("index.html")
        for link in links:
            problem = _resolve(link, page_url, base_path, site_url, files, pages)
            if problem:
                broken.append(BrokenLink(page, link, problem))
    return broken


def _resolve(link: str, page_url: str, base_path: str, site_url: str | None, files, pages) -> str | None:
    if site_url and link.startswith(site_url):
        link = base_path + link[len(site_url):]
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None  # external
    absolute = urljoin(page_url, link)
    path = unquote(urlsplit(absolute).path)
    if not path.startswith(base_path):
        return f"outside the base path {base_path}"
    rel = posixpath.normpath(path[len(base_path):]) if path != base_path else ""
    rel = "" if rel == "." else rel
    candidates = [rel, f"{rel}/index.html" if rel else "index.html"] if not path.endswith("/") else [
        f"{rel}/index.html" if rel else "index.html"]
    target = next((c for c in candidates if c in files), None)
    if target is None:
        return "no such page"
    if parts.fragment and target in pages and parts.fragment not in pages[target][1]:
        return f"no element with id '{parts.fragment}'"
    return None
