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
    rendered: int = 0  # pages and search documents rendered
    written: int = 0  # files written


def load(root: Path, settings: Settings, strict: bool = False, drafts: bool = False,
         use_cache: bool = False, stamps: dict | None = None) -> tuple[Digest, list[SourceError]]:
    """Read and validate everything under `root` into a Digest (raises ContentError).

    With `use_cache`, unchanged records come from `.digestgen/records/` with their rendered
    Markdown, and the cache is updated afterwards; `stamps` are the files' identities if taken.
    """
    records = cache.RecordCache(root, (settings.extra_paper_fields, settings.base_path), stamps) if use_cache else None
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
    """Validate, render, and publish the site at `out`. Nothing is written on error.

    A build renders only the pages whose inputs changed since the build that wrote `out` (see
    `Renderer.task_key` and `cache.PageCache`) and then replaces only the files whose bytes
    changed, in place; without a usable cache it renders everything into a fresh folder that is
    swapped in atomically. Search documents are rendered first, so that Pagefind indexes them (in
    its own process) while the pages are rendered; see `search.Indexer` for when only the changed
    documents are indexed.
    """
    started = time.perf_counter()
    output.check_target(out, root)
    tokens = cache.stamps(root)  # every input file's size and mtime: what changed, and since when
    code = cache.code_stamp()
    stamp = cache.fingerprint(root, settings, drafts, strict, search, code, found=tokens)
    with output.locked(out):
        output.clean_leftovers(out)  # a killed build's staging folder, even when nothing else is to do
        previous = output.written_by(out)
        if previous == stamp and not full_index:  # nothing changed since the build that wrote `out`
            return Report(seconds=time.perf_counter() - started, up_to_date=True)
        say("reading papers/ and digests/")
        digest, warnings = load(root, settings, strict=strict, drafts=drafts, use_cache=True, stamps=tokens)
        site = renderer(root, settings, digest)
        context = (code, settings, drafts, strict, search,
                   {rel: token for rel, token in tokens.items() if rel.startswith("templates/")})
        last = cache.PageCache(root, context, out, previous)
        custom = (root / "templates").is_dir()  # overridden templates may show anything anywhere
        tasks = site.tasks() + (site.search_tasks() if search else [])
        keys = {task: None if custom else site.task_key(task, tokens.get) for task in tasks}
        fresh = {task for task in tasks if keys[task] is None or last.tasks.get(task, (None,))[0] != keys[task]}
        say(f"rendering {len(fresh):,} of {len(tasks):,} pages and search documents" if last.valid else
            f"rendering {len(digest.papers):,} papers and {len(digest.issues):,} issues")
        done: dict[tuple, dict] = {}  # task -> {path: (bytes, hash, scan)}

        def paths(task: tuple):
            """The files of `task`: rendered by this build, or kept from the last."""
            return done[task] if task in done else last.tasks[task][1]

        indexer = None
        try:
            if search:
                docs = [t for t in site.search_tasks() if t in fresh]
                done |= render_tasks(site, docs)
                hashes = {path: last.files[path][0] for task in site.search_tasks() if task not in fresh
                          for path in last.tasks[task][1]}
                hashes |= {path: entry[1] for task in docs for path, entry in done[task].items()}
                paths_of = {path: task for task in site.search_tasks() for path in paths(task)}

                def render_docs(paths: list[str]) -> dict[str, bytes]:
                    """Documents the index needs but this build did not render (unchanged ones)."""
                    wanted = sorted({paths_of[f"doc:{p}"] for p in paths}, key=repr)
                    return {path.removeprefix("doc:"): entry[0] for part in render_tasks(site, wanted).values()
                            for path, entry in part.items()}

                indexer = search_index.Indexer(root, out, {p.removeprefix("doc:"): h for p, h in hashes.items()},
                                               {p.removeprefix("doc:"): e[0] for task in docs for p, e in done[task].items()},
                                               render=render_docs, full=full_index,
                                               memory=settings.search_memory)
                if indexer.segments.rebuilt:
                    say("indexing the search documents (in the background)")
            done |= render_tasks(site, [t for t in site.tasks() if t in fresh])
            page_paths = [path for task in site.tasks() for path in paths(task)]
            late = static_files() | site.extras(page_paths)  # rendered here, not by a task
            scans = {path: last.files[path][1] for task in site.tasks() if task not in done
                     for path in last.tasks[task][1] if last.files[path][1] is not None}
            scans |= {path: scan for task in site.tasks() if task in done
                      for path, (_, _, scan) in done[task].items() if scan is not None}
            scans |= {path: links.scan(data.decode("utf-8", "replace")) for path, data in late.items()
                      if path.endswith(".html")}
            every = set(page_paths) | set(late)
            # a kept page's link check stands unless a page it links to appeared, went, or changed its ids
            reuse = {path: last.links[path] for task in site.tasks() if task not in done
                     for path in last.tasks[task][1] if path in last.links}
            before = {path for path in last.files if not path.startswith("doc:")}
            old_ids = {path: entry[1][1] for path, entry in last.files.items() if entry[1] is not None}
            changed_targets = (every ^ before) | {path for path, scan in scans.items()
                                                  if path not in reuse and old_ids.get(path) != scan[1]}
            broken, link_records = link_problems(root, settings, digest, scans, every, "error" if strict else "warning",
                                                 reuse, changed_targets)
            if strict and broken:
                raise ContentError(broken + warnings)
            warnings = sorted(warnings + broken)
            new = {path: data for task in site.tasks() if task in done for path, (data, _, _) in done[task].items()}
            new |= late

            def search_page() -> dict[str, bytes]:
                """Wait for the index; the search page, which names its delta."""
                if indexer is None:
                    return {}
                if indexer.segments.rebuilt:
                    say("waiting for the search index")
                site.segments = indexer.wait()
                page = site.render_task(("search",))
                late.update(page)
                new.update(page)
                return page

            # every file of the site: content hash and link scan (kept ones from the cache)
            files = {path: last.files[path] for task in site.tasks() if task not in done
                     for path in last.tasks[task][1]}
            files |= {path: (digest_, scan) for task in site.tasks() if task in done
                      for path, (_, digest_, scan) in done[task].items()}
            if last.valid:
                search_page()
                files |= {path: (cache.content_hash(data), scans.get(path)) for path, data in late.items()}
                changed = {path: data for path, data in new.items() if last.files.get(path, (None,))[0] != files[path][0]}
                removed = [path for path in last.files if not path.startswith("doc:") and path not in files]
                say(f"writing {len(changed):,} changed files" + (f", removing {len(removed):,}" if removed else ""))
                output.update(out, changed, removed, indexer.install_in_place if indexer else None, stamp)
            else:
                def finish(staging: Path) -> None:  # the site is written while Pagefind works
                    output.write_tree(staging, search_page())
                    if indexer is not None:
                        indexer.install(staging)

                say("writing the site")
                output.publish(out, new, finish, stamp)
                files |= {path: (cache.content_hash(data), scans.get(path)) for path, data in late.items()}
            if indexer is not None:
                indexer.commit()
            for task in site.search_tasks() if search else []:
                for path in paths(task):
                    files[path] = (hashes[path], None)
            last.save(stamp, {task: (keys[task], tuple(paths(task))) for task in tasks}, files, link_records)
        finally:
            if indexer is not None:
                indexer.close()
    pages = sum(1 for path in every if path.endswith(".html"))
    segments = indexer.segments if indexer else None
    return Report(pages=pages, files=len(every), bytes=sum(map(len, new.values())),
                  seconds=time.perf_counter() - started, warnings=warnings,
                  search_reused=bool(segments and not segments.rebuilt),
                  search_delta=segments.delta_documents if segments else 0,
                  rendered=len(fresh), written=len(changed) if last.valid else len(new))


_WORKER: "object | None" = None


def _render_task(task: tuple) -> dict[str, tuple[bytes, str, tuple | None]]:
    """One task's files, each with its content hash and (for a page) its link scan; search
    documents come back NFD-normalized under a 'doc:' prefix."""
    files = _WORKER.render_task(task)
    if task[0].startswith("doc-"):
        return {f"doc:{path}": (data, cache.content_hash(data), None)
                for path, data in search_index.normalize(files).items()}
    return {path: (data, cache.content_hash(data),
                   links.scan(data.decode("utf-8", "replace")) if path.endswith(".html") else None)
            for path, data in files.items()}


def render_tasks(site, tasks: list[tuple], workers: int | None = None) -> dict[tuple, dict]:
    """{task: its files (see `_render_task`)}, rendered by forked worker processes when there are many."""
    global _WORKER
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
    return dict(zip(tasks, parts))


def render_parallel(site, workers: int | None = None) -> dict[str, bytes]:
    """Every page's files, finished with feeds and sitemap, rendered as in a build."""
    files = {path: entry[0] for part in render_tasks(site, site.tasks(), workers).values()
             for path, entry in part.items()}
    return site.finish(files)


def link_problems(root: Path, settings: Settings, digest: Digest, scans: dict[str, tuple], files,
                  severity: str = "warning", reuse: dict | None = None, changed=frozenset()
                  ) -> tuple[list[SourceError], dict[str, tuple]]:
    """Broken internal links, anchors and assets, placed in the record or issue whose text has them,
    and each page's link-check record (see `links.check_site` for `reuse` and `changed`)."""
    shown: dict[str, list] = {f"{p.url}index.html": [p] for p in digest.papers.values()}
    for iv in digest.issues:
        shown[f"{iv.url}index.html"] = [iv, *iv.papers]
    if digest.issues:
        shown["index.html"] = [digest.issues[0], *digest.issues[0].papers]
    found: dict[tuple[str, str], SourceError] = {}
    site_url = settings.base_url if settings.absolute else None
    problems, records = links.check_site(scans, files, settings.base_path, site_url, reuse, changed)
    for problem in problems:
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
    return sorted(found.values()), records


def settings_for(root: Path, base_url: str | None = None) -> Settings:
    """Site settings from `root`, with the command line's base URL when given."""
    return config.load(root, {"base_url": base_url})
