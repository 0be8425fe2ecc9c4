"""Candidate papers from RSS/Atom feeds (arXiv's listing feeds and others), via feedparser."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import feedparser

from digestgen.tools.arxivapi import file_stem, parse_id

TIMEOUT = 20.0
_ANNOUNCE = re.compile(r"Announce Type:\s*([\w-]+)", re.I)
_DESCRIPTION_ID = re.compile(r"arXiv:(\S+?)\s", re.I)


@dataclass(frozen=True)
class Candidate:
    arxiv_id: str
    title: str
    announce: str  # new, cross, replace, replace-cross, or '' when the feed does not say
    link: str
    published: dt.date | None


class FeedError(Exception):
    """A feed could not be fetched or read."""


def read(source: str, timeout: float = TIMEOUT) -> list[Candidate]:
    """Entries of one feed (a URL or a file) that carry an arXiv id."""
    if re.match(r"^https?://", source):
        try:
            request = urllib.request.Request(source, headers={"User-Agent": "digestgen"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise FeedError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FeedError(f"could not fetch it ({reason})") from None
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise FeedError(f"could not read it ({exc.strerror})") from None
    parsed = feedparser.parse(data)
    if parsed.get("bozo") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed ({' '.join(str(problem).split()) or 'unreadable'})")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not an RSS or Atom feed")
    return [c for c in map(_candidate, parsed.entries) if c is not None]


def candidates(sources: list[str], known: set[str], since: dt.date | None = None,
               warn=print) -> tuple[dict[str, Candidate], int]:
    """Entries of all feeds whose paper has no record yet (by id), and how many feeds failed."""
    found: dict[str, Candidate] = {}
    failed = 0
    for source in sources:
        try:
            entries = read(source)
        except FeedError as exc:
            warn(f"{source}: {exc}")
            failed += 1
            continue
        for entry in entries:
            if file_stem(entry.arxiv_id) in known or entry.arxiv_id in found:
                continue
            if since and entry.published and entry.published < since:
                continue
            found[entry.arxiv_id] = entry
    return found, failed


def _candidate(entry) -> Candidate | None:
    description = entry.get("summary", "") or entry.get("description", "")
    found = None
    for text in (entry.get("id", ""), entry.get("link", "")):
        found = parse_id(re.sub(r"^oai:arXiv\.org:", "", text, flags=re.I))
        if found:
            break
    if not found:
        match = _DESCRIPTION_ID.search(description + " ")
        found = parse_id(match[1]) if match else None
    if not found:
        return None
    announce = entry.get("arxiv_announce_type") or ""
    if not announce:
        match = _ANNOUNCE.search(description)
        announce = match[1] if match else ""
    published = None
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp:
        published = dt.date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday)
    return Candidate(found, " ".join(entry.get("title", "").split()), announce.lower(),
                     f"https://arxiv.org/abs/{found}", published)
