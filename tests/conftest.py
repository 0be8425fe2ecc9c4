"""Shared fixtures: small repositories written into tmp_path, and a way to run the CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PROJECT = HERE.parent

GOOD_PAPER = """\
id: "2507.16075"
title:
  ko: 테스트 시점 확산 기반 딥 리서처
  en: Deep Researcher with Test-Time Diffusion
summary:
  ko: 초안을 검색으로 되풀이해 다듬는 에이전트입니다.
links:
  paper: https://arxiv.org/abs/2507.16075
tags: [agents]
"""

GOOD_ISSUE = """\
---
papers:
  - "2507.16075"
---
이번 주의 소개 글입니다.
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} under root."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data) if data.startswith("\n") else data, encoding="utf-8")
    return root


@pytest.fixture
def make_repo(tmp_path):
    """make_repo(files, base=True): a repository in tmp_path/repo; `base` adds one good paper and issue."""

    def make(files: dict[str, str | bytes] | None = None, base: bool = True) -> Path:
        root = tmp_path / "repo"
        root.mkdir(exist_ok=True)
        (root / "papers").mkdir(exist_ok=True)
        (root / "digests").mkdir(exist_ok=True)
        if base:
            write(root, {"papers/2507.16075.yaml": GOOD_PAPER, "digests/2025-07-21.md": GOOD_ISSUE})
        return write(root, files or {})

    return make


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m digestgen ARGS` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "digestgen", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=300)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder as {relative posix path: bytes}."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".digestgen" not in p.relative_to(folder).parts}
