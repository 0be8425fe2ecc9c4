"""Markdown to HTML: CommonMark with raw HTML off, safe links, and demoted headings."""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from digestgen.pipeline.emojis import emojize

SAFE_SCHEMES = ("http:", "https:", "mailto:")
_SCHEME = re.compile(r"^[^/?#]*:")
_HEADING = re.compile(r"<(/?)h([1-6])([ >])")

# Texts are rendered for a context where their own headings start at this level
# (issue pages: h1 issue, h2 paper, h3 section, h4 headings inside a summary);
# templates move them to fit each page with `html_block(section_level)`.
SUMMARY_HEADING_LEVEL = 4


def safe_link(url: str) -> bool:
    """Allow http(s), mailto and relative links; refuse javascript:, data: and every other scheme."""
    cleaned = "".join(ch for ch in url if ch > " ").lower()
    if _SCHEME.match(cleaned):
        return cleaned.startswith(SAFE_SCHEMES)
    return True


def _demote(md: MarkdownIt) -> None:
    """Shift headings so that the text's highest heading becomes h{env['heading_level']} (max h6)."""

    def rule(state) -> None:
        headings = [t for t in state.tokens if t.type in ("heading_open", "heading_close")]
        if not headings:
            return
        shift = state.env.get("heading_level", 1) - min(int(t.tag[1]) for t in headings)
        for token in headings:
            token.tag = f"h{max(1, min(6, int(token.tag[1]) + shift))}"

    md.core.ruler.push("demote_headings", rule)


def _emoji(md: MarkdownIt) -> None:
    """Turn `:fire:`-style shortcodes in text (never in code or math) into Unicode emoji."""

    def rule(state) -> None:
        for token in state.tokens:
            for child in token.children or ():
                if child.type == "text" and ":" in child.content:
                    child.content = emojize(child.content)

    md.core.ruler.push("emoji", rule)


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """The one configured parser (CommonMark, raw HTML off, tables, footnotes, $math$)."""
    md = (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        .enable("table")
        .enable("strikethrough")
        .use(footnote_plugin)
        .use(dollarmath_plugin, allow_space=False, double_inline=True)
    )
    md.validateLink = safe_link
    _demote(md)
    _emoji(md)
    return md


def render(text: str, heading_level: int = SUMMARY_HEADING_LEVEL) -> str:
    """Render Markdown `text` to HTML, its '#' headings at `heading_level`. Code blocks and tables,
    which scroll sideways when wide, can take keyboard focus and have a name (raw HTML is off, so
    every `<pre>` and `<table>` here is the parser's)."""
    html = parser().render(text, {"heading_level": heading_level})
    if "<pre>" in html or "<table>" in html:
        html = html.replace("<pre><code", '<pre tabindex="0" aria-label="코드"><code')
        html = html.replace("<table>", '<table tabindex="0" aria-label="표">')
    return html


def render_inline(text: str) -> str:
    """Render one line of Markdown (a tldr) without a surrounding paragraph."""
    return parser().renderInline(text, {})


def shift_headings(html: str, delta: int) -> str:
    """Move every heading in rendered HTML by `delta` levels (raw HTML is off, so tags are ours)."""
    if not delta:
        return html
    return _HEADING.sub(lambda m: f"<{m[1]}h{max(1, min(6, int(m[2]) + delta))}{m[3]}", html)


_DESTINATION = re.compile(r"(\]\(\s*<?|\]:[ \t]*<?|^<|[^\\]<)([^\s()<>]+)", re.M)


def absolute_markdown(text: str, page_url: str) -> str:
    """`text` with every relative link and image target made absolute against `page_url`.

    The parser finds which targets are links (so text that merely looks like one is left alone);
    each is then rewritten where the source names it, as an inline link, a reference definition
    or an autolink.
    """
    from urllib.parse import urljoin

    md = parser()
    targets = set()

    def walk(tokens) -> None:
        for token in tokens:
            if token.type in ("link_open", "image"):
                href = token.attrGet("href") if token.type == "link_open" else token.attrGet("src")
                if href and not _SCHEME.match(href) and not href.startswith("//"):
                    targets.add(href)
            if token.children:
                walk(token.children)

    walk(md.parse(text, {}))
    if not targets:
        return text

    def fix(match: re.Match) -> str:
        raw = match[2]
        if md.normalizeLink(raw) not in targets and raw not in targets:
            return match[0]
        try:
            return match[1] + urljoin(page_url, raw)
        except ValueError:
            return match[0]

    return _DESTINATION.sub(fix, text)
