"""Site settings: `digestgen.toml` at the repository root, every key optional."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from digestgen.errors import ContentError, SourceError, UsageError
from digestgen.pipeline.kinds import describe, suggest
from digestgen.pipeline.schema import LANG, TAG, TAG_RULE

SETTINGS_FILE = "digestgen.toml"


@dataclass(frozen=True)
class Settings:
    """What a site is called, where it lives, and which extra fields its records may carry."""

    title: str = "AI/ML 논문 다이제스트"
    description: str = "매주 살펴볼 만한 AI/ML 논문을 한국어와 영어로 소개합니다."
    base_url: str = "/"
    language: str = "ko"
    issue_title: str = "이번 주에 살펴볼 만한 AI/ML 논문 모음"
    editors: tuple[str, ...] = ()
    recent_issues: int = 10
    memory: int = 0  # MB the build may use (0: half the memory available when it starts; see `pipeline.budget`)
    extra_paper_fields: tuple[str, ...] = ()
    extra_issue_fields: tuple[str, ...] = ()
    week_start: int = 0  # the weekday issues are named for: 0 = Monday (date.weekday() numbering)
    # [discourse]: the forum the weekly post goes to (`export --format discourse`, `post`)
    discourse_url: str = ""
    discourse_category: int | None = None
    discourse_header: str = ""
    discourse_footer: str = ""
    max_post_length: int = 32000
    tags: tuple[tuple[str, str], ...] = ()  # [tags] in digestgen.toml: (slug, display label)

    @property
    def tag_labels(self) -> dict[str, str]:
        """Tag slug -> the label shown for it ([tags] in digestgen.toml)."""
        return dict(self.tags)

    def tag_label(self, tag: str) -> str:
        """The label shown for `tag`: its [tags] label, else the slug itself."""
        return self.tag_labels.get(tag, tag)

    @property
    def base_path(self) -> str:
        """The path part of the base URL, always ending in '/': '/digest/'."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def absolute(self) -> bool:
        """Whether the base URL names a host, so that canonical and feed URLs can be absolute."""
        return bool(urlsplit(self.base_url).netloc)

    def url(self, path: str = "") -> str:
        """Site-relative `path` ('papers/x/') as a link from any page: '/digest/papers/x/'.
        Non-ASCII (a Korean tag: 'tags/강화학습/') is percent-encoded as UTF-8."""
        return self.base_path + _encode(path.lstrip("/"))

    def absolute_url(self, path: str = "") -> str:
        """`path` as an absolute URL (only meaningful when `absolute`), percent-encoded like `url`."""
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + _encode(path.lstrip("/"))


def _encode(path: str) -> str:
    """Percent-encode what a URL path cannot hold as is (non-ASCII, spaces); keep '/', '?', '#', '%'."""
    return path if path.isascii() and " " not in path else quote(path, safe="/?#&=%:@!$'()*+,;~")


_STRINGS = ("title", "description", "base_url", "language", "issue_title")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def base_url_option(value: str) -> str:
    """`--base-url` normalized; a wrong command line (UsageError) when it is neither a path nor an http(s) URL."""
    normalized = normalize_base_url(value)
    if normalized is None:
        raise UsageError(f"--base-url {value!r}: expected a path like /digest/ or an http(s) URL")
    return normalized


def normalize_base_url(value: str) -> str | None:
    """A base URL ends in '/'; it is either a path ('/x/') or an absolute http(s) URL."""
    parts = urlsplit(value)
    if parts.scheme and (parts.scheme not in ("http", "https") or not parts.netloc):
        return None
    if not parts.scheme and (parts.netloc or not value.startswith("/")):
        return None
    if parts.query or parts.fragment:
        return None
    return value if value.endswith("/") else value + "/"


def load(root: Path, overrides: dict | None = None) -> Settings:
    """Read `ROOT/digestgen.toml` (if any) and apply command-line overrides; raise ContentError."""
    file = root / SETTINGS_FILE
    values: dict = {}
    errors: list[SourceError] = []
    if file.exists():
        text = file.read_bytes().decode("utf-8", errors="replace")
        try:
            data = tomllib.loads(text.removeprefix("\ufeff"))
        except tomllib.TOMLDecodeError as exc:
            line, col = _toml_position(str(exc))
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
            raise ContentError([SourceError(SETTINGS_FILE, line, col, f"TOML syntax: {message}")]) from None
        values, errors = _check(data, text)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    if (overrides or {}).get("base_url") is not None:
        base_url_option(overrides["base_url"])
    if "base_url" in values:
        normalized = normalize_base_url(values["base_url"])
        if normalized is None:
            raise ContentError(errors + [SourceError(
                SETTINGS_FILE, _key_line(text if file.exists() else "", "base_url"), 1,
                f"base_url: '{values['base_url']}' must be a path like '/digest/' or an http(s) URL")])
        values["base_url"] = normalized
    if errors:
        raise ContentError(errors)
    return Settings(**values)


def _check(data: dict, text: str) -> tuple[dict, list[SourceError]]:
    values: dict = {}
    errors: list[SourceError] = []

    def fail(key: str, message: str) -> None:
        errors.append(SourceError(SETTINGS_FILE, _key_line(text, key), 1, f"{key}: {message}"))

    for key, value in data.items():
        check = _text if key in _STRINGS else _CHECKS.get(key)
        if check is None:
            fail(key, f"unknown setting{suggest(key, _KNOWN)}")
        else:
            check(key, value, values, fail)
    if "language" in values and not LANG.match(values["language"]):
        fail("language", f"'{values['language']}' is not a language code like 'ko'")
    return values, errors


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _text(key: str, value, values: dict, fail) -> None:
    if isinstance(value, str) and value.strip():
        values[key] = value
    else:
        fail(key, f"expected text, got {describe(value)}")


def _editors(key: str, value, values: dict, fail) -> None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        values["editors"] = tuple(value)
    else:
        fail(key, "expected a list of names")


def _recent_issues(key: str, value, values: dict, fail) -> None:
    if _whole(value):
        values["recent_issues"] = value
    else:
        fail(key, f"expected a whole number, got {describe(value)}")


def _memory(key: str, value, values: dict, fail) -> None:
    if not _whole(value):
        fail(key, f"expected a whole number of megabytes, got {describe(value)}")
    elif key == "memory" or "memory" not in values:  # `search_memory` is its old name
        values["memory"] = value


def _week_start(key: str, value, values: dict, fail) -> None:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        values["week_start"] = WEEKDAYS.index(value.strip().lower())
    else:
        fail(key, f"expected a day of the week like \"monday\", got {value!r}"
             f"{suggest(str(value).lower(), list(WEEKDAYS))}")


def _extra_fields(key: str, value, values: dict, fail) -> None:
    if not isinstance(value, dict):
        fail(key, "expected a table with 'paper' and/or 'issue' lists")
        return
    for kind, names in value.items():
        if kind not in ("paper", "issue"):
            fail(f"extra_fields.{kind}", f"unknown record kind{suggest(kind, ['paper', 'issue'])}")
        elif not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            fail(f"extra_fields.{kind}", "expected a list of field names")
        else:
            values[f"extra_{kind}_fields"] = tuple(names)


def _discourse(key: str, value, values: dict, fail) -> None:
    if isinstance(value, dict):
        _check_discourse(value, values, fail)
    else:
        fail(key, "expected a table: [discourse] with url, category, header, footer, max_post_length")


def _tags(key: str, value, values: dict, fail) -> None:
    if not isinstance(value, dict):
        fail(key, "expected a table of tag = \"label\" lines, e.g. [tags] then rl = \"강화학습\"")
        return
    labels = []
    for tag, label in value.items():
        if not TAG.match(tag):
            fail(f"tags.{tag}", f"'{tag}' is not {TAG_RULE}")
        elif not (isinstance(label, str) and label.strip()):
            fail(f"tags.{tag}", f"expected the tag's label as text, got {describe(label)}")
        else:
            labels.append((tag, label.strip()))
    values["tags"] = tuple(labels)


# every settings key but the plain text ones (_STRINGS): the function that checks its value
_CHECKS = {"editors": _editors, "recent_issues": _recent_issues, "memory": _memory, "search_memory": _memory,
           "extra_fields": _extra_fields, "week_start": _week_start, "discourse": _discourse, "tags": _tags}
_KNOWN = list(_STRINGS) + ["editors", "recent_issues", "memory", "search_memory", "extra_fields", "week_start", "discourse",
                           "tags"]


DISCOURSE_KEYS = ("url", "category", "header", "footer", "max_post_length")


def _check_discourse(table: dict, values: dict, fail) -> None:
    """The [discourse] table: where `digestgen post` publishes, and the post's header and footer."""
    for key, value in table.items():
        name = f"discourse.{key}"
        if key == "url":
            parts = urlsplit(value) if isinstance(value, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
                fail(name, f"expected the forum's http(s) address, got {describe(value)}")
            else:
                values["discourse_url"] = value.rstrip("/")
        elif key in ("header", "footer"):
            if isinstance(value, str):
                values[f"discourse_{key}"] = value.strip("\n")
            else:
                fail(name, f"expected text (Markdown), got {describe(value)}")
        elif key in ("category", "max_post_length"):
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                values["discourse_category" if key == "category" else key] = value
            else:
                fail(name, f"expected a positive whole number, got {describe(value)}")
        else:
            fail(name, f"unknown setting{suggest(key, list(DISCOURSE_KEYS))}")


def _toml_position(message: str) -> tuple[int, int]:
    match = re.search(r"at line (\d+), column (\d+)", message)
    return (int(match[1]), int(match[2])) if match else (1, 1)


def _key_line(text: str, key: str) -> int:
    """The line where `key` (possibly dotted) is assigned, for settings errors."""
    last = key.rsplit(".", 1)[-1]
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*\"?{re.escape(last)}\"?\s*=", line):
            return number
    return 1


def replace(settings: Settings, **changes) -> Settings:
    """A copy of `settings` with some fields changed."""
    return dataclasses.replace(settings, **changes)
