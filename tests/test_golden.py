"""Golden output: a small repository builds to exactly the files in tests/golden/ (through `build.build`).

Regenerate with `python tests/regen_golden.py` after an intended change, and review the diff.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from conftest import HERE, tree
from digestgen.pipeline import build, output
from digestgen import config
from digestgen.pipeline.render import static_files

FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"


ASSETS = "assets/"  # copied byte for byte from the theme: compared with it, not kept as copies


def build_fixture(name: str, scratch: Path) -> dict[str, bytes]:
    """The site `digestgen build --no-search` writes for a copy of tests/fixtures/NAME (without its marker)."""
    root = scratch / name
    shutil.copytree(FIXTURES / name, root, ignore=shutil.ignore_patterns(".digestgen"))
    build.build(root, scratch / f"{name}-site", config.load(root), search=False)
    files = tree(scratch / f"{name}-site")
    del files[output.MARKER]
    return files


@pytest.mark.parametrize("name", ["basic", "search"])
def test_golden_tree(name, tmp_path):
    got = build_fixture(name, tmp_path)
    assert {p: d for p, d in got.items() if p.startswith(ASSETS)} == static_files()
    got = {p: d for p, d in got.items() if not p.startswith(ASSETS)}
    want = tree(GOLDEN / name)
    assert sorted(got) == sorted(want), "file list differs; run python tests/regen_golden.py and review"
    for path in sorted(want):
        if got[path] != want[path]:
            diff = "\n".join(difflib.unified_diff(want[path].decode().splitlines(), got[path].decode().splitlines(),
                                                  f"golden/{path}", f"built/{path}", lineterm="", n=2))
            pytest.fail(f"{path} differs from the golden copy:\n{diff[:4000]}")
