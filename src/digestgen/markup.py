"""Markdown to HTML: CommonMark with raw HTML off, safe links, and demoted headings."""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

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
