"""`digestgen import`: weekly Discourse topics into paper records and an issue.

A source is a saved topic page (.html), the forum's topic JSON (`/t/<id>.json`, whose first
post's `cooked` HTML is the content) or a topic URL (read through that JSON API). The first
post is read in the digest's layout:

    # [YYYY/MM/DD ~ DD] title          -> the week (file name) and the issue's title
    ### community header               -> reported (set [discourse] header in digestgen.toml)
    intro paragraphs                  -> the issue's intro (emoji as :shortcodes:)
    ## 논문별 핵심 요약 (a list)         -> each paper's tldr, matched by the bold name
    ---
    ## 국문 제목 / English title          -> title.ko, title.en
    figures (lightbox images)          -> figures (src, alt)
    ### 논문 소개                        -> summary.ko
    ### (논문) 초록(Abstract)            -> abstract.ko, and the block quote -> abstract.en
    ### 논문 링크                        -> links.paper (and the id: arXiv or from the URL)
    ### 더 읽어보기                      -> repos, in order
    ---
    footer                             -> reported (set [discourse] footer)

HTML becomes Markdown through `markdownify`, with Discourse's own pieces (emoji images,
heading anchors, link cards, lightboxes, math) handled first. Anything else that cannot be
mapped is reported at its line in the source. Nothing existing is overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml
from bs4 import BeautifulSoup, NavigableString, Tag
from markdownify import MarkdownConverter

from digestgen.tools import discourse, editor
from digestgen.tools.arxivapi import file_stem, parse_id
from digestgen.pipeline.content import DIGESTS_DIR, PAPERS_DIR
from digestgen.pipeline.schema import PAPER_ID

TITLE = re.compile(r"^\s*\[(\d{4})/(\d{2})/(\d{2})\s*~[^\]]*\]\s*(.*)$")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SECTIONS = {  # an <h3> in a paper -> the field it fills
    "논문 소개": "summary", "논문 초록(abstract)": "abstract", "초록(abstract)": "abstract", "논문 초록": "abstract",
    "초록": "abstract", "abstract": "abstract", "논문 링크": "link", "더 읽어보기": "repos", "관련 링크": "repos",
}
SUMMARY_LIST = ("논문별 핵심 요약", "핵심 요약")


class ImportError_(Exception):
    """A source that cannot be imported at all."""


@dataclass
class Problem:
    where: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}:1: warning: {self.message}"


@dataclass
class Source:
    """One topic's first post, ready to read."""

    name: str  # how problems name the place: a file, or 'URL (cooked)'
    post: Tag  # the element that holds the post's HTML
    title: str
    topic: int | None = None
    post_id: int | None = None
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    tags_line: int = 1


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


# --- reading sources -------------------------------------------------------------------------

def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def read_source(text: str, client_for=None) -> Source:
    """A Source from a file path or a topic URL (raises ImportError_)."""
    found = discourse.topic_id(text)
    if found:
        base, number = found
        client = client_for(base) if client_for else discourse.Client(base)
        try:
            data = client.topic(number)
        except discourse.ForumError as exc:
            raise ImportError_(f"{text}: {exc}; nothing written") from None
        return _from_json(data, f"{base}/t/{number}.json (cooked)", f"{base}/t/{data.get('slug') or '-'}/{number}")
    path = Path(text)
    if text.startswith(("http://", "https://")):
        raise ImportError_(f"{text}: not a Discourse topic URL (expected https://forum/t/slug/ID)")
    if not path.is_file():
        raise ImportError_(f"{text}: no such file")
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportError_(f"{text}:{exc.lineno}:{exc.colno}: error: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ImportError_(f"{text}:1:1: error: expected a topic object (the forum's /t/<id>.json)")
        url = None
        if data.get("id") and data.get("slug"):
            url = f"/t/{data['slug']}/{data['id']}"
        return _from_json(data, f"{text} (cooked)", url)
    if path.suffix.lower() in (".html", ".htm"):
        return _from_page(raw, text)
    raise ImportError_(f"{text}: expected a topic page (.html), a topic JSON file (.json) or a topic URL")


def _from_json(data: dict, name: str, url: str | None) -> Source:
    posts = ((data.get("post_stream") or {}).get("posts") or []) if isinstance(data, dict) else []
    first = posts[0] if posts and isinstance(posts[0], dict) else None
    if first is None or not isinstance(first.get("cooked"), str):
        raise ImportError_(f"{name.removesuffix(' (cooked)')}: no first post with `cooked` HTML "
                           "(expected the forum's /t/<id>.json)")
    tags = [t if isinstance(t, str) else t.get("name", "") for t in data.get("tags") or [] if t]
    return Source(name=name, post=_soup(first["cooked"]), title=str(data.get("title") or ""),
                  topic=_int(data.get("id")), post_id=_int(first.get("id")), url=url, tags=tags)


def _from_page(html: str, name: str) -> Source:
    soup = _soup(html)
    post = soup.select_one("#post_1 [itemprop=text]") or soup.select_one("#post_1 .post")
    if post is None:
        raise ImportError_(f"{name}:1:1: error: no first post (expected a Discourse topic page with #post_1)")
    heading = soup.select_one("#topic-title h1")
    title = heading.get_text(" ", strip=True) if heading else (soup.title.get_text() if soup.title else "")
    canonical = soup.select_one("link[rel=canonical]")
    url = canonical.get("href") if canonical else None
    found = discourse.topic_id(url) if url else None
    anchor = post.find("a", attrs={"name": re.compile(r"^p-\d+-")})
    post_id = int(anchor["name"].split("-")[1]) if anchor else None
    tags_div = soup.select_one(".discourse-tags")
    tags = [a.get_text(strip=True) for a in soup.select(".discourse-tags a.discourse-tag")]
    return Source(name=name, post=post, title=title, topic=found[1] if found else None, post_id=post_id, url=url,
                  tags=tags, tags_line=tags_div.sourceline if tags_div is not None else 1)


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- HTML to Markdown ------------------------------------------------------------------------

class Converter(MarkdownConverter):
    """markdownify, taught Discourse's cooked HTML: emoji images become :shortcodes:, heading
    anchors vanish, link cards become their URL, lightboxes their image, math stays TeX."""

    def __init__(self, **options):
        super().__init__(heading_style="atx", bullets="-", strong_em_symbol="*", escape_misc=False,
                         code_language_callback=_code_language, **options)

    def convert_img(self, el, text, parent_tags):
        if "emoji" in (el.get("class") or []):
            return emoji_name(el)
        return super().convert_img(el, text, parent_tags)

    def convert_a(self, el, text, parent_tags):
        if "anchor" in (el.get("class") or []) and not text.strip():
            return ""
        if "lightbox" in (el.get("class") or []):
            img = el.find("img")
            return f"![{img.get('alt', '') if img else ''}]({el.get('href', '')})"
        if "mention" in (el.get("class") or []):
            return text
        return super().convert_a(el, text, parent_tags)

    def convert_aside(self, el, text, parent_tags):
        src = el.get("data-onebox-src")
        if src:
            return f"\n\n<{src}>\n\n"
        return text

    def convert_div(self, el, text, parent_tags):
        classes = el.get("class") or []
        if "meta" in classes and el.find_parent("a", class_="lightbox"):
            return ""
        if "math" in classes:
            return f"\n\n$$\n{_tex(el.get_text())}\n$$\n\n"
        return super().convert_div(el, text, parent_tags)

    def convert_span(self, el, text, parent_tags):
        if "math" in (el.get("class") or []):
            return f"${_tex(el.get_text())}$"
        return text


def _tex(text: str) -> str:
    text = text.strip()
    for start, end in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
        if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end):
            return text[len(start):len(text) - len(end)].strip()
    return text


def _code_language(el) -> str | None:
    code = el.find("code")
    for name in (code.get("class") or []) if code else []:
        if name.startswith("lang-") and name not in ("lang-auto", "lang-nohighlight"):
            return name[5:]
    return None


def emoji_name(el: Tag) -> str:
    name = el.get("title") or el.get("alt") or ""
    name = name.strip()
    return name if name.startswith(":") and name.endswith(":") else f":{name.strip(':')}:"


def markdown(elements: list) -> str:
    """Markdown for a run of sibling elements (paragraph breaks between them)."""
    soup = _soup("")
    holder = soup.new_tag("div")
    for element in elements:
        holder.append(_copy(element))
    text = Converter().convert_soup(holder)
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\u200b", ""))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _copy(element):
    return BeautifulSoup(str(element), "html.parser")


def inline_text(el: Tag) -> str:
    """A heading's text: anchors dropped, emoji as shortcodes."""
    parts = []
    for node in el.descendants:
        if isinstance(node, NavigableString) and not node.find_parent("a", class_="anchor"):
            parts.append(str(node))
        elif isinstance(node, Tag) and node.name == "img" and "emoji" in (node.get("class") or []):
            parts.append(emoji_name(node))
    return " ".join("".join(parts).replace("\u200b", "").split())


# --- the post's layout -----------------------------------------------------------------------

def parse(source: Source) -> ImportedIssue:
    """Map the first post onto an issue and its papers (raises ImportError_ when impossible)."""
    problems: list[Problem] = []

    def report(el, message: str) -> None:
        problems.append(Problem(source.name, getattr(el, "sourceline", None) or 1, message))

    children = [c for c in source.post.children if isinstance(c, Tag) or str(c).strip()]
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

    intro: list = []
    tldr_items: list[Tag] = []
    papers: list[ImportedPaper] = []
    footer: list = []
    state = "intro"  # intro | tldr | paper | closed | footer
    section = "figures"
    buckets: dict[str, list] = {}
    first_h3_done = False

    def finish() -> None:
        if papers and buckets is not None:
            _fill(papers[-1], buckets, report)

    for el in children:
        if not isinstance(el, Tag):
            (intro if state == "intro" else footer).append(el)
            continue
        name = el.name
        if name == "h1":
            continue
        if name == "h3" and state == "intro" and not intro and not first_h3_done:
            first_h3_done = True
            report(el, f"community header '{inline_text(el)}' is not part of the content; "
                       "put it in [discourse] header of digestgen.toml (the export adds it)")
            continue
        if name == "h2":
            text = inline_text(el)
            if any(text.startswith(marker) for marker in SUMMARY_LIST):
                state = "tldr"
                continue
            if state in ("paper", "closed"):
                finish()
            if state == "footer":
                report(el, "a paper after the footer")
            papers.append(_heading(el, text, report))
            buckets = {"figures": []}
            section, state = "figures", "paper"
            continue
        if name == "hr":
            if state == "paper":
                state = "closed"
            continue
        if state == "intro":
            intro.append(el)
        elif state == "tldr":
            if name in ("ul", "ol"):
                tldr_items += el.find_all("li", recursive=False)
            else:
                report(el, "text in the 논문별 핵심 요약 section that is not its list; not imported")
        elif state == "paper":
            if name == "h3":
                key = SECTIONS.get(inline_text(el).lower())
                if key is None:
                    report(el, f"section '{inline_text(el)}' has no place in a paper record; not imported")
                    section = "ignored"
                else:
                    section = key
                buckets.setdefault(section, [])
                continue
            buckets.setdefault(section, []).append(el)
        elif state in ("closed", "footer"):
            if name == "h3" and state == "closed" and papers:
                report(el, f"section '{inline_text(el)}' after the paper's closing line; not imported")
            state = "footer"
            footer.append(el)
    if state in ("paper", "closed", "footer") and papers:
        finish()
    if footer:
        first = next((f for f in footer if isinstance(f, Tag)), None)
        report(first, "community footer is not part of the content; put it in [discourse] footer of "
                      "digestgen.toml (the export adds it)")
    if not papers:
        raise ImportError_(f"{source.name}: no papers found (expected '## 국문 제목 / English title' headings)")
    _match_tldrs(tldr_items, papers, report)
    unused = _paper_tags(source.tags, papers)
    if unused:
        problems.append(Problem(source.name.removesuffix(" (cooked)") if source.tags_line > 1 else source.name,
                                source.tags_line, f"topic tags that name no paper are not imported "
                                f"({', '.join(unused)}); records take their own `tags`"))
    problems.sort(key=lambda p: p.line)
    intro_md = markdown(intro)
    mapped = [f"week {week.isoformat()} from the title", f"intro: {len(intro)} block(s)"]
    return ImportedIssue(week, match[4].strip(), intro_md, papers, problems, mapped)


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


# --- writing ---------------------------------------------------------------------------------

def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _text_field(key: str, text: str, indent: str) -> str:
    """`key: "one line"` or a literal block for several lines."""
    if "\n" not in text:
        return f"{indent}{key}: {_q(text)}\n"
    body = "\n".join(f"{indent}  {line}" if line.strip() else "" for line in text.split("\n"))
    head = "|2" if text[:1] in (" ", "\t") else "|"
    return f"{indent}{key}: {head}\n{body}\n"


def _map(key: str, values: dict[str, str]) -> str:
    values = {k: v for k, v in values.items() if v}
    if not values:
        return ""
    return f"{key}:\n" + "".join(_text_field(lang, text, "  ") for lang, text in values.items())


def record_text(paper: ImportedPaper, source: str) -> str:
    missing = paper.missing()
    out = f"# Imported by `digestgen import` from {source}\n"
    out += f"id: {_q(paper.id)}\n"
    if missing:
        out += f"draft: true  # still missing: {', '.join(missing)}; delete this line when done\n"
    out += _map("title", {"ko": paper.title_ko, "en": paper.title_en})
    out += _map("tldr", {"ko": paper.tldr})
    out += _map("summary", {"ko": paper.summary})
    out += _map("abstract", {"ko": paper.abstract_ko, "en": paper.abstract_en})
    out += f"links:\n  paper: {_q(paper.link)}\n" if paper.link else ""
    if paper.repos:
        out += "repos:\n" + "".join(f"  - {_q(url)}\n" for url in paper.repos)
    if paper.figures:
        out += "figures:\n" + "".join(
            f"  - src: {_q(f['src'])}\n" + (f"    alt: {_q(f['alt'])}\n" if f["alt"] else "") for f in paper.figures)
    if paper.arxiv:
        out += f"arxiv: {_q(paper.arxiv)}\n"
    if paper.tags:
        out += f"tags: [{', '.join(paper.tags)}]\n"
    return out


def record_data(paper: ImportedPaper) -> dict:
    """What record_text should read back as (to check the YAML written)."""
    data: dict = {"id": paper.id}
    if paper.missing():
        data["draft"] = True
    for key, values in (("title", {"ko": paper.title_ko, "en": paper.title_en}), ("tldr", {"ko": paper.tldr}),
                        ("summary", {"ko": paper.summary}),
                        ("abstract", {"ko": paper.abstract_ko, "en": paper.abstract_en})):
        kept = {k: v for k, v in values.items() if v}
        if kept:
            data[key] = kept
    if paper.link:
        data["links"] = {"paper": paper.link}
    if paper.repos:
        data["repos"] = paper.repos
    if paper.figures:
        data["figures"] = [{k: v for k, v in f.items() if v} for f in paper.figures]
    if paper.arxiv:
        data["arxiv"] = paper.arxiv
    if paper.tags:
        data["tags"] = paper.tags
    return data


def _same(text: str, data: dict) -> bool:
    loaded = yaml.safe_load(text)
    trimmed = {k: ({lang: v.rstrip("\n") for lang, v in value.items()} if isinstance(value, dict) and k != "links"
                   else value) for k, value in (loaded or {}).items()}
    return trimmed == data


def issue_text(issue: ImportedIssue, ids: list[str], draft: bool, source: Source, default_title: str) -> str:
    lines = ["---", f"# Imported by `digestgen import` from {source.url or source.name}"]
    if draft:
        lines.append("draft: true  # some papers are drafts; publish when they are done")
    if issue.title and issue.title != default_title:
        lines.append(f"title: {_q(issue.title)}")
    lines.append("papers:")
    lines += [f"  - {_q(i)}" for i in ids]
    if source.topic is not None:
        posts = f", posts: [{source.post_id}]" if source.post_id is not None else ""
        lines.append(f"discourse: {{topic: {source.topic}{posts}}}")
    lines.append("---")
    return "\n".join(lines) + "\n" + issue.intro + "\n"


def imported_topic(path: Path) -> int | None:
    """The Discourse topic id recorded in an issue's front matter, if any."""
    from digestgen.pipeline.sources import read_front_matter_file

    parsed, _ = read_front_matter_file(path, path.name)
    value = parsed.meta.value if parsed is not None else None
    forum = value.get("discourse") if isinstance(value, dict) else None
    return forum.get("topic") if isinstance(forum, dict) else None


def run(root: Path, sources: list[str], default_title: str, say=print, warn=print, client_for=None) -> bool:
    """`digestgen import`: True when every source was imported (or was already)."""
    ok = True
    for text in sources:
        try:
            source = read_source(text, client_for)
            issue = parse(source)
        except ImportError_ as exc:
            warn(str(exc))
            ok = False
            continue
        for problem in issue.problems:
            warn(str(problem))
        ok = _write(root, text, source, issue, default_title, say, warn) and ok
    return ok


def _write(root: Path, text: str, source: Source, issue: ImportedIssue, default_title: str, say, warn) -> bool:
    issue_path = root / DIGESTS_DIR / f"{issue.week.isoformat()}.md"
    rel_issue = f"{DIGESTS_DIR}/{issue_path.name}"
    if issue_path.exists():
        if source.topic is not None and imported_topic(issue_path) == source.topic:
            say(f"{text}: already imported as {rel_issue} (topic {source.topic}); nothing written")
            return True
        warn(f"{text}: {rel_issue} already exists; not overwritten (nothing written for this topic)")
        return False
    ids: list[str] = []
    records: list[tuple[Path, str, ImportedPaper]] = []
    for paper in issue.papers:
        if not paper.id:
            warn(f"{source.name}:{paper.line}:1: warning: paper '{paper.title_en or paper.title_ko}' has no "
                 "논문 링크, so it has no id; not imported")
            continue
        if paper.id in ids:
            warn(f"{source.name}:{paper.line}:1: warning: paper {paper.id} appears twice; imported once")
            continue
        ids.append(paper.id)
        target = root / PAPERS_DIR / f"{paper.id}.yaml"
        body = record_text(paper, source.url or text)
        if not _same(body, record_data(paper)):  # never write a record that reads back differently
            body = "# Imported by `digestgen import`\n" + yaml.safe_dump(record_data(paper), allow_unicode=True,
                                                                          sort_keys=False, width=1000)
        records.append((target, body, paper))
    if not ids:
        warn(f"{text}: no paper could be imported; nothing written")
        return False
    drafts = 0
    for target, body, paper in records:
        rel = f"{PAPERS_DIR}/{target.name}"
        if target.exists():
            say(f"{rel}: already exists; kept as it is (listed in {rel_issue})")
            continue
        editor.write_new(target, body)
        missing = paper.missing()
        drafts += bool(missing)
        filled = _filled(paper)
        say(f"wrote {rel}: {filled}" + (f" (draft: missing {', '.join(missing)})" if missing else ""))
    editor.write_new(issue_path, issue_text(issue, ids, drafts > 0, source, default_title))
    say(f"wrote {rel_issue}: {'; '.join(issue.mapped)}; {len(ids)} paper(s)"
        + (f"; topic {source.topic}" if source.topic is not None else "") + (" (draft)" if drafts else ""))
    return True


def _filled(paper: ImportedPaper) -> str:
    parts = ["title " + "+".join(k for k, v in (("ko", paper.title_ko), ("en", paper.title_en)) if v)]
    if paper.tldr:
        parts.append("tldr")
    if paper.summary:
        parts.append(f"summary ({paper.summary.count(chr(10) + chr(10)) + 1} paragraph(s))")
    abstract = "+".join(k for k, v in (("ko", paper.abstract_ko), ("en", paper.abstract_en)) if v)
    if abstract:
        parts.append(f"abstract {abstract}")
    parts.append(f"{len(paper.figures)} figure(s)")
    if paper.link:
        parts.append("paper link" + (" (arXiv)" if paper.arxiv else ""))
    parts.append(f"{len(paper.repos)} repo link(s)")
    if paper.tags:
        parts.append(f"tags {', '.join(paper.tags)}")
    return ", ".join(parts)
