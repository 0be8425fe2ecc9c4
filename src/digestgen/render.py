"""Render the digest into pages: a pure function from models to {relative path: bytes}."""

from __future__ import annotations

import hashlib
import re
import traceback
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from digestgen import __version__
from digestgen.config import Settings
from digestgen.digest import Digest, IssueView, PaperView
from digestgen.errors import BuildError
from digestgen.korean import MIN_STEM, PARTICLES, SENTINEL
from digestgen.markup import SUMMARY_HEADING_LEVEL, shift_headings

THEME = resources.files("digestgen") / "theme"
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def lang_of(text: str) -> str:
    """'ko' for text with Hangul in it, else 'en': for free-form names and labels."""
    return "ko" if _HANGUL.search(text or "") else "en"


def ordered_langs(texts: dict[str, str], first: str = "ko") -> list[str]:
    """Languages of a text map, the site language first, then English, then the rest."""
    return sorted(texts, key=lambda lang: (lang != first, lang != "en", lang))


def html_block(html: str, section_level: int) -> Markup:
    """Rendered Markdown, its headings moved to sit under a section heading of `section_level`."""
    return Markup(shift_headings(html, section_level + 1 - SUMMARY_HEADING_LEVEL))


def environment(root: Path | None, settings: Settings) -> jinja2.Environment:
    """Jinja with autoescape and StrictUndefined; `ROOT/templates/` overrides the built-in theme."""
    loaders: list[jinja2.BaseLoader] = []
    if root is not None and (root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(root / "templates")))
    loaders.append(jinja2.FileSystemLoader(str(THEME / "templates")))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(site=settings, url=settings.url, version=__version__, langs=ordered_langs)
    env.filters.update(lang_of=lang_of, html_block=html_block)
    return env


def static_files() -> dict[str, bytes]:
    """The theme's static assets, under 'assets/'."""
    return {f"assets/{f.name}": f.read_bytes() for f in sorted((THEME / "static").iterdir(), key=lambda f: f.name)
            if f.is_file()}


def asset_versions(files: dict[str, bytes]) -> dict[str, str]:
    """'assets/style.css' -> 'assets/style.css?v=<hash>' so that browsers refetch changed assets."""
    return {path: f"{path}?v={hashlib.sha256(data).hexdigest()[:10]}" for path, data in files.items()}


class Renderer:
    """Renders each kind of page; every method returns {path: bytes}."""

    def __init__(self, env: jinja2.Environment, settings: Settings, digest: Digest, assets: dict[str, str]):
        self.env, self.settings, self.digest = env, settings, digest
        env.globals["asset"] = lambda path: settings.url(assets[path])

    def page(self, path: str, template: str, **context) -> dict[str, bytes]:
        """Render one template to `path` ('x/index.html'), with its own URL in `page_url`."""
        page_url = path.removesuffix("index.html")
        canonical = self.settings.absolute_url(page_url) if self.settings.absolute else None
        try:
            html = self.env.get_template(template).render(page_url=page_url, canonical=canonical, **context)
        except jinja2.TemplateSyntaxError as exc:
            raise BuildError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise BuildError(f"{_template_place(exc, template)}: template error: {exc}") from None
        return {path: html.encode("utf-8")}

    def home(self) -> dict[str, bytes]:
        latest = self.digest.issues[0] if self.digest.issues else None
        recent = self.digest.issues[1 : 1 + self.settings.recent_issues]
        return self.page("index.html", "home.html", issue=latest, recent=recent, digest=self.digest)

    def issue(self, view: IssueView) -> dict[str, bytes]:
        return self.page(f"{view.url}index.html", "issue.html", issue=view, digest=self.digest)

    def paper(self, view: PaperView) -> dict[str, bytes]:
        places = []
        for issue in view.issues:
            iv = next(i for i in self.digest.issues if i.issue is issue)
            places.append((iv, *self.digest.neighbours(iv, view)))
        return self.page(f"{view.url}index.html", "paper.html", paper=view, places=places)

    def search_documents(self) -> dict[str, bytes]:
        """Lean documents for Pagefind, at the same paths as the pages they stand for (not published)."""
        docs: dict[str, bytes] = {}
        for view in self.digest.issues:
            docs |= self.page(f"{view.url}index.html", "search-issue.html", issue=view,
                              tokens=view.search_tokens, sentinel=SENTINEL)
        for view in self.digest.papers.values():
            docs |= self.page(f"{view.url}index.html", "search-paper.html", paper=view,
                              tokens=view.search_tokens, sentinel=SENTINEL)
        return docs

    def all(self) -> dict[str, bytes]:
        """Every page of the site."""
        pages: dict[str, bytes] = {}
        pages |= self.home()
        for view in self.digest.issues:
            pages |= self.issue(view)
        for view in self.digest.papers.values():
            pages |= self.paper(view)
        pages |= self.page("tags/index.html", "tags.html", tags=self.digest.tags)
        for tag, papers in self.digest.tags.items():
            pages |= self.page(f"tags/{tag}/index.html", "tag.html", tag=tag, papers=papers)
        pages |= self.page("archive/index.html", "archive.html", archive=self.digest.archive)
        pages |= self.page("search/index.html", "search.html", particles=PARTICLES, min_stem=MIN_STEM,
                           sentinel=SENTINEL)
        pages |= self.page("404.html", "404.html")
        return pages


def _template_place(exc: Exception, fallback: str) -> str:
    """'name.html:LINE' of the innermost template frame of a runtime template error."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml", ".txt", ".j2")):
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return fallback


def renderer(root: Path | None, settings: Settings, digest: Digest) -> Renderer:
    """A Renderer with the theme (and the repository's overrides) loaded."""
    return Renderer(environment(root, settings), settings, digest, asset_versions(static_files()))


def render_site(root: Path | None, settings: Settings, digest: Digest) -> dict[str, bytes]:
    """All pages and assets of the site as {relative path: bytes}."""
    return static_files() | renderer(root, settings, digest).all()
