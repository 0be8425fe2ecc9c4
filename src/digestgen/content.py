"""Load and validate a digest repository into models: every problem in every file, located."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digestgen.config import Settings
from digestgen.errors import ContentError, SourceError
from digestgen.schema import ISSUE, PAPER, PAPER_ID, Checker, suggest
from digestgen.sources import read_front_matter_file, read_yaml_file

PAPERS_DIR = "papers"
DIGESTS_DIR = "digests"
ISSUE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Figure:
    src: str
    alt: str = ""


@dataclass(frozen=True)
class Paper:
    """One paper record, validated."""

    id: str
    source: str
    title: dict[str, str]
    summary: dict[str, str]
    links: dict[str, str]
    tldr: dict[str, str] = field(default_factory=dict)
    abstract: dict[str, str] = field(default_factory=dict)
    repos: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    authors: tuple[str, ...] = ()
    arxiv: str | None = None
    published: dt.date | None = None
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    draft: bool = False


@dataclass(frozen=True)
class Issue:
    """One weekly issue, validated. `week` is the week's first day."""

    week: dt.date
    source: str
    title: str
    paper_ids: tuple[str, ...]
    intro: str
    intro_line: int
    draft: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.week.isoformat()

    @property
    def end(self) -> dt.date:
        return self.week + dt.timedelta(days=6)

    @property
    def label(self) -> str:
        return week_label(self.week)

    @property
    def heading(self) -> str:
        """How an issue is named in titles and headings: '[2025/07/21 ~ 27] title'."""
        return f"[{self.label}] {self.title}"


def week_label(start: dt.date) -> str:
    """The digest's week label: '2025/07/21 ~ 27', '2025/07/28 ~ 08/03', '2025/12/29 ~ 2026/01/04'."""
    end = start + dt.timedelta(days=6)
    if end.year != start.year:
        tail = end.strftime("%Y/%m/%d")
    elif end.month != start.month:
        tail = end.strftime("%m/%d")
    else:
        tail = end.strftime("%d")
    return f"{start.strftime('%Y/%m/%d')} ~ {tail}"


@dataclass
class Content:
    """Everything read from a repository: papers by id, issues by week, and warnings."""

    papers: dict[str, Paper]
    issues: list[Issue]
    warnings: list[SourceError]
    # Per paper id, the cache entry its record came from or went to (assemble adds rendered HTML).
    entries: dict[str, dict] = field(default_factory=dict)


def load(root: Path, settings: Settings, strict: bool = False, cache=None) -> Content:
    """Read and validate `papers/` and `digests/` under `root`.

    Raises ContentError with every problem (warnings too) when any is an error; with
    `strict`, warnings count as errors.
    """
    found: list[SourceError] = []
    papers, entries = _load_papers(root, settings, found, cache)
    issues = _load_issues(root, settings, papers, found)
    if not any(e.severity == "error" for e in found):
        found += _unlisted_papers(papers, entries, issues)
    found += _drafts_in_published_issues(root, papers, issues)
    if strict:
        found = [SourceError(e.path, e.line, e.col, e.message) if e.severity == "warning" else e for e in found]
    if any(e.severity == "error" for e in found):
        raise ContentError(found)
    return Content(papers, issues, sorted(found), entries)


def _files(root: Path, folder: str, suffixes: tuple[str, ...], errors: list[SourceError]) -> list[Path]:
    base = root / folder
    if not base.is_dir():
        return []
    found = []
    with os.scandir(base) as entries:  # is_file() from the directory listing: no stat per file
        names = sorted(entry.name for entry in entries if not entry.name.startswith(".") and entry.is_file())
    for file in (base / name for name in names):
        if file.suffix in suffixes:
            found.append(file)
        elif file.suffix in (".yml", ".markdown") or (folder == PAPERS_DIR and file.suffix == ".md"):
            errors.append(SourceError(f"{folder}/{file.name}", 1, 1,
                                      f"ignored: expected a {' or '.join(suffixes)} file", "warning"))
    return found


def _load_papers(root: Path, settings: Settings, errors: list[SourceError], cache=None) -> tuple[dict[str, Paper], dict[str, dict]]:
    record = PAPER.with_extra(settings.extra_paper_fields)
    papers: dict[str, Paper] = {}
    entries: dict[str, dict] = {}
    for file in _files(root, PAPERS_DIR, (".yaml",), errors):
        rel = f"{PAPERS_DIR}/{file.name}"
        stem = file.stem
        key = cache.key(rel, file) if cache is not None else None
        entry = cache.get(rel, key) if cache is not None else None
        if entry is not None:  # unchanged since the last build: already validated
            errors += entry["problems"]
            papers[stem] = entry["paper"]
            entries[stem] = entry
            continue
        doc, problems = read_yaml_file(file, rel)
        errors += problems
        if doc.value is None and problems:
            continue
        if not PAPER_ID.match(stem):
            errors.append(SourceError(rel, 1, 1, f"file name '{stem}' is not a valid paper id "
                                      "(lowercase letters, digits, '.', '-', '_')"))
        if doc.value is None:
            errors.append(SourceError(rel, 1, 1, "file is empty; expected a paper record"))
            continue
        ck = Checker(doc)
        data = record.check(doc.value, (), ck)
        if data is not None and "id" in data and data["id"] != stem:
            ck.fail(("id",), f"'{data['id']}' does not match the file name '{stem}'")
        errors += ck.errors
        if data is None or problems or any(e.severity == "error" for e in ck.errors):
            continue
        papers[stem] = _paper(stem, rel, data, settings)
        entries[stem] = {"paper": papers[stem], "problems": ck.errors, "root": doc.where(())}
        if cache is not None:
            cache.put(rel, key, entries[stem])
    return papers, entries


def _paper(stem: str, rel: str, data: dict, settings: Settings) -> Paper:
    extra = {k: data[k] for k in settings.extra_paper_fields if k in data}
    return Paper(
        id=stem, source=rel, title=data["title"], summary=data.get("summary", {}), links=data["links"],
        draft=data.get("draft", False),
        tldr=data.get("tldr", {}), abstract=data.get("abstract", {}), repos=tuple(data.get("repos", ())),
        figures=tuple(Figure(f["src"], f.get("alt", "")) for f in data.get("figures", ())),
        authors=tuple(data.get("authors", ())), arxiv=data.get("arxiv"), published=data.get("published"),
        tags=tuple(data.get("tags", ())), extra=extra,
    )


def _load_issues(root: Path, settings: Settings, papers: dict[str, Paper], errors: list[SourceError]) -> list[Issue]:
    record = ISSUE.with_extra(settings.extra_issue_fields)
    known_ids = sorted(papers) + _paper_stems(root)
    issues = []
    for file in _files(root, DIGESTS_DIR, (".md",), errors):
        rel = f"{DIGESTS_DIR}/{file.name}"
        week = _issue_date(file.stem, rel, errors)
        parsed, problems = read_front_matter_file(file, rel)
        errors += problems
        if parsed is None or (parsed.meta.value is None and problems):
            continue
        doc = parsed.meta
        ck = Checker(doc)
        data = record.check(doc.value if doc.value is not None else {}, (), ck)
        if data is not None:
            for index, pid in enumerate(data.get("papers", [])):
                if pid not in papers and pid not in known_ids:
                    ck.fail(("papers", index), f"no paper '{pid}'{suggest(pid, known_ids)}")
        errors += ck.errors
        if data is None or week is None or problems or any(e.severity == "error" for e in ck.errors):
            continue
        extra = {k: data[k] for k in settings.extra_issue_fields if k in data}
        issues.append(Issue(
            week=week, source=rel, title=data.get("title", settings.issue_title),
            paper_ids=tuple(data.get("papers", ())), intro=parsed.body.strip("\n"),
            intro_line=parsed.body_line, draft=data.get("draft", False), extra=extra,
        ))
    return sorted(issues, key=lambda issue: issue.week)


def _paper_stems(root: Path) -> list[str]:
    """Ids of every paper file, valid or not, so that a broken record is not also 'missing'."""
    base = root / PAPERS_DIR
    return sorted(f.stem for f in base.glob("*.yaml")) if base.is_dir() else []


def _issue_date(stem: str, rel: str, errors: list[SourceError]) -> dt.date | None:
    if not ISSUE_NAME.match(stem):
        errors.append(SourceError(rel, 1, 1, f"file name '{stem}' is not a date like 2025-07-21 (the week's first day)"))
        return None
    try:
        return dt.date.fromisoformat(stem)
    except ValueError as exc:
        errors.append(SourceError(rel, 1, 1, f"file name '{stem}' is not a valid date ({exc})"))
        return None


def _drafts_in_published_issues(root: Path, papers: dict[str, Paper], issues: list[Issue]) -> list[SourceError]:
    """A published issue may not list a draft record: the site would show half-written text."""
    errors = []
    for issue in issues:
        if issue.draft:
            continue
        for index, pid in enumerate(issue.paper_ids):
            if pid in papers and papers[pid].draft:
                doc, _ = read_front_matter_file(root / issue.source, issue.source)
                errors.append(doc.meta.error(("papers", index), f"papers[{index}]: paper '{pid}' is a draft; "
                                             "finish it (and delete its `draft: true`) or mark this issue draft"))
    return errors


def _unlisted_papers(papers: dict[str, Paper], entries: dict[str, dict], issues: list[Issue]) -> list[SourceError]:
    listed = {pid for issue in issues for pid in issue.paper_ids}
    return [SourceError(papers[pid].source, *entries[pid]["root"], f"paper '{pid}' is not listed in any issue",
                        "warning") for pid in sorted(papers) if pid not in listed]
