"""Write a built site atomically: a fresh folder beside the output, then one swap.

Readers of the output folder see either the previous site or the new one, never a mix:
everything is written into `.NAME.new-XXXX` next to it, then exchanged with the old
folder in one `renameat2(RENAME_EXCHANGE)` call where Linux offers it (two renames
elsewhere), and the old folder is removed. A lock file serialises concurrent builds.
Incremental builds update the folder in place instead: only the changed files, each
replaced whole by a rename. Both are a `Change`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from digestgen import atomic
from digestgen.errors import BuildError, UsageError

MARKER = ".digestgen-output"  # says "this folder was written by digestgen and may be replaced"
_RENAME_EXCHANGE = 2


def check_target(out: Path, root: Path) -> None:
    """Refuse to replace a folder that digestgen did not write, or one that holds the sources."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents or out == Path(out.anchor):
        raise UsageError(f"refusing to write the site to {out}: it contains the content")
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UsageError(f"refusing to replace {out}: it is not empty and was not written by digestgen "
                         f"(remove it, or choose another --out)")


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock for `out` so that two builds never mix their output."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"digestgen: waiting for another build of {out} to finish…", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd = -100
    result = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _targets(folder: Path, rels) -> Iterator[tuple[str, Path]]:
    """(rel, folder / rel) in sorted order, each parent folder made once."""
    made: set[Path] = set()
    for rel in sorted(rels):
        target = folder / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        yield rel, target


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Write {relative path: bytes} under `folder`."""
    for rel, target in _targets(folder, files):
        target.write_bytes(files[rel])


def written_by(out: Path) -> str | None:
    """The fingerprint in `out`'s marker: which build wrote the folder (None if unknown)."""
    try:
        return (out / MARKER).read_text() or None
    except (OSError, UnicodeDecodeError):
        return None


UPDATING = "updating"  # the marker while files are being replaced in place


class Change:
    """A change to the output folder `out`, prepared in a staging folder beside it, then applied.

    A *fresh* change replaces `out` with exactly the staged files: `apply` leaves them in the
    staging folder (returned, for the search bundle) and `finish` swaps it in with one atomic
    exchange. An *update* replaces only the staged files and deletes the `removed` ones: `apply` renames each staged file over its old version (so every file is always whole, old or
    new) and returns `out`; the marker says UPDATING meanwhile, so a build killed in that short
    window leaves a marker that no cache matches and the next build writes a fresh folder. On any
    failure before `finish`, the staging folder is removed and `out` is left as it was (or, for an
    update interrupted while renaming, marked UPDATING). Use it as a context manager.
    """

    def __init__(self, out: Path, fresh: bool):
        self.out, self.fresh = out, fresh
        self.written: set[str] = set()
        out.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))

    def __enter__(self) -> "Change":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def write(self, files: dict[str, bytes]) -> None:
        """Stage `files` ({relative path: bytes})."""
        with self._errors():
            write_tree(self.staging, files)
        self.written.update(files)

    def apply(self, removed: list[str] = ()) -> Path:
        """Put the staged files in place (see the class); the folder that now holds the site."""
        if self.fresh:
            return self.staging
        with self._errors():
            atomic.write(self.out / MARKER, UPDATING.encode())
            for rel, target in _targets(self.out, self.written):
                os.replace(self.staging / rel, target)
            for rel in sorted(removed, reverse=True):
                (self.out / rel).unlink(missing_ok=True)
                folder = (self.out / rel).parent
                while folder != self.out and not any(folder.iterdir()):
                    folder.rmdir()
                    folder = folder.parent
        return self.out

    def finish(self, stamp: str) -> None:
        """Mark the site as the build `stamp` wrote it, and (for a fresh change) swap it in."""
        with self._errors():
            if self.fresh:
                (self.staging / MARKER).write_text(stamp)
                _swap_in(self.staging, self.out)
            else:
                atomic.write(self.out / MARKER, stamp.encode())

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise BuildError(f"could not write the site to {self.out}: {exc.strerror or exc}") from None


def _swap_in(staging: Path, out: Path) -> None:
    os.chmod(staging, 0o755)
    if not out.exists():
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old site
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / "site")
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(out: Path) -> None:
    """Tidy up after a killed build: restore a moved-away site, remove staging folders."""
    for leftover in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists() and (leftover / "site").is_dir():
            os.rename(leftover / "site", out)
        shutil.rmtree(leftover, ignore_errors=True)
    for pattern in (f".{out.name}.new-*", f".{out.name}.search-*"):  # staging, search scratch
        for leftover in out.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)
