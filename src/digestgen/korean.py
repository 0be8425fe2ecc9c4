"""Korean for search: strip particles and endings, and derive index-only tokens.

Pagefind splits Korean on spaces and matches word prefixes, so `하이퍼파라미터가` does not
find `하이퍼파라미터를`, and `디바이스` does not find `온디바이스`. We close the gap on both sides:

- at index time, each page gets extra tokens that readers never see: the stem of every Hangul
  word (particle removed), the tails of compound stems (`온디바이스` -> `디바이스`, `바이스`), and
  Latin terms glued to Hangul (`디노이징(denoising)은` -> `denoising`);
- at query time, the search page strips the same particles from each Hangul query word
  (the list is written into the site from `PARTICLES` below, so both sides agree).
"""

from __future__ import annotations

import json
import re

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

_HANGUL = "\uac00-\ud7a3"
_RUN = re.compile(rf"[{_HANGUL}]+|[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*|[0-9]+(?:\.[0-9]+)*")
_IS_HANGUL = re.compile(rf"^[{_HANGUL}]+$")


def stem(word: str) -> str:
    """`하이퍼파라미터를` -> `하이퍼파라미터`; words that are not Hangul come back unchanged."""
    if not _IS_HANGUL.match(word):
        return word
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= MIN_STEM:
            return word[: -len(particle)]
    return word


def index_tokens(text: str) -> list[str]:
    """The extra tokens for `text` that Pagefind's own splitting would miss, sorted and unique."""
    tokens: set[str] = set()
    for chunk in text.split():
        runs = _RUN.findall(chunk)
        mixed = len(runs) > 1 or (runs and runs[0] != chunk)
        for run in runs:
            if not _IS_HANGUL.match(run):
                if mixed:
                    tokens.add(run.lower())  # `(denoising)` inside a Korean chunk
                continue
            if len(run) < MIN_STEM:
                continue  # a lone particle after a Latin term: `LLM의`
            base = stem(run)
            if base != run or mixed:
                tokens.add(base)
            if len(base) <= MAX_WORD:
                for start in range(1, len(base) - MIN_TAIL + 1):
                    tokens.add(base[start:])
    return sorted(tokens)


def particles_js() -> str:
    """The particle list as a JavaScript module body for the search page."""
    return (f"export const PARTICLES = {json.dumps(PARTICLES, ensure_ascii=False)};\n"
            f"export const MIN_STEM = {MIN_STEM};\n")
