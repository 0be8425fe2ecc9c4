"""`digestgen import`, step two: a post's cooked HTML as Markdown.

`markdownify`, taught Discourse's own pieces: emoji images become :shortcodes:, heading
anchors vanish, link cards become their URL, lightboxes their image, math stays TeX.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from markdownify import MarkdownConverter


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


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
    doc = soup("")
    holder = doc.new_tag("div")
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

