"""One issue, three outlets: a Discourse forum post, an email newsletter, plain Markdown."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2

from digestgen.config import Settings
from digestgen.pipeline.digest import Digest, IssueView
from digestgen.pipeline.digest import PaperView
from digestgen.errors import BuildError, UsageError
from digestgen.pipeline.markup import absolute_markdown
from digestgen.pipeline.metadata import absolute_links, plain_title
from digestgen.pipeline.render import Renderer, ordered_langs

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


PAPER_BREAK = "\ue000paper\ue000"  # what `export-discourse.md` puts before each paper: where a long post may be split
SEPARATOR = "\n----- 8< ----- digestgen: post {n} of {total} ({what}) ----- 8< -----\n\n"


class PostTooLong(Exception):
    """One paper alone is longer than the forum allows."""


def _sections(p: PaperView, links: list[str], page_url: str) -> list[str]:
    """The 논문 소개 / 초록 / 링크 / 더 읽어보기 blocks of one paper, as Markdown (for `markdown`)."""
    parts = [f"## {plain_title(p)}"]
    if p.paper.summary:
        parts += ["### 논문 소개", *(absolute_markdown(t, page_url) for t in _texts(p.paper.summary))]
    if p.paper.abstract:
        abstracts = [absolute_markdown(t, page_url) for t in _texts(p.paper.abstract)]
        parts += ["### 논문 초록(Abstract)", abstracts[0], *map(quote, abstracts[1:])]
    parts += ["### 논문 링크", links[0]]
    if len(links) > 1:
        parts += ["### 더 읽어보기", "\n".join(links[1:])]
    return parts


def figure_url(settings: Settings, figure) -> str:
    """A figure's absolute URL: its own for a remote image, the site's copy for a local file."""
    if figure.site_path is None:
        return figure.src
    if not settings.absolute:
        raise UsageError(f"figure '{figure.src}' is a local file: give an absolute --base-url "
                         "(or base_url in digestgen.toml) so the post can link to the site's copy")
    return settings.absolute_url(figure.site_path)


def discourse_text(renderer: Renderer, settings: Settings, view: IssueView) -> str:
    """The whole forum post from `export-discourse.md`, with PAPER_BREAK where it may be split."""
    issue_url = settings.absolute_url(view.url) if settings.absolute else None

    forum = settings.discourse_url + "/" if settings.discourse_url else None

    def absolute(text: str, page: str | None) -> str:
        if page is None and forum:  # the header and footer: relative links are the forum's
            return absolute_markdown(text, forum)
        if issue_url is None:
            if absolute_markdown(text, "https://relative.invalid/") != text:
                raise UsageError("the text has relative links: give an absolute --base-url "
                                 "(or base_url in digestgen.toml) so that every link in the post is absolute")
            return text
        return absolute_markdown(text, settings.absolute_url(page or ""))

    context = dict(
        issue=view, papers=view.papers, header=absolute(settings.discourse_header, None),
        footer=absolute(settings.discourse_footer, None),
        paper_break=PAPER_BREAK, title=plain_title, texts=_texts,
        figure_url=lambda figure: figure_url(settings, figure),
        intro=absolute(view.issue.intro, view.url).strip(),
        md=lambda text, p: absolute(text, p.url).strip(),
    )
    env = renderer.env.overlay(finalize=None)  # the forum gets shortcodes: it draws its own emoji
    env.filters["quote"] = quote
    try:
        text = env.get_template("export-discourse.md").render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise BuildError(f"export-discourse.md: template error: {exc}") from None
    return tidy(text)


def tidy(text: str) -> str:
    """At most one blank line in a row (template whitespace), except inside fenced code."""
    out: list[str] = []
    fence = ""
    for line in text.strip("\n").split("\n"):
        marker = re.match(r"\s{0,3}(`{3,}|~{3,})", line)
        if marker and (not fence or marker[1].startswith(fence)):
            fence = "" if fence else marker[1][:3]
        if not fence and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip() if not fence else line)
    return "\n".join(out) + "\n"


def split_post(text: str, limit: int) -> list[str]:
    """The post as the first post and replies, each at most `limit` characters, split only at
    PAPER_BREAKs (paper boundaries), as few posts as possible."""
    chunks = [chunk.strip("\n") for chunk in text.split(PAPER_BREAK)]
    posts: list[str] = []
    for chunk in chunks:
        if not chunk:
            continue
        if len(chunk) + 1 > limit:
            first = chunk.strip().splitlines()[0]
            raise PostTooLong(f"one part of the post is {len(chunk) + 1:,} characters, over max_post_length "
                              f"({limit:,}), and cannot be split: {first[:80]}")
        if posts and len(posts[-1]) + 2 + len(chunk) + 1 <= limit:
            posts[-1] += "\n\n" + chunk
        else:
            posts.append(chunk)
    return [post + "\n" for post in posts]


def discourse_posts(renderer: Renderer, settings: Settings, view: IssueView) -> list[str]:
    """The issue as forum posts (the topic's first post, then replies), within max_post_length."""
    try:
        return split_post(discourse_text(renderer, settings, view), settings.max_post_length)
    except PostTooLong as exc:
        raise BuildError(f"{view.issue.source}: {exc}") from None


def part_paths(out: Path, count: int) -> list[Path]:
    """post.md, post.2.md, post.3.md, ... for a post and its replies."""
    return [out] + [out.with_name(f"{out.stem}.{n}{out.suffix}") for n in range(2, count + 1)]


def joined(posts: list[str]) -> str:
    """Several posts as one text, with a clear separator line before each reply."""
    out = posts[0]
    for n, post in enumerate(posts[1:], 2):
        out += SEPARATOR.format(n=n, total=len(posts), what="a reply") + post
    return out


def markdown(view: IssueView, settings: Settings) -> str:
    """Plain CommonMark of the issue, with a contents list linking to the site."""
    contents = []
    for number, p in enumerate(view.papers, 1):
        line = f"{number}. [{plain_title(p)}]({settings.absolute_url(p.url)})"
        contents.append(line + "".join(f"  \n   {text}" for text in _texts(p.paper.tldr)))
    intro = absolute_markdown(view.issue.intro.strip(), settings.absolute_url(view.url))
    parts = [f"# {view.issue.heading}", intro, "## 이번 호 논문",
             "\n".join(contents)]
    for p in view.papers:
        links = [f"- <{p.paper.links['paper']}>", *(f"- [{link.label}]({link.url})" for link in p.repos)]
        parts += _sections(p, ["\n".join(links[:1]), *links[1:]], settings.absolute_url(p.url))
    parts += ["---", f"[웹에서 보기]({settings.absolute_url(view.url)})"]
    return "\n\n".join(part for part in parts if part) + "\n"


def email_text(view: IssueView, settings: Settings) -> str:
    """The plain-text alternative of the newsletter."""
    lines = [view.issue.heading, settings.absolute_url(view.url), "",
             paragraphs(view.intro_html)]
    for number, p in enumerate(view.papers, 1):
        lines += ["", "-" * 40, f"{number}. {plain_title(p)}", ""]
        if p.summary_html:
            lines += ["[논문 소개]", *(paragraphs(p.summary_html[lang]) + "\n" for lang in ordered_langs(p.summary_html))]
        lines.append(f"[논문 링크] {p.paper.links['paper']}")
        lines += [f"[더 읽어보기] {link.url}" for link in p.repos]
        lines.append(f"[웹에서 보기] {settings.absolute_url(p.url)}")
    return "\n".join(lines) + "\n"


_BLOCK_CLOSE = re.compile(r"</(p|h[1-6]|blockquote|pre|ul|ol|table|div)>|<hr\s*/?>")
_ITEM = re.compile(r"<li[^>]*>")
_LINE_END = re.compile(r"</li>|<br\s*/?>|</tr>")


def paragraphs(html: str) -> str:
    """Rendered HTML as plain text that keeps its paragraphs (a blank line between blocks), list
    items (one per line, with '- ') and code blocks (lines and indentation as written)."""
    import html as html_lib

    def keep_code(match: re.Match) -> str:
        return match[0].replace("\n", "\x01").replace(" ", "\x02")

    html = re.sub(r"<pre[^>]*>.*?</pre>", keep_code, html, flags=re.S).replace("\n", " ")
    text = _LINE_END.sub("\n", _ITEM.sub("- ", _BLOCK_CLOSE.sub("\n\n", html)))
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", text))
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(line.split()).replace("\x02", " ") for line in block.split("\n")]
        lines = [line.replace("\x01", "\n").rstrip() for line in lines if line.strip()]
        if lines:
            blocks.append("\n".join(lines).strip("\n"))
    return "\n\n".join(blocks)


def export(renderer: Renderer, settings: Settings, view: IssueView, fmt: str) -> str:
    """The issue in `fmt` (a key of FORMATS); a long Discourse post comes as posts joined by separators."""
    if fmt == "discourse":
        return joined(discourse_posts(renderer, settings, view))
    if fmt == "markdown":
        return markdown(view, settings)
    if fmt == "email-text":
        return email_text(view, settings)
    page_url = settings.absolute_url(view.url)
    return renderer.env.get_template("export-email.html").render(
        issue=view, page_url=page_url, abs_url=settings.absolute_url,
        email_html=lambda html: inline_styles(absolute_links(html, page_url)),
    )
