"""Field kinds: each checks a value (reporting located problems) and describes itself as JSON Schema.

`schema` builds the content format out of these, so the validator and the JSON Schema that
editors' tools use come from one definition.
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
