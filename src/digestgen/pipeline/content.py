"""Load and validate a digest repository into models: every problem in every file, located."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digestgen.config import WEEKDAYS, Settings
from digestgen.pipeline import budget
from digestgen.pipeline import cache as caches
from digestgen.errors import ContentError, SourceError
from digestgen.pipeline.kinds import Checker, suggest
from digestgen.pipeline.schema import ISSUE, PAPER, PAPER_ID
from digestgen.pipeline.sources import read_front_matter_file, read_yaml_file

PAPERS_DIR = "papers"
DIGESTS_DIR = "digests"
ISSUE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Figure:
    src: str
    alt: str = ""
    site_path: str | None = None  # a local image: its content-hashed copy in the site ('figures/x.1a2b3c4d5e.png')
    width: int | None = None
    height: int | None = None


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


class Lazy:
    """A field of a record from the record cache that is read from the cache when first used: its
    object's `_fill(name)` puts it, and the fields read with it, into the object's `__dict__`
    (which then answers, not this)."""

    def __init__(self, name: str):
        self.name = name

    @classmethod
    def fields(cls, owner: type, names) -> None:
        for name in names:
            setattr(owner, name, cls(name))

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        obj._fill(self.name)
        return obj.__dict__[self.name]


class CachedPaper(Paper):
    """A `Paper` from the record cache. It holds the fields every build reads of every paper
    (`cache.CORE`: they lay out the site); the others are read from the cache the first time they
    are used, by a page that shows the paper: an edit at 20,000 papers renders a few pages, and
    unpickling every paper's title, links and authors took it a third of a second."""

    @classmethod
    def of(cls, store, rel: str, core: tuple) -> CachedPaper:
        paper = cls.__new__(cls)
        fields_ = paper.__dict__
        fields_.update(zip(caches.CORE, core, strict=True))
        fields_["_store"], fields_["_rel"] = store, rel
        return paper

    def _fill(self, name: str) -> None:
        fields_ = self.__dict__
        if name in ("summary", "abstract"):
            fields_["summary"], fields_["abstract"], *_ = fields_["_store"].long_texts(fields_["_rel"])
        else:
            fields_.update(zip(caches.LIGHT, fields_["_store"].light(fields_["_rel"])[0], strict=True))

    LAZY = (*caches.LIGHT, "summary", "abstract")

    def load(self) -> None:
        """Read every field now."""
        for name in self.LAZY:
            getattr(self, name)

    def _values(self) -> tuple:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(Paper))

    def __eq__(self, other):  # as a `Paper`'s: field by field, the id first (reading no more than it takes)
        if isinstance(other, Paper):
            return all(getattr(self, f.name) == getattr(other, f.name) for f in dataclasses.fields(Paper))
        return NotImplemented

    __hash__ = Paper.__hash__

    def __reduce__(self):  # as a `Paper`
        return Paper, self._values()


Lazy.fields(CachedPaper, CachedPaper.LAZY)
CachedPaper.__name__ = "Paper"  # as a template's error names it ("... Paper object has no attribute ...")


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
    discourse: dict[str, Any] | None = None  # {topic: N, posts: [...]}, as `digestgen post` recorded it

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
    issue_entries: dict[str, dict] = field(default_factory=dict)  # the same per issue, by its slug


def load(root: Path, settings: Settings, strict: bool = False, cache=None) -> Content:
    """Read and validate `papers/` and `digests/` under `root`.

    Raises ContentError with every problem (warnings too) when any is an error; with
    `strict`, warnings count as errors.
    """
    found: list[SourceError] = []
    papers, entries, stems = _load_papers(root, settings, found, cache)
    issues, issue_entries = _load_issues(root, settings, papers, stems, found, cache)
    found += _week_problems(issues, settings.week_start)
    if not any(e.severity == "error" for e in found):
        found += _unlisted_papers(papers, entries, issues)
    found += _drafts_in_published_issues(root, papers, issues)
    found += _outline_placeholders(issues)
    if strict:
        found = [SourceError(e.path, e.line, e.col, e.message) if e.severity == "warning" else e for e in found]
    if any(e.severity == "error" for e in found):
        raise ContentError(found)
    return Content(papers, issues, sorted(found), entries, issue_entries)


def _files(root: Path, folder: str, suffixes: tuple[str, ...], errors: list[SourceError], listed=None) -> list[Path]:
    return [root / folder / name for name in _names(root, folder, suffixes, errors, listed)]


def _names(root: Path, folder: str, suffixes: tuple[str, ...], errors: list[SourceError],
           listed: dict | None = None) -> list[str]:
    """The names of the `suffixes` files in `root/folder`, sorted; a warning for each file that
    looks like one but is not. `listed`, if given, are the stamps the build took of every file
    under the watched folders (`cache.stamps`, sorted by path): the names come from them, without
    listing the folder again (its 20,000 entries took an edit 0.1 s). A file removed after the
    stamps were taken is then a located error when it is read ("build again")."""
    if listed:
        prefix = folder + "/"
        names = [rel[len(prefix):] for rel in listed if rel.startswith(prefix)]
        names = [name for name in names if "/" not in name and not name.startswith(".")]
    else:
        base = root / folder
        if not base.is_dir():
            return []
        with os.scandir(base) as entries:  # is_file() from the directory listing: no stat per file
            names = sorted(entry.name for entry in entries if not entry.name.startswith(".") and entry.is_file())
    found = []
    for name in names:  # strings, not Paths: 10,000 Paths took a no-op-sized edit 0.1 s
        if name.endswith(suffixes):  # (as `splitext` would say: no name here starts with a dot)
            found.append(name)
            continue
        suffix = os.path.splitext(name)[1]
        if suffix in (".yml", ".markdown") or (folder == PAPERS_DIR and suffix == ".md"):
            errors.append(SourceError(f"{folder}/{name}", 1, 1,
                                      f"ignored: expected a {' or '.join(suffixes)} file", "warning"))
    return found


def _load_papers(root: Path, settings: Settings, errors: list[SourceError], cache=None
                 ) -> tuple[dict[str, Paper], dict[str, dict], list[str]]:
    """The papers and their cache entries, by id; and the id of every paper file, valid or not
    (so that a broken record is not also 'missing' from the issues that list it)."""
    papers: dict[str, Paper] = {}
    entries: dict[str, dict] = {}
    names = _names(root, PAPERS_DIR, (".yaml",), errors, cache.stamps if cache is not None else None)
    folder = root / PAPERS_DIR
    rels = {name: f"{PAPERS_DIR}/{name}" for name in names}
    keys = {name: cache.key(rels[name]) for name in names} if cache is not None else {}
    found: dict[str, tuple[list[SourceError], dict | None]] = {}  # file name -> its problems and cache entry
    for name in names:
        entry = cache.get(rels[name], keys[name]) if cache is not None else None
        if entry is not None and not _figures_changed(root, entry, cache.stamps):  # unchanged since the last build
            if "paper" not in entry:  # (its fields read when first used)
                entry["paper"] = CachedPaper.of(cache, rels[name], entry["core"])
            found[name] = entry["problems"], entry
    fresh = [name for name in names if name not in found]
    stamps = cache.stamps if cache is not None else None
    read = dict(zip(fresh, _read_papers(root, settings, [folder / name for name in fresh], stamps)))
    found |= read
    for name in names:
        problems, entry = found[name]
        errors += problems
        if entry is None:
            continue
        stem = name[: -len(".yaml")]
        papers[stem] = entry["paper"]
        entries[stem] = entry
        if cache is not None and name in read:
            cache.put(rels[name], keys[name], entry)
    return papers, entries, [name[: -len(".yaml")] for name in names]


_READING: tuple | None = None  # (root, settings, record schema, stamps) for the forked readers of `_read_papers`


def _read_papers(root: Path, settings: Settings, files: list[Path], stamps: dict | None = None
                 ) -> list[tuple[list[SourceError], dict | None]]:
    """`_read_paper` of each file; by forked worker processes, one per core, when there are many
    (a cold build of 10,000 papers spends most of its first 20 s here, in YAML, checks and Markdown)."""
    global _READING
    record = PAPER.with_extra(settings.extra_paper_fields)
    workers = os.cpu_count() or 1
    if not budget.can_fork(len(files), workers):
        return [_read_paper(root, settings, record, file, stamps) for file in files]
    _READING = root, settings, record, stamps
    try:
        return list(budget.forked(_read_forked, files, workers, "reading the papers"))
    finally:
        _READING = None


def _read_forked(file: Path) -> tuple[list[SourceError], dict | None]:
    root, settings, record, stamps = _READING
    return _read_paper(root, settings, record, file, stamps)


def _read_paper(root: Path, settings: Settings, record, file: Path, stamps: dict | None = None
                ) -> tuple[list[SourceError], dict | None]:
    """A paper file's problems, and its record cache entry (None when it has errors): the checked
    record, its warnings, and its Markdown rendered (see `build.load`). `stamps`: the build's
    stamps of the input files (see `cache.Identities`), for its local figures'."""
    from digestgen.pipeline.digest import paper_view

    rel = f"{PAPERS_DIR}/{file.name}"
    stem = file.stem
    errors: list[SourceError] = []
    doc, problems = read_yaml_file(file, rel)
    errors += problems
    if doc.value is None and problems:
        return errors, None
    if not PAPER_ID.match(stem):
        errors.append(SourceError(rel, 1, 1, f"file name '{stem}' is not a valid paper id "
                                  "(lowercase letters, digits, '.', '-', '_')"))
    if doc.value is None:
        errors.append(SourceError(rel, 1, 1, "file is empty; expected a paper record"))
        return errors, None
    ck = Checker(doc)
    data = record.check(doc.value, (), ck)
    if data is not None and "id" in data and data["id"] != stem:
        ck.fail(("id",), f"'{data['id']}' does not match the file name '{stem}'")
    local = _local_figures(root, data, ck, stamps) if data is not None else {}
    errors += ck.errors
    if data is None or any(e.severity == "error" for e in problems + ck.errors):
        return errors, None
    paper = _paper(stem, rel, data, settings, local)
    view = paper_view(paper, settings.base_path)
    return errors, {"paper": paper, "problems": problems + ck.errors, "root": doc.where(()),
                    "figures": {src: info[3] for src, info in local.items()},
                    "html": (settings.base_path, view.summary_html, view.abstract_html, view.tldr_html, view.written),
                    "repos": tuple(view.repos)}


IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif")


def _local_figures(root: Path, data: dict, ck: Checker, stamps: dict | None = None) -> dict[str, tuple]:
    """{src: (site path, width, height, stamp)} of figures that are files in the repository;
    a missing, outside or unreadable one is an error at its `src`."""
    found: dict[str, tuple] = {}
    if not data.get("figures"):
        return found
    import hashlib

    import imagesize  # here: 20 ms of an edit's start, for the papers that have figures

    base = root.resolve()
    for index, figure in enumerate(data.get("figures") or []):
        src = figure.get("src", "") if isinstance(figure, dict) else ""
        if not src or src.startswith(("http://", "https://")) or src in found:
            continue
        where = ("figures", index, "src")
        file = root / src
        try:
            real = file.resolve()
        except OSError:
            real = file
        if not real.is_relative_to(base):
            ck.fail(where, f"'{src}' points outside the repository")
            continue
        try:
            exists = file.is_file()
        except OSError as exc:  # a name too long for the file system, say
            ck.fail(where, f"'{src}' cannot be read ({exc.strerror or exc})")
            continue
        if not exists:
            ck.fail(where, f"no file '{src}' in the repository")
            continue
        if file.suffix.lower() not in IMAGE_TYPES:
            ck.fail(where, f"'{src}' is not an image ({', '.join(IMAGE_TYPES)})")
            continue
        data_ = file.read_bytes()
        try:
            width, height = imagesize.get(io.BytesIO(data_)) if file.suffix.lower() != ".svg" else (-1, -1)
        except (ValueError, OSError):
            width, height = -1, -1
        if file.suffix.lower() != ".svg" and (width <= 0 or height <= 0):
            ck.fail(where, f"'{src}' could not be read as a {file.suffix.lstrip('.').upper()} image")
            continue
        digest = hashlib.sha256(data_).hexdigest()[:10]
        found[src] = (f"figures/{file.stem}.{digest}{file.suffix.lower()}", width if width > 0 else None,
                      height if height > 0 else None, _figure_stamp(root, src, stamps))
    return found


def _figure_stamp(root: Path, src: str, stamps: dict | None) -> tuple[int, int]:
    """A local figure's stamp: the build's (settled, see `cache.Identities`), or its own."""
    found = stamps.get(posixpath.normpath(src)) if stamps else None
    return found if found is not None else caches.stamp(root / src)


def _figures_changed(root: Path, entry: dict, stamps: dict | None = None) -> bool:
    """Whether a local figure of a cached record changed (then the record is read again)."""
    for src, stamp in (entry.get("figures") or {}).items():
        try:
            if _figure_stamp(root, src, stamps) != stamp:
                return True
        except OSError:
            return True
    return False


def _paper(stem: str, rel: str, data: dict, settings: Settings, local: dict | None = None) -> Paper:
    local = local or {}
    extra = {k: data[k] for k in settings.extra_paper_fields if k in data}
    return Paper(
        id=stem, source=rel, title=_one_line_text(data["title"]), summary=data.get("summary", {}), links=data["links"],
        draft=data.get("draft", False),
        tldr=_one_line_text(data.get("tldr", {})), abstract=data.get("abstract", {}), repos=tuple(data.get("repos", ())),
        figures=tuple(Figure(f["src"], f.get("alt", ""), *local[f["src"]][:3]) if f["src"] in local
                      else Figure(f["src"], f.get("alt", "")) for f in data.get("figures", ())),
        authors=tuple(data.get("authors", ())), arxiv=data.get("arxiv"), published=data.get("published"),
        tags=tuple(unicodedata.normalize("NFC", t) for t in data.get("tags", ())), extra=extra,
    )


def _one_line_text(texts: dict[str, str]) -> dict[str, str]:
    """Titles and one-line summaries without the line break that ends a `|` block."""
    return {lang: text.strip() for lang, text in texts.items()}


def _load_issues(root: Path, settings: Settings, papers: dict[str, Paper], stems: list[str],
                 errors: list[SourceError], cache=None) -> tuple[list[Issue], dict[str, dict]]:
    """The issues, and their cache entries by slug. An unchanged issue comes from `cache` when
    every paper it lists is still there (else it is read again, to place the error)."""
    record = ISSUE.with_extra(settings.extra_issue_fields)
    known_ids = sorted(papers) + stems
    known = set(known_ids)
    issues, entries = [], {}
    for file in _files(root, DIGESTS_DIR, (".md",), errors, cache.stamps if cache is not None else None):
        rel = f"{DIGESTS_DIR}/{file.name}"
        key = cache.key(rel) if cache is not None else None
        entry = cache.get(rel, key) if cache is not None else None
        if entry is not None and known.issuperset(entry["issue"].paper_ids):
            errors += entry["problems"]
            issues.append(entry["issue"])
            entries[entry["issue"].slug] = entry
            continue
        mark = len(errors)
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
        if data is None or week is None or any(e.severity == "error" for e in problems + ck.errors):
            continue
        extra = {k: data[k] for k in settings.extra_issue_fields if k in data}
        issues.append(Issue(
            week=week, source=rel, title=data.get("title", settings.issue_title).strip(),
            paper_ids=tuple(data.get("papers", ())), intro=parsed.body.strip("\n"),
            intro_line=parsed.body_line + len(parsed.body) - len(parsed.body.lstrip("\n")), draft=data.get("draft", False), extra=extra,
            discourse=data.get("discourse"),
        ))
        entries[issues[-1].slug] = {"issue": issues[-1], "problems": errors[mark:]}
        if cache is not None:
            cache.put(rel, key, entries[issues[-1].slug])
    return sorted(issues, key=lambda issue: issue.week), entries


def _issue_date(stem: str, rel: str, errors: list[SourceError]) -> dt.date | None:
    if not ISSUE_NAME.match(stem):
        errors.append(SourceError(rel, 1, 1, f"file name '{stem}' is not a date like 2025-07-21 (the week's first day)"))
        return None
    try:
        return dt.date.fromisoformat(stem)
    except ValueError as exc:
        errors.append(SourceError(rel, 1, 1, f"file name '{stem}' is not a valid date ({exc})"))
        return None


DAY_NAMES_KO = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")


def week_start(day: dt.date, first: int = 0) -> dt.date:
    """The first day of `day`'s week, for weeks that start on weekday `first` (0 = Monday, the default)."""
    return day - dt.timedelta(days=(day.weekday() - first) % 7)


def _week_problems(issues: list[Issue], first: int) -> list[SourceError]:
    """Issues named for a day that does not start a week (a warning), and weeks that overlap (an error).

    A file named for another weekday still describes a whole week, so it stays valid (FORMAT.md
    never said which weekday); two issues whose seven days overlap would put a day in two weeks.
    """
    problems = []
    off = {issue.week for issue in issues if issue.week.weekday() != first}
    taken = {issue.week for issue in issues}
    for earlier, later in zip(issues, issues[1:]):
        if later.week - earlier.week >= dt.timedelta(days=7):
            continue
        culprit, other = (earlier, later) if earlier.week in off and later.week not in off else (later, earlier)
        off.discard(culprit.week)  # one message for this file
        problems.append(SourceError(culprit.source, 1, 1, (
            f"the week of this issue ({week_label(culprit.week)}) overlaps the week of {other.source} "
            f"({week_label(other.week)}); a day belongs to one issue only: {_rename_hint(culprit, first, taken)}"
            f"or move its papers into {other.source} "
            f"(두 이슈의 주가 겹칩니다: 파일 이름을 그 주의 첫날로 바꾸거나 한 이슈로 합치세요)")))
    for issue in issues:
        if issue.week in off:
            problems.append(SourceError(issue.source, 1, 1, (
                f"{issue.week.isoformat()} is a {WEEKDAYS[issue.week.weekday()].capitalize()}, but weeks start on "
                f"{WEEKDAYS[first].capitalize()}: {_rename_hint(issue, first, taken)}or set week_start = "
                f"\"{WEEKDAYS[issue.week.weekday()]}\" in digestgen.toml "
                f"(이슈 파일 이름은 그 주의 첫날({DAY_NAMES_KO[first]})이어야 합니다)"), "warning"))
    return problems


def _rename_hint(issue: Issue, first: int, taken: set[dt.date]) -> str:
    """'rename to 2025-07-21.md, ' when the week's first day has no issue yet, else ''."""
    start = week_start(issue.week, first)
    for candidate in (start, start + dt.timedelta(days=7)):
        if candidate != issue.week and candidate not in taken:
            return f"rename it to {candidate.isoformat()}.md, "
    return ""


def _drafts_in_published_issues(root: Path, papers: dict[str, Paper], issues: list[Issue]) -> list[SourceError]:
    """A published issue may not list a draft record: the site would show half-written text."""
    errors = []
    for issue in issues:
        if issue.draft:
            continue
        for index, pid in enumerate(issue.paper_ids):
            if pid in papers and papers[pid].draft:
                doc, problems = read_front_matter_file(root / issue.source, issue.source)
                if doc is None:  # the file went since it was read
                    errors += problems
                    continue
                errors.append(doc.meta.error(("papers", index), f"papers[{index}]: paper '{pid}' is a draft; "
                                             "finish it (and delete its `draft: true`) or mark this issue draft"))
    return errors


def _unlisted_papers(papers: dict[str, Paper], entries: dict[str, dict], issues: list[Issue]) -> list[SourceError]:
    """A finished record that no issue lists is a warning; a draft one (as `add` writes it) a note."""
    listed = {pid for issue in issues for pid in issue.paper_ids}
    return [SourceError(papers[pid].source, *entries[pid]["root"],
                        f"draft paper '{pid}' is not listed in any issue yet" if papers[pid].draft
                        else f"paper '{pid}' is not listed in any issue",
                        "note" if papers[pid].draft else "warning")
            for pid in sorted(papers) if pid not in listed]


# The intro outline that `digestgen new` writes: each placeholder is text in parentheses that the
# editor replaces. A published issue that still has one is an error at its line.
OUTLINE_PLACEHOLDERS = (
    "(이번 주의 흐름을 한두 문장으로 씁니다.)",
    "(첫 번째 흐름과 대표 논문)",
    "(두 번째 흐름과 대표 논문)",
    "(나머지 논문과 의미)",
)


def _outline_placeholders(issues: list[Issue]) -> list[SourceError]:
    """Outline placeholders left in a published issue (an error) or a draft one (a note)."""
    found = []
    for issue in issues:
        for offset, line in enumerate(issue.intro.split("\n")):
            for placeholder in OUTLINE_PLACEHOLDERS:
                col = line.find(placeholder)
                if col < 0:
                    continue
                where = (issue.source, issue.intro_line + offset, col + 1)
                if issue.draft:
                    found.append(SourceError(*where, f"outline placeholder {placeholder} still to be written", "note"))
                else:
                    found.append(SourceError(*where, f"outline placeholder {placeholder} left in a published "
                                                     "issue; write the text, or mark the issue `draft: true`"))
    return found
