"""The pipeline: load -> plan -> render documents -> index -> render pages -> finish search
-> check links -> apply to output -> save. `build` runs these steps in order; each is a function
below, and docs/ARCHITECTURE.md says what each passes on.

The search page names the search bundle's delta, so it is rendered once the index is finished;
and a fresh site is written into its staging folder while Pagefind is still indexing.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from digestgen.pipeline import budget, cache, content, depends, links, manifest, output
from digestgen import config
from digestgen.pipeline import search as search_index
from digestgen.config import Settings
from digestgen.pipeline.depends import Dependencies
from digestgen.pipeline.digest import CachedView, Digest, assemble
from digestgen.errors import ContentError, SourceError
from digestgen.pipeline.manifest import File, Manifest, Stored, Task
from digestgen.pipeline.render import KINDS, SEARCH_PAGE, Renderer, renderer, static_files


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

    def summary(self, out: Path) -> str:
        """One line for the terminal."""
        if self.up_to_date:
            return f"{out} is up to date ({self.seconds:.2f}s)"
        search = ""
        if self.search_reused:
            search = (f"; search: {self.search_delta} changed document(s) indexed, the rest kept"
                      if self.search_delta else "; search index kept")
        if self.written < self.files:  # an incremental build
            done = f"{self.rendered} rendered, {self.written} file(s) written"
        else:
            done = f"{self.bytes / 1e6:.1f} MB"
        return f"built {self.pages} pages ({done}) into {out} in {self.seconds:.2f}s{search}"


@dataclass
class Options:
    """How to build: the command line's switches."""

    drafts: bool = False
    strict: bool = False
    search: bool = True
    full_index: bool = False
    force: bool = False  # build even when nothing changed (serve: to report the warnings again)


@dataclass
class Plan:
    """What a build works from: the content, the renderer, the last build's manifest (`last`), the
    one this build fills in (`next`), every task's dependency key and the tasks to render."""

    root: Path
    out: Path
    settings: Settings
    options: Options
    stamp: str  # the fingerprint of the inputs, written into the output's marker
    context: tuple[tuple, tuple]  # what every task depends on besides its key (see `manifest.read`)
    digest: Digest
    warnings: list[SourceError]
    site: Renderer
    last: Manifest
    next: Manifest
    keys: dict[Task, tuple | None]
    stale: set[Task]
    memory: int  # bytes the build may use (see `budget`)
    identities: cache.Identities  # the input files' settled stamps, saved once the build has read them


@dataclass
class Rendered:
    """The files of some tasks: those rendered by this build (`new`), and every page's hash and
    scan (`stored`: the next manifest's own table of them, filled in as the build goes, and shared
    by every `Rendered` of the build; the search records' hashes are its `documents`)."""

    new: dict[str, File] = field(default_factory=dict)
    stored: dict[str, Stored] = field(default_factory=dict)


def build(root: Path, out: Path, settings: Settings, drafts: bool = False, strict: bool = False,
          search: bool = True, full_index: bool = False, say=lambda text: None, force: bool = False,
          retain: list | None = None) -> Report:
    """Validate, render, and publish the site at `out`. Nothing is written on error.

    A build renders only the tasks whose dependency keys changed since the build that wrote `out`
    (see `manifest`), and then replaces only the files whose bytes changed (`force` does so even
    when nothing changed, to report the warnings again); without a usable
    manifest it renders everything into a fresh folder that is swapped in atomically, writing
    each page as it comes. The search records are indexed (see `search`) once the pages are rendered.
    `retain`, if given, gets what the build loaded and made, for a process that exits without
    freeing it.
    """
    started = time.perf_counter()
    options = Options(drafts, strict, search, full_index, force)
    output.check_target(out, root)
    with output.locked(out):
        output.clean_leftovers(out)  # a killed build's staging folder, even when nothing else is to do
        with cache.collector_paused():
            plan = make_plan(root, out, settings, options, say)
            if plan is None:
                return Report(seconds=time.perf_counter() - started, up_to_date=True)
            gc.freeze()  # the loaded content and manifests live to the end: later collections skip them
        indexer: search_index.Indexer | None = None
        streamed: Streamed | None = None
        try:
            # the records go to the index (which hands a large one's to its slices' files, and lets
            # go of them before the pages are rendered): not kept here as well
            indexer = start_index(plan, render(plan, plan.site.document_tasks() if plan.options.search else []), say)
            with output.Change(out, fresh=not plan.last.valid) as change:
                if change.fresh:  # pages are written as they are rendered; an update waits, to replace its files at once
                    say("rendering and writing the site")
                    streamed = Streamed(change)
                pages = render(plan, plan.site.tasks(), streamed)
                pages = add_files(plan, pages, static_files() | plan.site.extras(pages.stored))
                segments = finish_search(indexer, say)
                pages = add_files(plan, pages, plan.site.render_task(SEARCH_PAGE, segments))
                warnings = check_links(plan, pages)
                plan.identities.save()  # every input read: before the output's marker names these stamps
                written = apply_to_output(plan, pages, change, indexer, say)
            if indexer is not None:
                indexer.commit()
            manifest.save(root, out, plan.context, plan.stamp, plan.next, plan.last)
        finally:
            plan.identities.save()  # (on a failure: what moved is forgotten all the same)
            if indexer is not None:
                indexer.close()
            gc.unfreeze()  # `serve` builds again in this process: the next collection may free this build
            if retain is not None:
                retain.append(locals().copy())  # the plan, the pages and the index, whichever were made
    return Report(pages=sum(1 for path in pages.stored if path.endswith(".html")), files=len(pages.stored),
                  bytes=sum(len(file.data) for file in pages.new.values()) + (streamed.bytes if streamed is not None else 0),
                  seconds=time.perf_counter() - started,
                  warnings=warnings, search_reused=bool(segments and not segments.rebuilt),
                  search_delta=segments.delta_documents if segments else 0,
                  rendered=len(plan.stale) + 1, written=written)  # and the search page


def load(root: Path, settings: Settings, strict: bool = False, drafts: bool = False,
         use_cache: bool = False, stamps: dict | None = None, code: str | None = None,
         records: cache.RecordCache | None = None) -> tuple[Digest, list[SourceError]]:
    """Read and validate everything under `root` into a Digest (raises ContentError).

    With `use_cache` (or the `records` of `record_cache`), unchanged records come from
    `.digestgen/records/` with their rendered Markdown, and the cache is updated afterwards;
    `stamps` are the files' identities and `code` the `cache.code_stamp`, if taken.
    """
    if records is None and use_cache:
        records = record_cache(root, settings, stamps, code)
    loaded = content.load(root, settings, strict=strict, cache=records)
    digest = assemble(loaded, drafts=drafts, base_path=settings.base_path)
    if records is not None:  # a paper's entry has its rendered Markdown from when it was read
        for view in digest.issues:  # an issue's, its rendered intro
            entry = loaded.issue_entries.get(view.issue.slug)
            if entry is not None and (entry.get("html") or (None,))[0] != settings.base_path:
                entry["html"] = (settings.base_path, view.intro_html, view.written)
        records.save()
    return digest, loaded.warnings


def record_cache(root: Path, settings: Settings, stamps: dict | None = None, code: str | None = None,
                 moved=None) -> cache.RecordCache:
    """The record cache of `root` for these settings (see `load`; `moved`: see `cache.RecordCache`)."""
    # what a cached record and its rendered Markdown depend on besides the file: the code that
    # renders it (an editable install being worked on), and the settings it reads
    context = (code or cache.code_stamp(), settings.extra_paper_fields, settings.extra_issue_fields, settings.issue_title,
               settings.base_path)
    return cache.RecordCache(root, context, stamps, moved)


def make_plan(root: Path, out: Path, settings: Settings, options: Options, say) -> Plan | None:
    """Load the content and decide what to render; None when `out` is already up to date."""
    # every input file's size and mtime, settled: a file rewritten with the same bytes keeps its stamp
    identities = cache.Identities(root, cache.stamps(root) | cache.figure_stamps(root))
    tokens = identities.tokens
    code = cache.code_stamp()
    shown = dataclasses.replace(settings, memory=0)  # the memory budget changes how, not what, is built
    stamp = cache.fingerprint(root, shown, options.drafts, options.strict, options.search, code, found=tokens)
    previous = output.written_by(out)
    if previous == stamp and not options.full_index and not options.force:  # nothing changed since then
        identities.save(read=False)
        return None
    memory = budget.limit(settings)  # before the content takes any
    early = (code, shown, options.drafts, options.strict)  # the context of the manifest, and `late` below
    found = manifest.read(root, out, previous, early)  # (its files are looked up while the content is read)
    try:
        say("reading papers/ and digests/")
        records = record_cache(root, settings, tokens, code, identities.moved)
        digest, warnings = load(root, settings, strict=options.strict, drafts=options.drafts, records=records)
        identities.served = records.used.keys() - records.added  # (their files were not read)
        cache.remember_figures(root, [f.src for p in digest.papers.values() for f in p.paper.figures if f.site_path])
        site = renderer(root, settings, digest, cache.compiled_templates(root, code))
    finally:
        if found.present is not None:
            found.present()  # wait for the look-up whether the build goes on or not
    if not site.document_tasks():  # nothing published yet: no index (the search page says so)
        options.search = False
    # every page's head and footer link the site's feeds, which appear with the first issue: a
    # change of those is a change of context, like the settings
    late = (options.search, {rel: token for rel, token in tokens.items() if rel.startswith("templates/")},
            [path for path, *_ in site.env.globals.get("feeds", [])])
    last = manifest.usable(found, late)
    # overridden templates may show anything anywhere (a README, as `init` writes, overrides nothing)
    custom = any(rel.startswith("templates/") and not rel.endswith(".md") for rel in tokens)
    tasks = site.tasks() + (site.document_tasks() if options.search else [])
    same = last.valid and len(tasks) == len(last.tasks) and all(map(last.tasks.__contains__, tasks))
    keys, dependencies = task_keys(site, tasks, tokens, last, custom, records.added, same)
    stale = last.stale(keys)
    say(f"rendering {len(stale):,} of {len(tasks):,} pages and search documents" if last.valid else
        f"rendering {len(digest.papers):,} papers and {len(digest.issues):,} issues")
    following = Manifest(tokens=tokens, dependencies=dependencies)
    if same:
        following.carry(last)  # the same tasks: the next manifest starts from the last one's
    return Plan(root, out, settings, options, stamp, (early, late), digest, warnings, site, last, following, keys, stale,
                memory, identities)


def task_keys(site: Renderer, tasks: list[Task], tokens: dict, last: Manifest, custom: bool, read: set[str],
              same: bool) -> tuple[dict[Task, tuple | None], Dependencies | None]:
    """The dependency keys of the tasks that may have changed since the `last` build (all of them,
    unless it had the same tasks, `same`, and only the texts of some papers and issues changed:
    see `depends`; `read` are the records read from their files, not from the record cache),
    and the tasks' dependencies for the next build. Overridden templates may show anything
    anywhere: then no task has a key, and every one is rendered."""
    if custom:
        return dict.fromkeys(tasks), None
    if last.valid:
        changed = {rel for rel, token in tokens.items() ^ last.tokens.items()}
        keys = depends.quick_keys(site, tasks, tokens.get, changed, read, same, last.dependencies)
        if keys is not None:
            return keys, last.dependencies
    keys = {task: site.task_key(task, tokens.get) for task in tasks}
    return keys, Dependencies.of(site, keys)


@dataclass
class Streamed:
    """Stages each task's files in a fresh output as soon as they are rendered, and lets go of
    their bytes (a large site's pages need not all be held in memory at once)."""

    change: output.Change
    bytes: int = 0

    def __call__(self, files: dict[str, File]) -> None:
        self.change.write({path: file.data for path, file in files.items()})
        for file in files.values():
            self.bytes += len(file.data)
            file.data = b""


def render(plan: Plan, tasks: list[Task], sink=None) -> Rendered:
    """Render the stale ones of `tasks`; take the others' files from the last build's manifest.
    Each task is recorded in the next manifest; `sink(files)`, if given, gets each task's files as
    they come."""
    stale = [task for task in tasks if task in plan.stale]
    each = budget.KEPT_STREAMED if sink else budget.KEPT_RECORD if stale and KINDS[stale[0].kind].document else budget.KEPT_PAGE
    done = render_tasks(plan.site, stale, _workers(plan, len(stale), each), each=sink)
    result = Rendered(stored=plan.next.pages)
    for task, files in done.items():
        plan.next.record(task, plan.keys[task], {path: file.stored for path, file in files.items()},
                         KINDS[task.kind].document)
        result.new |= files
    if not plan.next.carried:  # (else the next manifest has the others already)
        kept = [task for task in tasks if task not in done]
        for document in (False, True):
            plan.next.keep(plan.last, [task for task in kept if KINDS[task.kind].document == document], document)
    return result


def _workers(plan: Plan, tasks: int, each: int) -> int:
    """Render workers to fork now for `tasks` tasks: as many as the memory budget leaves room for,
    beside the `each` bytes per task their results will add here (see `budget`). The fields of
    cached papers not read yet (`digest.CachedView`) are read first, when workers would share
    them, so that the budget counts them."""
    cpus = os.cpu_count() or 1
    workers = budget.render_workers(plan.memory, budget.resident(), cpus, tasks * each)
    if workers > 1 and budget.can_fork(tasks, cpus):  # (not when the budget leaves room for none)
        for view in plan.site.digest.papers.values():
            if type(view) is CachedView:
                view.load()
        workers = budget.render_workers(plan.memory, budget.resident(), cpus, tasks * each)
    return workers


def add_files(plan: Plan, pages: Rendered, files: dict[str, bytes]) -> Rendered:
    """`pages` with more files rendered outside the tasks (assets, feeds, the search page)."""
    new = {path: _file(path, data) for path, data in files.items()}
    plan.next.pages.update((path, file.stored) for path, file in new.items())
    plan.next.extras.extend(new)
    return Rendered(pages.new | new, plan.next.pages)


def start_index(plan: Plan, documents: Rendered, say) -> search_index.Indexer | None:
    """Plan the search index of the records (a full index, or a delta of the changed ones)."""
    if not plan.options.search:
        return None

    def render_documents(paths: list[str]) -> dict[str, bytes]:
        """Documents the index needs that this build did not render (unchanged since the last)."""
        task_of = {path: task for task in plan.site.document_tasks() for path in plan.next.tasks[task].paths}
        tasks = sorted({task_of[path] for path in paths})
        return {path: file.data for part in render_tasks(plan.site, tasks, _workers(plan, len(tasks), budget.KEPT_RECORD)).values()
                for path, file in part.items()}

    indexer = search_index.Indexer(plan.root, plan.out, plan.next.documents,
                                   {path: file.data for path, file in documents.new.items()},
                                   render=render_documents, full=plan.options.full_index,
                                   language=plan.settings.language, memory=plan.memory)
    return indexer


def finish_search(indexer: search_index.Indexer | None, say) -> search_index.Segments | None:
    """Write the search index; what the search page must know of it (None without search)."""
    if indexer is None:
        return None
    if indexer.segments.rebuilt:
        say("indexing the search records")
    return indexer.wait()


def check_links(plan: Plan, pages: Rendered) -> list[SourceError]:
    """The link-check step: the build's warnings with its broken links (with --strict, raises)."""
    last, scans = plan.last, {path: s.scan for path, s in pages.stored.items() if s.scan is not None}
    # a kept page's link check stands unless a page it links to appeared, went, or changed its ids
    reuse = {path: last.links[path] for path in scans if path in last.links and path not in pages.new}
    # (a copy: the difference of two large key views is a set with a table sized for them, however
    # few it holds, and the check of every kept page would walk that table)
    changed = set(pages.stored.keys() ^ last.pages.keys())
    for path in scans.keys() - reuse.keys():  # pages rendered again: did their ids change?
        before = last.pages.get(path)
        if before is None or before.scan is None or links.unpack(before.scan).ids != links.unpack(scans[path]).ids:
            changed.add(path)
    broken, plan.next.links = links.problems(plan.root, plan.settings, plan.digest, scans, pages.stored,
                                             "error" if plan.options.strict else "warning", reuse, changed)
    if plan.options.strict and broken:
        raise ContentError(broken + plan.warnings)
    return sorted(plan.warnings + broken)


def apply_to_output(plan: Plan, pages: Rendered, change: output.Change, indexer, say) -> int:
    """Write the site: a fresh folder swapped in, or the changed files replaced in place. Returns
    how many files were written."""
    if change.fresh:
        change.write({path: file.data for path, file in pages.new.items() if path not in change.written})
        folder = change.apply()
    else:
        changed, removed = plan.last.differences(pages.stored)
        say(f"writing {len(changed):,} changed files" + (f", removing {len(removed):,}" if removed else ""))
        change.write({path: pages.new[path].data for path in changed})
        folder = change.apply(removed)
    if indexer is not None and change.fresh:
        indexer.install(folder)
    elif indexer is not None:
        indexer.install_in_place(folder)
    change.finish(plan.stamp)
    return len(change.written)


def _file(path: str, data: bytes) -> File:
    return File(data, Stored(cache.content_hash(data), links.scan_file(path, data)))


_WORKER: Renderer | None = None


def _render_task(task: Task) -> dict[str, File]:
    """One task's files (a search record is kept by its hash only: it is not a page of the site)."""
    files = _WORKER.render_task(task)
    if KINDS[task.kind].document:
        return {path: File(data, Stored(cache.content_hash(data))) for path, data in files.items()}
    return {path: _file(path, data) for path, data in files.items()}


def render_tasks(site: Renderer, tasks: list[Task], workers: int | None = None,
                 each=None) -> dict[Task, dict[str, File]]:
    """{task: its files}, rendered by forked worker processes when there are many; `each(files)`,
    if given, is called with every task's files as they arrive."""
    global _WORKER
    workers = workers or os.cpu_count() or 1
    _WORKER = site
    parts = []
    frozen = True  # nothing to unfreeze unless frozen below
    try:
        if not budget.can_fork(len(tasks), workers):
            results = map(_render_task, tasks)
        else:
            frozen = gc.get_freeze_count() > 0  # by `build`, which unfreezes at its end (this walks them all: here only)
            gc.freeze()  # the workers' collections then leave the parent's objects, and their pages, shared
            results = budget.forked(_render_task, tasks, workers, "rendering")
        for files in results:
            parts.append(files)
            if each:
                each(files)
    finally:
        _WORKER = None
        if not frozen:
            gc.unfreeze()
    return dict(zip(tasks, parts))


def check_internal_links(root: Path, settings: Settings) -> tuple[Digest, list[SourceError]]:
    """`digestgen check-links`: render the site in memory as a build does, and check its links."""
    digest, _ = load(root, settings)
    site = renderer(root, settings, digest)
    files = {path: file for part in render_tasks(site, site.tasks()).values() for path, file in part.items()}
    late = static_files() | site.extras(files) | site.render_task(SEARCH_PAGE)
    files |= {path: _file(path, data) for path, data in late.items()}
    scans = {path: file.stored.scan for path, file in files.items() if file.stored.scan is not None}
    return digest, links.problems(root, settings, digest, scans, files, "error")[0]


def settings_for(root: Path, base_url: str | None = None) -> Settings:
    """Site settings from `root`, with the command line's base URL when given."""
    return config.load(root, {"base_url": base_url})
