"""The digest as readers see it: published issues, paper pages, tags and archive. Pure data."""

from __future__ import annotations

from collections import defaultdict
import re
from dataclasses import dataclass, field, fields
from urllib.parse import urljoin, urlsplit

from digestgen.pipeline.content import CachedPaper, Content, Issue, Lazy, Paper
from digestgen.pipeline.korean import arxiv_token, index_tokens
from digestgen.pipeline.markup import render, render_inline


CODE_HOSTS = ("https://github.com/", "https://gitlab.com/", "http://github.com/", "http://gitlab.com/")


def is_code(url: str) -> bool:
    """Whether a 더 읽어보기 link is a code repository (GitHub or GitLab)."""
    return url.lower().startswith(CODE_HOSTS)


@dataclass(frozen=True)
class Link:
    """A link with a readable label: 'owner/repo' for GitHub, the host for other sites."""

    url: str
    label: str


def link_label(url: str) -> str:
    """'https://github.com/a/b/tree/main' -> 'a/b'; 'https://www.x.org/p' -> 'x.org'."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host in ("github.com", "gitlab.com", "huggingface.co") and len(segments) >= 2:
        owner_repo = f"{segments[0]}/{segments[1].removesuffix('.git')}"
        return owner_repo if host == "github.com" else f"{host}/{owner_repo}"
    return host


_RELATIVE = re.compile(r'(href|src)="(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^"]*)"')


def anchor_links(html: str, page_path: str, written: dict[str, str]) -> str:
    """Resolve relative links in rendered Markdown against the record's own page, so that they
    work on every page that shows the text; `written` maps each new target to the original."""
    def fix(match: re.Match) -> str:
        try:
            target = urljoin(page_path, match[2])
        except ValueError:
            return match[0]
        written[target] = match[2]
        return f'{match[1]}="{target}"'

    return _RELATIVE.sub(fix, html)


@dataclass
class PaperView:
    """A paper with its rendered texts and where it appears. Rendered once, shown on many pages."""

    paper: Paper
    summary_html: dict[str, str]
    abstract_html: dict[str, str]
    tldr_html: dict[str, str]
    repos: list[Link]
    issues: list[Issue] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # link in the HTML -> as the editor wrote it
    id: str = field(init=False)  # the paper's (an attribute: task keys ask for it some 250,000 times at 10,000 papers)

    def __post_init__(self) -> None:
        self.id = self.paper.id

    @property
    def url(self) -> str:
        return f"papers/{self.paper.id}/"

    @property
    def has_code(self) -> bool:
        return any(is_code(r.url) for r in self.repos)

    @property
    def search_tokens(self) -> str:
        """What Pagefind indexes of the texts (stems, compound tails; see `korean.index_tokens`)."""
        p = self.paper
        texts = [*p.title.values(), *p.tldr.values(), *p.summary.values(), *p.abstract.values()]
        return " ".join(index_tokens("\n".join(texts)))

    @property
    def search_ids(self) -> str:
        """The paper's arXiv id as one search token (from `arxiv`, its id or its paper link), or ''."""
        p = self.paper
        return next(filter(None, map(arxiv_token, (p.arxiv or "", p.id, *p.links.values()))), "")

    @property
    def date(self):
        """The week it first appeared in, else its publication date."""
        if self.issues:
            return self.issues[0].week
        return self.paper.published


class CachedView(PaperView):
    """The `PaperView` of a `CachedPaper`: its rendered texts and repository links are read from
    the record cache when first used, as its paper's fields are."""

    @classmethod
    def of(cls, paper: CachedPaper) -> CachedView:
        view = cls.__new__(cls)
        view.__dict__.update(paper=paper, issues=[], id=paper.id)
        return view

    def _fill(self, name: str) -> None:
        fields_, paper = self.__dict__, self.paper.__dict__
        store, rel = paper["_store"], paper["_rel"]
        if name in ("summary_html", "abstract_html"):
            _, _, fields_["summary_html"], fields_["abstract_html"] = store.long_texts(rel)
        else:
            _, fields_["tldr_html"], fields_["written"], repos = store.light(rel)
            fields_["repos"] = list(repos)

    LAZY = ("summary_html", "abstract_html", "tldr_html", "written", "repos")

    def load(self) -> None:
        """Read every field now (see `build._workers`)."""
        for name in self.LAZY:
            getattr(self, name)
        self.paper.load()

    def __eq__(self, other):
        if isinstance(other, PaperView):
            return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(PaperView))
        return NotImplemented

    def __reduce__(self):  # as a `PaperView`, every field read
        return PaperView, tuple(getattr(self, f.name) for f in fields(PaperView) if f.init)


Lazy.fields(CachedView, CachedView.LAZY)
CachedView.__name__ = "PaperView"  # as a template's error names it (see `content.CachedPaper`)


@dataclass
class IssueView:
    issue: Issue
    intro_html: str
    papers: list[PaperView]
    written: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"issues/{self.issue.slug}/"

    @property
    def search_tokens(self) -> str:
        """What Pagefind indexes of the intro (see `korean.index_tokens`)."""
        return " ".join(index_tokens(self.issue.title + "\n" + self.issue.intro))


@dataclass
class Digest:
    """Everything the templates need, computed once."""

    issues: list[IssueView]  # newest first
    papers: dict[str, PaperView]  # every published paper, by id
    tags: dict[str, list[PaperView]]  # tag -> papers, newest first
    archive: list[tuple[int, list[tuple[int, list[IssueView]]]]]  # year -> month -> issues, newest first

    def neighbours(self, issue: IssueView, paper: PaperView) -> tuple[PaperView | None, PaperView | None]:
        """The papers before and after `paper` in `issue`."""
        index = next(at for at, shown in enumerate(issue.papers) if shown.id == paper.id)
        before = issue.papers[index - 1] if index > 0 else None
        after = issue.papers[index + 1] if index + 1 < len(issue.papers) else None
        return before, after


def paper_view(paper: Paper, base_path: str = "/") -> PaperView:
    """Render a paper's Markdown texts once."""
    written: dict[str, str] = {}
    page = f"{base_path}papers/{paper.id}/"

    def texts(values: dict[str, str], render_one) -> dict[str, str]:
        return {lang: anchor_links(render_one(text), page, written) for lang, text in values.items()}

    return PaperView(
        paper=paper,
        summary_html=texts(paper.summary, render),
        abstract_html=texts(paper.abstract, render),
        tldr_html=texts(paper.tldr, render_inline),
        repos=[Link(url, link_label(url)) for url in paper.repos],
        written=written,
    )


def _view(content: Content, pid: str, base_path: str) -> PaperView:
    """A paper's view, its rendered Markdown taken from its entry (rendered when the file was read,
    see `content._read_paper`, or kept in the record cache) when that has the same base path."""
    paper = content.papers[pid]
    entry = content.entries.get(pid)
    if type(paper) is CachedPaper and entry["base"] == base_path:
        return CachedView.of(paper)
    saved = entry.get("html") if entry else None
    if saved and saved[0] == base_path:
        _, summary, abstract, tldr, written = saved
        repos = entry.get("repos")
        return PaperView(paper, summary, abstract, tldr,
                         list(repos) if repos is not None else [Link(u, link_label(u)) for u in paper.repos],
                         written=written)
    return paper_view(paper, base_path)


def assemble(content: Content, drafts: bool = False, base_path: str = "/") -> Digest:
    """Published issues (drafts only if asked), the papers they show, tags and archive."""
    issues = [i for i in content.issues if drafts or not i.draft]
    listed_anywhere = {pid for i in content.issues for pid in i.paper_ids}
    shown = {pid for i in issues for pid in i.paper_ids}
    # A paper no issue lists still gets its page; one that only a draft lists waits for it.
    published = sorted(pid for pid, paper in content.papers.items()
                       if (pid in shown or pid not in listed_anywhere) and (drafts or not paper.draft))
    views = {pid: _view(content, pid, base_path) for pid in published}
    issue_views = []
    for issue in issues:  # oldest first, so each paper's issues come in order
        listed = [views[pid] for pid in issue.paper_ids if pid in views]
        for view in listed:
            view.issues.append(issue)
        saved = content.issue_entries.get(issue.slug, {}).get("html")
        if saved and saved[0] == base_path:  # rendered by an earlier build (see `build.load`)
            _, intro, written = saved
        else:
            written = {}
            intro = anchor_links(render(issue.intro), f"{base_path}issues/{issue.slug}/", written)
        issue_views.append(IssueView(issue, intro, listed, written))
    issue_views.reverse()

    order = sorted(views.values(), key=lambda v: (v.date is not None, v.date, v.id), reverse=True)
    tags: dict[str, list[PaperView]] = defaultdict(list)
    for view in order:
        for tag in view.paper.tags:
            tags[tag].append(view)

    months: dict[int, dict[int, list[IssueView]]] = defaultdict(lambda: defaultdict(list))
    for iv in issue_views:
        months[iv.issue.week.year][iv.issue.week.month].append(iv)
    archive = [(year, [(month, months[year][month]) for month in sorted(months[year], reverse=True)])
               for year in sorted(months, reverse=True)]
    return Digest(issue_views, dict(sorted(views.items())), dict(sorted(tags.items())), archive)
