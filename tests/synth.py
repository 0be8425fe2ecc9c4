"""Generate a synthetic digest repository of realistic size and shape (tests and benchmarks).

Text is drawn from Zipf-distributed vocabularies (thousands of Korean noun stems, each often
followed by a particle, and English words), so that word frequencies, and therefore index
sizes, look like real writing rather than a handful of words repeated on every page. A few
real words sit at fixed ranks so that benchmarks can query common, medium and rare terms.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path

# Real words placed at known frequency ranks (0 = most common).
KO_FIXED = {3: "모델", 12: "학습", 40: "강화학습", 150: "온디바이스", 400: "하이퍼파라미터", 1500: "동역학"}
EN_FIXED = {2: "model", 15: "learning", 60: "reinforcement", 300: "diffusion", 1200: "denoising"}
PARTICLES = ["을", "를", "이", "가", "은", "는", "의", "에", "에서", "으로", "와", "과", "도", "만", "에는"]
TAGS = ("llm reasoning agents diffusion rlvr safety benchmark multimodal vision robotics retrieval "
        "efficiency on-device alignment data speech code math theory").split()
_SYLLABLES = "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후기니디리미비시이지치키티피히개내대래매배새애재채해학습모델연구방법데이터성능결과실험분석추론생성평가".replace(" ", "")
_LETTERS = "abcdefghiklmnoprstuvw"


def _vocabulary(rng: random.Random, size: int, make, fixed: dict[int, str]) -> list[str]:
    words: list[str] = []
    seen = set(fixed.values())
    while len(words) < size - len(fixed):
        word = make(rng)
        if word not in seen:
            seen.add(word)
            words.append(word)
    for rank, word in sorted(fixed.items()):
        words.insert(rank, word)
    return words


def _ko_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 3, 4))))


def _en_word(rng: random.Random) -> str:
    return "".join(rng.choice(_LETTERS) for _ in range(rng.randint(3, 10)))


class Writer:
    """Draws Korean and English text with Zipf word frequencies."""

    def __init__(self, seed: int = 7, ko_size: int = 8000, en_size: int = 8000):
        self.rng = random.Random(seed)
        self.ko = _vocabulary(self.rng, ko_size, _ko_word, KO_FIXED)
        self.en = _vocabulary(self.rng, en_size, _en_word, EN_FIXED)
        self.ko_cum = list(itertools.accumulate(1 / (r + 1) ** 1.07 for r in range(len(self.ko))))
        self.en_cum = list(itertools.accumulate(1 / (r + 1) ** 1.07 for r in range(len(self.en))))

    def korean(self, words: int) -> str:
        """Korean sentences: stems, often with a particle, ending in '-니다.'"""
        stems = self.rng.choices(self.ko, cum_weights=self.ko_cum, k=words)
        out = []
        for index, stem in enumerate(stems, 1):
            if index % self.rng.randint(9, 14) == 0:
                out.append(stem + "합니다.")
            else:
                out.append(stem + (self.rng.choice(PARTICLES) if self.rng.random() < 0.6 else ""))
        return " ".join(out) + "입니다."

    def english(self, words: int) -> str:
        chosen = self.rng.choices(self.en, cum_weights=self.en_cum, k=words)
        return " ".join(chosen).capitalize() + "."

    def paper(self, pid: str) -> str:
        """One paper record: a multi-paragraph summary, 150-300 word abstracts, 1-4 tags."""
        rng = self.rng
        summary = "\n\n".join(self.korean(rng.randint(45, 80)) for _ in range(rng.randint(2, 4)))
        abstract_en = self.english(rng.randint(150, 300))
        abstract_ko = self.korean(rng.randint(120, 220))
        tags = rng.sample(TAGS, rng.randint(1, 4))
        repo = f"  - https://github.com/lab{rng.randint(1, 500)}/{pid.replace('.', '-')}\n" if rng.random() < 0.5 else ""
        indent = lambda text: "\n".join("    " + line if line else "" for line in text.split("\n"))  # noqa: E731
        return (
            f'id: "{pid}"\n'
            f"title:\n  ko: {self.korean(6).rstrip('.')}\n  en: {self.english(8).rstrip('.').title()}\n"
            f"tldr:\n  ko: {self.korean(14)}\n"
            f"summary:\n  ko: |\n{indent(summary)}\n"
            f"abstract:\n  ko: |\n{indent(abstract_ko)}\n  en: |\n{indent(abstract_en)}\n"
            f"links:\n  paper: https://arxiv.org/abs/{pid}\n  pdf: https://arxiv.org/pdf/{pid}\n"
            + (f"repos:\n{repo}" if repo else "")
            + f"authors: [Author {rng.randint(1, 999)}, Author {rng.randint(1000, 1999)}]\n"
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
