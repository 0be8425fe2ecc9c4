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
    file keeps its permissions, a new one gets the user's usual mode (0644 under umask 022, not
    mkstemp's 0600); on any failure the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.fchmod(fd, path.stat().st_mode & 0o777)
        except FileNotFoundError:
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        if exclusive:
            os.link(temp, path)
            return
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
