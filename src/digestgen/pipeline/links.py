"""Link checks: internal links of a rendered site on every build, external URLs on request."""

from __future__ import annotations

import concurrent.futures
import json
import marshal
import posixpath
import re
import sys
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

from digestgen import atomic
from digestgen.pipeline.digest import PaperView
from digestgen.errors import SourceError

# digestgen writes every attribute in double quotes, so a regex reads its pages reliably and
# far faster than an HTML parser (10,000 pages in about a second).
_LINK = re.compile(r'<(a|link|img|script|source|form)\b[^>]*?\s(href|src|action)="([^"]*)"')
_ID = re.compile(r'\sid="([^"]*)"')
_REL_EXTERNAL = re.compile(r'\srel="(canonical|alternate)"')


@dataclass(frozen=True)
class BrokenLink:
    page: str  # the site-relative file that holds the link
    target: str  # the link as written
    reason: str


class Scan(NamedTuple):
    """What the link check needs of a page: its internal-looking links and its element ids."""

    links: list[str]
    ids: set[str]


class Record(NamedTuple):
    """A page's link check, kept for the next build: the site paths its links point to (packed,
    as the manifest keeps them: see `pack_record`), and its problems as (link, reason)."""

    targets: frozenset[str] | bytes
    problems: tuple[tuple[str, str], ...]


def scan(html: str) -> Scan:
    """The internal-looking links and the element ids of one page. (Links interned: most are the
    navigation every page has, so the scans of a large site, kept to the end of its build and
    sent back from the render workers, share them: at 20,000 papers they were 17 KB a page.)"""
    links = []
    for match in _LINK.finditer(html):
        if match[1] == "link" and _REL_EXTERNAL.search(match[0]):
            continue
        links.append(sys.intern(unescape(match[3])))
    return Scan(links, set(_ID.findall(html)))


def pack(scan: Scan) -> bytes:
    """A scan as one bytes object, as the manifest keeps it: loading 22,000 pages' scans as lists
    and sets of strings took an edit at 20,000 papers a quarter of a second, and an edit reads few
    of them (`unpack`)."""
    return marshal.dumps((tuple(scan.links), tuple(sorted(scan.ids))))


def unpack(scan: Scan | bytes) -> Scan:
    """A scan, whether kept packed (see `pack`) or not."""
    if isinstance(scan, bytes):
        found, ids = marshal.loads(scan)
        return Scan(list(found), set(ids))
    return scan


def pack_record(record: Record) -> Record:
    """A record whose targets are packed like a scan's links (read only when a page changed)."""
    if isinstance(record.targets, bytes):
        return record
    return Record(marshal.dumps(tuple(sorted(record.targets))), record.problems)


def _targets(record: Record) -> frozenset[str]:
    return frozenset(marshal.loads(record.targets)) if isinstance(record.targets, bytes) else record.targets


def scan_file(path: str, data: bytes) -> Scan | None:
    """`scan` of a rendered file if it is an HTML page, else None."""
    return scan(data.decode("utf-8", "replace")) if path.endswith(".html") else None


def scan_pages(files: dict[str, bytes]) -> dict[str, Scan]:
    """`scan` of every HTML page in `files`."""
    return {path: scan_file(path, data) for path, data in files.items() if path.endswith(".html")}


def check_site(pages: dict[str, Scan], files, base_path: str = "/", site_url: str | None = None,
               reuse: dict[str, Record] | None = None, changed=frozenset()
               ) -> tuple[list[BrokenLink], dict[str, Record]]:
    """Links in the scanned `pages` of a site holding the paths `files` that point inside the site
    but do not resolve, and every page's `Record`.

    `base_path` is where the site is served ('/digest/'); absolute URLs under `site_url` count as
    internal. `reuse` maps a page to its record from a previous call; it holds while none of the
    page's targets is in `changed` (paths added or removed since, or pages whose ids changed).
    A scan may be packed (see `pack`): only the pages checked again, and the pages their links
    point into, are unpacked.
    """
    reuse = reuse or {}
    broken = []
    records: dict[str, tuple] = {}
    seen: dict[tuple[str, str], tuple] = {}  # navigation links repeat on every page: resolve once
    scans = _Unpacked(pages)
    for page in sorted(pages):
        kept = reuse.get(page)
        if kept is not None and (not changed or _targets(kept).isdisjoint(changed)):
            records[page] = kept
            broken += [BrokenLink(page, link, reason) for link, reason in kept.problems]
            continue
        links, ids = scans[page]
        page_url = base_path + page.removesuffix("index.html")
        targets: set[str] = set()
        problems = []
        for link in dict.fromkeys(links):
            if _SAME_PAGE.match(link):  # '#content': most pages have several; no URL parsing needed
                if link[1:] not in ids:
                    problems.append((link, f"no element with id '{link[1:]}'"))
                continue
            key = (link, "" if link.startswith(("/", "http:", "https:")) else page_url)
            if key not in seen:
                seen[key] = _resolve(link, page_url, base_path, site_url)
            reason, candidates, fragment = seen[key]
            targets.update(candidates)
            reason = reason or (_judge(candidates, fragment, files, scans) if candidates else None)
            if reason:
                problems.append((link, reason))
        records[page] = Record(frozenset(targets), tuple(problems))
        broken += [BrokenLink(page, link, reason) for link, reason in problems]
    return broken, records


class _Unpacked(dict):
    """The scans of `pages`, unpacked as they are asked for."""

    def __init__(self, pages: dict[str, Scan | bytes]):
        super().__init__()
        self.pages = pages

    def __contains__(self, page) -> bool:
        return page in self.pages

    def __missing__(self, page: str) -> Scan:
        found = self[page] = unpack(self.pages[page])
        return found


_SAME_PAGE = re.compile(r"^#[A-Za-z0-9._:-]+$")  # a fragment that needs no unquoting
_SIMPLE = re.compile(r"^/[A-Za-z0-9_/.-]*(?:#[A-Za-z0-9._:-]*)?$")  # nothing to unquote or resolve


def _resolve(link: str, page_url: str, base_path: str, site_url: str | None) -> tuple[str | None, tuple, str]:
    """(why it cannot resolve, or None; the site paths it may point to; its fragment)."""
    if site_url and link.startswith(site_url):
        link = base_path + link[len(site_url):]
    if _SIMPLE.match(link) and "/." not in link:  # '/papers/x/#p-y': already absolute and plain
        path, _, fragment = link.partition("#")
    else:
        try:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                return None, (), ""  # external
            absolute = urljoin(page_url, link)
        except ValueError:
            return "malformed URL", (), ""
        path, fragment = unquote(urlsplit(absolute).path), parts.fragment
    if not path.startswith(base_path):
        return f"outside the base path {base_path}", (), ""
    rel = posixpath.normpath(path[len(base_path):]) if path != base_path else ""
    rel = "" if rel == "." else rel
    if path.endswith("/"):
        return None, (f"{rel}/index.html" if rel else "index.html",), fragment
    return None, (rel, f"{rel}/index.html" if rel else "index.html"), fragment


def _judge(candidates: tuple, fragment: str, files, pages) -> str | None:
    target = next((c for c in candidates if c in files), None)
    if target is None:
        return "no such page"
    if fragment and target in pages and unquote(fragment) not in pages[target].ids:
        return f"no element with id '{fragment}'"
    return None


def problems(root: Path, settings, digest, scans: dict[str, Scan], files, severity: str = "error",
             reuse: dict[str, Record] | None = None, changed=frozenset()) -> tuple[list[SourceError], dict[str, Record]]:
    """The link-check stage: broken internal links, anchors and assets of a rendered site, each
    placed in the record or issue whose text has it (or on the page, when a template wrote it),
    and every page's `Record` (see `check_site` for `reuse` and `changed`)."""
    site_url = settings.base_url if settings.absolute else None
    broken, records = check_site(scans, files, settings.base_path, site_url, reuse, changed)
    shown = _sources_of_pages(digest) if broken else {}
    found: dict[tuple[str, str], SourceError] = {}
    for problem in broken:
        place = next(filter(None, (_place(root, view, problem.target) for view in shown.get(problem.page, []))), None)
        if place is None:  # written by a template, not by content
            message = f"broken link {problem.target} on {problem.page} ({problem.reason}); check the templates"
            found.setdefault((problem.page, problem.target),
                             SourceError(f"site/{problem.page}", 1, 1, message, severity))
            continue
        source, written, (line, col) = place
        found.setdefault((source, written), SourceError(
            source, line, col, f"broken link {written} ({problem.reason})", severity))
    return sorted(found.values()), records


def _sources_of_pages(digest) -> dict[str, list]:
    """{page path: the paper and issue views whose text it shows}."""
    shown: dict[str, list] = {f"{p.url}index.html": [p] for p in digest.papers.values()}
    for iv in digest.issues:
        shown[f"{iv.url}index.html"] = [iv, *iv.papers]
    if digest.issues:
        shown["index.html"] = [digest.issues[0], *digest.issues[0].papers]
    return shown


def _place(root: Path, view, target: str) -> tuple[str, str, tuple[int, int]] | None:
    """(source file, the link as written there, its line and column) if `view`'s text has `target`."""
    source = view.paper.source if isinstance(view, PaperView) else view.issue.source
    address, sep, fragment = target.partition("#")
    written = view.written.get(address, target)
    if sep and address in view.written:
        written += sep + fragment
    spot = position_in(root, source, written)
    return (source, written, spot) if spot else None


def position_in(root: Path, source: str, needle: str) -> tuple[int, int] | None:
    """Line and column of the first occurrence of `needle` in a source file, or None."""
    try:
        lines = (root / source).read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, 1):
        column = line.find(needle)
        if column >= 0:
            return number, column + 1
    return None


# --- external URLs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    url: str
    ok: bool
    reason: str  # "HTTP 404", "timed out after 10s", ...


def fetch_status(url: str, timeout: float) -> Result:
    """HEAD the URL (GET when HEAD is refused); follow redirects."""
    import urllib.error  # here: only `check-links --external` goes online, and the module takes 30 ms to import
    import urllib.request

    headers = {"User-Agent": "digestgen-link-check"}
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Result(url, True, f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue
            return Result(url, False, f"HTTP {exc.code}")
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                return Result(url, False, f"timed out after {timeout:g}s")
            return Result(url, False, f"unreachable ({reason})")
    return Result(url, False, "refused")


class Cache:
    """Recent successful checks, so that a re-run does not ask every host again."""

    def __init__(self, path: Path, max_age: float):
        self.path, self.max_age = path, max_age
        try:
            self.entries: dict[str, float] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def fresh(self, url: str, now: float) -> bool:
        return now - self.entries.get(url, -1e18) < self.max_age

    def save(self, results: list[Result], now: float) -> None:
        for result in results:
            if result.ok:
                self.entries[result.url] = now
            else:
                self.entries.pop(result.url, None)
        atomic.write(self.path, json.dumps(self.entries, sort_keys=True).encode())


def check_external(urls: list[str], timeout: float = 10.0, workers: int = 8, cache: Cache | None = None,
                   progress=None) -> dict[str, Result]:
    """Check each URL once, `workers` at a time; URLs checked recently (per `cache`) count as fine."""
    now = time.time()
    todo = [u for u in dict.fromkeys(urls) if not (cache and cache.fresh(u, now))]
    results = {u: Result(u, True, "cached") for u in urls if u not in todo}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(lambda u: fetch_status(u, timeout), todo):
            results[result.url] = result
            if progress:
                progress()
    if cache:
        cache.save([results[u] for u in todo], now)
    return results


_EXTERNAL_HREF = re.compile(r'href="(https?://[^"]+)"')


def external_urls(digest) -> dict[str, list[str]]:
    """Every external URL the content names (record fields and links in the text), with its files."""
    found: dict[str, list[str]] = {}

    def add(url: str, source: str) -> None:
        if source not in found.setdefault(url, []):
            found[url].append(source)

    for view in digest.papers.values():
        p = view.paper
        for url in [*p.links.values(), *p.repos, *(f.src for f in p.figures if not f.site_path)]:
            add(url, p.source)
        for html in [*view.summary_html.values(), *view.abstract_html.values(), *view.tldr_html.values()]:
            for url in _EXTERNAL_HREF.findall(html):
                add(unescape(url), p.source)
    for view in digest.issues:
        for url in _EXTERNAL_HREF.findall(view.intro_html):
            add(unescape(url), view.issue.source)
    return dict(sorted(found.items()))


def external_problems(root: Path, digest, timeout: float, workers: int, cache: Cache | None,
                      progress=None) -> tuple[list[SourceError], int]:
    """Every external URL the content names that does not answer, placed in each file that names
    it, and how many URLs were checked."""
    places = external_urls(digest)
    results = check_external(list(places), timeout, workers, cache, progress)
    found = []
    for url, result in results.items():
        if not result.ok:
            for source in places[url]:
                line, col = position_in(root, source, url) or (1, 1)
                found.append(SourceError(source, line, col, f"{url} is broken ({result.reason})"))
    return found, len(results)
