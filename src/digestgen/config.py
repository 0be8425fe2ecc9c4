"""Site settings: `digestgen.toml` at the repository root, every key optional."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from digestgen.errors import ContentError, SourceError
from digestgen.schema import LANG, describe, suggest

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
    search_memory: int = 0  # MB the search indexing may use at once; 0: chosen from the machine (see search.memory_budget)
    extra_paper_fields: tuple[str, ...] = ()
    extra_issue_fields: tuple[str, ...] = ()

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
        """Site-relative `path` ('papers/x/') as a link from any page: '/digest/papers/x/'."""
        return self.base_path + path.lstrip("/")

    def absolute_url(self, path: str = "") -> str:
        """`path` as an absolute URL (only meaningful when `absolute`)."""
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + path.lstrip("/")


_STRINGS = ("title", "description", "base_url", "language", "issue_title")


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
    known = list(_STRINGS) + ["editors", "recent_issues", "search_memory", "extra_fields"]

    def fail(key: str, message: str) -> None:
        errors.append(SourceError(SETTINGS_FILE, _key_line(text, key), 1, f"{key}: {message}"))

    for key, value in data.items():
        if key in _STRINGS:
            if isinstance(value, str) and value.strip():
                values[key] = value
            else:
                fail(key, f"expected text, got {describe(value)}")
        elif key == "editors":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                values["editors"] = tuple(value)
            else:
                fail(key, "expected a list of names")
        elif key == "recent_issues":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                values["recent_issues"] = value
            else:
                fail(key, f"expected a whole number, got {describe(value)}")
        elif key == "search_memory":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                values["search_memory"] = value
            else:
                fail(key, f"expected a whole number of megabytes, got {describe(value)}")
        elif key == "extra_fields":
            if not isinstance(value, dict):
                fail(key, "expected a table with 'paper' and/or 'issue' lists")
                continue
            for kind, names in value.items():
                if kind not in ("paper", "issue"):
                    fail(f"extra_fields.{kind}", f"unknown record kind{suggest(kind, ['paper', 'issue'])}")
                elif not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                    fail(f"extra_fields.{kind}", "expected a list of field names")
                else:
                    values[f"extra_{kind}_fields"] = tuple(names)
        else:
            fail(key, f"unknown setting{suggest(key, known)}")
    if "language" in values and not LANG.match(values["language"]):
        fail("language", f"'{values['language']}' is not a language code like 'ko'")
    return values, errors


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
