"""What each command does: from parsed arguments to calls into pipeline/ and tools/, and what it prints."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from digestgen.errors import UsageError
from digestgen.pipeline import build as pipeline

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70

# What a build loaded, kept to the end of a process that exits right after it (see `cli.entry`).
RETAINED: list = []


def print_diagnostics(problems) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def run_validate(args: argparse.Namespace) -> int:
    settings = pipeline.settings_for(args.root)
    digest, warnings = pipeline.load(args.root, settings, strict=args.strict)
    if not args.quiet:
        print_diagnostics(warnings)
        print(f"ok: {len(digest.papers)} papers, {len(digest.issues)} issues", file=sys.stderr)
    return EXIT_OK


def run_build(args: argparse.Namespace) -> int:
    root: Path = args.root
    settings = pipeline.settings_for(root, args.base_url)
    out = args.out if args.out is not None else root / "site"
    relative = None
    if not settings.absolute:  # said once per build, not once per page that lacks a canonical link
        relative = (f"base URL '{settings.base_url}' is a path, not an absolute URL: feeds, sitemap.xml, canonical "
                    "links and social images are left out of the site; set base_url = \"https://…/\" in "
                    "digestgen.toml or pass --base-url https://…/")
        if args.strict:
            print(f"digestgen: error: {relative} (--strict)", file=sys.stderr)
            print("digestgen: 1 error; nothing was written", file=sys.stderr)
            return EXIT_INVALID
    report = pipeline.build(root, out, settings, drafts=args.drafts, strict=args.strict,
                            search=not args.no_search, full_index=args.full_index, say=_stages(args),
                            retain=RETAINED if args.exiting else None)
    if not args.quiet:
        if relative:
            print(f"digestgen: warning: {relative}", file=sys.stderr)
        print_diagnostics(report.warnings)
        print(report.summary(out), file=sys.stderr)
    return EXIT_OK


class Progress:
    """A one-line progress counter on a terminal; silent when piped, under CI, or with --quiet."""

    def __init__(self, label: str, total: int, quiet: bool = False):
        self.label, self.total, self.done = label, total, 0
        self.active = not quiet and sys.stderr.isatty() and not os.environ.get("CI") and total > 1

    def __call__(self, step: int = 1) -> None:
        self.done += step
        if self.active:
            print(f"\r{self.label} {self.done}/{self.total}", end="", file=sys.stderr, flush=True)
            if self.done >= self.total:
                print(file=sys.stderr)


def _stages(args):
    """Build stages: shown on a terminal (not when piped, under CI or with --quiet), always with --verbose."""
    live = sys.stderr.isatty() and not os.environ.get("CI")
    if args.quiet or not (live or args.verbose):
        return lambda text: None
    return lambda text: print(f"digestgen: {text}…", file=sys.stderr, flush=True)


def _say(args):
    return (lambda *a, **k: None) if args.quiet else (lambda text: print(text, flush=True))


def _error(text: str) -> None:
    print(f"digestgen: error: {text}", file=sys.stderr, flush=True)


def _week_start(args: argparse.Namespace) -> int:
    """The weekday that issue files are named for (`week_start` in digestgen.toml)."""
    from digestgen import config

    return config.load(args.root).week_start


def _notice(text: str) -> None:
    print(f"digestgen: warning: {text}", file=sys.stderr, flush=True)


def run_init(args: argparse.Namespace) -> int:
    from digestgen.tools import scaffold

    from digestgen.config import base_url_option

    folder: Path = args.dir
    try:
        scaffold.init(folder, force=args.force, say=_say(args), title=args.title,
                      base_url=base_url_option(args.base_url), spec=args.digestgen_spec or scaffold.DEFAULT_SPEC)
    except (scaffold.NotEmpty, NotADirectoryError) as exc:
        raise UsageError(str(exc)) from None
    if not args.quiet:
        go = "" if folder == Path(".") else f"  cd {folder}\n"
        print(f"\na new digest in {folder}. Next:\n{go}"
              "  digestgen new                 # start this week's issue (a draft with an outline)\n"
              "  digestgen add ARXIV_ID --issue DATE   # a paper record from arXiv, listed in that week\n"
              "  digestgen serve --open        # preview while you write the Korean text\n"
              "  digestgen build --strict      # what the publish workflow runs; push to publish")
    return EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    from digestgen.tools import arxivapi, editor

    client = arxivapi.Client()
    ok = editor.add(args.root, args.ids, client, args.issue, say=_say(args), warn=_error,
                    progress=Progress("arXiv", len(args.ids), args.quiet), first=_week_start(args), notice=_notice)
    return EXIT_OK if ok else EXIT_INVALID


def run_candidates(args: argparse.Namespace) -> int:
    from digestgen.tools import arxivapi, editor, candidates as feeds

    known = {p.stem for p in (args.root / "papers").glob("*.yaml")}
    found, failed = feeds.candidates(args.feeds, known, args.since,
                                     warn=lambda text: print(f"digestgen: warning: {text}", file=sys.stderr))
    for entry in found.values():
        print(f"{entry.arxiv_id}\t{entry.announce or '-'}\t{entry.title}\t{entry.link}")
    if failed == len(args.feeds):
        return EXIT_INVALID
    if args.add and found:
        ok = editor.add(args.root, list(found), arxivapi.Client(), args.issue, say=_say(args), warn=_error,
                        progress=Progress("arXiv", len(found), args.quiet), first=_week_start(args), notice=_notice)
        return EXIT_OK if ok else EXIT_INVALID
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    from digestgen.tools import editor

    drafts = editor.draft_weeks(args.root)
    if drafts and not args.week:
        names = ", ".join(f"digests/{week.isoformat()}.md" for week in drafts)
        _error(f"{names} {'is a draft week' if len(drafts) == 1 else 'are draft weeks'} already (`draft: true`); "
              "write that week, and delete `draft: true` to publish it, before starting the next one "
              "(or start another week anyway with --week DATE)")
        return EXIT_INVALID
    first = _week_start(args)
    week = editor.week_start(args.week, first) if args.week else editor.next_week(args.root, first)
    path = args.root / "digests" / f"{week.isoformat()}.md"
    try:
        editor.write_new(path, editor.issue_text([]))
    except editor.EditError as exc:
        _error(f"digests/{exc}")
        return EXIT_INVALID
    _say(args)(f"wrote digests/{path.name} (draft)")
    return EXIT_OK


def run_serve(args: argparse.Namespace) -> int:
    from digestgen.tools import preview

    preview.serve(args.root, port=args.port, host=args.host, open_browser=args.open)
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    from digestgen.pipeline.schema import schema_documents

    settings = pipeline.settings_for(args.root)
    out = args.out if args.out is not None else args.root / "schemas"
    out.mkdir(parents=True, exist_ok=True)
    for name, document in schema_documents(settings.extra_paper_fields, settings.extra_issue_fields).items():
        (out / name).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        _say(args)(f"wrote {out / name}")
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from digestgen.tools import editor, export
    from digestgen.pipeline.render import renderer

    settings = pipeline.settings_for(args.root, args.base_url)
    if export.FORMATS[args.format] and not settings.absolute:
        raise UsageError(f"--format {args.format} links to the site: give an absolute --base-url "
                         "(or base_url in digestgen.toml)")
    digest, _ = pipeline.load(args.root, settings, drafts=args.drafts)
    view = export.find_issue(digest, args.week)
    if view is None:
        raise UsageError(f"no {'' if args.drafts else 'published '}issue for the week of {args.week.isoformat()}")
    render = renderer(args.root, settings, digest)
    if args.format == "discourse":
        texts = export.discourse_posts(render, settings, view)
    else:
        texts = [export.export(render, settings, view, args.format)]
    if args.out is None:
        sys.stdout.write(export.joined(texts))
        if len(texts) > 1:
            print(f"digestgen: the post is split into {len(texts)} posts (max_post_length "
                  f"{settings.max_post_length:,}): post the first, then each reply in order", file=sys.stderr)
        return EXIT_OK
    for path, text in zip(export.part_paths(args.out, len(texts)), texts):
        editor.replace_file(path, text) if path.exists() else editor.write_new(path, text)
        _say(args)(f"wrote {path} ({len(text):,} characters)")
    stale = export.part_paths(args.out, len(texts) + 1)[-1]
    if len(texts) > 1 or args.format == "discourse":
        if stale.exists():
            print(f"digestgen: warning: {stale} is left from an earlier export; this post has "
                  f"{len(texts)} part(s)", file=sys.stderr)
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    from digestgen.tools import importer

    settings = pipeline.settings_for(args.root)
    ok = importer.run(args.root, args.sources, settings.issue_title, say=_say(args),
                      warn=lambda text: print(text if ": warning: " in text or ": error: " in text
                                              else f"digestgen: error: {text}", file=sys.stderr, flush=True))
    return EXIT_OK if ok else EXIT_INVALID


def run_post(args: argparse.Namespace) -> int:
    from digestgen.tools import poster

    return poster.run(args, pipeline, _say(args))


def run_check_links(args: argparse.Namespace) -> int:
    from digestgen.pipeline import links

    settings = pipeline.settings_for(args.root)
    digest, problems = pipeline.check_internal_links(args.root, settings)
    checked = 0
    if args.external:
        cache = None if args.no_cache else links.Cache(args.root / ".digestgen" / "links.json", 24 * 3600)
        progress = Progress("links", len(links.external_urls(digest)), args.quiet)
        broken, checked = links.external_problems(args.root, digest, args.timeout, args.workers, cache, progress)
        problems += broken
    for problem in sorted(problems):
        print(problem, file=sys.stderr)
    if not args.quiet:
        print(f"checked internal links{f' and {checked} external URLs' if args.external else ''}: "
              f"{len(problems)} broken", file=sys.stderr)
    return EXIT_INVALID if problems else EXIT_OK


COMMANDS = {"validate": run_validate, "build": run_build, "init": run_init, "add": run_add,
            "candidates": run_candidates, "new": run_new, "serve": run_serve, "export": run_export,
            "import": run_import, "post": run_post, "check-links": run_check_links, "schema": run_schema}
