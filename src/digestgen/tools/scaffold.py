"""`digestgen init`: a new, content-only digest repository that builds and publishes at once.

Like `hugo new site` or `zola init`: settings with comments, empty `papers/` and `digests/`, a
README on overriding templates, the JSON Schemas for editor completion (committed, in
`schemas/`), VS Code settings that map them, a `.gitignore`, and a GitHub Actions workflow that
installs a pinned digestgen, validates with --strict, builds and deploys to GitHub Pages. It
never overwrites a file.
"""

from __future__ import annotations

import json
from pathlib import Path

from digestgen import __version__
from digestgen.tools.editor import EditError, write_new
from digestgen.pipeline.schema import schema_documents

# digestgen is not on PyPI: by default the workflow installs the release tag of the version that
# wrote it from the project's Git repository. DIGESTGEN_SPEC (a repository variable) overrides it.
DEFAULT_SPEC = f"digestgen @ git+https://github.com/digestgen/digestgen@v{__version__}"

SETTINGS = '''\
# Settings of this digest; every key is optional (the digestgen README lists them all).

# The site's name, in every page's header and title.
title = {title}

# Where the site is published. An absolute URL ("https://example.org/digest/") turns on feeds,
# sitemap.xml, canonical links and social images; a path ("/", "/digest/") works without them
# (`digestgen build` warns, and `--strict` refuses). The publish workflow passes the GitHub Pages
# address with --base-url, which wins over this line.
base_url = {base_url}

# The language of the pages (<html lang>): ko, en, ...
language = "ko"

# A one-line description (meta description and footer), and the editors named in the footer:
# description = "매주 살펴볼 만한 AI/ML 논문을 소개합니다."
# editors = ["홍길동"]

# Display labels for tags (tag = "label"): pages, search filters and feeds show the label.
# Tags are lowercase letters, digits and hyphens in any script: 강화학습, reinforcement-learning.
# In TOML a key that is not plain ASCII goes in quotes.
# [tags]
# reinforcement-learning = "강화학습"
# "강화학습" = "강화 학습"
# llm = "LLM"
'''

TEMPLATES_README = '''\
# Overriding templates

digestgen renders pages with its built-in Jinja templates. A file in this folder with the same
name as a built-in template replaces it; the others stay built-in. Start from a copy of the
built-in one (`python -c "import digestgen, pathlib; print(pathlib.Path(digestgen.__file__).parent / 'theme/templates')"`
prints where they are), e.g. `404.html`, `home.html`, `issue.html`, `paper.html`, `tag.html`.

Templates are Jinja with autoescape and `StrictUndefined`: a typo is an error naming the
template and line. While this folder holds only this README, nothing is overridden. Once it
holds a template, every build renders every page (an override may show anything anywhere).
'''

GITIGNORE = '''\
# digestgen's build output, caches and build lock
/site/
/.site.*
.digestgen/
# Python
.venv/
__pycache__/
'''

WORKFLOW = '''\
# Validate, build and publish this digest to GitHub Pages on every push to main; pull requests
# are validated and built, not deployed. Turn Pages on under Settings -> Pages -> "Build and
# deployment: GitHub Actions". This workflow runs no test suite of digestgen's: it checks the
# content (validate --strict, build --strict) with a pinned digestgen. The last run's build caches
# and site are restored before the build, so that a push rebuilds only what it changed.
name: publish

on:
  push:
    branches: [main]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: pages-${{{{ github.ref }}}}
  cancel-in-progress: ${{{{ github.event_name == 'pull_request' }}}}

env:
  # Which digestgen to install, as a pip requirement, pinned to the version that wrote this file.
  # To use another (a newer tag, a fork, a wheel URL), set the repository variable DIGESTGEN_SPEC
  # (Settings -> Secrets and variables -> Actions -> Variables), or edit the default here.
  DIGESTGEN_SPEC: ${{{{ vars.DIGESTGEN_SPEC || '{spec}' }}}}

jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install digestgen
        run: python -m pip install "$DIGESTGEN_SPEC"
      - name: Validate the content
        run: digestgen validate --strict
      - name: Restore the last build (its caches and site), so that this one builds like an edit
        # not for pull requests: they build for another base URL, and keep nothing
        if: github.event_name != 'pull_request'
        uses: actions/cache/restore@v4
        with:
          path: |
            .digestgen
            site
          key: digestgen-${{{{ github.ref }}}}-${{{{ github.run_id }}}}
          restore-keys: digestgen-${{{{ github.ref }}}}-
      - name: Configure Pages
        id: pages
        if: github.event_name != 'pull_request'
        uses: actions/configure-pages@v5
      - name: Build
        run: digestgen build --strict --base-url "${{{{ steps.pages.outputs.base_url || 'https://example.org/digest' }}}}/"
      - name: Keep this build for the next run
        if: github.event_name != 'pull_request'
        uses: actions/cache/save@v4
        with:
          path: |
            .digestgen
            site
          key: digestgen-${{{{ github.ref }}}}-${{{{ github.run_id }}}}
      - name: Upload the site
        if: github.event_name != 'pull_request'
        uses: actions/upload-pages-artifact@v3
        with:
          path: site

  deploy:
    if: github.event_name != 'pull_request' && github.ref == 'refs/heads/main'
    needs: build
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - name: Deploy to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v4
'''


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is a JSON string for these


def files(title: str = "AI/ML 논문 다이제스트", base_url: str = "/", spec: str = DEFAULT_SPEC) -> dict[str, str]:
    """{relative path: text} of a new digest repository."""
    schemas = {f"schemas/{name}": json.dumps(document, ensure_ascii=False, indent=2) + "\n"
               for name, document in schema_documents().items()}
    vscode = {
        "yaml.schemas": {"schemas/paper.schema.json": "papers/*.yaml"},
        "files.associations": {"digests/*.md": "markdown"},
    }
    return {
        "digestgen.toml": SETTINGS.format(title=_toml_string(title), base_url=_toml_string(base_url)),
        "papers/.gitkeep": "",
        "digests/.gitkeep": "",
        "templates/README.md": TEMPLATES_README,
        ".gitignore": GITIGNORE,
        **schemas,
        ".vscode/settings.json": json.dumps(vscode, indent=2) + "\n",
        ".vscode/extensions.json": json.dumps({"recommendations": ["redhat.vscode-yaml"]}, indent=2) + "\n",
        ".github/workflows/publish.yml": WORKFLOW.format(spec=spec.replace("'", "''")),
    }


class NotEmpty(Exception):
    """The target folder has files and --force was not given."""


def init(folder: Path, force: bool = False, say=print, **options) -> list[str]:
    """Write a new digest into `folder`; return the files kept because they existed (with `force`)."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file, not a folder")
    present = sorted(p.name for p in folder.iterdir() if p.name != ".git") if folder.is_dir() else []
    if present and not force:
        shown = ", ".join(present[:5]) + (", …" if len(present) > 5 else "")
        raise NotEmpty(f"{folder} is not empty ({shown}); run init in an empty or new folder, or pass --force "
                       "to add the missing files (existing files are never overwritten)")
    kept = []
    for rel, text in files(**options).items():
        path = folder / rel
        try:
            write_new(path, text)
        except EditError:
            kept.append(rel)
            say(f"kept {rel} (it exists; not overwritten)")
            continue
        say(f"wrote {rel}")
    return kept
