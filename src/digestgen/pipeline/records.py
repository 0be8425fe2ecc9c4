"""Search records: what the search index holds of each paper and issue page (see `pfindex`).

A record is JSON, one per page, kept like any rendered file (so an edit re-indexes only the
records that changed), and compressed with zlib (`encode`): a build holds every record from
the moment it is rendered until the index has them, 260 MB of JSON at 20,000 papers, less than
half of that compressed. Its `blocks` are what is searched, each with a weight: the title as
written and the arXiv id weigh 10, the texts are search tokens (see `korean.index_tokens`),
then authors and tags. `meta` is what the search page shows (`text` is the excerpt: the tldr
and the start of the summary); `filters` and `sort` serve the filters and 최신순.
"""

from __future__ import annotations

import json
import zlib

from markupsafe import Markup

from digestgen.config import Settings
from digestgen.pipeline.digest import IssueView, PaperView

EXCERPT = 320  # characters of `text`, the excerpt a result shows
FIELDS = ("date", "kind", "text", "title", "title_en", "title_ko", "week")  # every key of a record's `meta`


def _excerpt(html_texts: list[str]) -> str:
    text = " ".join(" ".join(Markup(html).striptags() for html in html_texts).split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def _langs(texts: dict) -> list[str]:
    return sorted(texts, key=lambda lang: (lang != "ko", lang != "en", lang))


def paper_record(view: PaperView, settings: Settings) -> dict:
    p = view.paper
    title = f"{p.title['ko']} / {p.title['en']}" if "ko" in p.title and "en" in p.title else p.title[_langs(p.title)[0]]
    tags = " ".join(f"#{tag}" + (f" #{settings.tag_label(tag)}" if settings.tag_label(tag) != tag else "")
                    for tag in p.tags)
    blocks = [[10, title], [10, view.search_ids], [1, view.search_tokens], [1, ", ".join(p.authors)], [1, tags]]
    meta = {f"title_{lang}": p.title[lang] for lang in ("ko", "en") if lang in p.title}
    meta.update(title=title, kind="paper")
    if view.issues:
        meta["week"] = view.issues[0].label
    years = dict.fromkeys(iv.week.year for iv in view.issues)
    filters = {"week": [iv.label for iv in view.issues], "year": [str(y) for y in years], "tag": list(p.tags),
               "code": ["yes"] if view.has_code else []}
    sort = {}
    if view.date:
        sort["date"] = meta["date"] = view.date.isoformat()
    meta["text"] = _excerpt([view.tldr_html[lang] for lang in _langs(view.tldr_html)]
                            + [view.summary_html[lang] for lang in _langs(view.summary_html)])
    return {"url": "/" + view.url, "blocks": [b for b in blocks if b[1]], "meta": meta, "filters": filters, "sort": sort}


def issue_record(view: IssueView) -> dict:
    issue = view.issue
    date = issue.week.isoformat()
    return {"url": "/" + view.url, "blocks": [[10, issue.heading], [1, view.search_tokens]],
            "meta": {"title": issue.heading, "kind": "issue", "week": issue.label, "date": date,
                     "text": _excerpt([view.intro_html])},
            "filters": {"week": [issue.label], "year": [str(issue.week.year)]}, "sort": {"date": date}}


def encode(record: dict) -> bytes:
    """The record as a build keeps it: its JSON, compressed (`pfindex` reads it so; see `decode`)."""
    return zlib.compress(json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())


def decode(data: bytes) -> dict:
    return json.loads(zlib.decompress(data))
