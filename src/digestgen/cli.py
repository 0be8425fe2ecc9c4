"""The command line: a thin adapter from arguments to the pipeline, and from errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from digestgen import __version__, build as pipeline
from digestgen.config import normalize_base_url
from digestgen.errors import BuildError, ContentError, UsageError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70
ISSUES_URL = "https://github.com/digestgen/digestgen/issues"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def _root_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                        help="the digest repository (default: the current folder)")
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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser(
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

    validate = commands.add_parser(
        "validate", help="check the content and report every problem",
        description="Check every paper record and issue file against the content format and report each "
                    "problem as path:line:col: error: message. Exit 0 when valid, 1 when not.",
        epilog="example:\n  digestgen validate --strict",
    )
    _root_arg(validate)
    return parser


def _print_diagnostics(problems) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Carry out one parsed command; return the exit status."""
    root: Path = args.root
    if not root.is_dir():
        raise UsageError(f"--root {root}: no such folder")
    base_url = getattr(args, "base_url", None)
    if base_url is not None and normalize_base_url(base_url) is None:
        raise UsageError(f"--base-url {base_url!r}: expected a path like /digest/ or an http(s) URL")
    settings = pipeline.settings_for(root, base_url)
    if args.command == "validate":
        digest, warnings = pipeline.load(root, settings, strict=args.strict)
        _print_diagnostics(warnings)
        print(f"ok: {len(digest.papers)} papers, {len(digest.issues)} issues", file=sys.stderr)
        return EXIT_OK
    out = args.out if args.out is not None else root / "site"
    report = pipeline.build(root, out, settings, drafts=args.drafts, strict=args.strict,
                            search=not args.no_search)
    _print_diagnostics(report.warnings)
    print(f"built {report.pages} pages ({report.bytes / 1e6:.1f} MB) into {out} in {report.seconds:.2f}s",
          file=sys.stderr)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run, and turn every failure into a message and an exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message on a bad command line
    try:
        return run(args)
    except ContentError as exc:
        _print_diagnostics(exc.errors)
        count = sum(1 for e in exc.errors if e.severity == "error")
        written = "; nothing was written" if args.command == "build" else ""
        print(f"digestgen: {count} error{'s' if count != 1 else ''}{written}", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"digestgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
