"""An editor's real week, end to end, on a copy of a digest repository: `new`, `add` against the
recorded arXiv server, the Korean text written by hand, `validate --strict`, `build --strict`.
Then the tests that touch this repository's content still pass on the changed copy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

import arxiv_server
from conftest import HERE, PROJECT, run_cli
from digestgen.pipeline.sources import read_front_matter_file
from digestgen.tools.arxivapi import file_stem
from digestgen.tools.editor import draft_weeks

WEEK = HERE / "fixtures" / "week"
SETTINGS = 'title = "AI/ML 논문 다이제스트"\nbase_url = "https://example.org/digest/"\n\n[tags]\n"마르코프-연쇄" = "마르코프 연쇄"\n'


def _fill_record(path: Path) -> None:
    """What an editor does by hand in a record that `add` wrote: the Korean title, summary and
    abstract, a tag, and `draft: true` deleted."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^draft: true.*\n", "", text, flags=re.M)
    text = re.sub(r"^title:\n", "title:\n  ko: 마르코프 기저를 따라 움직이는 열탕 무작위 행보\n", text, flags=re.M)
    text = re.sub(r"^abstract:\n", "abstract:\n  ko: |\n    격자점 위의 무작위 행보가 얼마나 빨리 섞이는지 분석합니다.\n",
                  text, flags=re.M)
    text = re.sub(r"^tags: \[\].*$", "tags: [마르코프-연쇄, sampling]", text, flags=re.M)
    text += "summary:\n  ko: |\n    마르코프 기저의 방향으로 움직이는 무작위 행보를 다룹니다.\n\n    **혼합 시간**의 한계를 보입니다.\n"
    path.write_text(text, encoding="utf-8")


def _fill_issue(path: Path) -> None:
    """The week's intro written over the outline, and the issue published."""
    front, _, _ = path.read_text(encoding="utf-8").partition("\n---\n")
    front = re.sub(r"^draft: true.*\n", "", front + "\n", flags=re.M)
    path.write_text(front + "---\n이번 주에는 표본 추출 이론의 고전 한 편을 읽습니다.\n", encoding="utf-8")


def _unlist(text: str, pid: str) -> str:
    """An issue's text without `pid` in its `papers` list (block or flow style), as an editor deletes it."""
    text = re.sub(rf'^\s*- "?{re.escape(pid)}"?\s*\n', "", text, flags=re.M)

    def flow(match: re.Match) -> str:
        ids = [str(i) for i in yaml.safe_load(match[2]) if str(i) != pid]
        return match[1] + json.dumps(ids, ensure_ascii=False)

    return re.sub(r"^(papers:\s*)(\[.*\])[ \t]*$", flow, text, flags=re.M)


def _droppable(root: Path, added: set[str]) -> Path:
    """A record of `root` that an editor may delete without leaving an issue with no papers (other
    than the records of `added`): one that no issue lists, else the last one of the latest
    published issue that lists more than one."""
    issues = []
    for path in sorted((root / "digests").glob("*.md"), reverse=True):
        parsed, _ = read_front_matter_file(path, path.name)
        meta = parsed.meta.value if parsed is not None and isinstance(parsed.meta.value, dict) else {}
        issues.append((meta.get("draft") is True, [str(pid) for pid in meta.get("papers") or []]))
    listed = {pid for _, ids in issues for pid in ids}
    for path in sorted((root / "papers").glob("*.yaml")):
        if path.stem not in listed and path.stem not in added:
            return path
    ids = next(ids for draft, ids in issues if not draft and len(ids) > 1)
    return root / "papers" / f"{ids[-1]}.yaml"


def test_an_editors_week(tmp_path):
    root = tmp_path / "digest"
    shutil.copytree(WEEK, root)
    (root / "digestgen.toml").write_text(SETTINGS, encoding="utf-8")

    new = run_cli("new", cwd=root)
    assert new.returncode == 0 and new.stdout == "wrote digests/2025-07-28.md (draft)\n", new.stderr
    with arxiv_server.running() as server:
        env = dict(os.environ, DIGESTGEN_ARXIV_API=f"{server.url}/api/query", DIGESTGEN_ARXIV_DELAY="0")
        add = run_cli("add", "1605.08386", "--issue", "2025-07-28", cwd=root, env=env)
    assert add.returncode == 0, add.stderr
    assert add.stdout.splitlines() == ["wrote papers/1605.08386.yaml: Heat-bath random walks with Markov bases",
                                       "added 1605.08386 to digests/2025-07-28.md"]
    # mid-week, with drafts everywhere, the content is valid and the published site builds
    midweek = run_cli("validate", "--strict", cwd=root)
    assert midweek.returncode == 0, midweek.stderr
    assert "note: draft: draft record; still missing title.ko, summary.ko, abstract.ko" in midweek.stderr
    assert run_cli("build", "--strict", "--out", str(tmp_path / "midweek"), cwd=root).returncode == 0
    assert not (tmp_path / "midweek/issues/2025-07-28").exists()

    _fill_record(root / "papers/1605.08386.yaml")
    _fill_issue(root / "digests/2025-07-28.md")
    valid = run_cli("validate", "--strict", cwd=root)
    assert valid.returncode == 0, valid.stderr
    assert valid.stderr == "ok: 11 papers, 2 issues\n"
    built = run_cli("build", "--strict", cwd=root)
    assert built.returncode == 0, built.stderr
    site = root / "site"
    issue = (site / "issues/2025-07-28/index.html").read_text()
    assert "이번 주에는 표본 추출 이론의 고전 한 편을 읽습니다." in issue and 'id="p-1605.08386"' in issue
    assert "마르코프 기저를 따라 움직이는 열탕 무작위 행보" in (site / "index.html").read_text()
    assert (site / "tags/마르코프-연쇄/index.html").exists()
    assert "#마르코프 연쇄" in (site / "papers/1605.08386/index.html").read_text()
    assert "1605.08386" in (site / "papers/feed.xml").read_text()
    assert (site / "pagefind/pagefind.js").exists()


def test_the_suite_does_not_read_this_repositorys_content():
    """Only `test_this_repositorys_digest_validates` may look at papers/ and digests/ of this
    repository (and only to validate them): editors change them every week."""
    readers = []
    for test in sorted(HERE.glob("*.py")):
        if test.name == "test_week.py":  # this file: it copies the repository and edits only the copy
            continue
        for line in test.read_text(encoding="utf-8").splitlines():
            if re.search(r"PROJECT\b(?!\s*/\s*\"(README|docs|\.github|src|pyproject))", line) and "import" not in line \
                    and not line.lstrip().startswith(("PROJECT =", "#")):
                readers.append(f"{test.name}: {line.strip()}")
    assert readers == ['test_site.py: done = run_cli("validate", "--root", str(PROJECT))'], readers


def test_the_repository_tests_pass_after_an_editors_week(tmp_path):
    """The week done on a copy of this whole repository: the tests that touch its content pass."""
    copy = tmp_path / "copy"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns(".venv", "site", ".digestgen", ".git", "__pycache__",
                                                                  ".pytest_cache", ".hypothesis", "*.egg-info"))
    # whatever the repository holds this week: papers arXiv (recorded) has that it lacks, its draft week or a new one
    fresh = [i for i in arxiv_server.PAPERS if not arxiv_server.PAPERS[i].get("comment")
             and not (copy / "papers" / f"{file_stem(i)}.yaml").exists()]
    assert fresh, "the recorded arXiv server needs a paper this repository does not have"
    drafts = draft_weeks(copy)
    with arxiv_server.running() as server:
        env = dict(os.environ, DIGESTGEN_ARXIV_API=f"{server.url}/api/query", DIGESTGEN_ARXIV_DELAY="0")
        if not drafts:
            assert run_cli("new", cwd=copy).returncode == 0
        week = draft_weeks(copy)[-1].isoformat()
        assert run_cli("add", fresh[0], "--issue", week, cwd=copy, env=env).returncode == 0
        for later in fresh[1:2]:  # a draft for later, listed nowhere
            assert run_cli("add", later, cwd=copy, env=env).returncode == 0
    _fill_record(copy / "papers" / f"{file_stem(fresh[0])}.yaml")
    # an editor also drops a record: one that no issue lists, or the last one of the latest published issue
    gone = _droppable(copy, {file_stem(pid) for pid in fresh[:2]})
    for issue in sorted(copy.glob("digests/*.md")):
        issue.write_text(_unlist(issue.read_text(encoding="utf-8"), gone.stem), encoding="utf-8")
    gone.unlink()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_site.py",
                           "tests/test_editor.py", "-k", "this_repositorys_digest or schema_matches or own_digest"],
                          cwd=copy, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(r"\b\d+ passed\b", done.stdout) and "failed" not in done.stdout
