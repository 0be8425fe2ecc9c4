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
from digestgen import publish
from digestgen.markup import SUMMARY_HEADING_LEVEL, shift_headings

THEME = resources.files("digestgen") / "theme"
# Site-wide feeds: (path, MIME type, title) — linked from every page when the base URL is absolute.
FEEDS = [
    ("feed.xml", "application/atom+xml", "새 호 (Atom)"),
    ("rss.xml", "application/rss+xml", "새 호 (RSS)"),
    ("feed.json", "application/feed+json", "새 호 (JSON Feed)"),
    ("papers/feed.xml", "application/atom+xml", "새 논문 (Atom)"),
    ("papers/rss.xml", "application/rss+xml", "새 논문 (RSS)"),
    ("papers/feed.json", "application/feed+json", "새 논문 (JSON Feed)"),
]
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|div|blockquote|pre|tr|td|th)>|<br\s*/?>")
DEFAULT_IMAGE = "assets/og-default.png"


def plain_text(html: str, limit: int = 160) -> str:
    """Rendered HTML as one line of text, cut at `limit` characters."""
    import html as html_lib

    text = " ".join(html_lib.unescape(_TAG.sub("", _BLOCK_END.sub(" ", html))).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
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
        autoescape=jinja2.select_autoescape(("html", "xml"), default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(site=settings, url=settings.url, version=__version__, langs=ordered_langs,
                       feeds=FEEDS if settings.absolute else [], rfc3339=publish.rfc3339, rfc822=publish.rfc822)
    env.filters.update(lang_of=lang_of, html_block=html_block, jsonld=publish.json_ld)
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
        self.segments = None  # the search bundle's delta (search.Segments), once it is indexed
        self._slugs: dict[str, int] | None = None
        self._key_memo: dict[str, tuple] = {}  # paper id -> its part of task keys (one build's tokens)
        env.globals["asset"] = lambda path: settings.url(assets[path])

    def page(self, path: str, template: str, og: dict | None = None, ld: dict | None = None,
             **context) -> dict[str, bytes]:
        """Render one template to `path` ('x/index.html'), with its own URL in `page_url`.

        `og` holds the page's OpenGraph/Twitter card fields (title, description, type, image);
        `ld` its JSON-LD object. Both need an absolute base URL and are dropped without one.
        """
        page_url = path.removesuffix("index.html")
        absolute = self.settings.absolute
        canonical = self.settings.absolute_url(page_url) if absolute else None
        card = None
        if og is not None:
            card = {"type": "website", "description": self.settings.description, **og}
            image = card.get("image") or self.settings.absolute_url(DEFAULT_IMAGE)
            card["image"] = image if absolute else None
        try:
            html = self.env.get_template(template).render(page_url=page_url, canonical=canonical, og=card,
                                                          ld=ld if absolute else None, **context)
        except jinja2.TemplateSyntaxError as exc:
            raise BuildError(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise BuildError(f"{_template_place(exc, template)}: template error: {exc}") from None
        return {path: html.encode("utf-8")}

    def home(self) -> dict[str, bytes]:
        latest = self.digest.issues[0] if self.digest.issues else None
        recent = self.digest.issues[1 : 1 + self.settings.recent_issues]
        return self.page("index.html", "home.html", og={"title": self.settings.title},
                         ld=publish.site_ld(self.settings), issue=latest, recent=recent, digest=self.digest)

    def issue(self, view: IssueView) -> dict[str, bytes]:
        title = view.issue.heading
        og = {"title": title, "description": plain_text(view.intro_html) or self.settings.description,
              "type": "article"}
        bib = {f"{view.url}{view.issue.slug}.bib": publish.issue_bibtex(view).encode()} if view.papers else {}
        return self.page(f"{view.url}index.html", "issue.html", og=og, ld=publish.issue_ld(view, self.settings),
                         issue=view, digest=self.digest, bib=bool(bib)) | bib

    def paper(self, view: PaperView) -> dict[str, bytes]:
        places = []
        for issue in view.issues:
            iv = self.digest.issues[self._issue_index(issue.slug)]
            places.append((iv, *self.digest.neighbours(iv, view)))
        texts = view.tldr_html or view.summary_html
        og = {"title": publish.plain_title(view), "type": "article",
              "description": plain_text(texts[ordered_langs(texts)[0]]) if texts else publish.plain_title(view),
              "image": view.paper.figures[0].src if view.paper.figures else None}
        bib = publish.bibtex(view)
        return self.page(f"{view.url}index.html", "paper.html", og=og, ld=publish.paper_ld(view, self.settings),
                         paper=view, places=places, bibtex=bib) | {f"{view.url}{view.id}.bib": bib.encode()}

    def feeds(self) -> dict[str, bytes]:
        """Atom, RSS and JSON feeds of issues, papers and each tag; sitemap.xml needs these URLs too."""
        if not self.settings.absolute:
            return {}
        issues, papers = publish.feed_views(self.digest)
        files: dict[str, bytes] = {}
        if issues:
            files |= self._feed("", f"{self.settings.title}: 새 호", "", [self._issue_entry(i) for i in issues])
        if papers:
            files |= self._feed("papers/", f"{self.settings.title}: 새 논문", "",
                                [self._paper_entry(p) for p in papers])
        for tag, views in self.digest.tags.items():
            tagged = [p for p in views if p.issues][: publish.FEED_TAG]
            if tagged:
                files |= self._feed(f"tags/{tag}/", f"{self.settings.title}: #{tag}", f"tags/{tag}/",
                                    [self._paper_entry(p) for p in tagged])
        return files

    def _issue_entry(self, view: IssueView) -> dict:
        url = self.settings.absolute_url(view.url)
        html = self.env.get_template("feed-issue.html").render(issue=view)
        return {"title": view.issue.heading, "url": url, "date": view.issue.week,
                "content": publish.absolute_links(html, url), "summary": plain_text(view.intro_html, 300),
                "authors": list(self.settings.editors), "tags": []}

    def _paper_entry(self, view: PaperView) -> dict:
        url = self.settings.absolute_url(view.url)
        html = self.env.get_template("feed-paper.html").render(paper=view)
        texts = view.tldr_html or view.summary_html
        return {"title": publish.plain_title(view), "url": url, "date": view.issues[0].week,
                "content": publish.absolute_links(html, url),
                "summary": plain_text(texts[ordered_langs(texts)[0]], 300) if texts else "",
                "authors": list(view.paper.authors), "tags": list(view.paper.tags)}

    def _feed(self, folder: str, title: str, home: str, entries: list[dict]) -> dict[str, bytes]:
        context = dict(title=title, entries=entries, home_url=self.settings.absolute_url(home or folder),
                       updated=max(e["date"] for e in entries))
        files = {}
        for name, template in (("feed.xml", "feed-atom.xml"), ("rss.xml", "feed-rss.xml")):
            self_url = self.settings.absolute_url(folder + name)
            files[folder + name] = self.env.get_template(template).render(self_url=self_url, **context).encode()
        items = [{"id": e["url"], "url": e["url"], "title": e["title"], "content_html": e["content"],
                  "summary": e["summary"], "date_published": publish.rfc3339(e["date"]),
                  "authors": [{"name": a} for a in e["authors"]], "tags": e["tags"]} for e in entries]
        files[folder + "feed.json"] = publish.json_feed(self.settings, title, home or folder, folder + "feed.json", items)
        return files

    def search_tasks(self) -> list[tuple]:
        """Every search document as a task (see `render_task`)."""
        return ([("doc-issue", iv.issue.slug) for iv in self.digest.issues] +
                [("doc-paper", pid) for pid in self.digest.papers])

    def search_documents(self) -> dict[str, bytes]:
        """Lean documents for Pagefind, at the same paths as the pages they stand for (not published)."""
        docs: dict[str, bytes] = {}
        for task in self.search_tasks():
            docs |= self.render_task(task)
        return docs

    def tasks(self) -> list[tuple]:
        """Every page as a small task, so that pages can be rendered in worker processes."""
        tasks: list[tuple] = [("home",), ("tags",), ("archive",), ("search",), ("404",)]
        tasks += [("issue", iv.issue.slug) for iv in self.digest.issues]
        tasks += [("paper", pid) for pid in self.digest.papers]
        tasks += [("tag", tag) for tag in self.digest.tags]
        return tasks

    def task_key(self, task: tuple, token) -> tuple | None:
        """What the files of `task` depend on, besides the theme and settings: the identities
        (`token(source)`, e.g. size and mtime) of the records and issues the built-in templates
        show on that page. An incremental build re-renders a task only when its key changed;
        `tests/test_incremental.py` checks that the result equals a cold build.
        """
        kind = task[0]
        memo = self._key_memo

        def paper(view) -> tuple:
            found = memo.get(view.id)
            if found is None:
                found = memo[view.id] = (view.id, token(view.paper.source), tuple(token(i.source) for i in view.issues))
            return found

        def issue(iv) -> tuple:
            return iv.issue.slug, token(iv.issue.source), tuple(paper(p) for p in iv.papers)

        if kind in ("paper", "doc-paper"):
            view = self.digest.papers[task[1]]
            places = []
            if kind == "paper":
                for shown in view.issues:
                    iv = self.digest.issues[self._issue_index(shown.slug)]
                    places.append((token(iv.issue.source), *(paper(n) if n else None
                                                            for n in self.digest.neighbours(iv, view))))
            return kind, paper(view), tuple(places)
        if kind == "issue":
            index = self._issue_index(task[1])
            issues = self.digest.issues
            around = tuple((i.issue.slug, token(i.issue.source)) for i in issues[max(0, index - 1):index + 2])
            return kind, issue(issues[index]), around
        if kind == "doc-issue":
            return kind, task[1], token(self.digest.issues[self._issue_index(task[1])].issue.source)
        if kind == "tag":
            return kind, task[1], tuple(paper(p) for p in self.digest.tags[task[1]])
        if kind == "home":
            shown = self.digest.issues[: 1 + self.settings.recent_issues]
            return kind, tuple(issue(iv) for iv in shown)
        if kind == "404":
            return (kind,)
        return None  # the tag index and the archive list everything, the search page its index: always rendered

    def _issue_index(self, slug: str) -> int:
        if self._slugs is None:
            self._slugs = {iv.issue.slug: index for index, iv in enumerate(self.digest.issues)}
        return self._slugs[slug]

    def render_task(self, task: tuple) -> dict[str, bytes]:
        """The files of one task from `tasks()`."""
        kind = task[0]
        if kind == "doc-issue":
            view = self.digest.issues[self._issue_index(task[1])]
            return self.page(f"{view.url}index.html", "search-issue.html", issue=view,
                             tokens=view.search_tokens, sentinel=SENTINEL)
        if kind == "doc-paper":
            view = self.digest.papers[task[1]]
            return self.page(f"{view.url}index.html", "search-paper.html", paper=view,
                             tokens=view.search_tokens, sentinel=SENTINEL)
        if kind == "home":
            return self.home()
        if kind == "issue":
            return self.issue(self.digest.issues[self._issue_index(task[1])])
        if kind == "paper":
            return self.paper(self.digest.papers[task[1]])
        if kind == "tags":
            return self.page("tags/index.html", "tags.html", og={"title": f"태그 · {self.settings.title}"},
                             tags=self.digest.tags)
        if kind == "tag":
            tag, papers = task[1], self.digest.tags[task[1]]
            return self.page(f"tags/{tag}/index.html", "tag.html", og={"title": f"#{tag} · {self.settings.title}"},
                             tag=tag, papers=papers, tag_feed=any(p.issues for p in papers))
        if kind == "archive":
            return self.page("archive/index.html", "archive.html", og={"title": f"아카이브 · {self.settings.title}"},
                             archive=self.digest.archive)
        if kind == "search":
            return self.page("search/index.html", "search.html", og={"title": f"검색 · {self.settings.title}"},
                             particles=PARTICLES, min_stem=MIN_STEM, sentinel=SENTINEL, segments=self.segments)
        return self.page("404.html", "404.html", og={"title": self.settings.title})

    def finish(self, pages: dict[str, bytes]) -> dict[str, bytes]:
        """Add what depends on the whole page set: feeds, sitemap.xml, robots.txt."""
        return pages | self.extras(pages)

    def extras(self, paths) -> dict[str, bytes]:
        """Feeds, sitemap.xml and robots.txt for a site of the page `paths`."""
        files = self.feeds()
        listed = [p.removesuffix("index.html") for p in [*paths, *files]
                  if p.endswith("index.html") and not p.startswith("search/")]
        if self.settings.absolute:
            files["sitemap.xml"] = publish.sitemap(self.settings, listed)
        files["robots.txt"] = publish.robots(self.settings)
        return files

    def all(self) -> dict[str, bytes]:
        """Every page of the site, in one process."""
        pages: dict[str, bytes] = {}
        for task in self.tasks():
            pages |= self.render_task(task)
        return self.finish(pages)


def _template_place(exc: Exception, fallback: str) -> str:
    """'name.html:LINE' of the innermost template frame of a runtime template error."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml", ".txt", ".j2")):
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return fallback


def renderer(root: Path | None, settings: Settings, digest: Digest) -> Renderer:
    """A Renderer with the theme (and the repository's overrides) loaded."""
    return Renderer(environment(root, settings), settings, digest, asset_versions(static_files()))
