"""Writing one file so that readers see the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write(path: Path, data: bytes, *, exclusive: bool = False, sync: bool = False) -> None:
    """Write `data` into a temporary file beside `path`, then rename it over `path`.

    With `exclusive`, link it instead, which raises FileExistsError if `path` exists (never
    overwrite). `sync` flushes the data to disk before the rename (editors' files). A replaced
    file keeps its permissions; on any failure the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        if exclusive:
            os.link(temp, path)
            return
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
