"""Render the digest into pages: a pure function from models to {relative path: bytes}."""

from __future__ import annotations

import contextlib
import hashlib
import re
import traceback
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import jinja2
import jinja2.bccache
from markupsafe import Markup

from digestgen import __version__
from digestgen.config import Settings
from digestgen.pipeline.digest import Digest, IssueView, PaperView
from digestgen.errors import BuildError
from digestgen.pipeline.korean import MIN_STEM, PARTICLES
from digestgen.pipeline.manifest import Task
from digestgen.pipeline import metadata as publish
from digestgen.pipeline import records
from digestgen.pipeline.emojis import emojize
from digestgen.pipeline.markup import SUMMARY_HEADING_LEVEL, shift_headings

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


def _emoji_text(value):
    """Plain text printed by a template (a title, a label) with emoji shortcodes as emoji;
    rendered Markdown (Markup) has them already, and the Discourse export switches this off."""
    if isinstance(value, str) and not isinstance(value, Markup) and ":" in value:
        return emojize(value)
    return value


class _KeptTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates, where a failure to keep one only costs compiling it
    again (another version of digestgen may be clearing the folder: see `cache.compiled_templates`)."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def environment(root: Path | None, settings: Settings, compiled: Path | None = None) -> jinja2.Environment:
    """Jinja with autoescape and StrictUndefined; `ROOT/templates/` overrides the built-in theme.
    With `compiled`, a folder, the templates' compiled code is kept there between builds (Jinja
    checks each against its source): compiling them took a one-paper edit a third of a second."""
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
        finalize=_emoji_text,
        bytecode_cache=_KeptTemplates(str(compiled)) if compiled is not None else None,
    )
    env.globals.update(site=settings, url=settings.url, tag_label=settings.tag_label, version=__version__, langs=ordered_langs,
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
        self.root: Path | None = None  # the repository, for local figures
        self._slugs: dict[str, int] | None = None
        self._key_memo: dict[str, tuple] = {}  # paper id -> its part of task keys (one build's tokens)
        self._rows: dict[str, bytes] | None = None  # paper id -> a hash of what lists of papers show of it
        self._tagged_memo: dict[str, list[PaperView]] = {}  # tag -> its feed's papers (`_tagged`)
        self._feed_views: tuple[list[IssueView], list[PaperView]] | None = None
        self._tasks: tuple[list[Task], list[Task]] | None = None  # (`tasks`, `document_tasks`), made once
        env.globals["asset"] = lambda path: settings.url(assets[path])
        if settings.absolute:  # link only the feeds this site has (none before the first issue)
            issues, papers = self.feed_views()
            env.globals["feeds"] = [f for f in FEEDS if (papers if f[0].startswith("papers/") else issues)]

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

    def figure_url(self, figure) -> str:
        """An image's absolute URL: a remote one as written, a local one at its copy in the site."""
        return self.settings.absolute_url(figure.site_path) if figure.site_path else figure.src

    def home(self, template: str, name: str, search) -> dict[str, bytes]:
        latest = self.digest.issues[0] if self.digest.issues else None
        recent = self.digest.issues[1 : 1 + self.settings.recent_issues]
        return self.page("index.html", template, og={"title": self.settings.title},
                         ld=publish.site_ld(self.settings), issue=latest, recent=recent, digest=self.digest)

    def issue(self, template: str, slug: str, search) -> dict[str, bytes]:
        view = self.digest.issues[self._issue_index(slug)]
        og = {"title": view.issue.heading, "description": plain_text(view.intro_html) or self.settings.description,
              "type": "article"}
        bib = {f"{view.url}{view.issue.slug}.bib": publish.issue_bibtex(view).encode()} if view.papers else {}
        return self.page(f"{view.url}index.html", template, og=og, ld=publish.issue_ld(view, self.settings),
                         issue=view, digest=self.digest, bib=bool(bib)) | bib

    def paper(self, template: str, pid: str, search) -> dict[str, bytes]:
        view = self.digest.papers[pid]
        places = []
        for issue in view.issues:
            iv = self.digest.issues[self._issue_index(issue.slug)]
            places.append((iv, *self.digest.neighbours(iv, view)))
        texts = view.tldr_html or view.summary_html
        og = {"title": publish.plain_title(view), "type": "article",
              "description": plain_text(texts[ordered_langs(texts)[0]]) if texts else publish.plain_title(view),
              "image": self.figure_url(view.paper.figures[0]) if view.paper.figures else None}
        bib = publish.bibtex(view)
        return self.page(f"{view.url}index.html", template, og=og, ld=publish.paper_ld(view, self.settings),
                         paper=view, places=places, bibtex=bib) | {f"{view.url}{view.id}.bib": bib.encode()}

    def tags(self, template: str, name: str, search) -> dict[str, bytes]:
        return self.page("tags/index.html", template, og={"title": f"태그 · {self.settings.title}"},
                         tags=self.digest.tags)

    def tag(self, template: str, tag: str, search) -> dict[str, bytes]:
        papers = self.digest.tags[tag]
        return self.page(f"tags/{tag}/index.html", template, og={"title": f"#{tag} · {self.settings.title}"},
                         tag=tag, papers=papers, tag_feed=any(p.issues for p in papers))

    def archive(self, template: str, name: str, search) -> dict[str, bytes]:
        return self.page("archive/index.html", template, og={"title": f"아카이브 · {self.settings.title}"},
                         archive=self.digest.archive)

    def papers(self, template: str, name: str, search) -> dict[str, bytes]:
        """/papers/: every paper, newest first."""
        newest = sorted(self.digest.papers.values(), key=lambda v: (v.date is not None, v.date, v.id), reverse=True)
        return self.page("papers/index.html", template, og={"title": f"논문 · {self.settings.title}"}, papers=newest)

    def search(self, template: str, name: str, search) -> dict[str, bytes]:
        """The search page; `search` is the bundle's `search.Segments` (None without a search index)."""
        return self.page("search/index.html", template, og={"title": f"검색 · {self.settings.title}"},
                         particles=PARTICLES, min_stem=MIN_STEM, segments=search,
                         empty=not (self.digest.issues or self.digest.papers))

    def not_found(self, template: str, name: str, search) -> dict[str, bytes]:
        return self.page("404.html", template, og={"title": self.settings.title})

    def issue_document(self, template: str, slug: str, search) -> dict[str, bytes]:
        view = self.digest.issues[self._issue_index(slug)]
        return {f"{view.url}index.html": records.encode(records.issue_record(view))}

    def paper_document(self, template: str, pid: str, search) -> dict[str, bytes]:
        view = self.digest.papers[pid]
        return {f"{view.url}index.html": records.encode(records.paper_record(view, self.settings))}

    def feed_views(self) -> tuple[list[IssueView], list[PaperView]]:
        """The issues and papers the feeds carry (see `metadata.feed_views`)."""
        if self._feed_views is None:
            self._feed_views = publish.feed_views(self.digest)
        return self._feed_views

    def feed_tasks(self) -> list[Task]:
        """The Atom, RSS and JSON feeds (of issues, of papers, of each tag) as tasks: none without an
        absolute base URL, nor for a list with nothing in it yet."""
        if not self.settings.absolute:
            return []
        issues, papers = self.feed_views()
        return ([Task("feed", "issues")] if issues else []) + ([Task("feed", "papers")] if papers else []) + [
            Task("tag-feed", tag) for tag in self.digest.tags if self._tagged(tag)]

    def _tagged(self, tag: str) -> list[PaperView]:
        """The papers of a tag's feed (asked for its task, its key and its rendering)."""
        found = self._tagged_memo.get(tag)
        if found is None:
            found = self._tagged_memo[tag] = [p for p in self.digest.tags[tag] if p.issues][: publish.FEED_TAG]
        return found

    def feed(self, template: str, name: str, search) -> dict[str, bytes]:
        issues, papers = self.feed_views()
        if name == "issues":
            return self._feed("", f"{self.settings.title}: 새 호", "", [self._issue_entry(i) for i in issues])
        return self._feed("papers/", f"{self.settings.title}: 새 논문", "", [self._paper_entry(p) for p in papers])

    def tag_feed(self, template: str, tag: str, search) -> dict[str, bytes]:
        return self._feed(f"tags/{tag}/", f"{self.settings.title}: #{self.settings.tag_label(tag)}", f"tags/{tag}/",
                          [self._paper_entry(p) for p in self._tagged(tag)])

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
                  # JSON Feed 1.1: `authors` holds one or more authors, or is left out
                  **({"authors": [{"name": a} for a in e["authors"]]} if e["authors"] else {}),
                  "tags": [self.settings.tag_label(t) for t in e["tags"]]} for e in entries]
        files[folder + "feed.json"] = publish.json_feed(self.settings, title, home or folder, folder + "feed.json", items)
        return files

    def tasks(self) -> list[Task]:
        """Every page but the search page (`SEARCH_PAGE`, rendered once the index is built), as tasks
        that worker processes can render. (Made once: a build asks for them at several steps, and
        at 20,000 papers each list took an edit 0.05 s. Not to be changed by callers.)"""
        return self._task_lists()[0]

    def document_tasks(self) -> list[Task]:
        """Every search document as a task (made once, like `tasks`)."""
        return self._task_lists()[1]

    def _task_lists(self) -> tuple[list[Task], list[Task]]:
        if self._tasks is None:
            tasks = [Task("home"), Task("tags"), Task("archive"), Task("papers"), Task("404")]
            tasks += [Task("issue", iv.issue.slug) for iv in self.digest.issues]
            tasks += [Task("paper", pid) for pid in self.digest.papers]
            tasks += [Task("tag", tag) for tag in self.digest.tags]
            documents = ([Task("doc-issue", iv.issue.slug) for iv in self.digest.issues] +
                         [Task("doc-paper", pid) for pid in self.digest.papers])
            self._tasks = tasks + self.feed_tasks(), documents
        return self._tasks

    def render_task(self, task: Task, search=None) -> dict[str, bytes]:
        """The files of one task; `search` (the search bundle's `Segments`) is for the search page."""
        kind = KINDS[task.kind]
        return kind.render(self, kind.template, task.name, search)

    def task_key(self, task: Task, token) -> tuple | None:
        """What the files of `task` depend on, besides the theme and settings: the identities
        (`token(source)`, e.g. size and mtime) of the records and issues the built-in templates
        show on that page; None for pages that are always rendered. An incremental build
        re-renders a task only when its key changed. A paper's identity stands beside its id, and
        an issue's beside its slug or its papers' ids: `depends` finds by those names the tasks
        an edit of their texts may change.
        """
        key = KINDS[task.kind].key
        return None if key is None else (task.kind, *key(self, task.name, token))

    def paper_parts(self) -> dict[str, tuple]:
        """{paper id: its part of the task keys computed so far}: the one tuple every key that
        shows the paper holds, and which names no other paper or issue (see `depends`)."""
        return self._key_memo

    def _paper_key(self, view: PaperView, token) -> tuple:
        found = self._key_memo.get(view.id)
        if found is None:
            found = self._key_memo[view.id] = (view.id, token(view.paper.source),
                                               tuple(token(i.source) for i in view.issues),
                                               tuple(f.site_path for f in view.paper.figures if f.site_path))
        return found

    def _issue_key(self, iv: IssueView, token) -> tuple:
        return iv.issue.slug, token(iv.issue.source), tuple(self._paper_key(p, token) for p in iv.papers)

    def _key_home(self, name: str, token) -> tuple:
        return (tuple(self._issue_key(iv, token) for iv in self.digest.issues[: 1 + self.settings.recent_issues]),)

    def _key_issue(self, slug: str, token) -> tuple:
        index, issues = self._issue_index(slug), self.digest.issues
        around = tuple((i.issue.slug, token(i.issue.source)) for i in issues[max(0, index - 1):index + 2])
        return self._issue_key(issues[index], token), around

    def _key_paper(self, pid: str, token) -> tuple:
        """The paper, and in each issue that lists it, that issue and the paper's neighbours there."""
        view = self.digest.papers[pid]
        return self._paper_key(view, token), tuple(self._place(view, shown.slug, token) for shown in view.issues)

    def _place(self, view: PaperView, slug: str, token) -> tuple:
        """(the issue's identity, the keys of the papers before and after `view` in it)."""
        iv = self.digest.issues[self._issue_index(slug)]
        around = self.digest.neighbours(iv, view)  # as the paper's page shows them
        return token(iv.issue.source), *(self._paper_key(n, token) if n else None for n in around)

    def _row_keys(self) -> dict[str, bytes]:
        """{paper id: what a list of papers shows of it (`paper_row`): its title, date and issues'
        weeks}, for every paper at once. An edit of a paper's texts leaves /papers/ and its tags'
        pages as they are. (Hashes: the keys of the lists of all papers and of each tag are most
        of a manifest.)"""
        if self._rows is None:
            self._rows = {pid: _row_hash(view) for pid, view in self.digest.papers.items()}
        return self._rows

    def _key_tag(self, tag: str, token) -> tuple:
        rows = self._row_keys()
        return tag, tuple([rows[view.id] for view in self.digest.tags[tag]])

    def _key_archive(self, name: str, token) -> tuple:
        """What the archive shows of each issue: its week and title (its file), and how many papers."""
        return tuple((iv.issue.slug, token(iv.issue.source), len(iv.papers)) for iv in self.digest.issues),

    def _key_papers(self, name: str, token) -> tuple:
        return tuple(self._row_keys().values()),

    def _key_paper_document(self, pid: str, token) -> tuple:
        return self._paper_key(self.digest.papers[pid], token), ()

    def _key_issue_document(self, slug: str, token) -> tuple:
        return slug, token(self.digest.issues[self._issue_index(slug)].issue.source)

    def _key_feed(self, name: str, token) -> tuple:
        """The entries of a feed: each issue or paper as a page shows it."""
        issues, papers = self.feed_views()
        if name == "issues":
            return tuple(self._issue_key(iv, token) for iv in issues),
        return tuple(self._paper_key(p, token) for p in papers),

    def _key_tag_feed(self, tag: str, token) -> tuple:
        return tag, tuple(self._paper_key(p, token) for p in self._tagged(tag))

    def _key_constant(self, name: str, token) -> tuple:
        return ()

    def _issue_index(self, slug: str) -> int:
        if self._slugs is None:
            self._slugs = {iv.issue.slug: index for index, iv in enumerate(self.digest.issues)}
        return self._slugs[slug]

    def extras(self, paths) -> dict[str, bytes]:
        """Figures, sitemap.xml and robots.txt for a site of the page `paths`."""
        files = self.figure_files()
        listed = [p.removesuffix("index.html") for p in [*paths, *files]
                  if p.endswith("index.html") and not p.startswith("search/")]
        if self.settings.absolute:
            files["sitemap.xml"] = publish.sitemap(self.settings, listed)
        files["robots.txt"] = publish.robots(self.settings)
        return files

    def figure_files(self) -> dict[str, bytes]:
        """Local figures of the published papers, copied under their content-hashed names."""
        files: dict[str, bytes] = {}
        for view in self.digest.papers.values():
            for figure in view.paper.figures:
                if figure.site_path and figure.site_path not in files and self.root is not None:
                    files[figure.site_path] = (self.root / figure.src).read_bytes()
        return files

@dataclass(frozen=True)
class PageKind:
    """A kind of page: its template, the method that renders it, and the method that gives its
    dependency key (None: it lists everything, or its index, and is always rendered)."""

    template: str
    render: Callable[[Renderer, str, str, object], dict[str, bytes]]
    key: Callable[[Renderer, str, object], tuple] | None
    document: bool = False  # a search document for Pagefind, not a page of the site


def _row_hash(view: PaperView) -> bytes:
    """A hash of what a list of papers shows of one (see `Renderer._row_keys`)."""
    shown = "\x1f".join([view.id, *(f"{lang}\x1e{title}" for lang, title in view.paper.title.items()),
                         str(view.date), *(str(issue.week) for issue in view.issues)])
    return hashlib.blake2b(shown.encode(), digest_size=12).digest()


# Every kind of page. To add one: a template, a Renderer method, a key method (or None), a line
# here, and its tasks in `Renderer.tasks`.
KINDS: dict[str, PageKind] = {
    "home": PageKind("home.html", Renderer.home, Renderer._key_home),
    "issue": PageKind("issue.html", Renderer.issue, Renderer._key_issue),
    "paper": PageKind("paper.html", Renderer.paper, Renderer._key_paper),
    "tags": PageKind("tags.html", Renderer.tags, None),
    "tag": PageKind("tag.html", Renderer.tag, Renderer._key_tag),
    "archive": PageKind("archive.html", Renderer.archive, Renderer._key_archive),
    "papers": PageKind("papers.html", Renderer.papers, Renderer._key_papers),
    "404": PageKind("404.html", Renderer.not_found, Renderer._key_constant),
    "feed": PageKind("", Renderer.feed, Renderer._key_feed),
    "tag-feed": PageKind("", Renderer.tag_feed, Renderer._key_tag_feed),
    "search": PageKind("search.html", Renderer.search, None),
    "doc-issue": PageKind("", Renderer.issue_document, Renderer._key_issue_document, document=True),
    "doc-paper": PageKind("", Renderer.paper_document, Renderer._key_paper_document, document=True),
}
SEARCH_PAGE = Task("search")


def _template_place(exc: Exception, fallback: str) -> str:
    """'name.html:LINE' of the innermost template frame of a runtime template error."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml", ".txt", ".j2")):
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return fallback


def renderer(root: Path | None, settings: Settings, digest: Digest, compiled: Path | None = None) -> Renderer:
    """A Renderer with the theme (and the repository's overrides) loaded (`compiled`: see `environment`)."""
    site = Renderer(environment(root, settings, compiled), settings, digest, asset_versions(static_files()))
    site.root = root
    return site
