"""`digestgen import`, step one: a source (saved page, topic JSON or topic URL) as its first post."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import Tag

from digestgen.tools import discourse
from digestgen.tools.import_html import soup as _soup


class ImportError_(Exception):
    """A source that cannot be imported at all."""


@dataclass
class Source:
    """One topic's first post, ready to read."""

    name: str  # how problems name the place: a file, or 'URL (cooked)'
    post: Tag  # the element that holds the post's HTML
    title: str
    topic: int | None = None
    post_id: int | None = None
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    tags_line: int = 1


def read_source(text: str, client_for=None) -> Source:
    """A Source from a file path or a topic URL (raises ImportError_)."""
    found = discourse.topic_id(text)
    if found:
        base, number = found
        client = client_for(base) if client_for else discourse.Client(base)
        try:
            data = client.topic(number)
        except discourse.ForumError as exc:
            raise ImportError_(f"{text}: {exc}; nothing written") from None
        return _from_json(data, f"{base}/t/{number}.json (cooked)", f"{base}/t/{data.get('slug') or '-'}/{number}")
    path = Path(text)
    if text.startswith(("http://", "https://")):
        raise ImportError_(f"{text}: not a Discourse topic URL (expected https://forum/t/slug/ID)")
    if not path.is_file():
        raise ImportError_(f"{text}: no such file")
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportError_(f"{text}:{exc.lineno}:{exc.colno}: error: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ImportError_(f"{text}:1:1: error: expected a topic object (the forum's /t/<id>.json)")
        url = None
        if data.get("id") and data.get("slug"):
            url = f"/t/{data['slug']}/{data['id']}"
        return _from_json(data, f"{text} (cooked)", url)
    if path.suffix.lower() in (".html", ".htm"):
        return _from_page(raw, text)
    raise ImportError_(f"{text}: expected a topic page (.html), a topic JSON file (.json) or a topic URL")


def _from_json(data: dict, name: str, url: str | None) -> Source:
    posts = ((data.get("post_stream") or {}).get("posts") or []) if isinstance(data, dict) else []
    first = posts[0] if posts and isinstance(posts[0], dict) else None
    if first is None or not isinstance(first.get("cooked"), str):
        raise ImportError_(f"{name.removesuffix(' (cooked)')}: no first post with `cooked` HTML "
                           "(expected the forum's /t/<id>.json)")
    tags = [t if isinstance(t, str) else t.get("name", "") for t in data.get("tags") or [] if t]
    return Source(name=name, post=_soup(first["cooked"]), title=str(data.get("title") or ""),
                  topic=_int(data.get("id")), post_id=_int(first.get("id")), url=url, tags=tags)


def _from_page(html: str, name: str) -> Source:
    soup = _soup(html)
    post = soup.select_one("#post_1 [itemprop=text]") or soup.select_one("#post_1 .post")
    if post is None:
        raise ImportError_(f"{name}:1:1: error: no first post (expected a Discourse topic page with #post_1)")
    heading = soup.select_one("#topic-title h1")
    title = heading.get_text(" ", strip=True) if heading else (soup.title.get_text() if soup.title else "")
    canonical = soup.select_one("link[rel=canonical]")
    url = canonical.get("href") if canonical else None
    found = discourse.topic_id(url) if url else None
    anchor = post.find("a", attrs={"name": re.compile(r"^p-\d+-")})
    post_id = int(anchor["name"].split("-")[1]) if anchor else None
    tags_div = soup.select_one(".discourse-tags")
    tags = [a.get_text(strip=True) for a in soup.select(".discourse-tags a.discourse-tag")]
    return Source(name=name, post=post, title=title, topic=found[1] if found else None, post_id=post_id, url=url,
                  tags=tags, tags_line=tags_div.sourceline if tags_div is not None else 1)


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
