"""The content format as data: paper records and issue front matter, built of field kinds (`kinds`).

One definition serves both the validator (``check``) and the JSON Schema that editors'
tools use (``json_schema``), so the two can never disagree.
"""

from __future__ import annotations

import re

from digestgen.pipeline.kinds import Bool, Checker, Date, Field, FigureSrc, Int, ListOf, MapOf, Record, Str, Url
from digestgen.pipeline.sources import DocPath

LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A tag: words of letters and digits in any script, joined by hyphens ('강화학습', 'deep-research',
# 'llm-에이전트'); no capitals, so that one tag has one URL.
TAG = re.compile(r"^(?!.*[A-Z])[^\W_]+(?:-[^\W_]+)*$")
# The same for JSON Schema (ECMA-262 has no Unicode-aware \W): no space, ASCII punctuation or capital.
TAG_JSON = r"^[^\s!-/:-@\[-`{-~A-Z]+(?:-[^\s!-/:-@\[-`{-~A-Z]+)*$"
TAG_RULE = "a tag of lowercase letters, digits and hyphens (any script), like '강화학습' or 'deep-research'"
PAPER_ID = re.compile(r"^[a-z0-9._-]+$")
ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")

TEXT = Str("text", prose=True)
LANG_RULE = "a language code like 'ko' or 'en'"


def text_map(need_one_of: tuple[str, ...] = ()) -> MapOf:
    """A text field: language code -> text."""
    return MapOf(TEXT, LANG, LANG_RULE, need_one_of=need_one_of)


PAPER = Record(
    {
        "id": Field(Str("a paper id", PAPER_ID, "a valid id (lowercase letters, digits, '.', '-', '_')"),
                    doc="Optional; must equal the file name without .yaml"),
        "title": Field(text_map(("ko", "en")), required=True, doc="Title by language; needs ko or en"),
        "tldr": Field(text_map(), doc="One-sentence summary by language (Markdown)"),
        "summary": Field(text_map(), doc="논문 소개: the editors' write-up by language (Markdown); "
                                         "required unless the record is a draft"),
        "draft": Field(Bool(), doc="A draft record (as `digestgen add` writes it) may lack its Korean text "
                                   "and is published only with --drafts"),
        "abstract": Field(text_map(), doc="논문 초록: translation and original by language (Markdown)"),
        "links": Field(MapOf(Url(), re.compile(r"^[A-Za-z0-9_-]+$"), "a link label (letters, digits, '-', '_')",
                             required=("paper",)), required=True, doc="Label -> URL; `paper` is required"),
        "repos": Field(ListOf(Url(), unique=True), doc="더 읽어보기: code, project pages, datasets"),
        "figures": Field(ListOf(Record({
            "src": Field(FigureSrc(), required=True,
                         doc="Image URL, or a path in the repository (figures/x.png), copied into the site"),
            "alt": Field(Str("alt text", prose=True), doc="Text alternative for the image"),
        }, what="a figure mapping with src and alt")), doc="Images; the first is the social-card image"),
        "authors": Field(ListOf(Str("an author name")), doc="Author names in order"),
        "arxiv": Field(Str("an arXiv id", ARXIV_ID, "an arXiv id like 2507.16075 or hep-th/9901001"),
                       doc="arXiv identifier"),
        "published": Field(Date(), doc="Date of the first version"),
        "tags": Field(ListOf(Str("a tag", TAG, TAG_RULE, json_pattern=TAG_JSON), unique=True),
                      doc="Tags: lowercase letters, digits and hyphens in any script ('강화학습', 'deep-research')"),
    },
    what="a paper record (a mapping with title, summary and links)",
)

ISSUE = Record(
    {
        "title": Field(Str("a title", prose=True), doc="Defaults to the site's issue title"),
        "papers": Field(ListOf(Str("a paper id", PAPER_ID, "a valid paper id"), unique=True),
                        doc="Paper ids in the order shown"),
        "draft": Field(Bool(), doc="Drafts are built only with --drafts"),
        "discourse": Field(Record({
            "topic": Field(Int("a topic id"), required=True, doc="The forum topic of this issue"),
            "posts": Field(ListOf(Int("a post id"), unique=True),
                           doc="The topic's first post and the replies that carry the rest of the issue"),
        }, what="a mapping with the forum's topic (and post) ids"),
            doc="Where `digestgen post` published this issue (written by `post` and `import`)"),
    },
    what="front matter (a mapping with title, papers, draft)",
)


def _figure_alt(paper: dict, path: DocPath, ck: Checker) -> None:
    for index, figure in enumerate(paper.get("figures") or []):
        if isinstance(figure, dict) and "alt" not in figure:
            ck.fail(path + ("figures", index), "has no 'alt' text; screen readers will skip it", "warning")


def _summary_unless_draft(paper: dict, path: DocPath, ck: Checker) -> None:
    if "summary" not in ck.doc.value and not paper.get("draft") and isinstance(ck.doc.value, dict):
        ck.fail(path, "'summary' is required")


def _draft_todo(paper: dict, path: DocPath, ck: Checker) -> None:
    if paper.get("draft"):
        missing = [f"{field}.ko" for field in ("title", "summary", "abstract")
                   if "ko" not in (paper.get(field) or {})]
        if missing:
            ck.fail(("draft",), f"draft record; still missing {', '.join(missing)}", "note")


PAPER.rules.extend([_figure_alt, _summary_unless_draft, _draft_todo])


def json_schema(record: Record, title: str) -> dict:
    """A JSON Schema (draft 2020-12) document for `record`."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **record.json_schema()}


def schema_documents(extra_paper: tuple[str, ...] = (), extra_issue: tuple[str, ...] = ()) -> dict[str, dict]:
    """The JSON Schema files `digestgen schema` writes, by file name."""
    return {
        "paper.schema.json": json_schema(PAPER.with_extra(extra_paper), "digestgen paper record"),
        "issue.schema.json": json_schema(ISSUE.with_extra(extra_issue), "digestgen issue front matter"),
    }
