"""Problems found in content, as data that knows where it happened."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourceError:
    """One problem at a place in a source file (1-based line and column)."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


class ContentError(Exception):
    """The content is invalid; carries every problem found, sorted by place."""

    def __init__(self, errors: list[SourceError]):
        super().__init__(f"{len(errors)} problem(s) in the content")
        self.errors = sorted(errors)


class UsageError(Exception):
    """The command line or the environment asked for something impossible (exit 2)."""


class BuildError(Exception):
    """A build step failed for a reason outside the content (exit 1), e.g. a template error."""
