"""Build-speed, memory and search-payload benchmark for digestgen.

    .venv/bin/python benchmarks/bench.py                 # N = 1,000 and 10,000
    .venv/bin/python benchmarks/bench.py --sizes 20000   # the 20,000-paper scale check
    .venv/bin/python benchmarks/bench.py --sizes 1000 --runs 5

For each N it generates a synthetic repository (weekly issues of ten papers; Korean and
English text of realistic length drawn from Zipf vocabularies, 1-4 tags, half with code
links; see tests/synth.py), then prints medians over --runs of: cold full build, no-op
rebuild, one-paper-edit rebuild (search updated); peak memory of digestgen and of Pagefind
(each process's own peak: Pagefind indexes while digestgen renders, so both are held at once);
pages per second; bytes written; search bundle size; and, in headless Chromium, the bytes of
search data (index, fragments, filters, wasm; not scripts or styles) that a first search
downloads, for a set of Korean and English queries, on the freshly indexed site and again
after the edits (base plus delta). CI does not run it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import synth  # noqa: E402

QUERIES = ["강화학습", "모델", "하이퍼파라미터가", "디바이스", "동역학", "reinforcement", "denoising"]
DRIVER = (
    "import resource, sys\n"
    "from digestgen.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'RSS {own} {children}', file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def build(root: Path) -> dict:
    """One `digestgen build` in a fresh process: wall seconds and peak RSS (MB) of it and of Pagefind."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DRIVER, "build", "--root", str(root), "--quiet"],
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stderr}")
    own, children = next(line.split()[1:] for line in done.stderr.splitlines() if line.startswith("RSS "))
    return {"wall": wall, "rss": int(own) / 1024, "pagefind_rss": int(children) / 1024}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def cold(root: Path) -> None:
    for path in (root / "site", root / ".digestgen"):
        shutil.rmtree(path, ignore_errors=True)


def edit_one_paper(root: Path, round_: int) -> str:
    """Change one paper's summary; return a word that only the new text has."""
    paper = sorted((root / "papers").glob("*.yaml"))[len(list((root / "papers").glob("*.yaml"))) // 2]
    word = f"벤치마크수정{round_}"
    text = paper.read_text(encoding="utf-8")
    marker = "summary:\n  ko: |\n"
    paper.write_text(text.replace(marker, f"{marker}    {word} 문장을 더했습니다.\n\n", 1), encoding="utf-8")
    return word


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


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench(n: int, runs: int, workdir: Path, browser_checks: bool) -> None:
    root = workdir / f"n{n}"
    if not (root / "papers").exists():
        synth.generate(root, n)
    colds = []
    for _ in range(runs):
        cold(root)
        colds.append(build(root))
    site = root / "site"
    pages = sum(1 for _ in site.rglob("*.html"))
    bundle = folder_bytes(site / "pagefind")
    written = folder_bytes(site)
    compact = payloads(site, QUERIES) if browser_checks else {}  # one bundle, as CI publishes it
    noops = [build(root) for _ in range(runs)]
    edits, word = [], ""
    for round_ in range(runs):
        word = edit_one_paper(root, round_)
        edits.append(build(root))
    wall = median([c["wall"] for c in colds])
    print(f"\n## N = {n:,} papers ({n // 10:,} issues), {pages:,} HTML pages, {os.cpu_count()} cores, "
          f"median of {runs}")
    print(f"cold full build          {wall:8.2f} s   ({pages / wall:,.0f} pages/s; runs: "
          + ", ".join(f"{c['wall']:.2f}" for c in colds) + ")")
    print(f"peak RSS digestgen       {max(c['rss'] for c in colds):8.0f} MB")
    print(f"peak RSS pagefind        {max(c['pagefind_rss'] for c in colds):8.0f} MB")
    print(f"bytes written            {written / 1e6:8.1f} MB (search bundle {bundle / 1e6:.1f} MB)")
    print(f"no-op rebuild            {median([b['wall'] for b in noops]):8.2f} s")
    print(f"one-paper edit rebuild   {median([b['wall'] for b in edits]):8.2f} s")
    delta = site / "pagefind/delta/fragment"
    print("search after the edits   " + (f"the base and a delta of {len(list(delta.iterdir()))} page(s)"
                                         if delta.is_dir() else "one bundle (the base was indexed again)"))
    if browser_checks:
        print(f"edit reached the index   {found(site, word)}")
        after = payloads(site, QUERIES)
        print("first search payload      full index | with the delta")
        for query in QUERIES:
            print(f"  '{query}'" + " " * max(1, 22 - len(query)) +
                  f"{compact[query] / 1024:8.1f} KB | {after[query] / 1024:8.1f} KB")
        for label, sizes in (("full index", compact), ("with delta", after)):
            ko = [sizes[q] for q in QUERIES if not q.isascii()]
            print(f"first Korean search ({label}) {max(ko) / 1024:8.1f} KB at most, {median(ko) / 1024:.1f} KB median")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep generated repositories here (default: a temp folder)")
    parser.add_argument("--no-browser", action="store_true", help="skip the payload measurement")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="digestgen-bench-"))
    try:
        for n in args.sizes:
            bench(n, args.runs, workdir, not args.no_browser)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
