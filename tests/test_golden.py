"""Golden output: a small repository renders to exactly the files in tests/golden/.

Regenerate with `python tests/regen_golden.py` after an intended change, and review the diff.
"""

from __future__ import annotations

import difflib

import pytest

from conftest import HERE, tree
from digestgen import build, config
from digestgen.render import static_files

FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"


ASSETS = "assets/"  # copied byte for byte from the theme: compared with it, not kept as copies


def render_fixture(name: str) -> dict[str, bytes]:
    root = FIXTURES / name
    settings = config.load(root)
    digest, _ = build.load(root, settings)
    return build.render(root, settings, digest)


@pytest.mark.parametrize("name", ["basic", "search"])
def test_golden_tree(name):
    got = render_fixture(name)
    assert {p: d for p, d in got.items() if p.startswith(ASSETS)} == static_files()
    got = {p: d for p, d in got.items() if not p.startswith(ASSETS)}
    want = tree(GOLDEN / name)
    assert sorted(got) == sorted(want), "file list differs; run python tests/regen_golden.py and review"
    for path in sorted(want):
        if got[path] != want[path]:
            diff = "\n".join(difflib.unified_diff(want[path].decode().splitlines(), got[path].decode().splitlines(),
                                                  f"golden/{path}", f"built/{path}", lineterm="", n=2))
            pytest.fail(f"{path} differs from the golden copy:\n{diff[:4000]}")
