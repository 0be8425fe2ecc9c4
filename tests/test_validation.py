"""Every rule of FORMAT.md: each bad input gives its exact located message and exit 1, no traceback."""

from __future__ import annotations

import pytest

from conftest import GOOD_PAPER, run_cli, tree
from digestgen.cli import main

P = "papers/2507.16075.yaml"
I = "digests/2025-07-21.md"

# A paper that is valid apart from what each case changes.
def paper(**lines: str) -> str:
    base = {
        "title": "title:\n  ko: 제목\n  en: Title\n",
        "summary": "summary:\n  ko: 요약입니다.\n",
        "links": "links:\n  paper: https://arxiv.org/abs/2507.16075\n",
    }
    base.update(lines)
    return "".join(v for v in base.values() if v)


CASES = [
    # (name, files, expected diagnostics)
    ("unknown key with suggestion", {P: paper(extra="sumary:\n  ko: x\n")},
     [f"{P}:8:1: error: sumary: unknown key 'sumary' (did you mean 'summary'?)"]),
    ("nested unknown key", {P: paper(title="title:\n  ko: 제목\n  EN: Title\n")},
     [f"{P}:3:3: error: title.EN: 'EN' is not a language code like 'ko' or 'en'"]),
    ("bad paper URL", {P: paper(links="links:\n  paper: htp://arxiv.org\n")},
     [f"{P}:7:3: error: links.paper: 'htp://arxiv.org' is not an http(s) URL"]),
    ("malformed host", {P: paper(links="links:\n  paper: https://[arxiv.org/abs/1\n")},
     [f"{P}:7:3: error: links.paper: 'https://[arxiv.org/abs/1' is not an http(s) URL"]),
    ("javascript URL in repos", {P: paper(repos="repos:\n  - javascript:alert(1)\n")},
     [f"{P}:9:5: error: repos[0]: 'javascript:alert(1)' is not an http(s) URL"]),
    ("missing links.paper", {P: paper(links="links:\n  pdf: https://arxiv.org/pdf/1\n")},
     [f"{P}:6:1: error: links: 'paper' is required"]),
    ("missing summary", {P: paper(summary="")}, [f"{P}:1:1: error: 'summary' is required"]),
    ("missing title", {P: paper(title="")}, [f"{P}:1:1: error: 'title' is required"]),
    ("title without ko or en", {P: paper(title="title:\n  ja: タイトル\n")},
     [f"{P}:1:1: error: title: needs 'ko' or 'en'"]),
    ("empty summary text", {P: paper(summary="summary:\n  ko: ''\n")},
     [f"{P}:5:3: error: summary.ko: text is empty"]),
    ("empty summary map", {P: paper(summary="summary: {}\n")}, [f"{P}:4:1: error: summary: is empty"]),
    ("title is a list", {P: paper(title="title: [a, b]\n")},
     [f"{P}:1:1: error: title: expected a mapping, got a list"]),
    ("text is a number that does not round-trip", {P: paper(title="title:\n  en: 1.50\n")},
     [f"{P}:2:3: error: title.en: '1.50' is read by YAML as the number 1.5; quote it: \"1.50\""]),
    ("text is a boolean", {P: paper(title="title:\n  en: yes\n")},
     [f"{P}:2:3: error: title.en: expected text, got a boolean"]),
    ("tags not a list", {P: paper(tags="tags: agents\n")},
     [f"{P}:8:1: error: tags: expected a list, got text"]),
    ("tag not a slug", {P: paper(tags="tags: [Deep Research]\n")},
     [f"{P}:8:8: error: tags[0]: 'Deep Research' is not a tag of lowercase letters, digits and hyphens "
      "(any script), like '강화학습' or 'deep-research'"]),
    ("tag repeated", {P: paper(tags="tags: [a, a]\n")},
     [f"{P}:8:11: error: tags[1]: 'a' is listed twice (first as tags[0])"]),
    ("bad date", {P: paper(published="published: 2025-02-30\n")},
     [f"{P}:8:12: error: published: '2025-02-30' is not a valid date (day is out of range for month)"]),
    ("date as text", {P: paper(published="published: last week\n")},
     [f"{P}:8:1: error: published: expected a date like 2025-07-21, got text"]),
    ("bad arxiv id", {P: paper(arxiv="arxiv: 'abc'\n")},
     [f"{P}:8:1: error: arxiv: 'abc' is not an arXiv id like 2507.16075 or hep-th/9901001"]),
    ("figure without src", {P: paper(figures="figures:\n  - alt: x\n")},
     [f"{P}:9:5: error: figures[0]: 'src' is required"]),
    ("figure unknown key", {P: paper(figures="figures:\n  - src: https://x.org/a.png\n    caption: x\n")},
     [f"{P}:9:5: warning: figures[0]: has no 'alt' text; screen readers will skip it",
      f"{P}:10:5: error: figures[0].caption: unknown key 'caption'"]),
    ("authors not text", {P: paper(authors="authors: [[a]]\n")},
     [f"{P}:8:11: error: authors[0]: expected an author name, got a list"]),
    ("id does not match file", {P: 'id: "2507.1"\n' + paper()},
     [f"{P}:1:1: error: id: '2507.1' does not match the file name '2507.16075'"]),
    ("duplicate key", {P: paper(title="title:\n  ko: 가\n  ko: 나\n")},
     [f"{P}:3:3: error: duplicate key 'ko' (first at line 2)"]),
    ("tab indentation", {P: "title:\n\tko: 가\n"},
     [f"{P}:2:1: error: YAML syntax: a tab in the indentation; YAML indents with spaces only: replace the tab "
      "with spaces (탭 대신 스페이스로 들여쓰세요)"]),
    ("unclosed quote", {P: 'title: "abc\nsummary: x\n'},
     [f"{P}:1:8: error: YAML syntax: the quote \" opened here is never closed, so YAML read the rest of the file "
      "as this value; close it at the end of the text, or drop the quotes and write the text as a `|` block "
      "(`title: |`, then the text on the lines below, indented) (따옴표가 닫히지 않았습니다: 닫는 따옴표를 넣거나 "
      "`|` 블록으로 쓰세요) [YAML stopped at line 3:1: while scanning a quoted scalar found unexpected end of stream]"]),
    ("bad indentation", {P: "title:\n  ko: a\n en: b\n"},
     [f"{P}:3:2: error: YAML syntax: this key is indented 1 space, like no key above it (the key on line 2 is "
      "indented 2): keys of one mapping line up (같은 수준의 키는 들여쓰기를 맞추세요)"]),
    ("top-level list", {P: "- a\n- b\n"},
     [f"{P}:1:1: error: expected a paper record (a mapping with title, summary and links), got a list"]),
    ("empty file", {P: ""}, [f"{P}:1:1: error: file is empty; expected a paper record"]),
    ("not UTF-8", {P: b"title:\n  ko: \xff\n"}, [f"{P}:2:7: error: file is not UTF-8 (byte 0xff)"]),
    ("control character", {P: "title:\n  ko: a\x7fb\n"},
     [f"{P}:2:8: error: YAML: character U+007F is not allowed (control characters must be written as escapes "
      "in double quotes)"]),
    ("alias bomb", {P: "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"},
     [f"{P}:1:26: error: document expands to more than 100,000 values (alias bomb?)"]),
    ("python tag", {P: paper(extra="x: !!python/object:os.system ls\n")},
     [f"{P}:8:4: error: x: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"]),
    ("file name not an id", {"papers/Bad Name.yaml": paper()},
     ["papers/Bad Name.yaml:1:1: error: file name 'Bad Name' is not a valid paper id "
      "(lowercase letters, digits, '.', '-', '_')"]),
    # issues
    ("unknown paper id with suggestion", {I: '---\npapers:\n  - "2507.1607"\n---\n'},
     [f"{I}:3:5: error: papers[0]: no paper '2507.1607' (did you mean '2507.16075'?)"]),
    ("repeated paper id", {I: '---\npapers:\n  - "2507.16075"\n  - "2507.16075"\n---\n'},
     [f"{I}:4:5: error: papers[1]: '2507.16075' is listed twice (first as papers[0])"]),
    ("number-like id that changes", {I: "---\npapers: [2507.16070]\n---\n"},
     [f"{I}:2:10: error: papers[0]: '2507.16070' is read by YAML as the number 2507.1607; quote it: \"2507.16070\""]),
    ("draft not boolean", {I: '---\npapers: ["2507.16075"]\ndraft: maybe\n---\n'},
     [f"{I}:3:1: error: draft: expected true or false, got text"]),
    ("front matter unknown key", {I: '---\npaper: ["2507.16075"]\n---\n'},
     [f"{I}:2:1: error: paper: unknown key 'paper' (did you mean 'papers'?)"]),  # no unlisted-paper noise
    ("no front matter", {I: "just text\n"},
     [f"{I}:1:1: error: missing front matter: the file must start with a line '---'"]),
    ("unclosed front matter", {I: "---\ntitle: x\n"},
     [f"{I}:1:1: error: front matter is not closed: add a line '---' after it"]),
    ("front matter is a list", {I: "---\n- a\n---\n"},
     [f"{I}:2:1: error: expected front matter (a mapping with title, papers, draft), got a list"]),
    ("front matter syntax error", {I: "---\ntitle: [x\n---\n"},
     [f"{I}:2:8: error: YAML syntax: the '[' opened here is not closed on its line, so YAML read on into line 3: "
      "add the closing ']', or write the list or mapping in block style, one item per line (괄호 '['가 닫히지 "
      "않았습니다) [YAML stopped at line 3:1: while parsing a flow sequence did not find expected ',' or ']']"]),
    ("impossible date in file name", {"digests/2024-13-01.md": "---\npapers: []\n---\n"},
     ["digests/2024-13-01.md:1:1: error: file name '2024-13-01' is not a valid date (month must be in 1..12)"]),
    ("file name not a date", {"digests/week-30.md": "---\npapers: []\n---\n"},
     ["digests/week-30.md:1:1: error: file name 'week-30' is not a date like 2025-07-21 (the week's first day)"]),
    ("title empty", {I: '---\ntitle: ""\npapers: ["2507.16075"]\n---\n'},
     [f"{I}:2:1: error: title: a title is empty"]),
]


@pytest.mark.parametrize("name,files,expected", CASES, ids=[c[0] for c in CASES])
def test_invalid_content_is_located(make_repo, capsys, name, files, expected):
    root = make_repo(files)
    status = main(["validate", "--root", str(root)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if ": error: " in line or ": warning: " in line]
    assert lines == expected
    assert status == 1
    assert "Traceback" not in err


def test_errors_from_every_file_in_one_run(make_repo, capsys):
    root = make_repo({
        P: paper(links="links:\n  paper: htp://x\n", tags="tags: [A]\n"),
        "papers/b.yaml": "title: {en: B}\nsumary: {ko: x}\nlinks: {paper: 'https://b.org'}\n",
        I: '---\npapers: ["2507.16075", "c"]\n---\n',
    })
    assert main(["validate", "--root", str(root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "digests/2025-07-21.md:2:24: error: papers[1]: no paper 'c'",
        "papers/2507.16075.yaml:7:3: error: links.paper: 'htp://x' is not an http(s) URL",
        "papers/2507.16075.yaml:8:8: error: tags[0]: 'A' is not a tag of lowercase letters, digits and hyphens "
        "(any script), like '강화학습' or 'deep-research'",
        "papers/b.yaml:1:1: error: 'summary' is required",
        "papers/b.yaml:2:1: error: sumary: unknown key 'sumary' (did you mean 'summary'?)",
        "digestgen: 5 errors",
    ]


def test_unlisted_paper_is_a_warning_and_strict_makes_it_an_error(make_repo, capsys):
    root = make_repo({"papers/lonely.yaml": paper()})
    assert main(["validate", "--root", str(root)]) == 0
    assert "papers/lonely.yaml:1:1: warning: paper 'lonely' is not listed in any issue" in capsys.readouterr().err
    assert main(["validate", "--root", str(root), "--strict"]) == 1
    assert "papers/lonely.yaml:1:1: error: paper 'lonely' is not listed in any issue" in capsys.readouterr().err


ACCEPTED = [
    ("BOM and CRLF", {P: b"\xef\xbb\xbf" + paper().replace("\n", "\r\n").encode()}),
    ("CRLF issue", {I: '---\r\npapers:\r\n  - "2507.16075"\r\n---\r\n소개\r\n'}),
    ("unquoted id that round-trips", {I: "---\npapers: [2507.16075]\n---\n"}),
    ("emoji and math", {P: paper(summary="summary:\n  ko: \"🚀 $E=mc^2$ 와 | 표 |\"\n")}),
    ("issue with no papers", {"digests/2025-07-28.md": "---\ntitle: 빈 호\n---\n"}),
    ("paper in two issues", {"digests/2025-07-28.md": GOOD_ISSUE_2 if (GOOD_ISSUE_2 := '---\npapers: ["2507.16075"]\n---\n') else ""}),
    ("yaml anchors", {P: paper(links="links: &l\n  paper: https://arxiv.org/abs/1\n", extra="")}),
    ("old-style arxiv id", {P: paper(arxiv="arxiv: hep-th/9901001v2\n")}),
    ("figure alt missing is a warning", {P: paper(figures="figures:\n  - src: https://x.org/a.png\n")}),
]


@pytest.mark.parametrize("name,files", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_edge_cases_are_accepted(make_repo, capsys, name, files):
    root = make_repo(files)
    assert main(["validate", "--root", str(root)]) == 0, capsys.readouterr().err


def test_extra_fields_from_settings(make_repo, capsys):
    root = make_repo({P: paper(extra="venue: ICML 2025\n"), "digestgen.toml": 'extra_fields = { paper = ["venue"] }\n'})
    assert main(["validate", "--root", str(root)]) == 0
    root.joinpath("digestgen.toml").write_text("")
    assert main(["validate", "--root", str(root)]) == 1
    assert f"{P}:8:1: error: venue: unknown key 'venue'" in capsys.readouterr().err


@pytest.mark.parametrize("toml,expected", [
    ('titel = "x"\n', "digestgen.toml:1:1: error: titel: unknown setting (did you mean 'title'?)"),
    ("title = 3\n", "digestgen.toml:1:1: error: title: expected text, got a number"),
    ('title = "x\n', "digestgen.toml:1:11: error: TOML syntax: Illegal character '\\n'"),
    ('\nbase_url = "ftp://x"\n', "digestgen.toml:2:1: error: base_url: 'ftp://x' must be a path like '/digest/' or an http(s) URL"),
])
def test_settings_errors(make_repo, capsys, toml, expected):
    root = make_repo({"digestgen.toml": toml})
    assert main(["validate", "--root", str(root)]) == 1
    assert expected in capsys.readouterr().err.splitlines()


def test_invalid_build_leaves_output_untouched(make_repo, tmp_path):
    root = make_repo()
    out = tmp_path / "out"
    done = run_cli("build", "--root", str(root), "--out", str(out))
    assert done.returncode == 0, done.stderr
    before = tree(out)
    (root / P).write_text(GOOD_PAPER.replace("https://arxiv", "htp://arxiv"), encoding="utf-8")
    (root / "digests/2025-07-28.md").write_text("---\npapers: []\n---\n", encoding="utf-8")
    failed = run_cli("build", "--root", str(root), "--out", str(out))
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        f"{P}:8:3: error: links.paper: 'htp://arxiv.org/abs/2507.16075' is not an http(s) URL",
        "digestgen: 1 error; nothing was written",
    ]
    assert tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".out")) == [".out.lock"]
