"""What a site publishes besides its pages: feeds, sitemap, robots.txt, JSON-LD and BibTeX.

Feeds are Atom and RSS 2.0 from templates (autoescaped XML, overridable like every template;
no feed library adds anything a reader needs that these few elements do not carry) and JSON
Feed 1.1 from `json`. Every URL in them is absolute, so they are written only when the base
URL is absolute. Entry ids are the pages' URLs, which depend on the record's id alone, so
editing a record never changes them; dates come from the content (an issue's week).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urljoin

from markupsafe import Markup

from digestgen.config import Settings
from digestgen.pipeline.digest import Digest, IssueView, PaperView, is_code

TZ = dt.timezone(dt.timedelta(hours=9))  # the digest's weeks are Korean weeks
FEED_ISSUES = 20
FEED_PAPERS = 50
FEED_TAG = 20
_HREF = re.compile(r'(href|src)="([^"]*)"')


def moment(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, Korea time."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=TZ)


def rfc3339(day: dt.date) -> str:
    return moment(day).isoformat()


def rfc822(day: dt.date) -> str:
    return moment(day).strftime("%a, %d %b %Y %H:%M:%S +0900")


def absolute_links(html: str, page_url: str) -> str:
    """Rewrite relative href/src in rendered HTML to absolute URLs against `page_url`."""
    def fix(match: re.Match) -> str:
        try:
            target = urljoin(page_url, match[2].replace("&amp;", "&")).replace("&", "&amp;")
        except ValueError:  # a malformed URL in the text: leave it as written
            return match[0]
        return f'{match[1]}="{target}"'

    return _HREF.sub(fix, html)


def plain_title(view: PaperView) -> str:
    t = view.paper.title
    return f"{t['ko']} / {t['en']}" if "ko" in t and "en" in t else next(iter(t.values()))


def json_ld(data: dict) -> Markup:
    """JSON for a <script type="application/ld+json"> block that no text can break out of."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=None)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _names(view: PaperView) -> list[dict]:
    return [{"@value": text, "@language": lang} for lang, text in sorted(view.paper.title.items())]


def paper_ld(view: PaperView, settings: Settings) -> dict:
    """schema.org ScholarlyArticle for a paper page."""
    p = view.paper
    data: dict = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "name": _names(view),
        "headline": plain_title(view)[:110],
        "url": settings.absolute_url(view.url),
        "sameAs": [p.links["paper"]] + ([f"https://arxiv.org/abs/{p.arxiv}"] if p.arxiv and
                                         f"arxiv.org/abs/{p.arxiv}" not in p.links["paper"] else []),
        "inLanguage": sorted(set(p.summary) | set(p.abstract) | set(p.title)),
    }
    if p.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in p.authors]
    if p.published:
        data["datePublished"] = p.published.isoformat()
    if p.abstract.get("en"):
        data["abstract"] = p.abstract["en"]
    if p.tags:
        data["keywords"] = list(p.tags)
    code = [{"@type": "SoftwareSourceCode", "codeRepository": r.url} for r in view.repos if is_code(r.url)]
    if code:
        data["subjectOf"] = code
    if p.figures:
        figure = p.figures[0]
        data["image"] = settings.absolute_url(figure.site_path) if figure.site_path else figure.src
    if view.issues:
        data["isPartOf"] = {"@type": "PublicationIssue", "url": settings.absolute_url(f"issues/{view.issues[0].slug}/")}
    return data


def issue_ld(view: IssueView, settings: Settings) -> dict:
    """schema.org PublicationIssue for an issue page."""
    return {
        "@context": "https://schema.org",
        "@type": "PublicationIssue",
        "name": view.issue.heading,
        "url": settings.absolute_url(view.url),
        "datePublished": view.issue.week.isoformat(),
        "issueNumber": view.issue.slug,
        "inLanguage": settings.language,
        "isPartOf": {"@type": "Periodical", "name": settings.title, "url": settings.absolute_url()},
        "hasPart": [{"@type": "ScholarlyArticle", "name": plain_title(p), "url": settings.absolute_url(p.url)}
                    for p in view.papers],
    }


def site_ld(settings: Settings) -> dict:
    """schema.org WebSite with its search, for the home page."""
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": settings.title,
        "description": settings.description,
        "url": settings.absolute_url(),
        "inLanguage": settings.language,
        "potentialAction": {
            "@type": "SearchAction",
            "target": settings.absolute_url("search/") + "?q={search_term_string}",
            "query-input": "required name=search_term_string",
        },
    }


_BIB_SPECIAL = re.compile(r"([\\{}%&$#_^~])")


def _bib(text: str) -> str:
    def escape(m: re.Match) -> str:
        ch = m[1]
        return {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}.get(ch, "\\" + ch)

    return _BIB_SPECIAL.sub(escape, " ".join(text.split()))


def bib_key(view: PaperView) -> str:
    """'han2025deep': first author's family name, year, first title word (ASCII letters only)."""
    p = view.paper
    author = re.sub(r"[^a-z]", "", (p.authors[0].split()[-1] if p.authors else "anon").lower()) or "anon"
    year = str(p.published.year) if p.published else (f"20{p.arxiv[:2]}" if p.arxiv and p.arxiv[:4].isdigit() else "")
    words = [w for w in re.findall(r"[a-z]+", p.title.get("en", "").lower()) if w not in ("a", "an", "the", "on")]
    return f"{author}{year}{words[0] if words else p.id.replace('.', '')}"


def bibtex(view: PaperView) -> str:
    """A BibTeX entry for a paper (arXiv-style @misc when it has an arXiv id)."""
    p = view.paper
    fields = [("title", "{" + _bib(p.title.get("en") or next(iter(p.title.values()))) + "}")]
    if p.authors:
        fields.append(("author", " and ".join(_bib(a) for a in p.authors)))
    key_year = bib_key(view)
    year = re.search(r"\d{4}", key_year)
    if year:
        fields.append(("year", year[0]))
    if p.arxiv:
        fields += [("eprint", p.arxiv), ("archivePrefix", "arXiv")]
    fields.append(("url", p.links["paper"]))
    if "ko" in p.title:
        fields.append(("note", _bib(p.title["ko"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key_year},\n{body}\n}}\n"


def issue_bibtex(view: IssueView) -> str:
    """All of an issue's papers as one .bib file (keys made unique)."""
    seen: dict[str, int] = {}
    entries = []
    for paper in view.papers:
        entry = bibtex(paper)
        key = bib_key(paper)
        if key in seen:
            seen[key] += 1
            entry = entry.replace(f"{{{key},", f"{{{key}{chr(ord('a') + seen[key] - 1)},", 1)
        else:
            seen[key] = 0
        entries.append(entry)
    return "\n".join(entries)


def json_feed(settings: Settings, title: str, home: str, feed_path: str, items: list[dict]) -> bytes:
    """A JSON Feed 1.1 document."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": settings.absolute_url(home),
        "feed_url": settings.absolute_url(feed_path),
        "description": settings.description,
        "language": settings.language,
        "items": items,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def sitemap(settings: Settings, pages: list[str]) -> bytes:
    """sitemap.xml for the given page paths (directory URLs)."""
    rows = "".join(f"  <url><loc>{settings.absolute_url(p)}</loc></url>\n" for p in sorted(pages))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{rows}</urlset>\n').encode()


def robots(settings: Settings) -> bytes:
    lines = ["User-agent: *", "Allow: /"]
    if settings.absolute:
        lines.append(f"Sitemap: {settings.absolute_url('sitemap.xml')}")
    return ("\n".join(lines) + "\n").encode()


def feed_views(digest: Digest) -> tuple[list[IssueView], list[PaperView]]:
    """The issues and papers that feeds carry, newest first."""
    papers = sorted((p for p in digest.papers.values() if p.issues), key=lambda p: (p.issues[0].week, p.id),
                    reverse=True)
    return digest.issues[:FEED_ISSUES], papers[:FEED_PAPERS]
