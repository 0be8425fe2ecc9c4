"""Trying a network request again: the one retry loop of the arXiv and Discourse clients."""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


class Again(Exception):
    """A failure worth another try; its message says what went wrong ('the forum answered HTTP 503')."""


def retried(once: Callable[[], T], retries: int, delay: float, sleep: Callable[[float], None],
            error: Callable[[str], Exception]) -> T:
    """`once()`, tried again while it raises `Again`, up to `retries` more times, waiting `delay`
    seconds, then twice as long each time; then `error(what went wrong)` is raised. Any other
    exception ends the tries at once."""
    for attempt in range(retries + 1):
        try:
            return once()
        except Again as exc:
            problem = str(exc)
        if attempt < retries:
            sleep(delay * 2 ** attempt)
    raise error(f"{problem} (after {retries + 1} tries)")
