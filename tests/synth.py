"""Generate a synthetic digest repository of realistic size and shape (tests and benchmarks).

The vocabulary grows with the archive the way real writing does. Words are drawn by Zipf rank
from an effectively open vocabulary (`OPEN_RANKS` ranks; the word at a rank is made on demand and
is the same in every run), so a larger archive keeps meeting words it has not seen, as Heaps' law
describes for real text, instead of cycling through a few thousand. On top of that come the
things that make a real AI/ML archive's vocabulary large: Korean compounds of two stems (written
together or, about one time in five, with a space: `미세조정` / `미세 조정`), particles and verbal
endings, English inflections (-s, -ed, -ing, -ation), model and data set names with versions and
sizes (`Qwen2.5-7B`), numbers with units and percentages, and arXiv ids. A few real words sit at
fixed ranks so that benchmarks can query common, medium and rare terms. `vocabulary(root)`
counts the distinct words of a generated repository.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
from functools import lru_cache
from pathlib import Path

# Real words placed at known frequency ranks (0 = most common).
KO_FIXED = {3: "모델", 12: "학습", 40: "강화학습", 90: "미세조정", 150: "온디바이스", 400: "하이퍼파라미터",
            1500: "동역학", 6000: "증류"}
EN_FIXED = {2: "model", 15: "learning", 60: "reinforcement", 300: "diffusion", 1200: "denoising",
            5000: "distillation"}
PARTICLES = ["을", "를", "이", "가", "은", "는", "의", "에", "에서", "으로", "로", "와", "과", "도", "만", "에는",
             "에서는", "으로는", "보다", "까지", "처럼", "이라는", "에게"]
ENDINGS = ["합니다.", "했습니다.", "됩니다.", "입니다.", "하며", "하고", "해서", "하는", "한", "된", "되는"]
TAGS = ("llm reasoning agents diffusion rlvr safety benchmark multimodal vision robotics retrieval "
        "efficiency on-device alignment data speech code math theory").split()
OPEN_RANKS = 1_000_000  # ranks of the open vocabulary (each language)
_ONSETS = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
_COMMON = "가나다라마바사아자하고노도로모보소오조호구누두루무부수우주후기니디리미비시이지히개대래매새재해학습모델연구방법성능결과실험분석추론생성평가정보처리신경망구조설계최적화표현예측분류검색언어영상음성강화보상정책탐색"
_CONSONANTS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
               "st", "tr", "pr", "gr", "ch", "sh", "th", "bl", "cl"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
_ORGS = ["Qwen", "Llama", "Gemma", "Mistral", "Phi", "DeepSeek", "GPT", "Claude", "Falcon", "OLMo", "Pythia", "T5"]


def _syllable(rng: random.Random) -> str:
    """A Hangul syllable: mostly common ones, sometimes any of the 11,172."""
    if rng.random() < 0.7:
        return rng.choice(_COMMON)
    return chr(0xAC00 + rng.randrange(19) * 588 + rng.randrange(21) * 28 + rng.choice((0, 0, 0, 4, 8, 16, 21)))


@lru_cache(maxsize=None)
def ko_word(rank: int) -> str:
    """The Korean stem at `rank` of the open vocabulary (the same in every run)."""
    for fixed_rank, word in KO_FIXED.items():
        if rank == fixed_rank:
            return word
    rng = random.Random(rank * 2 + 1)
    if rank > 200 and rng.random() < 0.35:  # a compound of two more common stems
        return ko_word(rng.randrange(1, 200)) + ko_word(rng.randrange(1, min(rank, 5000)))
    return "".join(_syllable(rng) for _ in range(rng.choice((2, 2, 2, 3, 3, 4))))


@lru_cache(maxsize=None)
def en_word(rank: int) -> str:
    """The English word at `rank` of the open vocabulary."""
    for fixed_rank, word in EN_FIXED.items():
        if rank == fixed_rank:
            return word
    rng = random.Random(rank * 2)
    word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
    return word + rng.choice(("", "", "", "n", "r", "l", "t", "s", "x"))


class _Zipf:
    """Ranks 0..OPEN_RANKS-1 drawn with probability proportional to 1/(rank+15)^1.35: distinct
    words grow about as the 0.6th power of the text's length (Heaps' law), as in real prose."""

    def __init__(self, exponent: float = 1.35, offset: float = 15):
        self.cum = list(itertools.accumulate(1 / (r + offset) ** exponent for r in range(OPEN_RANKS)))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random, k: int) -> list[int]:
        cum, total, find = self.cum, self.total, bisect.bisect
        return [find(cum, rng.random() * total) for _ in range(k)]


class Writer:
    """Draws Korean and English text from the open Zipf vocabularies."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.zipf = _Zipf()

    def _term(self) -> str:
        """A name with a version or size, a number with a unit, or a percentage."""
        rng = self.rng
        pick = rng.random()
        if pick < 0.4:
            return f"{rng.choice(_ORGS)}{rng.choice(('', '-', ' '))}{rng.randint(1, 4)}.{rng.randint(0, 9)}-{rng.choice((1, 3, 7, 8, 13, 14, 32, 70, 72))}B"
        if pick < 0.7:
            return f"{rng.randint(1, 99)}.{rng.randint(0, 9)}%"
        return f"{en_word(self.zipf.draw(rng, 1)[0] % 3000).upper()[:6]}-{rng.randint(1, 999)}"

    def korean(self, words: int) -> str:
        """Korean sentences: stems (compounds sometimes spaced), particles, endings, terms."""
        rng = self.rng
        out = []
        for index, rank in enumerate(self.zipf.draw(rng, words), 1):
            stem = ko_word(rank)
            if rng.random() < 0.03:
                out.append(self._term() + rng.choice(("", "은", "의", "를")))
                continue
            if rng.random() < 0.04:
                stem = en_word(self.zipf.draw(rng, 1)[0])  # an English term inside Korean text
            elif len(stem) >= 4 and rng.random() < 0.2:  # the compound written with a space
                cut = rng.randint(2, len(stem) - 2)
                stem = stem[:cut] + " " + stem[cut:]
            if index % rng.randint(9, 14) == 0:
                out.append(stem + rng.choice(ENDINGS))
            else:
                out.append(stem + (rng.choice(PARTICLES) if rng.random() < 0.6 else ""))
        return " ".join(out) + "입니다."

    def english(self, words: int) -> str:
        rng = self.rng
        out = []
        for rank in self.zipf.draw(rng, words):
            word = en_word(rank)
            roll = rng.random()
            if roll < 0.03:
                word = self._term()
            elif roll < 0.25:
                word += rng.choice(("s", "ed", "ing", "ation", "er", "ly"))
            out.append(word)
        return " ".join(out).capitalize() + "."

    def paper(self, pid: str) -> str:
        """One paper record: a multi-paragraph summary, 150-300 word abstracts, 1-4 tags."""
        rng = self.rng
        summary = "\n\n".join(self.korean(rng.randint(45, 80)) for _ in range(rng.randint(2, 4)))
        abstract_en = self.english(rng.randint(150, 300))
        abstract_ko = self.korean(rng.randint(120, 220))
        tags = rng.sample(TAGS, rng.randint(1, 4))
        repo = f"  - https://github.com/lab{rng.randint(1, 500)}/{pid.replace('.', '-')}\n" if rng.random() < 0.5 else ""
        indent = lambda text: "\n".join("    " + line if line else "" for line in text.split("\n"))  # noqa: E731
        authors = ", ".join(f"{en_word(rng.randrange(50, 40000)).title()} {en_word(rng.randrange(50, 40000)).title()}"
                            for _ in range(rng.randint(1, 5)))
        title_ko = self.korean(6).removesuffix("입니다.").rstrip(".")
        return (
            f'id: "{pid}"\n'
            f"title:\n  ko: \"{title_ko}\"\n  en: \"{self.english(8).rstrip('.').title()}\"\n"
            f"tldr:\n  ko: \"{self.korean(14)}\"\n"
            f"summary:\n  ko: |\n{indent(summary)}\n"
            f"abstract:\n  ko: |\n{indent(abstract_ko)}\n  en: |\n{indent(abstract_en)}\n"
            f"links:\n  paper: https://arxiv.org/abs/{pid}\n  pdf: https://arxiv.org/pdf/{pid}\n"
            + (f"repos:\n{repo}" if repo else "")
            + f"authors: [{authors}]\n"
            f'arxiv: "{pid}"\n'
            f"tags: [{', '.join(tags)}]\n"
        )


def paper_id(number: int, week: int, start: dt.date) -> str:
    """An arXiv-like id (YYMM.NNNNN) from the week a paper appears in."""
    day = start + dt.timedelta(weeks=week)
    return f"{day.year % 100:02d}{day.month:02d}.{10000 + number % 90000:05d}"


def generate(root: Path, papers: int, per_issue: int = 10, start: dt.date = dt.date(2016, 1, 4),
             seed: int = 7) -> list[str]:
    """Write `papers` records in weekly issues of `per_issue` under `root`; return the ids."""
    writer = Writer(seed)
    (root / "papers").mkdir(parents=True, exist_ok=True)
    (root / "digests").mkdir(parents=True, exist_ok=True)
    ids = []
    for number in range(papers):
        pid = paper_id(number, number // per_issue, start)
        ids.append(pid)
        (root / "papers" / f"{pid}.yaml").write_text(writer.paper(pid), encoding="utf-8")
    for week in range((papers + per_issue - 1) // per_issue):
        day = start + dt.timedelta(weeks=week)
        chunk = ids[week * per_issue:(week + 1) * per_issue]
        listed = "\n".join(f'  - "{pid}"' for pid in chunk)
        intro = "\n\n".join(writer.korean(60) for _ in range(2))
        (root / "digests" / f"{day.isoformat()}.md").write_text(
            f"---\npapers:\n{listed}\n---\n{intro}\n", encoding="utf-8")
    return ids


_WORD = re.compile(r"[\w.%-]+")


def vocabulary(root: Path) -> int:
    """Distinct words (lower-cased, split on spaces and punctuation as a search index would) in the
    records and issues under `root`."""
    seen: set[str] = set()
    for path in itertools.chain((root / "papers").glob("*.yaml"), (root / "digests").glob("*.md")):
        seen.update(w.strip(".-%").lower() for w in _WORD.findall(path.read_text(encoding="utf-8")))
    seen.discard("")
    return len(seen)
