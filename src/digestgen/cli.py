"""The command line: a thin adapter from arguments to the pipeline, and from errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
from pathlib import Path

from digestgen import __version__, commands
from digestgen.commands import EXIT_INTERNAL, EXIT_INVALID, EXIT_USAGE
from digestgen.errors import BuildError, ContentError, UsageError

ISSUES_URL = "https://github.com/digestgen/digestgen/issues"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def _root_arg(parser: argparse.ArgumentParser, strict: bool = True) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                        help="the digest repository (default: the current folder)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    parser.add_argument("-v", "--verbose", action="store_true", help="say more about what happens")
    if strict:
        parser.add_argument("--strict", action="store_true",
                            help="treat warnings (e.g. a paper that no issue lists) as errors")


def make_parser() -> argparse.ArgumentParser:
    """The argument parser, with help and an example for every command."""
    parser = _Parser(
        prog="digestgen",
        description="Build a weekly bilingual (Korean/English) AI/ML paper digest as a static site.",
        epilog="examples:\n  digestgen validate\n  digestgen build --base-url https://example.org/digest/\n\n"
               "Run 'digestgen COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"digestgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMAND_PARSERS:
        add(sub)
    return parser


def _add_init(sub) -> None:
    init = sub.add_parser(
        "init", help="start a new digest repository",
        description="Write a new, content-only digest into DIR (default: the current folder): digestgen.toml "
                    "with comments, papers/, digests/, templates/README.md, .gitignore, the JSON Schemas in "
                    "schemas/ with VS Code settings that use them, and .github/workflows/publish.yml, which "
                    "installs a pinned digestgen, validates --strict, builds and deploys to GitHub Pages. "
                    "Refuses a folder that is not empty unless --force; never overwrites a file.",
        epilog="examples:\n  digestgen init my-digest && cd my-digest && digestgen build\n"
               "  digestgen init . --force --title '우리 연구실 논문 읽기' --base-url https://lab.example.org/papers/",
    )
    init.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR",
                      help="the folder to create or fill (default: the current folder)")
    init.add_argument("--force", action="store_true",
                      help="also write into a folder that is not empty (existing files are kept as they are)")
    init.add_argument("--title", default="AI/ML 논문 다이제스트", help="the site's name (digestgen.toml title)")
    init.add_argument("--base-url", default="/", metavar="URL",
                      help="where the site will be published (digestgen.toml base_url; default /)")
    init.add_argument("--digestgen-spec", default=None, metavar="SPEC",
                      help="the pip requirement the workflow installs digestgen from (default: this version's "
                           "release tag from digestgen's Git repository); a DIGESTGEN_SPEC repository variable "
                           "overrides it on GitHub")
    init.add_argument("-q", "--quiet", action="store_true", help="print errors only")


def _add_build(sub) -> None:
    build = sub.add_parser(
        "build", help="validate the content and write the site",
        description="Validate papers/ and digests/, render every page, index it for search, and replace "
                    "the output folder atomically. Nothing is written when the content is invalid.",
        epilog="example:\n  digestgen build --root . --out site --base-url https://example.org/digest/",
    )
    _root_arg(build)
    build.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: ROOT/site)")
    build.add_argument("--base-url", metavar="URL",
                       help="where the site is served, e.g. https://example.org/digest/ or /digest/ "
                            "(overrides base_url in digestgen.toml)")
    build.add_argument("--drafts", action="store_true", help="include issues marked draft: true")
    build.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
    build.add_argument("--full-index", action="store_true",
                       help="index every search document again, instead of adding changed ones to a delta")


def _add_validate(sub) -> None:
    validate = sub.add_parser(
        "validate", help="check the content and report every problem",
        description="Check every paper record and issue file against the content format and report each "
                    "problem as path:line:col: error: message. Exit 0 when valid, 1 when not.",
        epilog="example:\n  digestgen validate --strict",
    )
    _root_arg(validate)


def _add_add(sub) -> None:
    add = sub.add_parser(
        "add", help="fetch papers from arXiv and write their records",
        description="Fetch metadata for each arXiv id or URL and write papers/<id>.yaml with the English "
                    "title, abstract, authors, date and links. The Korean text is left for you, and the record "
                    "is marked `draft: true` until you finish it. Existing records are never overwritten.",
        epilog="examples:\n  digestgen add 2507.16075 https://arxiv.org/abs/2506.10943v2\n"
               "  digestgen add arXiv:2507.14417 --issue 2025-07-21\n\n"
               "environment: DIGESTGEN_ARXIV_API (default https://export.arxiv.org/api/query), "
               "DIGESTGEN_ARXIV_DELAY (seconds between requests, default 3)",
    )
    add.add_argument("ids", nargs="+", metavar="ID_OR_URL", help="arXiv ids or URLs, in any form")
    add.add_argument("--issue", type=_date, metavar="DATE",
                     help="also list the papers in the issue of DATE's week (created as a draft if needed)")
    _root_arg(add, strict=False)


def _add_candidates(sub) -> None:
    candidates = sub.add_parser(
        "candidates", help="list papers from RSS/Atom feeds that are not in papers/ yet",
        description="Read RSS or Atom feeds (URLs or files), such as arXiv's listing feeds, and list each entry "
                    "whose arXiv id has no record yet: id, announce type, title, link. A feed that cannot be "
                    "read gives a warning; the others are still read.",
        epilog="examples:\n  digestgen candidates https://rss.arxiv.org/rss/cs.AI --since 2025-07-21\n"
               "  digestgen candidates feeds/cs.CL.xml --add --issue 2025-07-21",
    )
    candidates.add_argument("feeds", nargs="+", metavar="FEED", help="feed URLs or files")
    candidates.add_argument("--since", type=_date, metavar="DATE", help="only entries published on or after DATE")
    candidates.add_argument("--add", action="store_true", help="add the candidates as `digestgen add` would")
    candidates.add_argument("--issue", type=_date, metavar="DATE", help="with --add: list them in DATE's issue")
    _root_arg(candidates, strict=False)


def _add_new(sub) -> None:
    new = sub.add_parser(
        "new", help="start the next week's issue",
        description="Write digests/<week>.md as a draft with front matter and an intro outline, for the week "
                    "after the latest issue (or the week of --week). Never overwrites.",
        epilog="examples:\n  digestgen new\n  digestgen new --week 2025-07-28",
    )
    new.add_argument("--week", type=_date, metavar="DATE", help="any day of the week to start")
    _root_arg(new, strict=False)


def _add_serve(sub) -> None:
    serve = sub.add_parser(
        "serve", help="preview the site with live reload",
        description="Build the site (drafts included) and serve it on 127.0.0.1; rebuild when papers/, digests/, "
                    "templates/ or digestgen.toml change and reload open pages. Content errors are shown in "
                    "the terminal and over the page, and the last good build stays up until they are fixed.",
        epilog="example:\n  digestgen serve --port 8000 --open",
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")
    _root_arg(serve, strict=False)


def _add_export(sub) -> None:
    export = sub.add_parser(
        "export", help="write one issue as a forum post, an email, or Markdown",
        description="Render the issue of WEEK (any day of its week) for another outlet: `discourse` (the "
                    "digest's forum-post layout), `email` (self-contained HTML for newsletter tools), "
                    "`email-text` (its plain-text alternative) or `markdown` (CommonMark). Email and "
                    "Markdown link to the site, so they need an absolute base URL.",
        epilog="examples:\n  digestgen export 2025-07-21 --format discourse > post.md\n"
               "  digestgen export 2025-07-21 --format email --base-url https://example.org/digest/ --out mail.html",
    )
    export.add_argument("week", type=_date, metavar="WEEK", help="a day of the issue's week")
    export.add_argument("--format", required=True, choices=["discourse", "email", "email-text", "markdown"])
    export.add_argument("--out", type=Path, metavar="FILE", help="write here instead of standard output")
    export.add_argument("--base-url", metavar="URL", help="where the site is served (overrides digestgen.toml)")
    export.add_argument("--drafts", action="store_true", help="allow a draft issue")
    _root_arg(export, strict=False)


def _add_import(sub) -> None:
    imp = sub.add_parser(
        "import", help="turn weekly Discourse topics into paper records and issues",
        description="Read each SOURCE, a saved Discourse topic page (.html), a topic JSON file (the forum's "
                    "/t/<id>.json) or a topic URL (read through the forum's JSON API), and write "
                    "papers/<id>.yaml for each paper and digests/<week>.md for the week. Whatever cannot be "
                    "mapped is reported at its line in the source. Existing files are never overwritten; "
                    "importing the same topic again does nothing. A record missing some text is a draft.",
        epilog="examples:\n  digestgen import saved/topic-10709.html\n"
               "  digestgen import https://discuss.pytorch.kr/t/2026-06-08-14-ai-ml/10709\n\n"
               "environment: DIGESTGEN_DISCOURSE_DELAY (seconds between topic requests, default 1)",
    )
    imp.add_argument("sources", nargs="+", metavar="SOURCE", help="topic pages, topic JSON files or topic URLs")
    _root_arg(imp, strict=False)


def _add_post(sub) -> None:
    post = sub.add_parser(
        "post", help="publish an issue to the Discourse forum, or update it there",
        description="Publish the issue of WEEK as `export --format discourse` writes it: a new topic in the "
                    "category of [discourse] in digestgen.toml, and replies when the post is split. The topic "
                    "and post ids are recorded in the issue's front matter (`discourse:`), so posting again "
                    "edits those posts instead of starting a new topic. Nothing is written when the forum "
                    "cannot be reached or refuses.",
        epilog="examples:\n  digestgen post 2025-07-21 --dry-run\n  DISCOURSE_API_KEY=... DISCOURSE_API_USERNAME=editor digestgen post 2025-07-21\n\n"
               "environment: DISCOURSE_API_KEY, DISCOURSE_API_USERNAME (required)",
    )
    post.add_argument("week", type=_date, metavar="WEEK", help="a day of the issue's week")
    post.add_argument("--base-url", metavar="URL", help="where the site is served (overrides digestgen.toml)")
    post.add_argument("--dry-run", action="store_true", help="say what would be sent, send nothing")
    _root_arg(post, strict=False)


def _add_check_links(sub) -> None:
    check = sub.add_parser(
        "check-links", help="check internal links, and with --external every external URL",
        description="Render the site in memory and check every internal link, anchor and asset. With "
                    "--external, also request every URL that the records and issues name (papers, code, "
                    "figures, links in the text), a few at a time, with a timeout; URLs that answered in the "
                    "last day are not asked again (cache in .digestgen/). Each problem names its file and line.",
        epilog="examples:\n  digestgen check-links\n  digestgen check-links --external --timeout 5",
    )
    check.add_argument("--external", action="store_true", help="also check external URLs")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    check.add_argument("--workers", type=int, default=8, help="requests at once (default 8)")
    check.add_argument("--no-cache", action="store_true", help="ask every URL again")
    _root_arg(check, strict=False)


def _add_schema(sub) -> None:
    schema = sub.add_parser(
        "schema", help="write JSON Schema for paper records and issue front matter",
        description="Write paper.schema.json and issue.schema.json, generated from the validator's own "
                    "definitions (including extra fields from digestgen.toml), for editor completion. Commit them: "
                    "the editor settings that `digestgen init` writes point to schemas/.",
        epilog="example:\n  digestgen schema\n  digestgen schema --out .digestgen/schema",
    )
    schema.add_argument("--out", type=Path, metavar="DIR", help="folder to write to (default: ROOT/schemas)")
    _root_arg(schema, strict=False)


# the commands in the order that `digestgen --help` lists them
_COMMAND_PARSERS = (_add_init, _add_build, _add_validate, _add_add, _add_candidates, _add_new, _add_serve,
                    _add_export, _add_import, _add_post, _add_check_links, _add_schema)


def _require_digest(root: Path) -> None:
    """Refuse a folder that is not a digest, instead of treating it as an empty one."""
    marks = ("papers/", "digests/", "digestgen.toml")
    if not any((root / mark.rstrip("/")).exists() for mark in marks):
        where = "this folder" if root == Path(".") else str(root)
        raise UsageError(f"{where} is not a digest: it has no papers/, no digests/ and no digestgen.toml; "
                         f"start one with 'digestgen init{'' if root == Path('.') else ' ' + str(root)}', "
                         "or point --root at a digest")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2025-07-21") from None


def run(args: argparse.Namespace) -> int:
    """Carry out one parsed command; return the exit status."""
    if args.command == "init":
        return commands.run_init(args)
    root: Path = args.root
    if not root.is_dir():
        raise UsageError(f"--root {root}: no such folder")
    _require_digest(root)
    return commands.COMMANDS[args.command](args)


def entry() -> None:
    """The `digestgen` command: `main`, then exit. After a build, without freeing what it loaded:
    at 10,000 papers, freeing a build's objects and the interpreter's last collection of them took
    0.8 s of a one-paper edit's 4.3 (see `commands.RETAINED`)."""
    status = main(exiting=True)
    if commands.RETAINED and sys.gettrace() is None and sys.getprofile() is None:  # coverage, cProfile: a normal exit
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`)
                stream.flush()
        os._exit(status)  # every file is closed and every worker joined: `build` saw to that
    sys.exit(status)


def main(argv: list[str] | None = None, exiting: bool = False) -> int:
    """Parse, run, and turn every failure into a message and an exit status (`exiting`: the
    process ends after this, see `entry`)."""
    parser = make_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on a bad command line
    args.exiting = exiting
    try:
        return run(args)
    except ContentError as exc:
        commands.print_diagnostics(exc.errors)
        count = sum(1 for e in exc.errors if e.severity == "error")
        written = "; nothing was written" if args.command == "build" else ""
        print(f"digestgen: {count} error{'s' if count != 1 else ''}{written}", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"digestgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"digestgen: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_INVALID
    except BuildError as exc:
        print(f"digestgen: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("digestgen: interrupted; the output folder was left as it was", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never show a traceback
        if os.environ.get("DIGESTGEN_DEBUG"):
            raise
        print(f"digestgen: internal error ({type(exc).__name__}: {exc}); please report it at {ISSUES_URL}",
              file=sys.stderr)
        return EXIT_INTERNAL
