"""`digestgen import`, step three: a first post's layout as an issue and its papers.

The post is read block by block (see importer.py for the layout); what cannot be mapped is
reported at its line in the source.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from bs4 import Tag

from digestgen.tools.arxivapi import file_stem, parse_id
from digestgen.tools.import_html import inline_text, markdown
from digestgen.tools.import_source import ImportError_, Source
from digestgen.pipeline.schema import PAPER_ID

TITLE = re.compile(r"^\s*\[(\d{4})/(\d{2})/(\d{2})\s*~[^\]]*\]\s*(.*)$")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SECTIONS = {  # an <h3> in a paper -> the field it fills
    "논문 소개": "summary", "논문 초록(abstract)": "abstract", "초록(abstract)": "abstract", "논문 초록": "abstract",
    "초록": "abstract", "abstract": "abstract", "논문 링크": "link", "더 읽어보기": "repos", "관련 링크": "repos",
}
SUMMARY_LIST = ("논문별 핵심 요약", "핵심 요약")


@dataclass
class Problem:
    where: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}:1: warning: {self.message}"


@dataclass
class ImportedPaper:
    title_ko: str = ""
    title_en: str = ""
    line: int = 1
    figures: list[dict] = field(default_factory=list)
    summary: str = ""
    abstract_ko: str = ""
    abstract_en: str = ""
    link: str = ""
    repos: list[str] = field(default_factory=list)
    tldr: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        arxiv = parse_id(self.link) if self.link else None
        if arxiv:
            return file_stem(arxiv)
        return paper_id_from_url(self.link) if self.link else ""

    @property
    def arxiv(self) -> str | None:
        return parse_id(self.link) if self.link else None

    def missing(self) -> list[str]:
        wanted = {"title.ko": self.title_ko, "title.en": self.title_en, "summary.ko": self.summary,
                  "abstract.ko": self.abstract_ko, "links.paper": self.link}
        return [name for name, value in wanted.items() if not value]


@dataclass
class ImportedIssue:
    week: dt.date
    title: str
    intro: str
    papers: list[ImportedPaper]
    problems: list[Problem]
    mapped: list[str]


def paper_id_from_url(url: str) -> str:
    """A record id for a paper link that is not arXiv: OpenReview's ?id=, else the last path part."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    raw = (query.get("id") or [""])[0] or next((s for s in reversed(parts.path.split("/")) if s), parts.netloc)
    raw = re.sub(r"\.(pdf|html?)$", "", raw, flags=re.I)
    stem = re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("-.")
    return stem if stem and PAPER_ID.match(stem) else re.sub(r"[^a-z0-9]+", "-", parts.netloc.lower()).strip("-")


def parse(source: Source) -> ImportedIssue:
    """Map the first post onto an issue and its papers (raises ImportError_ when impossible)."""
    problems: list[Problem] = []

    def report(el, message: str) -> None:
        problems.append(Problem(source.name, getattr(el, "sourceline", None) or 1, message))

    children = [c for c in source.post.children if isinstance(c, Tag) or str(c).strip()]
    week, title = _week(source, children)
    post = _Post(report)
    for el in children:
        post.take(el)
    post.close()
    papers = post.papers
    if not papers:
        raise ImportError_(f"{source.name}: no papers found (expected '## 국문 제목 / English title' headings)")
    _match_tldrs(post.tldr_items, papers, report)
    unused = _paper_tags(source.tags, papers)
    if unused:
        problems.append(Problem(source.name.removesuffix(" (cooked)") if source.tags_line > 1 else source.name,
                                source.tags_line, f"topic tags that name no paper are not imported "
                                f"({', '.join(unused)}); records take their own `tags`"))
    problems.sort(key=lambda p: p.line)
    intro_md = markdown(post.intro)
    mapped = [f"week {week.isoformat()} from the title", f"intro: {len(post.intro)} block(s)"]
    return ImportedIssue(week, title, intro_md, papers, problems, mapped)


def _week(source: Source, children: list) -> tuple[dt.date, str]:
    """The week and the issue's title, from the post's <h1> (else the topic's title)."""
    title = source.title
    heading = next((c for c in children if isinstance(c, Tag) and c.name == "h1"), None)
    if heading is not None:
        title = inline_text(heading) or title
    match = TITLE.match(title or "")
    if not match:
        raise ImportError_(f"{source.name.removesuffix(' (cooked)')}:{getattr(heading, 'sourceline', 1) or 1}:1: "
                           f"error: the title '{title}' does not start with a week like [2026/06/08 ~ 14]")
    try:
        week = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ImportError_(f"{source.name}: the title's date [{match[1]}/{match[2]}/{match[3]}] is not a date") from None
    return week, match[4].strip()


class _Post:
    """The post's blocks, read in order into the intro, the summary list, the papers and the footer."""

    def __init__(self, report) -> None:
        self.report = report
        self.intro: list = []
        self.tldr_items: list[Tag] = []
        self.papers: list[ImportedPaper] = []
        self.footer: list = []
        self.state = "intro"  # intro | tldr | paper | closed | footer
        self.section = "figures"
        self.buckets: dict[str, list] = {}
        self.first_h3_done = False

    def finish(self) -> None:
        if self.papers and self.buckets is not None:
            _fill(self.papers[-1], self.buckets, self.report)

    def take(self, el) -> None:
        """Read one block of the post."""
        if not isinstance(el, Tag):
            (self.intro if self.state == "intro" else self.footer).append(el)
            return
        name = el.name
        if name == "h1":
            return
        if name == "h3" and self.state == "intro" and not self.intro and not self.first_h3_done:
            self.first_h3_done = True
            self.report(el, f"community header '{inline_text(el)}' is not part of the content; "
                            "put it in [discourse] header of digestgen.toml (the export adds it)")
            return
        if name == "h2":
            self._h2(el)
            return
        if name == "hr":
            if self.state == "paper":
                self.state = "closed"
            return
        if self.state == "intro":
            self.intro.append(el)
        elif self.state == "tldr":
            if name in ("ul", "ol"):
                self.tldr_items += el.find_all("li", recursive=False)
            else:
                self.report(el, "text in the 논문별 핵심 요약 section that is not its list; not imported")
        elif self.state == "paper":
            self._paper_block(el)
        elif self.state in ("closed", "footer"):
            if name == "h3" and self.state == "closed" and self.papers:
                self.report(el, f"section '{inline_text(el)}' after the paper's closing line; not imported")
            self.state = "footer"
            self.footer.append(el)

    def _h2(self, el: Tag) -> None:
        """The summary list's heading, or a paper's: '## 국문 제목 / English title'."""
        text = inline_text(el)
        if any(text.startswith(marker) for marker in SUMMARY_LIST):
            self.state = "tldr"
            return
        if self.state in ("paper", "closed"):
            self.finish()
        if self.state == "footer":
            self.report(el, "a paper after the footer")
        self.papers.append(_heading(el, text, self.report))
        self.buckets = {"figures": []}
        self.section, self.state = "figures", "paper"

    def _paper_block(self, el: Tag) -> None:
        """A block inside a paper: an <h3> opens a section, anything else goes in the open one."""
        if el.name == "h3":
            key = SECTIONS.get(inline_text(el).lower())
            if key is None:
                self.report(el, f"section '{inline_text(el)}' has no place in a paper record; not imported")
                self.section = "ignored"
            else:
                self.section = key
            self.buckets.setdefault(self.section, [])
            return
        self.buckets.setdefault(self.section, []).append(el)

    def close(self) -> None:
        """After the last block: fill the last paper, and report a footer."""
        if self.state in ("paper", "closed", "footer") and self.papers:
            self.finish()
        if self.footer:
            first = next((f for f in self.footer if isinstance(f, Tag)), None)
            self.report(first, "community footer is not part of the content; put it in [discourse] footer of "
                               "digestgen.toml (the export adds it)")


def _paper_tags(tags: list[str], papers: list[ImportedPaper]) -> list[str]:
    """Give each paper the topic tag that names it (the forum tags each paper by its short name,
    'economy-of-minds' for 'Economy of Minds: ...'); return the tags that name no paper."""
    used = set()
    for paper in papers:
        name = paper.title_en.split(":")[0]
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if slug and slug in tags:
            paper.tags.append(slug)
            used.add(slug)
    return [t for t in tags if t not in used]


def _heading(el: Tag, text: str, report) -> ImportedPaper:
    paper = ImportedPaper(line=el.sourceline or 1)
    splits = [m.start() for m in re.finditer(r" / ", text)]
    for at in splits:
        left, right = text[:at].strip(), text[at + 3:].strip()
        if HANGUL.search(left) and not HANGUL.search(right):
            paper.title_ko, paper.title_en = left, right
            return paper
    if HANGUL.search(text):
        paper.title_ko = text
        report(el, f"heading '{text}' has no ' / English title'; title.en is left out")
    else:
        paper.title_en = text
        report(el, f"heading '{text}' has no '국문 제목 / '; title.ko is left out")
    return paper


def _fill(paper: ImportedPaper, buckets: dict[str, list], report) -> None:
    for el in buckets.get("figures", []):
        images = [img for img in el.find_all("img") if "emoji" not in (img.get("class") or [])]
        for img in images:
            box = img.find_parent("a", class_="lightbox")
            src = (box.get("href") if box is not None else None) or img.get("src", "")
            if src.startswith("//"):
                src = "https:" + src
            if src.startswith(("http://", "https://")):
                paper.figures.append({"src": src, "alt": (img.get("alt") or "").strip()})
            else:
                report(el, f"figure '{src}' is not an absolute URL; not imported")
        rest = el.get_text(" ", strip=True)
        if not images and rest:
            report(el, f"text before 논문 소개 is not a figure; not imported: {rest[:60]}")
    if buckets.get("summary"):
        paper.summary = markdown(buckets["summary"])
    if buckets.get("abstract"):
        ko = [e for e in buckets["abstract"] if e.name != "blockquote"]
        en = [e for e in buckets["abstract"] if e.name == "blockquote"]
        if en:
            paper.abstract_en = markdown([c for q in en for c in q.children if isinstance(c, Tag) or str(c).strip()])
        text = markdown(ko)
        if text and not HANGUL.search(text) and not en:
            paper.abstract_en = text
        else:
            paper.abstract_ko = text
    links = _urls(buckets.get("link", []))
    if links:
        paper.link = links[0]
        for extra in links[1:]:
            if extra not in paper.repos:
                paper.repos.append(extra)
    elif "link" in buckets:
        report(buckets["link"][0] if buckets["link"] else None, "논문 링크 has no link")
    for url in _urls(buckets.get("repos", [])):
        if url not in paper.repos and url != paper.link:
            paper.repos.append(url)


def _urls(elements: list) -> list[str]:
    """Link targets in order: a link card's source, else each link's href (once each)."""
    found: list[str] = []
    for el in elements:
        cards = [el] if el.name == "aside" else el.find_all("aside")
        for card in cards:
            src = card.get("data-onebox-src")
            if src and src not in found:
                found.append(src)
        for a in el.find_all("a") if el.name != "aside" else []:
            if a.find_parent("aside") is not None or "anchor" in (a.get("class") or []):
                continue
            href = a.get("href", "")
            if href.startswith(("http://", "https://")) and href not in found:
                found.append(href)
        if el.name == "p" and not el.find("a") and re.match(r"^https?://\S+$", el.get_text(strip=True)):
            text = el.get_text(strip=True)
            if text not in found:
                found.append(text)
    return found


def _match_tldrs(items: list[Tag], papers: list[ImportedPaper], report) -> None:
    """Give each paper its summary line: the line whose bold name is in its title, else by order."""
    lines = []
    for item in items:
        strong = item.find(["strong", "b"])
        lines.append((strong or item, strong.get_text(" ", strip=True) if strong else "", markdown(list(item.children))))
    free = list(range(len(lines)))
    for paper in papers:
        titles = f"{paper.title_en} {paper.title_ko}".lower()
        hit = next((i for i in free if lines[i][1] and lines[i][1].lower() in titles), None)
        if hit is not None:
            paper.tldr = lines[hit][2]
            free.remove(hit)
    for index, paper in enumerate(papers):  # by position, for names that do not appear in the title
        if not paper.tldr and index in free:
            paper.tldr = lines[index][2]
            free.remove(index)
    for i in free:
        report(lines[i][0], f"summary line for '{lines[i][1] or lines[i][2][:40]}' matches no paper in this post; "
                            "not imported")

