"""YAML's traps for editors writing prose (issue 12).

Each trap is one message at the line of the mistake, saying what YAML understood and how to write
it instead (with a Korean hint); exit 1, no traceback, nothing written. A ` #` that cuts a text short
is a warning that `--strict` turns into an error. What `add` and `new` write survives any characters.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import GOOD_ISSUE, GOOD_PAPER, PROJECT, run_cli, tree, write
from digestgen.pipeline import content
from digestgen.tools import editor
from digestgen.tools.arxivapi import Paper
from digestgen.config import Settings
from digestgen.pipeline.kinds import Checker
from digestgen.pipeline.schema import PAPER
from digestgen.pipeline.sources import read_yaml_file

P = "papers/2507.16075.yaml"
I = "digests/2025-07-21.md"

# A finished record of 30 lines; each trap replaces some of its lines.
RECORD = """\
id: "2507.16075"
title:
  ko: 테스트 시점 확산 기반 딥 리서처
  en: Deep Researcher with Test-Time Diffusion
tldr:
  ko: 초안을 검색으로 되풀이해 다듬는 에이전트.
summary:
  ko: |
    첫 문단입니다. 연구 보고서 작성을
    확산 과정으로 봅니다.

    둘째 문단입니다. 초안을 잡고
    검색으로 고쳐 나갑니다.
abstract:
  ko: |
    초록 번역의 첫 줄.
    초록 번역의 둘째 줄.
  en: |
    Research agents stall on long reports.
    We treat drafting as diffusion.
links:
  paper: https://arxiv.org/abs/2507.16075
  pdf: https://arxiv.org/pdf/2507.16075
repos:
  - https://github.com/example/ttd-dr
authors:
  - "Rujun Han"
  - "Yanfei Chen"
published: 2025-07-21
tags: [agents]
"""


def record(**lines: str) -> dict[str, str]:
    """RECORD with line N replaced, e.g. record(l3="  ko: x"); a value of None deletes the line."""
    rows = RECORD.split("\n")
    for key, text in lines.items():
        rows[int(key[1:]) - 1] = text
    return {P: "\n".join(row for row in rows if row is not None)}


BLOCK = "write the text as a `|` block (`{}: |`, then the text on the lines below, indented)"

TRAPS = [
    # The issue's examples.
    ("unclosed quote, closed by a quote 24 lines later", record(l3='  ko: "테스트 시점 확산 기반 딥 리서처'),
     f"{P}:3:7: error: YAML syntax: the quote \" opened here is not closed on this line; YAML read the following "
     "lines as part of 'ko' up to the next \" on line 27. Close the quote at the end of this line, or drop the "
     f"quotes and {BLOCK.format('ko')} (따옴표가 이 줄에서 닫히지 않았습니다: 줄 끝에 닫는 따옴표를 넣거나 `|` "
     "블록으로 쓰세요) [YAML stopped at line 27:6: while parsing a block mapping did not find expected key]"),
    ("colon in a plain value", record(l3="  ko: 지식 증류: 작은 언어 모델을 위한 단계적 방법"),
     f"{P}:3:12: error: YAML syntax: the value of 'ko' contains ': ' (after '지식 증류'), which YAML reads as the "
     "start of another key: quote the whole value (ko: '지식 증류: 작은 언어 모델을 위한 단계적 방법'), or "
     f"{BLOCK.format('ko')} (값 안의 ': '는 새 키로 읽힙니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
    ("value starting with a quoted word", record(l3='  ko: "열탕" 랜덤 워크'),
     f"{P}:3:7: error: YAML syntax: the value of 'ko' starts with a quoted part (\"열탕\") and goes on after the "
     "closing quote, which YAML does not allow: quote the whole value (ko: '\"열탕\" 랜덤 워크'), or "
     f"{BLOCK.format('ko')} (값이 따옴표로 시작하면 값 전체를 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
    ("comma in prose inside a flow mapping (the README's old style)",
     record(l5="tldr: {ko: 큰 교사 모델의 지식을 옮기며, 작은 학생 모델로 증류한다.}", l6=None),
     f"{P}:5:30: error: tldr: the comma after '큰 교사 모델의 지식을 옮기며' split the text: inside {{...}} a comma "
     "separates entries, so YAML read '작은 학생 모델로 증류한다.' as a new key. Write tldr in block style, one "
     "language per line, with the text as a `|` block (쉼표 때문에 글이 잘렸습니다: 중괄호 대신 한 줄에 한 언어씩, "
     "글은 `|` 블록으로 쓰세요)"),
    ("a line of a | block indented two spaces too little", record(l10="  확산 과정으로 봅니다."),
     f"{P}:10:3: error: YAML syntax: this line is indented 2 spaces, less than the 4 of the `|` block started on "
     "line 8, so YAML ended the block before it and could not read this line: indent it by 4 spaces like the "
     "lines above (들여쓰기가 위 줄보다 적어 블록이 여기서 끝났습니다: 4칸 들여쓰세요) [YAML stopped at line 14:1: "
     "while scanning a simple key could not find expected ':']"),
    # Others editors hit.
    ("unclosed quote to the end of the file", record(l30='tags: ["agents'),
     f"{P}:30:8: error: YAML syntax: the quote \" opened here is never closed, so YAML read the rest of the file "
     f"as this value; close it at the end of the text, or drop the quotes and {BLOCK.format('tags')} (따옴표가 "
     "닫히지 않았습니다: 닫는 따옴표를 넣거나 `|` 블록으로 쓰세요) [YAML stopped at line 31:1: while scanning a "
     "quoted scalar found unexpected end of stream]"),
    ("tab in the indentation", record(l4="\ten: Deep Researcher with Test-Time Diffusion"),
     f"{P}:4:1: error: YAML syntax: a tab in the indentation; YAML indents with spaces only: replace the tab with "
     "spaces (탭 대신 스페이스로 들여쓰세요)"),
    ("no space after the colon", record(l3="  ko:테스트 시점 확산"),
     f"{P}:3:5: error: YAML syntax: no space after 'ko:', so YAML reads 'ko:테스트 시점 확산' as text, not as the "
     "key 'ko': write 'ko: 테스트 시점 확산' (콜론 뒤에 스페이스를 넣으세요) [YAML stopped at line 4:5: mapping "
     "values are not allowed in this context]"),
    ("a list item among keys", record(l23="  - https://arxiv.org/pdf/2507.16075"),
     f"{P}:23:3: error: YAML syntax: a '- ' list item among the 'key: value' lines of the mapping that starts on "
     "line 22; a mapping cannot also hold list items: put the list under a key of its own (키: 값 사이에 '- ' "
     "목록 항목이 있습니다)"),
    ("a key among list items", record(l28="  name: Yanfei Chen"),
     f"{P}:28:3: error: YAML syntax: a 'key: value' line in the middle of the '- ' list that starts on line 27; "
     "a list cannot also hold keys: indent it under its list item, or move it out of the list ('- ' 목록 안에 "
     "키: 값 줄이 있습니다)"),
    ("an unclosed bracket", record(l29="tags: [agents, llm", l30="published: 2025-07-21"),
     f"{P}:29:7: error: YAML syntax: the '[' opened here is not closed on its line, so YAML read on into line 30: "
     "add the closing ']', or write the list or mapping in block style, one item per line (괄호 '['가 닫히지 "
     "않았습니다) [YAML stopped at line 30:10: while parsing a flow sequence did not find expected ',' or ']']"),
    ("an extra closing bracket", record(l30="tags: [agents]]"),
     f"{P}:30:15: error: YAML syntax: an extra ']' that closes nothing; delete it, or if this value is prose, "
     f"{BLOCK.format('tags')} (닫는 괄호 ']'가 남습니다)"),
    ("a plain value continued on the next line at the key's indentation",
     record(l6="  ko: 초안을 검색으로 되풀이해\n  다듬는 에이전트."),
     f"{P}:7:3: error: YAML syntax: this line continues the text of 'ko' from line 6, but YAML reads a line at "
     f"this indentation as a new key (and finds no ':'): {BLOCK.format('ko')}, or indent this line further than "
     "'ko' (여러 줄의 글은 `|` 블록으로 쓰세요) [YAML stopped at line 8:1: while scanning a simple key could not "
     "find expected ':']"),
    ("a second paragraph of a plain value", record(l6="  ko: 초안을 검색으로 되풀이해\n    다듬는 에이전트.\n\n  둘째 문단."),
     f"{P}:9:3: error: YAML syntax: this line continues the text of 'ko' from line 6, but YAML reads a line at "
     f"this indentation as a new key (and finds no ':'): {BLOCK.format('ko')}, or indent this line further than "
     "'ko' (여러 줄의 글은 `|` 블록으로 쓰세요) [YAML stopped at line 10:1: while scanning a simple key could not "
     "find expected ':']"),
    ("the text of a | block at the key's indentation", record(l9="  첫 문단입니다. 연구 보고서 작성을", l10=None,
                                                               l11=None, l12=None, l13=None),
     f"{P}:9:3: error: YAML syntax: this line is not indented more than 'ko:' on line 8, so it is not part of the "
     "`|` block of 'ko' (YAML reads it as a key, and finds no ':'): indent it, and the text after it, by 4 spaces "
     "(글은 키보다 더 들여써야 합니다: 4칸 들여쓰세요) [YAML stopped at line 10:1: while scanning a simple key "
     "could not find expected ':']"),
    ("Markdown code at the start of a value", record(l6="  ko: `TTD-DR`은 초안을 다듬는 에이전트."),
     f"{P}:6:7: error: YAML syntax: the value of 'ko' starts with '`', which YAML reads as a reserved character, "
     "not as text: quote the whole value (ko: '`TTD-DR`은 초안을 다듬는 에이전트.'), or "
     f"{BLOCK.format('ko')} (값이 '`'로 시작하면 YAML 기호로 읽힙니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
    ("Markdown bold at the start of a value", record(l6="  ko: **초안**을 다듬는 에이전트."),
     f"{P}:6:7: error: YAML syntax: the value of 'ko' starts with '*', which YAML reads as an alias (a reference "
     "to an `&anchor`), not as text: quote the whole value (ko: '**초안**을 다듬는 에이전트.'), or "
     f"{BLOCK.format('ko')} (값이 '*'로 시작하면 YAML 기호로 읽힙니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
    ("a Markdown link at the start of a value", record(l6="  ko: [TTD-DR](https://example.org)은 에이전트."),
     f"{P}:6:7: error: YAML syntax: the value of 'ko' starts with '[', which YAML reads as the start of a list, "
     "not as text: quote the whole value (ko: '[TTD-DR](https://example.org)은 에이전트.'), or "
     f"{BLOCK.format('ko')} (값이 '['로 시작하면 YAML 기호로 읽힙니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
    ("a key under a key that has a value", record(l21="links: https://arxiv.org/abs/2507.16075"),
     f"{P}:22:3: error: YAML syntax: 'paper:' is indented under 'links', which already has a value on line 21 "
     "('https://arxiv.org/abs/2507.16…'); YAML cannot read a key inside a value: remove that value, or line "
     "'paper:' up with 'links:' (값이 있는 키 아래에 키를 둘 수 없습니다)"),
    ("a key indented less than its siblings", record(l4=" en: Deep Researcher with Test-Time Diffusion"),
     f"{P}:4:2: error: YAML syntax: this key is indented 1 space, like no key above it (the key on line 3 is "
     "indented 2): keys of one mapping line up (같은 수준의 키는 들여쓰기를 맞추세요)"),
    ("colon in an issue title (front matter lines count from the file's first line)",
     {I: '---\ntitle: 특집: 작은 모델\npapers:\n  - "2507.16075"\n---\n본문\n'},
     f"{I}:2:10: error: YAML syntax: the value of 'title' contains ': ' (after '특집'), which YAML reads as the "
     "start of another key: quote the whole value (title: '특집: 작은 모델'), or "
     f"{BLOCK.format('title')} (값 안의 ': '는 새 키로 읽힙니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)"),
    ("two issues whose weeks overlap", {"digests/2025-07-23.md": GOOD_ISSUE},
     "digests/2025-07-23.md:1:1: error: the week of this issue (2025/07/23 ~ 29) overlaps the week of "
     "digests/2025-07-21.md (2025/07/21 ~ 27); a day belongs to one issue only: rename it to 2025-07-28.md, or "
     "move its papers into digests/2025-07-21.md (두 이슈의 주가 겹칩니다: 파일 이름을 그 주의 첫날로 바꾸거나 "
     "한 이슈로 합치세요)"),
]


@pytest.mark.parametrize("name,files,expected", TRAPS, ids=[t[0] for t in TRAPS])
def test_trap_is_one_located_message_and_nothing_is_written(make_repo, tmp_path, name, files, expected):
    root = make_repo(files)
    before = tree(root)
    out = tmp_path / "site"
    done = run_cli("build", "--root", str(root), "--out", str(out), "--no-search")
    assert done.stderr.splitlines() == [expected, "digestgen: 1 error; nothing was written"]
    assert done.returncode == 1
    assert not out.exists() and tree(root) == before


def test_the_traps_start_from_a_valid_record(make_repo):
    root = make_repo(record())
    done = run_cli("validate", "--root", str(root), "--strict")
    assert done.returncode == 0, done.stderr


# ` #` after prose: valid YAML that silently drops text, so a warning, and an error under --strict.
CUT = "  ko: 이 논문은 C# 예제와 #1 벤치마크를 다룹니다 #중요한 점은 속도입니다"
CUT_MESSAGE = (
    "title.ko: ' #' starts a YAML comment, so the text ends at '이 논문은 C# 예제와' and '#1 벤치마크를 다룹니다 "
    "#중요한 점은 속도입니다' is dropped: quote the whole value, or write it as a `|` block (`ko: |`, then the text "
    "on the lines below, indented); a comment belongs on a line of its own (' #' 뒤의 글은 주석으로 읽혀 "
    "사라집니다: 따옴표로 감싸거나 `|` 블록으로 쓰세요)")


def test_comment_cutting_prose_is_a_warning_and_fails_strict(make_repo, tmp_path):
    root = make_repo(record(l3=CUT))
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 0
    assert done.stderr.splitlines() == [f"{P}:3:20: warning: {CUT_MESSAGE}", "ok: 1 papers, 1 issues"]
    before = tree(root)
    out = tmp_path / "site"
    strict = run_cli("build", "--root", str(root), "--out", str(out), "--no-search", "--strict",
                     "--base-url", "https://example.org/")
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == [f"{P}:3:20: error: {CUT_MESSAGE}", "digestgen: 1 error; nothing was written"]
    assert not out.exists() and tree(root) == before


def test_comment_warnings_name_the_line_where_the_text_ends(make_repo):
    root = make_repo({
        **record(l6="  ko: 초안을 검색으로\n    되풀이해 다듬는 #에이전트"),  # a plain value over two lines
        I: '---\ntitle: 이번 주 특집 # 편집자 메모\npapers:\n  - "2507.16075"\n---\n',
    })
    lines = run_cli("validate", "--root", str(root)).stderr.splitlines()[:-1]
    assert [line.split(": warning: ")[0] for line in lines] == [f"{I}:2:16", f"{P}:7:14"]
    assert "title: ' #' starts a YAML comment, so the text ends at '이번 주 특집' and '# 편집자 메모'" in lines[0]
    assert "tldr.ko: ' #' starts a YAML comment, so the text ends at '초안을 검색으로 되풀이해 다듬는' and '#에이전트'" in lines[1]


def test_deliberate_comments_are_not_reported(make_repo):
    root = make_repo(record(
        l1='id: "2507.16075"  # quoted values end at their quote',
        l3="  ko: '테스트 시점 #확산' # a comment after a quoted value",
        l9="    첫 문단입니다. #태그 # 가 있는 | 블록은 그대로 글입니다",
        l22="  paper: https://arxiv.org/abs/2507.16075  # not prose",
        l30="tags: [agents]  # a list",
    ))
    done = run_cli("validate", "--root", str(root), "--strict")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "ok: 1 papers, 1 issues\n"


# Weeks: the file name is the week's first day.
def test_issue_named_for_another_weekday_is_a_warning_with_the_rename(make_repo):
    root = make_repo({"digests/2025-07-23.md": GOOD_ISSUE}, base=False)
    write(root, {P: GOOD_PAPER})
    message = ("digests/2025-07-23.md:1:1: {}: 2025-07-23 is a Wednesday, but weeks start on Monday: rename it to "
               "2025-07-21.md, or set week_start = \"wednesday\" in digestgen.toml (이슈 파일 이름은 그 주의 "
               "첫날(월요일)이어야 합니다)")
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 0
    assert done.stderr.splitlines() == [message.format("warning"), "ok: 1 papers, 1 issues"]
    strict = run_cli("validate", "--root", str(root), "--strict")
    assert strict.returncode == 1 and strict.stderr.splitlines() == [message.format("error"), "digestgen: 1 error"]
    write(root, {"digestgen.toml": 'week_start = "wednesday"\n'})
    clean = run_cli("validate", "--root", str(root), "--strict")
    assert clean.returncode == 0 and clean.stderr == "ok: 1 papers, 1 issues\n"


def test_week_start_setting_is_checked_and_used_by_new(make_repo):
    root = make_repo({"digestgen.toml": 'week_start = "someday"\n'})
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "digestgen.toml:1:1: error: week_start: expected a day of the week like " \
                                          "\"monday\", got 'someday' (did you mean 'sunday'?)"
    write(root, {"digestgen.toml": 'week_start = "Sunday"\n'})
    made = run_cli("new", "--root", str(root), "--week", "2025-08-06")  # a Wednesday
    assert made.returncode == 0, made.stderr
    assert (root / "digests/2025-08-03.md").exists()  # that week's Sunday


def test_week_start_of_any_weekday():
    wednesday = dt.date(2025, 7, 23)
    assert editor.week_start(wednesday) == dt.date(2025, 7, 21)
    assert editor.week_start(wednesday, first=6) == dt.date(2025, 7, 20)
    assert editor.week_start(wednesday, first=2) == wednesday
    assert editor.week_start(wednesday, first=3) == dt.date(2025, 7, 17)


# What `add` and `new` write is safe to edit.
PROSE = st.text(
    st.one_of(st.sampled_from(list("#:'\"[]{},-|>*&!%@`?\\ \t\n가나다한국어abc123")),
              st.characters(blacklist_categories=("Cs",))),
    max_size=60,
)


def paper(title: str, abstract: str, authors: tuple[str, ...] = ("A. Author",)) -> Paper:
    return Paper(id="2507.16075", title=title, abstract=abstract, authors=authors, published=dt.date(2025, 7, 21),
                 categories=("cs.CL",), primary_category="cs.CL", pdf_url="https://arxiv.org/pdf/2507.16075v1",
                 comment="")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=PROSE, abstract=PROSE, author=PROSE)
def test_add_writes_text_that_reads_back_exactly(tmp_path, title, abstract, author):
    target = tmp_path / f"{abs(hash((title, abstract, author)))}.yaml"
    editor.write_new(target, editor.record_text(paper(title, abstract, (author,))))  # what `add` does
    doc, problems = read_yaml_file(target, "papers/2507.16075.yaml")  # what `build` does
    assert problems == []
    assert doc.value["title"]["en"] == title
    assert doc.value["abstract"]["en"] == abstract
    assert doc.value["authors"] == [author]
    assert doc.comments == {}
    if title.strip() and abstract.strip() and author.strip():
        checker = Checker(doc)
        PAPER.check(doc.value, (), checker)
        assert [e for e in checker.errors if e.severity != "note"] == []


def test_add_writes_blocks_and_its_placeholders_become_valid_text(tmp_path):
    title = 'C# 예제: "열탕" #1 [링크](x) {a, b}'
    text = editor.record_text(paper(title, "  First line: #1 'quoted'\n\n- not a list\n"))
    assert "  en: |-\n    C# 예제: \"열탕\" #1 [링크](x) {a, b}\n" in text
    assert "  en: |2\n      First line: #1 'quoted'\n\n    - not a list\n" in text
    # The editor deletes the `# ` in front of each placeholder, writes Korean prose with the
    # characters that plain YAML values trip on, and deletes `draft: true`.
    korean = {"국문 제목": "지식 증류: \"열탕\" #1", "한 문장 요약": "큰 모델을 옮기며, 작은 모델로 #핵심",
              "논문 소개를 씁니다.": "**굵게** `코드` [링크](https://example.org): 끝", "초록 번역": "- 목록 같은 # 초록"}
    rows = []
    for row in text.splitlines():
        bare = re.sub(r"^( *)# ", r"\1", row)
        if bare != row and (re.match(r"^ *(ko|tldr|summary):( |$)", bare) or bare.strip() in korean):
            row = bare.replace(bare.strip(), korean.get(bare.strip(), bare.strip()))
        if not row.startswith("draft:"):
            rows.append(row)
    root = tmp_path / "repo"
    write(root, {P: "\n".join(rows) + "\n", I: GOOD_ISSUE})
    loaded = content.load(root, Settings(), strict=True)
    record = loaded.papers["2507.16075"]
    assert record.title == {"en": title, "ko": korean["국문 제목"]}
    assert record.tldr == {"ko": korean["한 문장 요약"]}
    assert record.summary == {"ko": korean["논문 소개를 씁니다."] + "\n"}
    assert record.abstract["ko"] == korean["초록 번역"] + "\n"


def test_new_writes_a_draft_whose_title_placeholder_becomes_valid_text(make_repo):
    root = make_repo()
    assert run_cli("new", "--root", str(root), "--week", "2025-07-28").returncode == 0
    path = root / "digests/2025-07-28.md"
    text = path.read_text(encoding="utf-8")
    assert run_cli("validate", "--root", str(root)).returncode == 0
    text = text.replace("# title: |-", "title: |-").replace("#   이번 주의 제목", "  특집: \"작은\" 모델 #1")
    text = text.replace("draft: true  # delete this line to publish the issue\n", "")
    path.write_text(text[:text.index("---\n", 4) + 4] + "이번 주의 소개 글입니다.\n", encoding="utf-8")  # the outline, written
    loaded = content.load(root, Settings())
    assert loaded.issues[-1].title == '특집: "작은" 모델 #1'


def test_readme_and_format_examples_are_block_style_and_valid(make_repo):
    flow = re.compile(r"^\s*(title|tldr|summary|abstract|ko|en):\s*\{", re.M)
    for doc in (PROJECT / "README.md", PROJECT / "docs/FORMAT.md"):
        text = doc.read_text(encoding="utf-8")
        examples = re.findall(r"```yaml\n(.*?)```", text, re.S)
        assert examples and not any(flow.search(example) for example in examples), doc
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"A paper record .*?```yaml\n(.*?)```", readme, re.S)[1]
    root = make_repo({"papers/2506.10943.yaml": example,
                      I: '---\npapers:\n  - "2507.16075"\n  - "2506.10943"\n---\n'})
    done = run_cli("validate", "--root", str(root), "--strict")
    assert done.returncode == 0, done.stderr
    # The README's sample message is the one a colon in a title gives.
    write(root, {"papers/2506.10943.yaml": example.replace("    자가 적응 언어 모델", "  ko: 지식 증류: 작은 언어 모델")
                 .replace("title:\n  ko: |\n", "title:\n")})
    shown = re.search(r"^papers/2506\.10943\.yaml:2:12: error: .*$", readme, re.M)[0]
    assert run_cli("validate", "--root", str(root)).stderr.splitlines()[0] == shown


FRAGMENTS = st.lists(st.sampled_from([
    "title:", "  ko: ", "  en: ", "ko: |", "    ", "  ", "\t", "- ", "  - ", "#", " #", ": ", ":", '"', "'", "[", "]",
    "{", "}", ",", "|", ">", "*", "&a", "!", "`", "@", "%", "---", "...", "글", "text", "\n", "\n", "\n",
]), max_size=40)


@settings(max_examples=500, deadline=None)
@given(parts=FRAGMENTS, offset=st.integers(0, 3))
def test_any_yaml_gets_located_messages_never_an_exception(parts, offset):
    from digestgen.pipeline.sources import parse_yaml

    text = "".join(parts)
    doc, problems = parse_yaml(text, P, line_offset=offset)
    last = offset + text.count("\n") + 2
    for problem in problems:
        assert offset + 1 <= problem.line <= last and problem.col >= 1, problem
        assert "\n" not in problem.message


def test_quote_that_swallows_the_next_key_is_a_warning_and_the_record_is_kept(make_repo, tmp_path):
    root = make_repo(record(l3='  ko: "테스트 시점 확산 기반', l4='  en: Deep Researcher"'))
    message = (f"{P}:3:7: {{}}: title.ko: the quote \" opened here closes only on line 4, so YAML read line 4 "
               "('en: Deep Researcher\"') as part of this text: close the quote on this line, or drop the quotes "
               "and write the text as a `|` block (따옴표가 이 줄에서 닫히지 않아 다음 줄까지 글로 읽혔습니다)")
    out = tmp_path / "site"
    for intro in ("첫 소개 글", "고친 소개 글"):  # the second build reads the record from the cache
        write(root, {I: GOOD_ISSUE.replace("이번 주의 소개 글입니다.", intro)})
        built = run_cli("build", "--root", str(root), "--out", str(out), "--no-search")
        assert built.returncode == 0, built.stderr
        assert message.format("warning") in built.stderr.splitlines()
    assert (out / "papers/2507.16075/index.html").exists()  # a warning never drops the paper
    strict = run_cli("validate", "--root", str(root), "--strict")
    assert strict.returncode == 1 and strict.stderr.splitlines() == [message.format("error"), "digestgen: 1 error"]
