"""Korean (and English) for search: the tokens Pagefind indexes, and the same rules for queries.

Pagefind splits text on spaces and matches word prefixes, so `하이퍼파라미터가` does not find
`하이퍼파라미터를`, and `디바이스` does not find `온디바이스`. And every surface form of a word
(`모델이`, `모델을`, `모델의` …) is a word of its own in the index, which is most of what makes a
Korean index large and slow to build. So the search documents hold, instead of the readable text,
its *tokens* (`index_tokens`):

- each Hangul word stemmed (particles and common endings stripped; `PARTICLES`), each other word
  lower-cased; mixed words are split (`디노이징(denoising)은` -> `디노이징`, `denoising`);
- after them, once per document, the tails of compound stems (`온디바이스` -> `디바이스`, `바이스`),
  so that a part of a compound finds it, and `미세 조정` (both parts) finds `미세조정`;
- arXiv ids as one token each (`arxiv_token`: `2507.16075`, `arXiv:2507.16075v2` -> `arxiv250716075`).

At query time the search page applies the same rules (the particle list is written into the site
from `PARTICLES`, so both sides agree), rewrites arXiv ids the same way, and searches a long
Korean word also split in two (`미세조정` -> `미세 조정`), which finds the spaced spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain

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
MIN_TAIL = 2  # shortest compound tail that is indexed
MAX_WORD = 12  # longer runs are not split into tails (URLs, runs without spaces)

_PARTICLE_SET = frozenset(PARTICLES)
ARXIV = re.compile(r"(?i)(?:arxiv:\s*|arxiv\.org/(?:abs|pdf)/)?\b((?:[0-9]{4}\.[0-9]{4,5})|(?:[a-z]+(?:-[a-z]+)?(?:\.[a-z]{2})?/[0-9]{7}))(?:v[0-9]+)?\b")
_NEW_ID = re.compile(r"(?i)\b[0-9]{4}\.[0-9]{4,5}(?:v[0-9]+)?\b")
_OLD_HINT = re.compile(r"/[0-9]{7}")
_DIGITS = str.maketrans("0123456789", "abcdefghij")
_SPLIT = re.compile(r"[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+")
_TRIM = "\"'()[]{}<>.,!?;:`*_~#|=\u201c\u201d\u2018\u2019\u00b7\u2026"
_LINK = re.compile(r"\]\([^)\s]*\)|https?://\S+|<[^>]*>")
_LONGEST = max(map(len, PARTICLES))
_HANGUL = "\uac00-\ud7a3"
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


def arxiv_token(identifier: str) -> str:
    """The one index token for an arXiv id in any common form, or '' (`2507.16075v2` ->
    `arxivcfahbgahf`): letters only, digits written as a-j, because Pagefind also indexes the
    parts of a word that mixes letters and digits, and those would match other papers' ids."""
    found = ARXIV.search(identifier or "")
    return "arxiv" + re.sub(r"[^a-z]", "", found.group(1).lower().translate(_DIGITS)) if found else ""


@lru_cache(maxsize=262144)
def _words(chunk: str) -> tuple[str, ...]:
    """The searchable words of one space-separated chunk: Hangul runs stemmed, the rest lower-cased
    and trimmed of punctuation; a lone particle after a Latin term (`LLM의`) is dropped."""
    words = []
    for run in _SPLIT.findall(chunk):
        if _IS_HANGUL.match(run):
            if words and run in _PARTICLE_SET:
                continue
            words.append(stem(run))
        else:
            run = run.strip(_TRIM).lower()
            if run and any(c.isalnum() for c in run):
                words.append(run)
    return tuple(words)


def index_tokens(text: str) -> list[str]:
    """What Pagefind indexes for `text`: each of its words once, in order of first use (see
    `_words`), then the compound tails of its Hangul stems and the arXiv ids it mentions (see the
    module docstring). Once each: a page's index entries and Pagefind's memory grow with its
    distinct words, and a repeated word would only make the fragment a first search loads bigger."""
    words = dict.fromkeys(chain.from_iterable(map(_words, _LINK.sub(" ", text).split())))
    extra = set(chain.from_iterable(map(_tails_of, words)))
    extra.update(map(arxiv_token, _ids(text)))
    extra.difference_update(words)
    return [*words, *sorted(extra)]


def _ids(text: str) -> list[str]:
    """The arXiv ids in `text` (what `ARXIV` finds, found faster: a new-style id is digits, an
    old-style one has a slash and seven digits)."""
    found = _NEW_ID.findall(text)
    if _OLD_HINT.search(text):
        found += [m.group(0) for m in ARXIV.finditer(text) if "/" in m.group(1)]
    return found


@lru_cache(maxsize=262144)
def _tails_of(word: str) -> tuple[str, ...]:
    if not _IS_HANGUL.match(word) or len(word) > MAX_WORD:
        return ()
    return tuple(word[start:] for start in range(1, len(word) - MIN_TAIL + 1))



