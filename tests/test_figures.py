"""Local figures: a path in the repository as `figures[].src`, checked, copied into the site
under a content-hashed name, with the image's width and height on the page."""

from __future__ import annotations

import hashlib
import re

import pytest

from conftest import GOOD_PAPER, run_cli
from test_incremental import png

SITE = "https://example.org/digest/"


def _with_figure(src: str) -> str:
    return GOOD_PAPER + f"figures:\n  - src: {src}\n    alt: 개요 그림\n"


def test_a_local_figure_is_copied_with_a_hashed_name_and_its_size(make_repo):
    image = png(64, 48)
    root = make_repo({"papers/2507.16075.yaml": _with_figure("figures/2507.16075-1.png"),
                      "figures/2507.16075-1.png": image})
    done = run_cli("build", "--root", str(root), "--no-search", "--base-url", SITE)
    assert done.returncode == 0, done.stderr
    name = f"figures/2507.16075-1.{hashlib.sha256(image).hexdigest()[:10]}.png"
    assert (root / "site" / name).read_bytes() == image
    page = (root / "site/papers/2507.16075/index.html").read_text(encoding="utf-8")
    assert f'<img src="/digest/{name}" alt="개요 그림" width="64" height="48"' in page
    assert f'<meta property="og:image" content="{SITE}{name}">' in page
    issue = (root / "site/issues/2025-07-21/index.html").read_text(encoding="utf-8")
    assert f'src="/digest/{name}"' in issue
    post = run_cli("export", "2025-07-21", "--format", "discourse", "--root", str(root), "--base-url", SITE)
    assert f"![개요 그림]({SITE}{name})" in post.stdout
    relative = run_cli("export", "2025-07-21", "--format", "discourse", "--root", str(root))
    assert relative.returncode == 2 and "is a local file: give an absolute --base-url" in relative.stderr


@pytest.mark.parametrize("src,files,message", [
    ("figures/nope.png", {}, "figures[0].src: no file 'figures/nope.png' in the repository"),
    ("../outside.png", {}, "figures[0].src: '../outside.png' must be a plain path inside the repository"),
    ("/etc/passwd", {}, "figures[0].src: '/etc/passwd' is not an http(s) URL or a relative path"),
    ("figures/fake.png", {"figures/fake.png": "not an image"}, "figures[0].src: 'figures/fake.png' could not be read as a PNG image"),
    ("figures/notes.txt", {"figures/notes.txt": "text"}, "figures[0].src: 'figures/notes.txt' is not an image"),
    ("img/fig1.png", {}, "figures[0].src: no file 'img/fig1.png' in the repository"),
])
def test_bad_local_figures_are_located_errors(make_repo, src, files, message):
    root = make_repo({"papers/2507.16075.yaml": _with_figure(src), **files})
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert re.search(rf"papers/2507\.16075\.yaml:1[01]:\d+: error: {re.escape(message)}", done.stderr), done.stderr


def test_a_figure_may_not_escape_through_a_link(make_repo, tmp_path):
    (tmp_path / "secret.png").write_bytes(png(2, 2))
    root = make_repo({"papers/2507.16075.yaml": _with_figure("figures/link.png")})
    (root / "figures").mkdir()
    (root / "figures/link.png").symlink_to(tmp_path / "secret.png")
    done = run_cli("validate", "--root", str(root))
    assert done.returncode == 1 and "'figures/link.png' points outside the repository" in done.stderr
