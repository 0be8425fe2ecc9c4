"""The build's memory budget: what it may hold (the `memory` setting, or half of the memory the
machine has available when the build starts), what it holds now, and how many forked render
workers fit beside it. The search index's slices are planned in `pfindex.plan_slices`.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from digestgen.errors import BuildError

FORK_MIN = 400  # items worth forking workers for (reading papers, rendering tasks)

# A forked render worker comes to hold up to this share of its parent's memory as its own: it
# touches the objects of the digest, and each touch copies a page (see FRESH_AFTER). Measured as
# the proportional memory of the process tree less the parent's resident size, with workers
# replaced every FRESH_AFTER items: at 10,000 papers each of two workers held up to 0.38 of its
# parent's size while rendering the search records and 0.32 while rendering the pages; at 20,000
# papers 0.2 and 0.32. (A worker that lived through the whole render came to hold 0.6 and 0.7.)
WORKER_SHARE = 0.5

# What this process comes to hold per task while the workers render, for the files it keeps: a
# search record (its compressed JSON, kept for the index: at 20,000 papers the parent grew by
# 106 MB over 22,000 records while two workers rendered them; 262 MB when they were kept as JSON,
# which went 1% over a 1.5 GB budget unplanned), a page of an update (its HTML, kept until the
# files are replaced at once), or a page streamed to a fresh folder (its hash and link scan only).
KEPT_RECORD, KEPT_PAGE, KEPT_STREAMED = 5 * 2**10, 32 * 2**10, 3 * 2**10


def limit(settings) -> int:
    """Bytes the build may use."""
    if settings.memory:
        return settings.memory * 2**20
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 2 * 2**30


def resident() -> int:
    """Bytes this process holds (its resident size; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def give_back() -> None:
    """Return the memory this process has freed to the system. Freed objects of a few KB (the
    search records, 260 MB at 20,000 papers) stay in the C allocator's free lists, counted in the
    process's size and in every forked worker's, until the allocator trims them: glibc's
    `malloc_trim` does (elsewhere, nothing is done)."""
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL(None).malloc_trim  # the C library this interpreter runs on
        except (OSError, AttributeError, TypeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None  # glibc's malloc_trim, once looked up (False: there is none)


def render_workers(memory: int, held: int, cores: int, kept: int = 0) -> int:
    """How many forked workers render pages: one per core, or as many as fit in `memory` beside
    the `held` bytes of this process and the `kept` bytes of results it will collect from them
    (1: render here, without forking)."""
    if cores < 2:
        return 1
    fit = int((memory - held - kept) // max(1.0, WORKER_SHARE * held))
    return max(1, min(cores, fit))


def can_fork(items: int, workers: int) -> bool:
    """Whether `items` are worth `workers` forked worker processes, and this system forks."""
    return workers >= 2 and items >= FORK_MIN and "fork" in multiprocessing.get_all_start_methods()


# Items a forked worker takes before it is replaced by a fresh fork of this process. A worker's
# own memory grows with what it touches (each object it reads, or allocates beside the parent's,
# copies a page of the parent's), until it holds most of the content as a copy of its own; a
# fresh fork shares it all again. In a cold build at 20,000 papers (22,000 search records, then
# 44,000 pages), the peak of all processes while rendering fell from 1.48 GB (records) and 1.54
# GB (pages) with the same two workers throughout to 0.99 and 1.25 GB, in the same time.
FRESH_AFTER = 2000


def forked(function, items: list, workers: int, doing: str):
    """`function(item)` of each item, in order, from `workers` forked processes, each replaced by
    a fresh one after FRESH_AFTER items. An executor, not a `multiprocessing.Pool`: a worker killed
    (out of memory) fails the build, saying `doing` failed, instead of hanging it."""
    batch = workers * FRESH_AFTER
    try:
        for start in range(0, len(items), batch):
            part = items[start:start + batch]
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                yield from pool.map(function, part, chunksize=max(1, len(part) // (workers * 16)))
    except BrokenProcessPool:
        raise BuildError(f"{doing} failed: a worker process was killed (out of memory? see `memory` in "
                         "digestgen.toml)") from None
