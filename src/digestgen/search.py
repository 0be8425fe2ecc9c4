"""Search: index the written site with the Pagefind binary that the `pagefind[bin]` package ships."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

from digestgen.config import Settings
from digestgen.errors import BuildError

BUNDLE_DIR = "pagefind"


def executable() -> Path:
    """The Pagefind binary (PAGEFIND_BINARY_PATH, else the one from pagefind_bin)."""
    from pagefind.service import get_executable

    found = get_executable()
    if found is None or not Path(found).exists():
        raise BuildError("the Pagefind binary is missing: install digestgen with its dependencies "
                         "(pip install 'pagefind[bin]')")
    return Path(found)


def index(site: Path, settings: Settings) -> None:
    """Run Pagefind over the written `site`, writing the bundle to `site/pagefind/`."""
    command = [str(executable()), "--site", str(site), "--output-subdir", BUNDLE_DIR, "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BuildError(f"Pagefind failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")


def indexer(settings: Settings) -> Callable[[Path], None]:
    """A `finish` step for output.publish that indexes the staged site."""
    return lambda site: index(site, settings)
