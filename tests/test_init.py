"""`digestgen init`: a new digest repository that builds at once and publishes with its own workflow."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import run_cli, tree, write
from digestgen import __version__

EXPECTED = [".github/workflows/publish.yml", ".gitignore", ".vscode/extensions.json", ".vscode/settings.json",
            "digestgen.toml", "digests/.gitkeep", "papers/.gitkeep", "schemas/issue.schema.json",
            "schemas/paper.schema.json", "templates/README.md"]


def test_init_writes_a_digest_that_builds_at_once(tmp_path):
    done = run_cli("init", "x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "x"
    assert sorted(tree(folder)) == EXPECTED
    assert [line.split()[1] for line in done.stdout.splitlines() if line.startswith("wrote ")] == [
        "digestgen.toml", "papers/.gitkeep", "digests/.gitkeep", "templates/README.md", ".gitignore",
        "schemas/paper.schema.json", "schemas/issue.schema.json", ".vscode/settings.json", ".vscode/extensions.json",
        ".github/workflows/publish.yml"]
    assert "  cd x\n  digestgen new" in done.stdout
    settings = (folder / "digestgen.toml").read_text()
    assert re.search(r'^title = "AI/ML 논문 다이제스트"$', settings, re.M) and '\nbase_url = "/"\n' in settings
    assert '\nlanguage = "ko"\n' in settings and settings.count("\n# ") >= 10  # commented
    # `digestgen init x && cd x && digestgen build`
    built = run_cli("build", cwd=folder)
    assert built.returncode == 0, built.stderr
    assert "아직 발행된 호가 없습니다" in (folder / "site/index.html").read_text()
    assert run_cli("validate", "--strict", cwd=folder).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    for rel in EXPECTED:
        assert stat.S_IMODE((folder / rel).stat().st_mode) == 0o666 & ~umask, rel


def test_init_options_are_written(tmp_path):
    done = run_cli("init", str(tmp_path / "lab"), "--title", '연구실 "논문" 읽기', "--base-url",
                   "https://lab.example.org/papers", "--digestgen-spec", "digestgen==0.1.0")
    assert done.returncode == 0, done.stderr
    settings = (tmp_path / "lab/digestgen.toml").read_text()
    assert 'title = "연구실 \\"논문\\" 읽기"' in settings and 'base_url = "https://lab.example.org/papers/"' in settings
    assert "vars.DIGESTGEN_SPEC || 'digestgen==0.1.0'" in (tmp_path / "lab/.github/workflows/publish.yml").read_text()
    checked = run_cli("build", "--root", str(tmp_path / "lab"), "--strict")
    assert checked.returncode == 0, checked.stderr  # an absolute base URL: no warning, --strict builds
    assert "base URL" not in checked.stderr
    bad = run_cli("init", str(tmp_path / "bad"), "--base-url", "example.org")
    assert bad.returncode == 2 and not (tmp_path / "bad").exists()


def test_init_refuses_a_folder_that_is_not_empty_and_never_overwrites(tmp_path):
    folder = tmp_path / "mine"
    write(folder, {"notes.txt": "keep", "digestgen.toml": 'title = "내 설정"\n'})
    before = tree(folder)
    done = run_cli("init", str(folder))
    assert done.returncode == 2
    assert done.stderr == (f"digestgen: error: {folder} is not empty (digestgen.toml, notes.txt); run init in an "
                           "empty or new folder, or pass --force to add the missing files (existing files are "
                           "never overwritten)\n")
    assert tree(folder) == before
    forced = run_cli("init", str(folder), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "kept digestgen.toml (it exists; not overwritten)" in forced.stdout
    files = tree(folder)
    assert files["digestgen.toml"] == b'title = "\xeb\x82\xb4 \xec\x84\xa4\xec\xa0\x95"\n' and files["notes.txt"] == b"keep"
    assert sorted(files) == sorted(EXPECTED + ["notes.txt"])
    again = run_cli("init", str(folder), "--force")  # a second run changes nothing
    assert again.returncode == 0 and tree(folder) == files
    assert again.stdout.count("kept ") == len(EXPECTED)
    # a folder with only a fresh `git init` counts as empty
    (tmp_path / "repo/.git").mkdir(parents=True)
    assert run_cli("init", str(tmp_path / "repo")).returncode == 0


def test_schemas_are_committed_and_mapped_for_the_editor(tmp_path):
    folder = tmp_path / "x"
    assert run_cli("init", str(folder)).returncode == 0
    mapping = json.loads((folder / ".vscode/settings.json").read_text())["yaml.schemas"]
    assert mapping == {"schemas/paper.schema.json": "papers/*.yaml"}
    assert (folder / "schemas/paper.schema.json").exists()
    assert run_cli("schema", "--root", str(folder), "--out", str(tmp_path / "fresh")).returncode == 0
    for name in ("paper.schema.json", "issue.schema.json"):
        assert (folder / "schemas" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
    # git keeps what the editor settings point to; the build output and caches are ignored
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    assert run_cli("build", "--root", str(folder)).returncode == 0
    listed = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    paths = sorted(line[3:] for line in listed.splitlines())
    assert paths == EXPECTED


def _workflow(folder: Path) -> dict:
    return yaml.safe_load((folder / ".github/workflows/publish.yml").read_text())


def test_the_scaffold_publishes_with_its_own_workflow(tmp_path):
    folder = tmp_path / "x"
    assert run_cli("init", str(folder)).returncode == 0
    flow = _workflow(folder)
    triggers = flow[True]
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers and "paths" not in triggers["push"]
    assert flow["permissions"] == {"contents": "read"}
    assert flow["env"]["DIGESTGEN_SPEC"] == (
        f"${{{{ vars.DIGESTGEN_SPEC || 'digestgen @ git+https://github.com/digestgen/digestgen@v{__version__}' }}}}")
    steps = flow["jobs"]["build"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert runs.count('python -m pip install "$DIGESTGEN_SPEC"') == 1
    assert "digestgen validate --strict" in runs
    build = next(r for r in runs if r.startswith("digestgen build"))
    assert build.startswith("digestgen build --strict --base-url ") and "steps.pages.outputs.base_url" in build
    assert not any("pytest" in r or "test" in r.split() for r in runs)  # no test suite of digestgen's
    uses = [step.get("uses", "") for step in steps]
    assert uses[0].startswith("actions/checkout@") and any(u.startswith("actions/configure-pages@") for u in uses)
    # the last run's caches and site, restored before the build and kept after it, per branch, by
    # run; not for pull requests (another base URL: nothing to reuse, and nothing to keep)
    restore, save = (next(at for at, step in enumerate(steps) if step.get("uses", "").startswith(f"actions/cache/{kind}@"))
                     for kind in ("restore", "save"))
    assert restore < runs.index(build) < save
    for step in (steps[restore], steps[save]):
        assert step["with"]["path"].split() == [".digestgen", "site"] and step["if"] == "github.event_name != 'pull_request'"
        assert step["with"]["key"] == "digestgen-${{ github.ref }}-${{ github.run_id }}"
    assert steps[restore]["with"]["restore-keys"] == "digestgen-${{ github.ref }}-"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site"
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    # run the workflow's own commands (after its install step) as the runner would, with this digestgen
    write(folder, {"papers/p.yaml": "title: {ko: 논문}\nsummary: {ko: 소개}\nlinks: {paper: 'https://arxiv.org/abs/2507.16075'}\n",
                   "digests/2025-07-21.md": "---\npapers: [p]\n---\n이번 주 소개.\n"})
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    def run_steps(folder: Path) -> str:
        """The workflow's commands, as the runner would run them; what its build said."""
        said = ""
        for step in steps:
            command = step.get("run")
            if not command or "pip install" in command:
                continue
            command = re.sub(r"\$\{\{[^}]*\|\| '([^']*)' \}\}", r"\1", command)  # the expression's fallback
            assert "${{" not in command
            done = subprocess.run(command, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, (command, done.stderr)
            said += done.stdout + done.stderr
        return said

    assert "is up to date" not in run_steps(folder)
    assert (folder / "site/issues/2025-07-21/index.html").exists() and (folder / "site/pagefind/pagefind.js").exists()
    assert (folder / "site/feed.xml").exists()  # the workflow's absolute base URL turns feeds on
    # the next run: a fresh checkout (every file new, mtimes too) with the cache step's folders restored
    later = tmp_path / "later"
    shutil.copytree(folder, later, copy_function=shutil.copyfile)
    for path in later.rglob("*"):
        os.utime(path, (path.stat().st_mtime + 60,) * 2)
    assert "is up to date" in run_steps(later)


def test_schema_goes_where_git_keeps_it(make_repo):
    root = make_repo()
    done = run_cli("schema", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (root / "schemas").iterdir()) == ["issue.schema.json", "paper.schema.json"]
    assert not (root / ".digestgen/schema").exists()
