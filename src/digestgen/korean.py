"""Korean for search: strip particles and endings, and derive index-only tokens.

Pagefind splits Korean on spaces and matches word prefixes, so `하이퍼파라미터가` does not
find `하이퍼파라미터를`, and `디바이스` does not find `온디바이스`. We close the gap on both sides:

- at index time, each page gets extra tokens that readers never see: the tails of compound
  stems (`온디바이스를` -> `디바이스`, `바이스`) and Latin terms glued to Hangul
  (`디노이징(denoising)은` -> `denoising`). Stems themselves need no token: a stripped query
  (`하이퍼파라미터`) already prefix-matches the word in the text (`하이퍼파라미터를`);
- at query time, the search page strips the same particles from each Hangul query word
  (the list is written into the site from `PARTICLES` below, so both sides agree).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Particles (josa) and common verbal endings, longest first. A word keeps at least
# MIN_STEM syllables, so short nouns ending in 이/가 (아이, 나이) are left alone.
PARTICLES = sorted({
    "이라고는", "에서부터", "으로부터", "에서는", "에게서", "으로는", "으로도", "으로써", "으로서", "이라는",
    "이라고", "이라도", "이라면", "까지는", "부터는", "에서도", "에게는", "와의", "과의", "에의", "에는",
    "에도", "에서", "에게", "한테", "께서", "으로", "로는", "로도", "로써", "로서", "라는", "라고", "이나",
    "이며", "이고", "이다", "이란", "처럼", "보다", "까지", "부터", "마다", "조차", "마저", "만큼", "밖에",
    "이든", "든지", "이면", "라면", "하고", "랑은", "이랑", "입니다", "합니다", "했습니다", "됩니다",
    "하는", "하여", "하며", "해서", "했다", "한다", "된다", "되는", "되어", "되며", "하고", "에",
    "은", "는", "이", "가", "을", "를", "의", "와", "과", "도", "만", "로", "나", "며", "고", "란", "랑",
    "한", "된", "들",
}, key=lambda p: (-len(p), p))
MIN_STEM = 2  # syllables a stem keeps
SENTINEL = "\u2042"  # in search documents, separates readable text from index-only tokens
MIN_TAIL = 2  # shortest compound tail that is indexed
MAX_WORD = 12  # longer runs are not split into tails (URLs, runs without spaces)

_PARTICLE_SET = frozenset(PARTICLES)
_LONGEST = max(map(len, PARTICLES))
_HANGUL = "\uac00-\ud7a3"
_RUN = re.compile(rf"[{_HANGUL}]+|[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*|[0-9]+(?:\.[0-9]+)*")
_IS_HANGUL = re.compile(rf"^[{_HANGUL}]+$")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """`하이퍼파라미터를` -> `하이퍼파라미터`; words that are not Hangul come back unchanged."""
    if not _IS_HANGUL.match(word):
        return word
    for length in range(min(_LONGEST, len(word) - MIN_STEM), 0, -1):
        if word[-length:] in _PARTICLE_SET:
            return word[:-length]
    return word


@lru_cache(maxsize=262144)
def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    """Index-only tokens of one space-separated chunk of text."""
    tokens = []
    runs = _RUN.findall(chunk)
    mixed = len(runs) > 1 or (runs and runs[0] != chunk)
    for run in runs:
        if not _IS_HANGUL.match(run):
            if mixed:
                tokens.append(run.lower())  # `(denoising)` inside a Korean chunk
            continue
        if len(run) < MIN_STEM:
            continue  # a lone particle after a Latin term: `LLM의`
        base = stem(run)
        if mixed and base != chunk:
            tokens.append(base)  # `디노이징(denoising)을`: Pagefind would keep it glued
        if len(base) <= MAX_WORD:
            tokens.extend(base[start:] for start in range(1, len(base) - MIN_TAIL + 1))
    return tuple(tokens)


def index_tokens(text: str) -> list[str]:
    """The extra tokens for `text` that Pagefind's own splitting would miss, sorted and unique."""
    tokens: set[str] = set()
    for chunk in set(text.split()):
        tokens.update(_chunk_tokens(chunk))
    return sorted(tokens)

