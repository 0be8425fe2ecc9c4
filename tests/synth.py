"""Generate a synthetic digest repository of realistic size (tests and benchmarks)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

KO_WORDS = ("대형 언어 모델은 추론 능력을 강화학습으로 높이는 방법을 온디바이스 환경에서 검증했습니다 "
            "저자들은 하이퍼파라미터를 조정하며 동역학 모델과 확산 과정을 결합한 새로운 프레임워크를 제안합니다 "
            "실험 결과 벤치마크에서 기존 방법보다 우수한 성능을 보였고 데이터 효율성과 안정성이 개선되었습니다 "
            "멀티모달 입력을 다루는 에이전트가 도구를 호출하고 계획을 세우며 긴 문맥을 요약합니다 "
            "트랜스포머 구조의 어텐션을 분석하여 학습 신호와 보상 모델의 한계를 설명합니다").split()
EN_WORDS = ("large language models reasoning reinforcement learning diffusion agents benchmark "
            "we propose a novel framework that improves efficiency and stability across tasks "
            "experiments show strong results on math code and multimodal evaluation with fewer samples "
            "attention transformer retrieval planning tool use long context alignment safety").split()
TAGS = ("llm reasoning agents diffusion rlvr safety benchmark multimodal vision robotics "
        "retrieval efficiency on-device alignment data").split()


def _sentence(rng: random.Random, words, n: int, end: str) -> str:
    return " ".join(rng.choice(words) for _ in range(n)) + end


def _paragraph(rng, words, sentences: int, end: str) -> str:
    return " ".join(_sentence(rng, words, rng.randint(8, 16), end) for _ in range(sentences))


def paper_yaml(pid: str, rng: random.Random) -> str:
    """One paper record with a multi-paragraph summary and 150-300 word abstracts."""
    summary = "\n\n".join(_paragraph(rng, KO_WORDS, 4, "니다.") for _ in range(rng.randint(2, 3)))
    abstract_en = " ".join(rng.choice(EN_WORDS) for _ in range(rng.randint(150, 300))) + "."
    abstract_ko = _paragraph(rng, KO_WORDS, 10, "니다.")
    tags = rng.sample(TAGS, rng.randint(1, 4))
    repo = f"  - https://github.com/lab{rng.randint(1, 500)}/{pid.replace('.', '-')}\n" if rng.random() < 0.5 else ""
    indent = lambda text: "\n".join("    " + line if line else "" for line in text.split("\n"))
    return (
        f'id: "{pid}"\n'
        f"title:\n  ko: {_sentence(rng, KO_WORDS, 5, '')}\n  en: {_sentence(rng, EN_WORDS, 7, '').title()}\n"
        f"tldr:\n  ko: {_sentence(rng, KO_WORDS, 12, '니다.')}\n"
        f"summary:\n  ko: |\n{indent(summary)}\n"
        f"abstract:\n  ko: |\n{indent(abstract_ko)}\n  en: |\n{indent(abstract_en)}\n"
        f"links:\n  paper: https://arxiv.org/abs/{pid}\n  pdf: https://arxiv.org/pdf/{pid}\n"
        + (f"repos:\n{repo}" if repo else "")
        + f"authors: [Author {rng.randint(1, 99)}, Author {rng.randint(100, 199)}]\n"
        f'arxiv: "{pid}"\n'
        f"tags: [{', '.join(tags)}]\n"
    )


def generate(root: Path, papers: int, per_issue: int = 10, start: dt.date = dt.date(2016, 1, 4),
             seed: int = 7) -> list[str]:
    """Write `papers` records in weekly issues of `per_issue` under `root`; return the ids."""
    rng = random.Random(seed)
    (root / "papers").mkdir(parents=True, exist_ok=True)
    (root / "digests").mkdir(parents=True, exist_ok=True)
    ids = []
    for number in range(papers):
        week = number // per_issue
        pid = f"{(start.year % 100 + week // 52):02d}{(week % 52) // 5 + 1:02d}.{10000 + number:05d}"
        ids.append(pid)
        (root / "papers" / f"{pid}.yaml").write_text(paper_yaml(pid, rng), encoding="utf-8")
    for week in range((papers + per_issue - 1) // per_issue):
        day = start + dt.timedelta(weeks=week)
        chunk = ids[week * per_issue:(week + 1) * per_issue]
        listed = "\n".join(f'  - "{pid}"' for pid in chunk)
        intro = "\n\n".join(_paragraph(rng, KO_WORDS, 3, "니다.") for _ in range(2))
        (root / "digests" / f"{day.isoformat()}.md").write_text(
            f"---\npapers:\n{listed}\n---\n{intro}\n", encoding="utf-8")
    return ids
