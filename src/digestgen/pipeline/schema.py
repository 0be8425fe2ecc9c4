"""The content format as data: field kinds that check values and describe themselves.

One definition serves both the validator (``check``) and the JSON Schema that editors'
tools use (``json_schema``), so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from digestgen.pipeline.sources import DocPath, Document, dotted
from digestgen.errors import SourceError

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


def describe(value: Any) -> str:
    """Name a value's YAML type for an error message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dt.datetime):
        return "a timestamp"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def suggest(word: str, choices: list[str]) -> str:
    """A ' (did you mean 'x'?)' hint, or ''."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Checker:
    """Collects located problems while a document is checked."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.errors: list[SourceError] = []

    def fail(self, path: DocPath, message: str, severity: str = "error") -> None:
        if path in self.doc.broken:
            return  # its scalar could not be read, and that was reported already
        prefix = f"{dotted(path)}: " if path else ""
        self.errors.append(self.doc.error(path, prefix + message, severity))


class Kind:
    """A kind of value. `check` returns the cleaned value, or None after reporting."""

    def check(self, value: Any, path: DocPath, ck: Checker) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict:
        raise NotImplementedError


class Str(Kind):
    def __init__(self, what: str = "text", pattern: re.Pattern | None = None, rule: str = "", empty: bool = False,
                 prose: bool = False, json_pattern: str | None = None):
        self.what, self.pattern, self.rule, self.empty = what, pattern, rule, empty
        self.prose = prose  # editors write sentences here: a ` #` in it is text cut off, not a comment
        self.json_pattern = json_pattern  # for JSON Schema, when `pattern` uses what ECMA-262 lacks

    def check(self, value, path, ck):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = ck.doc.number_text.get(path)
            if text is not None and str(value) == text:
                value = text  # an unquoted number that round-trips: accept it as text
            else:
                ck.fail(path, f"'{text}' is read by YAML as the number {value!r}; quote it: \"{text}\"")
                return None
        if not isinstance(value, str):
            ck.fail(path, f"expected {self.what}, got {describe(value)}")
            return None
        if not self.empty and not value.strip():
            ck.fail(path, f"{self.what} is empty")
            return None
        if self.pattern and not self.pattern.match(value):
            ck.fail(path, f"'{value}' is not {self.rule}")
            return None
        if self.prose and path in ck.doc.comments:
            _comment_in_prose(value, path, ck)
        return value

    def json_schema(self):
        schema: dict = {"type": "string"}
        if self.pattern:
            schema["pattern"] = self.json_pattern or self.pattern.pattern
        elif not self.empty:
            schema["minLength"] = 1
        return schema


def _comment_in_prose(value: str, path: DocPath, ck: Checker) -> None:
    """` #` after text starts a YAML comment: say what was cut off, where, and how to keep it."""
    line, col, comment = ck.doc.comments[path]
    tail = value.rsplit("\n", 1)[-1]
    shown = tail if len(tail) <= 30 else "…" + tail[-29:].lstrip()
    ck.errors.append(SourceError(ck.doc.path, line, col, (
        f"{dotted(path)}: ' #' starts a YAML comment, so the text ends at '{shown}' and "
        f"'{comment if len(comment) <= 40 else comment[:39] + '…'}' is dropped: quote the whole value, or write it "
        f"as a `|` block (`{path[-1]}: |`, then the text on the lines below, indented); a comment belongs on "
        f"a line of its own (' #' 뒤의 글은 주석으로 읽혀 사라집니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
        "warning"))


class Int(Kind):
    def __init__(self, what: str = "a whole number"):
        self.what = what

    def check(self, value, path, ck):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            ck.fail(path, f"expected {self.what}, got {describe(value)}")
            return None
        return value

    def json_schema(self):
        return {"type": "integer", "minimum": 1}


class Url(Kind):
    def check(self, value, path, ck):
        if not isinstance(value, str):
            ck.fail(path, f"expected a URL, got {describe(value)}")
            return None
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            ck.fail(path, f"'{value}' is not an http(s) URL")
            return None
        if parts.scheme not in ("http", "https") or not parts.netloc or value != value.strip() or any(
            c.isspace() or ord(c) < 32 for c in value
        ):
            ck.fail(path, f"'{value}' is not an http(s) URL")
            return None
        return value

    def json_schema(self):
        return {"type": "string", "format": "uri", "pattern": "^https?://[^\\s]+$"}


class FigureSrc(Kind):
    """An image: an http(s) URL, or a path inside the repository ('figures/2507.16075-1.png').
    Whether the file exists is checked by the loader, which knows the repository."""

    def check(self, value, path, ck):
        if isinstance(value, str) and value and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
            parts = value.split("/")
            if value != value.strip() or "\\" in value or value.startswith("/") or any(
                    c.isspace() and c != " " or ord(c) < 32 for c in value):
                ck.fail(path, f"'{value}' is not an http(s) URL or a relative path like figures/fig1.png")
                return None
            if ".." in parts or "" in parts or "." in parts:
                ck.fail(path, f"'{value}' must be a plain path inside the repository (no '..', '.' or '//')")
                return None
            return value
        return Url().check(value, path, ck)

    def json_schema(self):
        return {"type": "string", "anyOf": [{"pattern": "^https?://[^\\s]+$"}, {"pattern": "^(?![/.])(?!.*\\.\\./)[^:\\\\]+$"}]}


class Bool(Kind):
    def check(self, value, path, ck):
        if not isinstance(value, bool):
            ck.fail(path, f"expected true or false, got {describe(value)}")
            return None
        return value

    def json_schema(self):
        return {"type": "boolean"}


class Date(Kind):
    def check(self, value, path, ck):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        ck.fail(path, f"expected a date like 2025-07-21, got {describe(value)}")
        return None

    def json_schema(self):
        return {"type": "string", "format": "date"}


class ListOf(Kind):
    def __init__(self, item: Kind, unique: bool = False):
        self.item, self.unique = item, unique

    def check(self, value, path, ck):
        if not isinstance(value, list):
            ck.fail(path, f"expected a list, got {describe(value)}")
            return None
        out, seen = [], {}
        for index, item in enumerate(value):
            cleaned = self.item.check(item, path + (index,), ck)
            if cleaned is None:
                continue
            if self.unique and cleaned in seen:
                ck.fail(path + (index,), f"'{cleaned}' is listed twice (first as {dotted(path + (seen[cleaned],))})")
                continue
            if self.unique:
                seen[cleaned] = index
            out.append(cleaned)
        return out

    def json_schema(self):
        schema = {"type": "array", "items": self.item.json_schema()}
        if self.unique:
            schema["uniqueItems"] = True
        return schema


class MapOf(Kind):
    """A mapping from free-form keys (checked by `key`) to values of one kind."""

    def __init__(self, value: Kind, key: re.Pattern, key_rule: str, required: tuple[str, ...] = (),
                 need_one_of: tuple[str, ...] = ()):
        self.value, self.key, self.key_rule = value, key, key_rule
        self.required, self.need_one_of = required, need_one_of

    def check(self, value, path, ck):
        if not isinstance(value, dict):
            ck.fail(path, f"expected a mapping, got {describe(value)}")
            return None
        out = {}
        if not value:
            ck.fail(path, "is empty")
            return None
        for key, item in value.items():
            if not self.key.match(key):
                ck.fail(path + (key,), f"'{key}' is not {self.key_rule}")
                continue
            cleaned = self.value.check(item, path + (key,), ck)
            if cleaned is not None:
                out[key] = cleaned
        for key in self.required:
            if key not in value:
                ck.fail(path, f"'{key}' is required")
        if self.need_one_of and not any(k in value for k in self.need_one_of):
            ck.fail(path, "needs " + " or ".join(f"'{k}'" for k in self.need_one_of))
        return out

    def json_schema(self):
        schema = {
            "type": "object",
            "propertyNames": {"pattern": self.key.pattern},
            "additionalProperties": self.value.json_schema(),
            "minProperties": 1,
        }
        if self.required:
            schema["required"] = list(self.required)
        if self.need_one_of:
            schema["anyOf"] = [{"required": [k]} for k in self.need_one_of]
        return schema


@dataclass(frozen=True)
class Field:
    kind: Kind
    required: bool = False
    doc: str = ""


@dataclass
class Record(Kind):
    """A mapping with named fields; unknown keys are errors unless declared as extra."""

    fields: dict[str, Field]
    what: str = "a mapping"
    extra: tuple[str, ...] = ()
    rules: list[Callable[[dict, DocPath, Checker], None]] = field(default_factory=list)

    def with_extra(self, extra: tuple[str, ...]) -> "Record":
        return Record(self.fields, self.what, tuple(extra), self.rules)

    def check(self, value, path, ck):
        if not isinstance(value, dict):
            ck.fail(path, f"expected {self.what}, got {describe(value)}")
            return None
        out: dict = {}
        for key, item in value.items():
            spec = self.fields.get(key)
            if spec is None:
                if key in self.extra:
                    out[key] = item
                    continue
                ck.fail(path + (key,), f"unknown key '{key}'{suggest(key, sorted(self.fields))}")
                continue
            cleaned = spec.kind.check(item, path + (key,), ck)
            if cleaned is not None:
                out[key] = cleaned
        for key, spec in self.fields.items():
            if spec.required and key not in value:
                ck.fail(path, f"'{key}' is required")
        for rule in self.rules:
            rule(out, path, ck)
        return out

    def json_schema(self):
        props = {}
        for key, spec in self.fields.items():
            props[key] = dict(spec.kind.json_schema())
            if spec.doc:
                props[key]["description"] = spec.doc
        for key in self.extra:
            props[key] = {}
        schema = {"type": "object", "properties": props, "additionalProperties": False}
        required = [k for k, s in self.fields.items() if s.required]
        if required:
            schema["required"] = required
        return schema


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
