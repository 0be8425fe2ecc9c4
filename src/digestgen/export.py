"""One issue, three outlets: a Discourse forum post, an email newsletter, plain Markdown."""

from __future__ import annotations

import datetime as dt
import re

from digestgen.config import Settings
from digestgen.digest import Digest, IssueView
from digestgen.digest import PaperView
from digestgen.publish import absolute_links, plain_title
from digestgen.render import Renderer, ordered_langs, plain_text

FORMATS = {  # format -> needs an absolute base URL (it links to the site)
    "discourse": False,
    "markdown": True,
    "email": True,
    "email-text": True,
}

# Inline styles for the tags rendered Markdown produces (email clients ignore <style> blocks).
EMAIL_STYLES = {
    "p": "margin:0 0 12px;",
    "a": "color:#0b57d0;text-decoration:underline;",
    "blockquote": "margin:12px 0;padding:8px 14px;border-left:4px solid #dde1e6;background:#f4f6f8;color:#333;",
    "h2": "font-size:20px;margin:22px 0 10px;", "h3": "font-size:17px;margin:20px 0 8px;",
    "h4": "font-size:15px;margin:16px 0 6px;", "h5": "font-size:15px;margin:14px 0 6px;",
    "ul": "margin:0 0 12px;padding-left:22px;", "ol": "margin:0 0 12px;padding-left:22px;", "li": "margin:4px 0;",
    "code": "font-family:Menlo,Consolas,monospace;font-size:13px;background:#f4f6f8;padding:1px 4px;",
    "pre": "background:#f4f6f8;padding:10px 12px;overflow:auto;",
    "table": "border-collapse:collapse;", "th": "border:1px solid #dde1e6;padding:4px 8px;",
    "td": "border:1px solid #dde1e6;padding:4px 8px;",
}
_OPEN = re.compile(r"<(" + "|".join(EMAIL_STYLES) + r")(\s|>)")


def inline_styles(html: str) -> str:
    """Give each tag of rendered Markdown an inline style for email clients."""
    return _OPEN.sub(lambda m: f'<{m[1]} style="{EMAIL_STYLES[m[1]]}"{m[2]}', html)


def quote(text: str) -> str:
    """Markdown block quote of `text`."""
    return "\n".join(("> " + line) if line.strip() else ">" for line in text.strip().splitlines())


def find_issue(digest: Digest, day: dt.date) -> IssueView | None:
    """The issue whose week holds `day`."""
    return next((iv for iv in digest.issues if iv.issue.week <= day <= iv.issue.end), None)


def _texts(texts: dict[str, str]) -> list[str]:
    return [texts[lang].strip() for lang in ordered_langs(texts)]


def _paper_sections(p: PaperView, links: list[str]) -> list[str]:
    """The 논문 소개 / 초록 / 링크 / 더 읽어보기 blocks of one paper, as Markdown."""
    parts = [f"## {plain_title(p)}"]
    if p.paper.summary:
        parts += ["### 논문 소개", *_texts(p.paper.summary)]
    if p.paper.abstract:
        abstracts = _texts(p.paper.abstract)
        parts += ["### 논문 초록(Abstract)", abstracts[0], *map(quote, abstracts[1:])]
    parts += ["### 논문 링크", links[0]]
    if len(links) > 1:
        parts += ["### 더 읽어보기", "\n".join(links[1:])]
    return parts


def discourse(view: IssueView) -> str:
    """The digest's forum-post layout: bare URLs (the forum turns them into link previews)."""
    parts = [f"# {view.issue.heading}", view.issue.intro.strip()]
    for p in view.papers:
        parts += ["---", *_paper_sections(p, [p.paper.links["paper"], *(link.url for link in p.repos)])]
    return "\n\n".join(part for part in parts if part) + "\n"


def markdown(view: IssueView, settings: Settings) -> str:
    """Plain CommonMark of the issue, with a contents list linking to the site."""
    contents = []
    for number, p in enumerate(view.papers, 1):
        line = f"{number}. [{plain_title(p)}]({settings.absolute_url(p.url)})"
        contents.append(line + "".join(f"  \n   {text}" for text in _texts(p.paper.tldr)))
    parts = [f"# {view.issue.heading}", view.issue.intro.strip(), "## 이번 호 논문",
             "\n".join(contents)]
    for p in view.papers:
        links = [f"- <{p.paper.links['paper']}>", *(f"- [{link.label}]({link.url})" for link in p.repos)]
        parts += _paper_sections(p, ["\n".join(links[:1]), *links[1:]])
    parts += ["---", f"[웹에서 보기]({settings.absolute_url(view.url)})"]
    return "\n\n".join(part for part in parts if part) + "\n"


def email_text(view: IssueView, settings: Settings) -> str:
    """The plain-text alternative of the newsletter."""
    lines = [view.issue.heading, settings.absolute_url(view.url), "",
             plain_text(view.intro_html, 100000)]
    for number, p in enumerate(view.papers, 1):
        lines += ["", "-" * 40, f"{number}. {plain_title(p)}", ""]
        if p.summary_html:
            lines += ["[논문 소개]", *(plain_text(p.summary_html[lang], 100000) for lang in ordered_langs(p.summary_html)), ""]
        lines.append(f"[논문 링크] {p.paper.links['paper']}")
        lines += [f"[더 읽어보기] {link.url}" for link in p.repos]
        lines.append(f"[웹에서 보기] {settings.absolute_url(p.url)}")
    return "\n".join(lines) + "\n"


def export(renderer: Renderer, settings: Settings, view: IssueView, fmt: str) -> str:
    """The issue in `fmt` (a key of FORMATS)."""
    if fmt == "discourse":
        return discourse(view)
    if fmt == "markdown":
        return markdown(view, settings)
    if fmt == "email-text":
        return email_text(view, settings)
    page_url = settings.absolute_url(view.url)
    return renderer.env.get_template("export-email.html").render(
        issue=view, page_url=page_url, abs_url=settings.absolute_url,
        email_html=lambda html: inline_styles(absolute_links(html, page_url)),
    )
