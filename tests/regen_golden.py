"""Regenerate tests/golden/: `python tests/regen_golden.py` (then review the diff before committing)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from test_golden import ASSETS, GOLDEN, build_fixture  # noqa: E402
from test_publish import EXPORTS, render_exports  # noqa: E402

if __name__ == "__main__":
    for fixture in ("basic", "search"):
        target = GOLDEN / fixture
        shutil.rmtree(target, ignore_errors=True)
        with tempfile.TemporaryDirectory() as scratch:
            files = build_fixture(fixture, Path(scratch))
        for rel, data in files.items():
            if rel.startswith(ASSETS):
                continue
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_bytes(data)
        print(f"wrote {target.relative_to(HERE.parent)}")
    EXPORTS.mkdir(parents=True, exist_ok=True)
    for name, data in render_exports().items():
        (EXPORTS / name).write_bytes(data)
    print(f"wrote {EXPORTS.relative_to(HERE.parent)}")
