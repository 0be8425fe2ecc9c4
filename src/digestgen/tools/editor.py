"""Write editors' files safely: new paper records, new issues, and ids added to an issue.

Every write is atomic (a temporary file beside the target, then a rename), a new file never
replaces an existing one, and an edited issue keeps its formatting and comments: only the
lines that carry the new ids are added.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from digestgen import atomic
from digestgen.tools.arxivapi import Paper, file_stem
from digestgen.pipeline.content import DIGESTS_DIR, ISSUE_NAME, week_start
from digestgen.pipeline.sources import Loader

INTRO_OUTLINE = """\
이번 주 선정된 논문들을 살펴보면, (이번 주의 흐름을 한두 문장으로 씁니다.)

첫째, (첫 번째 흐름과 대표 논문)

둘째, (두 번째 흐름과 대표 논문)

마지막으로, (나머지 논문과 의미)
"""


class EditError(Exception):
    """A file could not be written or edited as asked."""


# Characters a YAML stream may hold as they are; the rest (and YAML's extra line breaks) are escaped.
_NOT_PRINTABLE = re.compile("[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                            "\U00010000-\U0010ffff]")


def _quote(text: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly `text`, whatever it holds."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"' + _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m[0]):04x}" if ord(m[0]) < 0x10000
                                    else f"\\U{ord(m[0]):08x}", escaped) + '"'


def _literal(key: str, text: str) -> str:
    """`key: |` and `text` as a literal block at the top level: every character of prose is plain there."""
    core = text.rstrip("\n")
    trailing = len(text) - len(core)
    lines = core.split("\n") if core else []
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    lead = next((line for line in lines if line.strip(" ")), "")
    head = lines[: lines.index(lead) + 1] if lead else lines  # YAML finds the indentation on these lines
    indicator = "2" if any(line.startswith(" ") for line in head) else ""
    body = "".join(f"  {line}\n" if line else "\n" for line in lines + [""] * max(0, trailing - 1))
    return f"{key}: |{indicator}{chomp}\n{body}"


def text_field(key: str, text: str, indent: str = "  ") -> str:
    """`key` and `text` as YAML lines at `indent`: a `|` block, so that `#`, `:`, quotes and brackets stay
    text; a double-quoted line only when no block can hold the text exactly (e.g. a carriage return)."""
    block = _literal(key, text)
    try:
        same = not _NOT_PRINTABLE.search(text) and yaml.load(block, Loader=Loader) == {key: text}
    except yaml.YAMLError:
        same = False
    lines = block.splitlines(keepends=True) if same else [f"{key}: {_quote(text)}\n"]
    return "".join(indent + line if line.strip("\n") else line for line in lines)


def record_text(paper: Paper) -> str:
    """A paper record for `paper`: English from arXiv, Korean left for the editor, marked draft.

    Every text field is a `|` block; the Korean ones are commented-out blocks that line up when
    the editor deletes their `# `, so a draft validates and a finished field needs no quoting.
    """
    categories = ", ".join(f"{c} (primary)" if c == paper.primary_category else c for c in paper.categories)
    authors = "".join(f"  - {_quote(a)}\n" for a in paper.authors)
    return (
        f"# arXiv categories: {categories}\n"
        f"# Written by `digestgen add`. Text goes on the indented lines under `ko: |` or `en: |`, where\n"
        f"# #, :, quotes and brackets are plain text. Fill in the Korean text marked TODO (delete the `# `\n"
        f"# in front of its lines), then delete `draft: true`.\n"
        f"id: {_quote(file_stem(paper.id))}\n"
        f"draft: true  # a draft record is published only when finished; `digestgen validate` lists what is missing\n"
        f"title:\n"
        f"{text_field('en', paper.title)}"
        f"  # TODO 국문 제목\n"
        f"  # ko: |-\n"
        f"  #   국문 제목\n"
        f"# TODO 핵심 요약 한 문장 (선택)\n"
        f"# tldr:\n"
        f"#   ko: |-\n"
        f"#     한 문장 요약\n"
        f"# TODO 논문 소개\n"
        f"# summary:\n"
        f"#   ko: |\n"
        f"#     논문 소개를 씁니다.\n"
        f"abstract:\n"
        f"{text_field('en', paper.abstract)}"
        f"  # TODO 초록 번역\n"
        f"  # ko: |\n"
        f"  #   초록 번역\n"
        f"links:\n"
        f"  paper: {paper.abs_url}\n"
        f"  pdf: {paper.pdf_url}\n"
        f"authors:{chr(10) + authors if authors else ' []' + chr(10)}"
        f"arxiv: {_quote(paper.id)}\n"
        f"published: {paper.published.isoformat()}\n"
        f"tags: []  # e.g. from the categories above\n"
    )


def write_new(path: Path, text: str) -> None:
    """Create `path` with `text` atomically; fail if it exists (never overwrite)."""
    try:
        atomic.write(path, text.encode("utf-8"), exclusive=True, sync=True)
    except FileExistsError:
        raise EditError(f"{path.name} already exists; not overwritten") from None


def replace_file(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (readers see the old or the new file, never a mix)."""
    atomic.write(path, text.encode("utf-8"), sync=True)


def issue_weeks(root: Path) -> list[dt.date]:
    """The first days of the weeks that have an issue file, oldest first."""
    folder = root / DIGESTS_DIR
    weeks = []
    for file in folder.glob("*.md") if folder.is_dir() else ():
        if ISSUE_NAME.match(file.stem):
            try:
                weeks.append(dt.date.fromisoformat(file.stem))
            except ValueError:
                continue
    return sorted(weeks)


def issue_for(root: Path, day: dt.date, first: int = 0) -> Path:
    """The issue file whose week holds `day`, or the path of a new one for that week."""
    for start in issue_weeks(root):
        if start <= day <= start + dt.timedelta(days=6):
            return root / DIGESTS_DIR / f"{start.isoformat()}.md"
    return root / DIGESTS_DIR / f"{week_start(day, first).isoformat()}.md"


def is_draft_issue(path: Path) -> bool:
    """Whether the issue file at `path` says `draft: true` (a file that cannot be read is not)."""
    from digestgen.pipeline.sources import read_front_matter_file

    parsed, _ = read_front_matter_file(path, path.name)
    meta = parsed.meta.value if parsed is not None else None
    return isinstance(meta, dict) and meta.get("draft") is True


def draft_weeks(root: Path) -> list[dt.date]:
    """The weeks whose issue file is a draft, oldest first."""
    return [week for week in issue_weeks(root)
            if is_draft_issue(root / DIGESTS_DIR / f"{week.isoformat()}.md")]


def next_week(root: Path, first: int = 0) -> dt.date:
    """The day after the latest issue's week, or the first day of this week if there is none."""
    weeks = issue_weeks(root)
    return weeks[-1] + dt.timedelta(days=7) if weeks else week_start(dt.date.today(), first)


def issue_text(ids: list[str]) -> str:
    """A new draft issue with an intro outline."""
    listed = "\n".join(f"  - {_quote(i)}" for i in ids)
    papers = f"papers:\n{listed}\n" if ids else "papers: []\n"
    title = ("# title: |-  # optional, instead of the site's issue title: delete the `# ` of this line and the next\n"
             "#   이번 주의 제목\n")
    return f"---\ndraft: true  # delete this line to publish the issue\n{title}{papers}---\n{INTRO_OUTLINE}"


@dataclass
class FrontMatter:
    """An issue file as lines, for an edit that keeps its layout: the front matter is
    `lines[1:end]`, composed as `node`; `write` puts back the file's newlines and BOM."""

    lines: list[str]
    end: int
    node: yaml.Node | None
    newline: str
    bom: bool

    @classmethod
    def read(cls, path: Path, purpose: str = "") -> "FrontMatter":
        """Read `path`; EditError when it has no closed, valid front matter (`purpose` ends that message)."""
        text = path.read_bytes().decode("utf-8")
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.replace("\r\n", "\n").split("\n")
        bom = lines[0].startswith("\ufeff")
        lines[0] = lines[0].removeprefix("\ufeff")
        if lines[0].strip() != "---":
            raise EditError(f"{path.name}: no front matter{purpose}")
        try:
            end = _closing(lines)
        except StopIteration:
            raise EditError(f"{path.name}: front matter is not closed") from None
        try:
            node = yaml.compose("\n".join(lines[1:end]), Loader=Loader)
        except yaml.YAMLError as exc:
            raise EditError(f"{path.name}: front matter is not valid YAML ({' '.join(str(exc).split())})") from None
        return cls(lines, end, node, newline, bom)

    def data(self) -> dict:
        """The front matter as edited so far, read again."""
        return yaml.safe_load("\n".join(self.lines[1:_closing(self.lines)])) or {}

    def write(self, path: Path) -> None:
        replace_file(path, ("\ufeff" if self.bom else "") + self.newline.join(self.lines))


def _closing(lines: list[str]) -> int:
    return next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))


def add_to_issue(path: Path, ids: list[str]) -> list[str]:
    """Append `ids` to the issue at `path` (creating it as a draft); return the ids added."""
    if not path.exists():
        write_new(path, issue_text(ids))
        return list(ids)
    front = FrontMatter.read(path, " to add papers to")
    lines, end, node = front.lines, front.end, front.node
    papers = None
    if isinstance(node, yaml.MappingNode):
        papers = next((v for k, v in node.value if getattr(k, "value", None) == "papers"), None)
    existing = [item.value for item in papers.value] if isinstance(papers, yaml.SequenceNode) else []
    new = [i for i in ids if i not in existing]
    if not new:
        return []
    if papers is None:  # no `papers:` key: add one at the end of the front matter
        lines[end:end] = ["papers:"] + [f"  - {_quote(i)}" for i in new]
    elif isinstance(papers, yaml.SequenceNode) and papers.flow_style:
        row, col = papers.end_mark.line + 1, papers.end_mark.column - 1  # the closing ']'
        joined = ", ".join(_quote(i) for i in new)
        before = lines[row][:col].rstrip()
        lines[row] = before + (", " if existing else "") + joined + lines[row][col:]
    elif isinstance(papers, yaml.SequenceNode) and papers.value:
        last = papers.value[-1]
        dash = " " * (papers.value[0].start_mark.column - 2)
        after = last.end_mark.line + 1  # the line after the last item (front matter starts at 1)
        if last.end_mark.column == 0:
            after -= 1
        lines[after + 1:after + 1] = [f"{dash}- {_quote(i)}" for i in new]
    else:
        raise EditError(f"{path.name}: `papers` is not a list; fix it by hand")
    if [str(i) for i in front.data().get("papers") or []] != existing + new:
        raise EditError(f"{path.name}: could not add the ids without changing the file's layout; add them by hand")
    front.write(path)
    return new


def add(root: Path, inputs: list[str], client, issue_day: dt.date | None = None,
        say=print, warn=print, progress=None, first: int = 0, notice=print) -> bool:
    """`digestgen add`: fetch each id from arXiv and write its record; True when every id worked."""
    from digestgen.tools.arxivapi import FetchError

    wanted, ok = _wanted_ids(inputs, warn)
    todo, fresh = _not_written(root, wanted, warn)
    ok = ok and fresh
    written: list[str] = []
    if todo:
        try:
            found = client.fetch(todo, progress=progress)
        except FetchError as exc:
            for arxiv_id in todo:
                warn(f"{arxiv_id}: {exc}; nothing written")
            return False
        written, all_written = _write_records(root, todo, found, say, warn)
        ok = ok and all_written
    if issue_day is not None and written:
        if not _add_to_week(root, issue_day, first, written, say, warn, notice):
            return False
    return ok


def _wanted_ids(inputs: list[str], warn) -> tuple[list[str], bool]:
    """The arXiv ids named by `inputs` (each once), and whether every input named one."""
    from digestgen.tools.arxivapi import parse_id

    ok = True
    wanted: list[str] = []
    for text in inputs:
        arxiv_id = parse_id(text)
        if arxiv_id is None:
            warn(f"{text}: not an arXiv id or URL")
            ok = False
        elif arxiv_id not in wanted:
            wanted.append(arxiv_id)
    return wanted, ok


def _not_written(root: Path, wanted: list[str], warn) -> tuple[list[str], bool]:
    """The ids that have no record yet, and whether that is all of them."""
    ok = True
    todo = []
    for arxiv_id in wanted:
        target = root / "papers" / f"{file_stem(arxiv_id)}.yaml"
        if target.exists():
            warn(f"{arxiv_id}: papers/{target.name} already exists; not overwritten")
            ok = False
        else:
            todo.append(arxiv_id)
    return todo, ok


def _write_records(root: Path, todo: list[str], found: dict, say, warn) -> tuple[list[str], bool]:
    """Write a record for each fetched paper; the record ids written, and whether every id was."""
    ok = True
    written: list[str] = []
    for arxiv_id in todo:
        paper = found.get(arxiv_id)
        if paper is None:
            warn(f"{arxiv_id}: arXiv has no paper with this id; nothing written")
            ok = False
            continue
        if paper.withdrawn:
            warn(f"{arxiv_id}: the paper was withdrawn on arXiv ({paper.comment}); nothing written")
            ok = False
            continue
        target = root / "papers" / f"{file_stem(arxiv_id)}.yaml"
        try:
            write_new(target, record_text(paper))
        except EditError as exc:
            warn(f"{arxiv_id}: {exc}")
            ok = False
            continue
        written.append(file_stem(arxiv_id))
        say(f"wrote papers/{target.name}: {paper.title}")
    return written, ok


def _add_to_week(root: Path, issue_day: dt.date, first: int, written: list[str], say, warn, notice) -> bool:
    """`add --issue`: list the new records in that week's issue; False when the issue could not be edited."""
    path = issue_for(root, issue_day, first)
    try:
        added = add_to_issue(path, written)
    except EditError as exc:
        warn(str(exc))
        return False
    if added:
        say(f"added {', '.join(added)} to {DIGESTS_DIR}/{path.name}")
        if not is_draft_issue(path):
            records = ", ".join(f"papers/{pid}.yaml" for pid in added)
            notice(f"{DIGESTS_DIR}/{path.name} is published (it has no `draft: true`), so it will not build "
                   f"until {records} {'is' if len(added) == 1 else 'are'} finished: write the Korean text and "
                   "delete `draft: true` in each, or add `draft: true` to the issue until then")
    return True
