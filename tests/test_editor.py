"""The editors' workflow: add (arXiv, through a local server), candidates (feeds), new, schema."""

from __future__ import annotations

import json
import os

import pytest

import arxiv_server
from conftest import GOOD_ISSUE, run_cli
from digestgen.tools import arxivapi


@pytest.mark.parametrize("text,expected", [
    ("2507.16075", "2507.16075"), ("2507.16075v2", "2507.16075"), ("arXiv:2507.16075", "2507.16075"),
    ("ARXIV:2507.16075v3", "2507.16075"), ("https://arxiv.org/abs/2507.16075", "2507.16075"),
    ("https://arxiv.org/pdf/2507.16075v1", "2507.16075"), ("http://arxiv.org/pdf/2507.16075v1.pdf", "2507.16075"),
    ("https://www.arxiv.org/abs/2507.16075/", "2507.16075"), ("hep-th/9901001", "hep-th/9901001"),
    ("https://arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001"), ("math.GT/0309136", "math.GT/0309136"),
    ("1234.5678", "1234.5678"), ("2507.1607", "2507.1607"),
    ("not-an-id", None), ("https://example.org/abs/2507.16075", None), ("2507-16075", None),
])
def test_parse_id(text, expected):
    assert arxivapi.parse_id(text) == expected


@pytest.fixture
def api():
    with arxiv_server.running() as server:
        yield server


def add(root, api, *args):
    env = dict(os.environ, DIGESTGEN_ARXIV_API=f"{api.url}/api/query", DIGESTGEN_ARXIV_DELAY="0")
    return run_cli("add", "--root", str(root), *args, env=env)


def test_add_writes_draft_records_in_one_request(make_repo, api):
    root = make_repo()
    before = (root / "papers/2507.16075.yaml").read_bytes()
    done = add(root, api, "https://arxiv.org/abs/2507.16075v1", "arXiv:2506.10943", "hep-th/9901001")
    # 2507.16075 is already in the repository: not fetched, not overwritten, and the exit says so
    assert done.returncode == 1
    assert done.stderr == "digestgen: error: 2507.16075: papers/2507.16075.yaml already exists; not overwritten\n"
    assert (root / "papers/2507.16075.yaml").read_bytes() == before
    assert done.stdout.splitlines() == [
        "wrote papers/2506.10943.yaml: Self-Adapting Language Models",
        "wrote papers/hep-th_9901001.yaml: An Old-Style Identifier",
    ]
    assert len(api.requests) == 1 and "id_list=2506.10943%2Chep-th%2F9901001" in api.requests[0]
    text = (root / "papers/2506.10943.yaml").read_text(encoding="utf-8")
    assert "# arXiv categories: cs.LG (primary), cs.CL" in text
    assert 'en: "Models that write their own fine-tuning data: \\"self-edits\\"."' not in text
    assert "    Models that write their own fine-tuning data: \"self-edits\"." in text
    assert "draft: true" in text and "  paper: https://arxiv.org/abs/2506.10943" in text
    assert "  pdf: https://arxiv.org/pdf/2506.10943" in text and "published: 2025-06-12" in text
    assert 'authors:\n  - "Adam Zweiger"\n  - "Jyothish Pari"\n' in text
    old = (root / "papers/hep-th_9901001.yaml").read_text(encoding="utf-8")
    assert 'arxiv: "hep-th/9901001"' in old and 'id: "hep-th_9901001"' in old


def test_added_drafts_validate_with_notes_and_stay_unpublished(make_repo, api, tmp_path):
    root = make_repo()
    assert add(root, api, "2506.10943").returncode == 0
    checked = run_cli("validate", "--root", str(root))
    assert checked.returncode == 0, checked.stderr
    assert ("papers/2506.10943.yaml:6:1: note: draft: draft record; still missing title.ko, summary.ko, "
            "abstract.ko") in checked.stderr
    built = run_cli("build", "--root", str(root), "--out", str(tmp_path / "s"), "--no-search")
    assert built.returncode == 0 and not (tmp_path / "s/papers/2506.10943").exists()
    drafts = run_cli("build", "--root", str(root), "--out", str(tmp_path / "d"), "--no-search", "--drafts")
    assert drafts.returncode == 0 and (tmp_path / "d/papers/2506.10943/index.html").exists()


def test_published_issue_may_not_list_a_draft(make_repo, api):
    root = make_repo()
    add(root, api, "2506.10943")
    (root / "digests/2025-07-21.md").write_text('---\npapers:\n  - "2507.16075"\n  - "2506.10943"\n---\n')
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1
    assert ("digests/2025-07-21.md:4:5: error: papers[1]: paper '2506.10943' is a draft; finish it "
            "(and delete its `draft: true`) or mark this issue draft") in done.stderr


def test_add_to_an_existing_issue_keeps_its_formatting(make_repo, api):
    issue = ('---\n# 편집자 메모: 순서 중요\ntitle: 특집   # 제목\npapers:\n    - "2507.16075"   # 첫 논문\n'
             'draft: true\n---\n소개 글.\n')
    root = make_repo({"digests/2025-07-21.md": issue})
    done = add(root, api, "2506.10943", "--issue", "2025-07-23")
    assert done.returncode == 0, done.stderr
    assert "added 2506.10943 to digests/2025-07-21.md" in done.stdout
    assert (root / "digests/2025-07-21.md").read_text() == issue.replace(
        '    - "2507.16075"   # 첫 논문\n', '    - "2507.16075"   # 첫 논문\n    - "2506.10943"\n')


@pytest.mark.parametrize("before,after", [
    ("---\npapers: []\n---\n", '---\npapers: ["2506.10943"]\n---\n'),
    ('---\npapers: ["2507.16075"]  # x\n---\n', '---\npapers: ["2507.16075", "2506.10943"]  # x\n---\n'),
    ("---\ntitle: t\n---\nbody\n", '---\ntitle: t\npapers:\n  - "2506.10943"\n---\nbody\n'),
    ('---\r\npapers:\r\n  - "2507.16075"\r\n---\r\n', '---\r\npapers:\r\n  - "2507.16075"\r\n  - "2506.10943"\r\n---\r\n'),
])
def test_issue_edits(make_repo, api, before, after):
    root = make_repo({"digests/2025-07-21.md": before.encode()})
    assert add(root, api, "2506.10943", "--issue", "2025-07-21").returncode == 0
    assert (root / "digests/2025-07-21.md").read_bytes() == after.encode()


def test_add_creates_a_draft_issue(make_repo, api):
    root = make_repo()
    assert add(root, api, "2506.10943", "--issue", "2025-08-06").returncode == 0
    text = (root / "digests/2025-08-04.md").read_text()
    assert text.startswith('---\ndraft: true  # delete this line to publish the issue\n'
                           "# title: |-  # optional, instead of the site's issue title: delete the `# ` of this line "
                           'and the next\n#   이번 주의 제목\npapers:\n  - "2506.10943"\n---\n')
    assert run_cli("validate", "--root", str(root)).returncode == 0


@pytest.mark.parametrize("mode,message", [
    ("503", "the arXiv API answered HTTP 503 (after 4 tries)"),
    ("404", "the arXiv API answered HTTP 404"),
    ("malformed", "the arXiv API sent a malformed answer (after 4 tries)"),
    ("truncated", "the arXiv API sent a malformed answer (after 4 tries)"),
])
def test_api_faults_give_one_line_per_id_and_write_nothing(make_repo, api, mode, message):
    root = make_repo()
    api.mode = mode
    done = add(root, api, "2506.10943", "hep-th/9901001")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"digestgen: error: 2506.10943: {message}; nothing written",
                                        f"digestgen: error: hep-th/9901001: {message}; nothing written"]
    assert len(api.requests) == 1 if mode == "404" else len(api.requests) >= 4  # not retried / retried
    assert sorted(p.name for p in (root / "papers").iterdir()) == ["2507.16075.yaml"]


def test_a_5xx_is_retried(make_repo, api):
    root = make_repo()
    api.mode = "503-once"
    done = add(root, api, "2506.10943")
    assert done.returncode == 0, done.stderr
    assert len(api.requests) == 2 and (root / "papers/2506.10943.yaml").exists()


def test_unknown_withdrawn_and_malformed_ids(make_repo, api):
    root = make_repo()
    done = add(root, api, "2506.10943", "2509.99999", "2501.00099", "nonsense")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "digestgen: error: nonsense: not an arXiv id or URL",
        "digestgen: error: 2509.99999: arXiv has no paper with this id; nothing written",
        "digestgen: error: 2501.00099: the paper was withdrawn on arXiv (This paper has been withdrawn by the "
        "author due to an error in Lemma 2.); nothing written",
    ]
    assert (root / "papers/2506.10943.yaml").exists()
    assert not (root / "papers/2509.99999.yaml").exists() and not (root / "papers/2501.00099.yaml").exists()


def test_offline(make_repo):
    root = make_repo()
    env = dict(os.environ, DIGESTGEN_ARXIV_API="http://127.0.0.1:9/api/query", DIGESTGEN_ARXIV_DELAY="0")
    done = run_cli("add", "--root", str(root), "2506.10943", env=env)
    assert done.returncode == 1
    assert done.stderr == ("digestgen: error: 2506.10943: could not connect to the arXiv API at "
                           "http://127.0.0.1:9/api/query (after 4 tries); nothing written\n")


def test_timeout_is_retried_then_reported(api):
    api.mode = "slow"
    waits = []
    client = arxivapi.Client(api=f"{api.url}/api/query", delay=0.5, timeout=0.5, retries=2, sleep=waits.append)
    with pytest.raises(arxivapi.FetchError, match=r"did not answer within 0.5s \(after 3 tries\)"):
        client.fetch(["2506.10943"])
    assert waits == [0.5, 1.0]  # exponential backoff


def test_candidates_from_feeds(make_repo, api, tmp_path):
    root = make_repo()
    feed = tmp_path / "cs.AI.xml"
    feed.write_bytes(arxiv_server.rss([("2507.16075v1", "new", "Already Here"),
                                       ("2507.20001v1", "new", "A New One"),
                                       ("2507.20002v2", "replace", "A Replaced One"),
                                       ("2507.20003v1", "cross", "A Cross-List")]))
    api.feeds["/feeds/cs.CL"] = arxiv_server.rss([("2507.20004v1", "new", "From\n  The URL"),
                                                  ("2507.20001v1", "cross", "A New One")])
    bad = tmp_path / "bad.xml"
    bad.write_text("this is not a feed")
    done = run_cli("candidates", "--root", str(root), str(feed), f"{api.url}/feeds/cs.CL", str(bad),
                   f"{api.url}/feeds/missing")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "2507.20001\tnew\tA New One\thttps://arxiv.org/abs/2507.20001",
        "2507.20002\treplace\tA Replaced One\thttps://arxiv.org/abs/2507.20002",
        "2507.20003\tcross\tA Cross-List\thttps://arxiv.org/abs/2507.20003",
        "2507.20004\tnew\tFrom The URL\thttps://arxiv.org/abs/2507.20004",
    ]
    assert done.stderr.splitlines()[0].startswith(f"digestgen: warning: {bad}: not an RSS or Atom feed")
    assert done.stderr.splitlines()[1] == f"digestgen: warning: {api.url}/feeds/missing: HTTP 404"
    since = run_cli("candidates", "--root", str(root), str(feed), "--since", "2025-07-22")
    assert since.returncode == 0 and since.stdout == ""
    nothing = run_cli("candidates", "--root", str(root), str(bad))
    assert nothing.returncode == 1


def test_candidates_add(make_repo, api, tmp_path):
    root = make_repo()
    feed = tmp_path / "f.xml"
    feed.write_bytes(arxiv_server.rss([("2506.10943v1", "new", "Self-Adapting Language Models")]))
    env = dict(os.environ, DIGESTGEN_ARXIV_API=f"{api.url}/api/query", DIGESTGEN_ARXIV_DELAY="0")
    done = run_cli("candidates", "--root", str(root), str(feed), "--add", env=env)
    assert done.returncode == 0, done.stderr
    assert (root / "papers/2506.10943.yaml").exists()


def test_new_scaffolds_the_next_week_and_never_overwrites(make_repo):
    root = make_repo()
    done = run_cli("new", "--root", str(root))
    assert done.returncode == 0 and done.stdout == "wrote digests/2025-07-28.md (draft)\n"
    text = (root / "digests/2025-07-28.md").read_text()
    assert text.startswith("---\ndraft: true") and "papers: []" in text and "첫째," in text
    assert run_cli("validate", "--root", str(root)).returncode == 0
    again = run_cli("new", "--root", str(root), "--week", "2025-07-30")
    assert again.returncode == 1
    assert again.stderr == "digestgen: error: digests/2025-07-28.md already exists; not overwritten\n"
    assert (root / "digests/2025-07-28.md").read_text() == text
    other = run_cli("new", "--root", str(root), "--week", "2025-09-03")
    assert other.stdout == "wrote digests/2025-09-01.md (draft)\n"


class _Yaml12Loader(__import__("yaml").SafeLoader):
    """YAML as the YAML language server reads it (YAML 1.2): 2016-05-26 is a string, not a date."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in __import__("yaml").SafeLoader.yaml_implicit_resolvers.items()}


def test_schema_matches_the_validator(make_repo, tmp_path, api):
    """The schema accepts what the validator accepts, checked on the test's own records (the
    fixtures and a record freshly written by `digestgen add`), never on this repository's."""
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    from conftest import HERE

    root = make_repo({"digestgen.toml": 'extra_fields = { paper = ["venue"] }\n'})
    assert add(root, api, "1605.08386").returncode == 0  # a record as `add` writes it, dates unquoted
    done = run_cli("schema", "--root", str(root), "--out", str(tmp_path / "schema"))
    assert done.returncode == 0, done.stderr
    paper = json.loads((tmp_path / "schema/paper.schema.json").read_text())
    issue = json.loads((tmp_path / "schema/issue.schema.json").read_text())
    assert "venue" in paper["properties"] and paper["required"] == ["title", "links"]
    records = [*(root / "papers").glob("*.yaml"), *(HERE / "fixtures/basic/papers").glob("*.yaml"),
               *(HERE / "fixtures/week/papers").glob("*.yaml")]
    assert root / "papers/1605.08386.yaml" in records and len(records) > 10
    for record in records:
        jsonschema.validate(yaml.load(record.read_text(), Loader=_Yaml12Loader), paper)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": {"en": "x"}, "links": {"paper": "htp://x"}, "sumary": {}}, paper)
    jsonschema.validate(yaml.safe_load(GOOD_ISSUE.split("---")[1]), issue)
