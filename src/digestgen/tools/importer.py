"""`digestgen import`: weekly Discourse topics into paper records and an issue.

A source is a saved topic page (.html), the forum's topic JSON (`/t/<id>.json`, whose first
post's `cooked` HTML is the content) or a topic URL (read through that JSON API). The first
post is read in the digest's layout:

    # [YYYY/MM/DD ~ DD] title          -> the week (file name) and the issue's title
    ### community header               -> reported (set [discourse] header in digestgen.toml)
    intro paragraphs                  -> the issue's intro (emoji as :shortcodes:)
    ## 논문별 핵심 요약 (a list)         -> each paper's tldr, matched by the bold name
    ---
    ## 국문 제목 / English title          -> title.ko, title.en
    figures (lightbox images)          -> figures (src, alt)
    ### 논문 소개                        -> summary.ko
    ### (논문) 초록(Abstract)            -> abstract.ko, and the block quote -> abstract.en
    ### 논문 링크                        -> links.paper (and the id: arXiv or from the URL)
    ### 더 읽어보기                      -> repos, in order
    ---
    footer                             -> reported (set [discourse] footer)

HTML becomes Markdown through `markdownify`, with Discourse's own pieces (emoji images,
heading anchors, link cards, lightboxes, math) handled first. Anything else that cannot be
mapped is reported at its line in the source. Nothing existing is overwritten.

The steps, one module each: import_source.py reads a source into its first post,
import_html.py turns HTML into Markdown, import_layout.py maps the post onto an issue and its
papers; this module writes the records and the issue.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from digestgen.tools import editor
from digestgen.tools.import_layout import ImportedIssue, ImportedPaper, parse
from digestgen.tools.import_source import ImportError_, Source, read_source
from digestgen.pipeline.content import DIGESTS_DIR, PAPERS_DIR


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _text_field(key: str, text: str, indent: str) -> str:
    """`key: "one line"` or a literal block for several lines."""
    if "\n" not in text:
        return f"{indent}{key}: {_q(text)}\n"
    body = "\n".join(f"{indent}  {line}" if line.strip() else "" for line in text.split("\n"))
    head = "|2" if text[:1] in (" ", "\t") else "|"
    return f"{indent}{key}: {head}\n{body}\n"


def _map(key: str, values: dict[str, str]) -> str:
    values = {k: v for k, v in values.items() if v}
    if not values:
        return ""
    return f"{key}:\n" + "".join(_text_field(lang, text, "  ") for lang, text in values.items())


def record_text(paper: ImportedPaper, source: str) -> str:
    missing = paper.missing()
    out = f"# Imported by `digestgen import` from {source}\n"
    out += f"id: {_q(paper.id)}\n"
    if missing:
        out += f"draft: true  # still missing: {', '.join(missing)}; delete this line when done\n"
    out += _map("title", {"ko": paper.title_ko, "en": paper.title_en})
    out += _map("tldr", {"ko": paper.tldr})
    out += _map("summary", {"ko": paper.summary})
    out += _map("abstract", {"ko": paper.abstract_ko, "en": paper.abstract_en})
    out += f"links:\n  paper: {_q(paper.link)}\n" if paper.link else ""
    if paper.repos:
        out += "repos:\n" + "".join(f"  - {_q(url)}\n" for url in paper.repos)
    if paper.figures:
        out += "figures:\n" + "".join(
            f"  - src: {_q(f['src'])}\n" + (f"    alt: {_q(f['alt'])}\n" if f["alt"] else "") for f in paper.figures)
    if paper.arxiv:
        out += f"arxiv: {_q(paper.arxiv)}\n"
    if paper.tags:
        out += f"tags: [{', '.join(paper.tags)}]\n"
    return out


def record_data(paper: ImportedPaper) -> dict:
    """What record_text should read back as (to check the YAML written)."""
    data: dict = {"id": paper.id}
    if paper.missing():
        data["draft"] = True
    for key, values in (("title", {"ko": paper.title_ko, "en": paper.title_en}), ("tldr", {"ko": paper.tldr}),
                        ("summary", {"ko": paper.summary}),
                        ("abstract", {"ko": paper.abstract_ko, "en": paper.abstract_en})):
        kept = {k: v for k, v in values.items() if v}
        if kept:
            data[key] = kept
    if paper.link:
        data["links"] = {"paper": paper.link}
    if paper.repos:
        data["repos"] = paper.repos
    if paper.figures:
        data["figures"] = [{k: v for k, v in f.items() if v} for f in paper.figures]
    if paper.arxiv:
        data["arxiv"] = paper.arxiv
    if paper.tags:
        data["tags"] = paper.tags
    return data


def _same(text: str, data: dict) -> bool:
    loaded = yaml.safe_load(text)
    trimmed = {k: ({lang: v.rstrip("\n") for lang, v in value.items()} if isinstance(value, dict) and k != "links"
                   else value) for k, value in (loaded or {}).items()}
    return trimmed == data


def issue_text(issue: ImportedIssue, ids: list[str], draft: bool, source: Source, default_title: str) -> str:
    lines = ["---", f"# Imported by `digestgen import` from {source.url or source.name}"]
    if draft:
        lines.append("draft: true  # some papers are drafts; publish when they are done")
    if issue.title and issue.title != default_title:
        lines.append(f"title: {_q(issue.title)}")
    lines.append("papers:")
    lines += [f"  - {_q(i)}" for i in ids]
    if source.topic is not None:
        posts = f", posts: [{source.post_id}]" if source.post_id is not None else ""
        lines.append(f"discourse: {{topic: {source.topic}{posts}}}")
    lines.append("---")
    return "\n".join(lines) + "\n" + issue.intro + "\n"


def imported_topic(path: Path) -> int | None:
    """The Discourse topic id recorded in an issue's front matter, if any."""
    from digestgen.pipeline.sources import read_front_matter_file

    parsed, _ = read_front_matter_file(path, path.name)
    value = parsed.meta.value if parsed is not None else None
    forum = value.get("discourse") if isinstance(value, dict) else None
    return forum.get("topic") if isinstance(forum, dict) else None


def run(root: Path, sources: list[str], default_title: str, say=print, warn=print, client_for=None) -> bool:
    """`digestgen import`: True when every source was imported (or was already)."""
    ok = True
    for text in sources:
        try:
            source = read_source(text, client_for)
            issue = parse(source)
        except ImportError_ as exc:
            warn(str(exc))
            ok = False
            continue
        for problem in issue.problems:
            warn(str(problem))
        ok = _write(root, text, source, issue, default_title, say, warn) and ok
    return ok


def _write(root: Path, text: str, source: Source, issue: ImportedIssue, default_title: str, say, warn) -> bool:
    issue_path = root / DIGESTS_DIR / f"{issue.week.isoformat()}.md"
    rel_issue = f"{DIGESTS_DIR}/{issue_path.name}"
    if issue_path.exists():
        if source.topic is not None and imported_topic(issue_path) == source.topic:
            say(f"{text}: already imported as {rel_issue} (topic {source.topic}); nothing written")
            return True
        warn(f"{text}: {rel_issue} already exists; not overwritten (nothing written for this topic)")
        return False
    ids: list[str] = []
    records: list[tuple[Path, str, ImportedPaper]] = []
    for paper in issue.papers:
        if not paper.id:
            warn(f"{source.name}:{paper.line}:1: warning: paper '{paper.title_en or paper.title_ko}' has no "
                 "논문 링크, so it has no id; not imported")
            continue
        if paper.id in ids:
            warn(f"{source.name}:{paper.line}:1: warning: paper {paper.id} appears twice; imported once")
            continue
        ids.append(paper.id)
        target = root / PAPERS_DIR / f"{paper.id}.yaml"
        body = record_text(paper, source.url or text)
        if not _same(body, record_data(paper)):  # never write a record that reads back differently
            body = "# Imported by `digestgen import`\n" + yaml.safe_dump(record_data(paper), allow_unicode=True,
                                                                          sort_keys=False, width=1000)
        records.append((target, body, paper))
    if not ids:
        warn(f"{text}: no paper could be imported; nothing written")
        return False
    drafts = 0
    for target, body, paper in records:
        rel = f"{PAPERS_DIR}/{target.name}"
        if target.exists():
            say(f"{rel}: already exists; kept as it is (listed in {rel_issue})")
            continue
        editor.write_new(target, body)
        missing = paper.missing()
        drafts += bool(missing)
        filled = _filled(paper)
        say(f"wrote {rel}: {filled}" + (f" (draft: missing {', '.join(missing)})" if missing else ""))
    editor.write_new(issue_path, issue_text(issue, ids, drafts > 0, source, default_title))
    say(f"wrote {rel_issue}: {'; '.join(issue.mapped)}; {len(ids)} paper(s)"
        + (f"; topic {source.topic}" if source.topic is not None else "") + (" (draft)" if drafts else ""))
    return True


def _filled(paper: ImportedPaper) -> str:
    parts = ["title " + "+".join(k for k, v in (("ko", paper.title_ko), ("en", paper.title_en)) if v)]
    if paper.tldr:
        parts.append("tldr")
    if paper.summary:
        parts.append(f"summary ({paper.summary.count(chr(10) + chr(10)) + 1} paragraph(s))")
    abstract = "+".join(k for k, v in (("ko", paper.abstract_ko), ("en", paper.abstract_en)) if v)
    if abstract:
        parts.append(f"abstract {abstract}")
    parts.append(f"{len(paper.figures)} figure(s)")
    if paper.link:
        parts.append("paper link" + (" (arXiv)" if paper.arxiv else ""))
    parts.append(f"{len(paper.repos)} repo link(s)")
    if paper.tags:
        parts.append(f"tags {', '.join(paper.tags)}")
    return ", ".join(parts)
