"""The command line: exit codes, help with examples, and the README documents every command."""

from __future__ import annotations

import argparse
import re

import pytest

from conftest import PROJECT, run_cli
from digestgen.cli import make_parser


def _commands() -> list[str]:
    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_top_level_help_has_an_example():
    done = run_cli("--help")
    assert done.returncode == 0
    examples = done.stdout.split("examples:\n", 1)[1]  # the epilog, not argparse's usage line
    assert "  digestgen build" in examples


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(command):
    done = run_cli(command, "--help")
    assert done.returncode == 0
    assert re.search(rf"^examples?:\n(  .*\n)*  digestgen {command}\b", done.stdout, re.M), done.stdout


@pytest.mark.parametrize("command", _commands())
def test_readme_documents_every_command(command):
    assert f"digestgen {command}" in (PROJECT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("args,message", [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["build", "--bogus"], "unrecognized arguments: --bogus"),
    (["build", "--base-url", "ftp://x"], "--base-url 'ftp://x': expected a path like /digest/ or an http(s) URL"),
    (["validate", "--root", "/no/such/folder"], "--root /no/such/folder: no such folder"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_command_lines_exit_2(args, message):
    done = run_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_ok_exits_0(make_repo):
    done = run_cli("validate", "--root", str(make_repo()))
    assert done.returncode == 0
    assert done.stderr == "ok: 1 papers, 1 issues\n"


def test_invalid_exits_1_without_traceback(make_repo):
    root = make_repo({"papers/bad.yaml": b"\x00\x01 not yaml: ["})
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    assert done.stderr.startswith("papers/bad.yaml:1:1: error: ")
    assert "Traceback" not in done.stderr
