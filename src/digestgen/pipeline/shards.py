"""Shards: how a full search index is split into Pagefind processes within a memory budget.

The documents are indexed in *shards*, each a Pagefind bundle of a contiguous range of dates,
several at once within a memory budget (see `plan` and `memory_budget`); `search.Indexer` runs them.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

# A Pagefind 1.5 process peaks at about PEAK_MB plus PEAK_PER_BYTE times the bytes of the
# documents it indexes (measured on the benchmark corpus; memory grows linearly with the documents).
PEAK_MB = 100
PEAK_PER_BYTE = 31
MIN_SHARD_DOCS = 500  # fewer documents per shard are not worth a process
MAX_SHARDS = 12  # each shard adds its own index chunk per query word to a first search
MEMORY_ENV = "DIGESTGEN_SEARCH_MEMORY"
SHARDS_ENV = "DIGESTGEN_SEARCH_SHARDS"  # a fixed number of shards (tests, measurements)
DATE = re.compile(rb'data-pagefind-sort="date\[content\]" content="([0-9-]+)"')


def available_mb() -> int:
    """MemAvailable from /proc/meminfo, in MB (4096 where it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4096


def memory_budget(setting: int = 0) -> int:
    """MB that Pagefind's processes may use at once: $DIGESTGEN_SEARCH_MEMORY, else the
    `search_memory` setting, else half of the memory available now."""
    value = os.environ.get(MEMORY_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    if setting > 0:
        return setting
    return max(256, available_mb() // 2)


def estimate_mb(size: int) -> float:
    """Pagefind's estimated peak RSS for documents of `size` bytes."""
    return PEAK_MB + PEAK_PER_BYTE * size / 2**20


def date_of(document: bytes) -> str:
    """The ISO date a search document sorts by ('' without one)."""
    found = DATE.search(document)
    return found.group(1).decode() if found else ""


def _order_key(item: tuple[str, bytes]):
    return (date_of(item[1]), item[0])


def plan(documents: dict[str, bytes], budget: int, cores: int | None = None) -> tuple[list[list[str]], int]:
    """Split documents into shards and say how many to index at once.

    Shards are contiguous ranges of dates, newest first, of (nearly) equal size. Every shard adds
    its own index chunk per query word to a reader's first search, so there are as few as let one
    shard be indexed within `budget` (estimated with `estimate_mb`): readers' payload first, then
    memory, then using every core. Never more than MAX_SHARDS nor fewer than MIN_SHARD_DOCS
    documents each. Returns (the shards as lists of paths, how many Pagefind processes may run
    at once within the budget).
    """
    cores = cores or os.cpu_count() or 1
    total = sum(map(len, documents.values()))
    count = math.ceil((estimate_mb(total) - PEAK_MB) / max(1.0, budget - PEAK_MB))
    count = max(1, min(count, MAX_SHARDS, len(documents) // MIN_SHARD_DOCS))
    forced = os.environ.get(SHARDS_ENV, "").strip()
    if forced.isdigit() and int(forced) > 0:
        count = int(forced)
    ordered = [path for path, _ in sorted(documents.items(), key=_order_key, reverse=True)]
    shards = [ordered[len(ordered) * i // count:len(ordered) * (i + 1) // count] for i in range(count)]
    shards = [shard for shard in shards if shard] or [[]]
    biggest = max(estimate_mb(sum(len(documents[p]) for p in shard)) for shard in shards)
    return shards, max(1, min(cores, len(shards), int(budget // biggest)))
