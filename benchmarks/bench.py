"""Build-speed, memory and search-payload benchmark for digestgen, beside Hugo + Pagefind.

    .venv/bin/python benchmarks/bench.py                    # N = 10,000 and 20,000, one run each
    .venv/bin/python benchmarks/bench.py --sizes 1000 --runs 3

For each N it generates a synthetic repository (weekly issues of ten papers; Korean and English
text from open Zipf vocabularies that keep growing with the archive, compounds written with and
without spaces, inflections, model names and numbers; see tests/synth.py) and prints, measured
in the same run (medians over --runs):

- digestgen: cold full build; one-paper edits (search updated), each followed by a no-op
  rebuild, as the median and range of --edits runs (default 7); a CI run (a fresh copy of the
  repository, every file with a new mtime, with the last build's .digestgen/ and site/, as the
  publishing workflow restores them, and one paper edited); and the cold build
  again within a memory budget (`--memory`, default 1536 MB: the `memory` setting);
- Hugo + Pagefind on the same content: a minimal Hugo site generated from the same records
  (each paper a page with its titles, tldr, summary, abstracts, authors and tags; each issue a
  page with its intro), built by `hugo` (Debian's, or $HUGO), then the same Pagefind binary over
  Hugo's output; and the ratio of the cold times;
- peak memory of ALL processes of each, two ways, from /proc: the sum of the resident sizes (RSS)
  of the command and all its descendants, sampled every 20 ms, where a forked worker counts every
  page it shares with its parent again (so this over-states); and the sum of their proportional
  sizes (PSS, from smaps_rollup, every 0.5 s), where a shared page counts once in all: the
  memory the tree really holds;
- distinct words of the content, and of digestgen's search index;
- in headless Chromium, the bytes of search data (index, fragments, filters, WebAssembly; not
  scripts or styles) that a first search downloads for five Korean and two English queries.

CI does not run this.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import synth  # noqa: E402

QUERIES = ["강화학습", "미세 조정", "하이퍼파라미터가", "디바이스", "동역학", "reinforcement", "denoising"]


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children(pid: int) -> list[int]:
    """Child processes of `pid`, from /proc/PID/task/*/children (None where the kernel lacks it)."""
    found = []
    for task in os.scandir(f"/proc/{pid}/task"):
        with open(f"{task.path}/children") as f:
            found += [int(child) for child in f.read().split()]
    return found


def _tree(root: int) -> list[int]:
    """`root` and all its descendants. Only the tree is read (scanning all of /proc every 20 ms
    took a third of a core on these machines, from the builds measured)."""
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        try:
            frontier += _children(pid)
        except (OSError, ValueError):
            continue
        found.append(pid)
    return found


def _rss(pid: int) -> int:
    """Resident KB of one process: every page it maps, shared ones included."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    """Proportional KB of one process: a page shared by n processes counts 1/n in each, so the sum
    over a tree is the memory it really holds (forked workers share their parent's pages)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def measured(command: list[str], cwd: Path | None = None, env: dict | None = None) -> dict:
    """Run `command`: wall seconds, and the peaks (MB) of its resident size summed over it and all
    its descendants (`rss`: a forked worker counts every page it shares with its parent again) and
    of their proportional size (`pss`: shared pages counted once in all)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"rss": 0, "pss": 0}

    def sample():
        beat = 0
        while process.poll() is None:
            tree = _tree(process.pid)
            peak["rss"] = max(peak["rss"], sum(map(_rss, tree)))
            if beat % 25 == 0:  # every 0.5 s: the kernel walks each process's page tables for it
                peak["pss"] = max(peak["pss"], sum(map(_pss, tree)))  # (every 0.1 s took a third of a core)
            beat += 1
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{err[-3000:]}\n{out[-2000:]}")
    return {"wall": wall, "rss": peak["rss"] / 1024, "pss": peak["pss"] / 1024}


# A published site has an absolute base URL, and with it feeds, sitemap.xml and canonical links.
BASE_URL = "https://example.org/"


def build(root: Path) -> dict:
    return measured([sys.executable, "-m", "digestgen", "build", "--root", str(root), "--quiet",
                     "--base-url", BASE_URL])


RUN = time.strftime("%m%d%H%M%S")  # this run's mark in the words its edits add


def cold(root: Path) -> None:
    for path in (root / "site", root / ".digestgen"):
        shutil.rmtree(path, ignore_errors=True)


def edit_one_paper(root: Path, round_: int) -> str:
    """Change one paper's summary; return a word that only the new text has (new in every run: a
    corpus kept between runs has the words of the last run's edits, and an edit that put back the
    words of one indexed before would change nothing in the index, and leave no delta)."""
    papers = sorted((root / "papers").glob("*.yaml"))
    paper = papers[len(papers) // 2]
    word = f"벤치마크수정{RUN}{round_}"
    text = paper.read_text(encoding="utf-8")
    marker = "summary:\n  ko: |\n"
    paper.write_text(text.replace(marker, f"{marker}    {word} 문장을 더했습니다.\n\n", 1), encoding="utf-8")
    return word


# --- Hugo + Pagefind on the same content -------------------------------------------------------

HUGO_LAYOUT = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><nav><a href="/">home</a></nav>
<main data-pagefind-body><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>
"""


def hugo_site(root: Path, target: Path) -> None:
    """A minimal Hugo site with the same papers and issues as the repository at `root`."""
    shutil.rmtree(target, ignore_errors=True)
    (target / "layouts" / "_default").mkdir(parents=True)
    (target / "content" / "papers").mkdir(parents=True)
    (target / "content" / "issues").mkdir(parents=True)
    (target / "hugo.toml").write_text('baseURL = "/"\nlanguageCode = "ko"\ntitle = "digest"\n'
                                      'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n')
    for name in ("single.html", "list.html"):
        (target / "layouts" / "_default" / name).write_text(HUGO_LAYOUT)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in (root / "papers").glob("*.yaml"):
        record = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        title = " / ".join(record["title"].values())
        parts = [record.get("tldr", {}).get("ko", ""), record["summary"].get("ko", "")]
        parts += [record.get("abstract", {}).get(lang, "") for lang in ("ko", "en")]
        parts += [", ".join(record.get("authors", [])), " ".join(f"#{t}" for t in record.get("tags", []))]
        body = "\n\n".join(p for p in parts if p)
        (target / "content" / "papers" / f"{path.stem}.md").write_text(
            f"---\ntitle: {yaml.safe_dump(title, allow_unicode=True).strip()}\n---\n{body}\n", encoding="utf-8")
    for path in (root / "digests").glob("*.md"):
        intro = path.read_text(encoding="utf-8").split("---\n", 2)[2]
        (target / "content" / "issues" / path.name).write_text(
            f"---\ntitle: \"{path.stem}\"\n---\n{intro}", encoding="utf-8")


def hugo_pagefind(root: Path, work: Path) -> dict:
    """Hugo builds the site, then Pagefind indexes it: wall seconds and peak RSS of each step."""
    from digestgen.pipeline.search import executable

    site = work / "hugo"
    hugo_site(root, site)
    hugo = measured([os.environ.get("HUGO", "hugo"), "--quiet", "--source", str(site)])
    pagefind = measured([str(executable()), "--site", str(site / "public"), "--quiet"])
    os.rename(site, work / f".hugo-old-{time.time_ns()}")  # removed at the end, not while timing
    return {"wall": hugo["wall"] + pagefind["wall"], "rss": max(hugo["rss"], pagefind["rss"]),
            "pss": max(hugo["pss"], pagefind["pss"]), "hugo": hugo["wall"], "pagefind": pagefind["wall"]}


# --- search payload and index size --------------------------------------------------------------

def payloads(site: Path, queries: list[str]) -> dict[str, int]:
    """Bytes of search data a fresh browser downloads for the first search of each query."""
    from browser import browser, serve

    results = {}
    with serve(site) as base, browser() as chromium:
        for query in queries:
            context = chromium.new_context()
            page = context.new_page()
            sizes: dict[str, int] = {}

            def record(response):
                url = response.url.split("?")[0]
                if "/pagefind/" in url and not url.endswith((".js", ".css")):
                    try:
                        sizes[url] = len(response.body())
                    except Exception:  # noqa: BLE001 - a cancelled request has no body
                        pass

            page.on("response", record)
            page.goto(f"{base}search/?q={query}")
            page.locator("#search-status", has_text="결과").wait_for(timeout=60000)
            page.wait_for_load_state("networkidle")
            results[query] = sum(sizes.values())
            context.close()
    return results


def found(site: Path, word: str) -> bool:
    """Whether the search finds `word` (checks that an edit reached the index)."""
    from browser import browser, serve

    with serve(site) as base, browser() as chromium:
        page = chromium.new_page()
        page.goto(f"{base}search/?q={word}")
        status = page.locator("#search-status", has_text="결과")
        status.wait_for(timeout=60000)
        return "없습니다" not in status.inner_text()


def index_words(root: Path) -> int:
    """Distinct words digestgen gives Pagefind for the records and issues under `root` (search
    tokens: stems, tails, ids; see digestgen/korean.py), without the titles as written."""
    from digestgen.pipeline.korean import index_tokens

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    words: set[str] = set()
    for path in (root / "papers").glob("*.yaml"):
        record = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        texts = [t for key in ("title", "tldr", "summary", "abstract") for t in (record.get(key) or {}).values()]
        words.update(index_tokens("\n".join(texts)))
    for path in (root / "digests").glob("*.md"):
        words.update(index_tokens(path.read_text(encoding="utf-8").split("---\n", 2)[2]))
    return len(words)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench(n: int, runs: int, workdir: Path, browser_checks: bool, budget: int = 0, edits_runs: int = 7) -> None:
    root = workdir / f"n{n}"
    if not (root / "papers").exists():
        print(f"generating {n:,} papers …", file=sys.stderr, flush=True)
        synth.generate(root, n)
    vocabulary, words = synth.vocabulary(root), index_words(root)
    print(f"\n## N = {n:,} papers ({n // 10:,} issues), {os.cpu_count()} cores, median of {runs}")
    print(f"distinct words: content {vocabulary:,}; search tokens {words:,}", flush=True)
    colds, hugos, budgeted = [], [], []
    for _ in range(runs):  # alternate, so that all see the same machine
        if budget:  # the same cold build within a memory budget (`memory` in digestgen.toml)
            cold(root)
            (root / "digestgen.toml").write_text(f"memory = {budget}\n", encoding="utf-8")
            try:
                budgeted.append(build(root))
            finally:
                (root / "digestgen.toml").unlink()
            print(f"  digestgen cold, memory = {budget}: {budgeted[-1]['wall']:.2f} s, {budgeted[-1]['rss']:.0f} MB RSS,"
                  f" {budgeted[-1]['pss']:.0f} MB PSS", flush=True)
        cold(root)
        colds.append(build(root))
        print(f"  digestgen cold {colds[-1]['wall']:.2f} s, {colds[-1]['rss']:.0f} MB RSS, {colds[-1]['pss']:.0f} MB PSS",
              flush=True)
        hugos.append(hugo_pagefind(root, workdir))
        print(f"  Hugo {hugos[-1]['hugo']:.2f} s + Pagefind {hugos[-1]['pagefind']:.2f} s, {hugos[-1]['rss']:.0f} MB RSS,"
              f" {hugos[-1]['pss']:.0f} MB PSS", flush=True)
    site = root / "site"
    bundle = site / "pagefind"
    compact = payloads(site, QUERIES) if browser_checks else {}
    # incremental builds take seconds on a noisy machine: the median of several, with their range
    noops, edits, word = [], [], ""
    os.sync()  # the cold builds' gigabytes written out first: an editor's edit does not follow them
    for round_ in range(edits_runs):
        word = edit_one_paper(root, round_)
        edits.append(build(root))
        noops.append(build(root))
    # a CI run: a fresh checkout (every file new, with a new mtime) with the last build's
    # .digestgen/ and site/ restored (the publishing workflow's cache step), and one paper edited
    checkout = workdir / f".checkout-{n}"
    shutil.rmtree(checkout, ignore_errors=True)
    shutil.copytree(root, checkout, copy_function=shutil.copyfile)
    edit_one_paper(checkout, edits_runs)
    os.sync()
    restored = build(checkout)
    shutil.rmtree(checkout, ignore_errors=True)
    ours, theirs = median([c["wall"] for c in colds]), median([h["wall"] for h in hugos])
    print(f"search bundle: {folder_bytes(bundle) / 1e6:.1f} MB")
    print(f"cold build, digestgen          {ours:8.2f} s   (runs: " + ", ".join(f"{c['wall']:.2f}" for c in colds) + ")")
    print(f"cold build, Hugo + Pagefind    {theirs:8.2f} s   (runs: " + ", ".join(
        f"{h['hugo']:.2f} + {h['pagefind']:.2f}" for h in hugos) + ")")
    print(f"ratio digestgen / Hugo+Pagefind {ours / theirs:7.2f}")
    if budgeted:
        mine = median([b["wall"] for b in budgeted])
        print(f"cold build, memory = {budget}     {mine:8.2f} s   (ratio {mine / theirs:.2f}; peak RSS"
              f" {max(b['rss'] for b in budgeted):.0f} MB, PSS {max(b['pss'] for b in budgeted):.0f} MB)")
    for kind in ("rss", "pss"):
        print(f"peak {kind.upper()}, all processes: digestgen {max(c[kind] for c in colds):6.0f} MB;"
              f" Hugo + Pagefind {max(h[kind] for h in hugos):6.0f} MB")
    for label, builds in (("no-op rebuild", noops), ("one-paper edit rebuild", edits)):
        walls = [b["wall"] for b in builds]
        print(f"{label:30s} {median(walls):8.2f} s   (median of {len(walls)}: {min(walls):.2f}–{max(walls):.2f};"
              f" peak RSS {max(b['rss'] for b in builds):.0f} MB)")
    print(f"{'CI run: checkout, caches restored, one edit':30s} {restored['wall']:8.2f} s   (peak RSS {restored['rss']:.0f} MB)")
    if browser_checks:
        print(f"edit reached the index         {found(site, word)}")
        after = payloads(site, QUERIES)
        print("first search payload            full index | with the delta")
        for query in QUERIES:
            print(f"  '{query}'" + " " * max(1, 24 - len(query) * (2 if not query.isascii() else 1)) +
                  f"{compact[query] / 1024:8.1f} KB | {after[query] / 1024:8.1f} KB")
        for label, sizes in (("full index", compact), ("with delta", after)):
            print(f"first search ({label}): at most {max(sizes.values()) / 1024:.1f} KB,"
                  f" median {median(list(sizes.values())) / 1024:.1f} KB")
    sys.stdout.flush()
    for old in workdir.glob(".hugo-old-*"):
        shutil.rmtree(old, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 20000])
    parser.add_argument("--runs", type=int, default=1, help="cold builds of each kind")
    parser.add_argument("--edits", type=int, default=7, help="one-paper edits, each followed by a no-op build")
    parser.add_argument("--workdir", type=Path, help="keep generated repositories here (default: a temp folder)")
    parser.add_argument("--no-browser", action="store_true", help="skip the payload measurement")
    parser.add_argument("--memory", type=int, default=1536, metavar="MB",
                        help="also build cold with this memory budget (the `memory` setting; 0: skip)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="digestgen-bench-"))
    try:
        for n in args.sizes:
            bench(n, args.runs, workdir, not args.no_browser, args.memory, args.edits)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
