"""The pipeline: settings -> content -> digest -> pages -> output -> search."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from digestgen import cache, config, content, links, output
from digestgen import search as search_index
from digestgen.config import Settings
from digestgen.digest import Digest, assemble
from digestgen.errors import ContentError, SourceError
from digestgen.render import renderer, static_files


@dataclass
class Report:
    """What a build did, for the command line to print."""

    pages: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[SourceError] = field(default_factory=list)
    up_to_date: bool = False
    search_reused: bool = False  # the previous build's search base was kept
    search_delta: int = 0  # documents indexed into the delta bundle


def load(root: Path, settings: Settings, strict: bool = False, drafts: bool = False,
         use_cache: bool = False) -> tuple[Digest, list[SourceError]]:
    """Read and validate everything under `root` into a Digest (raises ContentError).

    With `use_cache`, unchanged records come from `.digestgen/records.pickle` with their rendered
    Markdown, and the cache is updated afterwards.
    """
    records = cache.RecordCache(root, (settings.extra_paper_fields, settings.base_path)) if use_cache else None
    loaded = content.load(root, settings, strict=strict, cache=records)
    digest = assemble(loaded, drafts=drafts, base_path=settings.base_path)
    if records is not None:
        records.save()
    return digest, loaded.warnings


def render(root: Path, settings: Settings, digest: Digest) -> dict[str, bytes]:
    """Every file of the site, in memory."""
    return renderer(root, settings, digest).all() | static_files()


def build(root: Path, out: Path, settings: Settings, drafts: bool = False, strict: bool = False,
          search: bool = True, full_index: bool = False, say=lambda text: None) -> Report:
    """Validate, render, and publish the site at `out` atomically. Nothing is written on error.

    Search documents are rendered first, so that Pagefind indexes them (in its own process) while
    the pages are rendered; see `search.Indexer` for when only the changed documents are indexed.
    """
    started = time.perf_counter()
    output.check_target(out, root)
    stamp = cache.fingerprint(root, settings, drafts, strict, search)
    with output.locked(out):
        output.clean_leftovers(out)  # a killed build's staging folder, even when nothing else is to do
        if output.written_by(out) == stamp and not full_index:  # nothing changed since the last build
            return Report(seconds=time.perf_counter() - started, up_to_date=True)
        say("reading papers/ and digests/")
        digest, warnings = load(root, settings, strict=strict, drafts=drafts, use_cache=True)
        site = renderer(root, settings, digest)
        indexer = None
        try:
            if search:
                say(f"rendering {len(site.search_tasks()):,} search documents")
                rendered = render_parallel(site, tasks=site.search_tasks())
                indexer = search_index.Indexer(root, out, {p[4:]: d for p, d in rendered.items()}, full=full_index)
                if indexer.segments.rebuilt:
                    say("indexing the search documents (in the background)")
            say(f"rendering {len(digest.papers):,} papers and {len(digest.issues):,} issues")
            files = static_files() | render_parallel(site)
            broken = link_problems(root, settings, digest, files, "error" if strict else "warning")
            if strict and broken:
                raise ContentError(broken + warnings)
            warnings = sorted(warnings + broken)
            if indexer is not None:
                if indexer.segments.rebuilt:
                    say("waiting for the search index")
                site.segments = indexer.wait()
                files |= site.render_task(("search",))
            say("writing the site")
            output.publish(out, files, indexer.install if indexer else None, stamp)
            if indexer is not None:
                indexer.commit()
        finally:
            if indexer is not None:
                indexer.close()
    pages = sum(1 for path in files if path.endswith(".html"))
    segments = indexer.segments if indexer else None
    return Report(pages=pages, files=len(files), bytes=sum(map(len, files.values())),
                  seconds=time.perf_counter() - started, warnings=warnings,
                  search_reused=bool(segments and not segments.rebuilt),
                  search_delta=segments.delta_documents if segments else 0)


_WORKER: "object | None" = None


def _render_task(task: tuple) -> dict[str, bytes]:
    """One task's files; search documents come back NFD-normalized under a 'doc:' prefix."""
    files = _WORKER.render_task(task)
    if task[0].startswith("doc-"):
        return {f"doc:{path}": data for path, data in search_index.normalize(files).items()}
    return files


def render_parallel(site, workers: int | None = None, tasks: list[tuple] | None = None) -> dict[str, bytes]:
    """The files of `tasks` (default: every page, finished with feeds and sitemap), rendered by
    forked worker processes when there are many."""
    global _WORKER
    finish = tasks is None
    tasks = site.tasks() if tasks is None else tasks
    workers = workers or os.cpu_count() or 1
    _WORKER = site
    try:
        if workers < 2 or len(tasks) < 400 or "fork" not in multiprocessing.get_all_start_methods():
            parts = [_render_task(task) for task in tasks]
        else:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_render_task, tasks, chunksize=max(1, len(tasks) // (workers * 8)))
    finally:
        _WORKER = None
    files: dict[str, bytes] = {}
    for part in parts:
        files |= part
    return site.finish(files) if finish else files


def link_problems(root: Path, settings: Settings, digest: Digest, files: dict[str, bytes],
                  severity: str = "warning") -> list[SourceError]:
    """Broken internal links, anchors and assets, placed in the record or issue whose text has them."""
    shown: dict[str, list] = {f"{p.url}index.html": [p] for p in digest.papers.values()}
    for iv in digest.issues:
        shown[f"{iv.url}index.html"] = [iv, *iv.papers]
    if digest.issues:
        shown["index.html"] = [digest.issues[0], *digest.issues[0].papers]
    found: dict[tuple[str, str], SourceError] = {}
    for problem in links.check(files, settings.base_path, settings.base_url if settings.absolute else None):
        place = None
        for view in shown.get(problem.page, []):
            source = view.paper.source if hasattr(view, "paper") else view.issue.source
            written = view.written.get(problem.target.split("#")[0], problem.target)
            if "#" in problem.target and problem.target.split("#")[0] in view.written:
                written += "#" + problem.target.split("#", 1)[1]
            spot = links.locate(root, source, written)
            if spot:
                place = (source, written, spot)
                break
        if place is None:  # written by a template, not by content
            message = f"broken link {problem.target} on {problem.page} ({problem.reason}); check the templates"
            found.setdefault((problem.page, problem.target),
                             SourceError(f"site/{problem.page}", 1, 1, message, severity))
            continue
        source, written, (line, col) = place
        found.setdefault((source, written), SourceError(
            source, line, col, f"broken link {written} ({problem.reason})", severity))
    return sorted(found.values())


def settings_for(root: Path, base_url: str | None = None) -> Settings:
    """Site settings from `root`, with the command line's base URL when given."""
    return config.load(root, {"base_url": base_url})
