"""A local stand-in for the arXiv API and for RSS feeds: real Atom/RSS formats, our own content.

Responses follow the arXiv API user manual: the Atom namespace plus `opensearch:` and `arxiv:`
on the root element, versioned entry ids, `link` elements for the abstract and (title="pdf")
the PDF, `arxiv:primary_category`, `arxiv:comment`. `Server.mode` injects faults.
"""

from __future__ import annotations

import contextlib
import http.server
import time
from dataclasses import dataclass, field

from localserver import Replying, serving
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

PAPERS = {
    "2507.16075": dict(version=2, title="Deep Researcher with\n  Test-Time Diffusion", primary="cs.CL",
                       categories=["cs.CL", "cs.AI"], published="2025-07-21T17:59:58Z",
                       authors=["Rujun Han", "Yanfei Chen"],
                       summary="  Research agents stall on long reports.\nWe treat drafting as diffusion.\n"),
    "2506.10943": dict(version=1, title="Self-Adapting Language Models", primary="cs.LG",
                       categories=["cs.LG", "cs.CL"], published="2025-06-12T17:48:13Z",
                       authors=["Adam Zweiger", "Jyothish Pari"],
                       summary="Models that write their own fine-tuning data: \"self-edits\"."),
    "hep-th/9901001": dict(version=1, title="An Old-Style Identifier", primary="hep-th", categories=["hep-th"],
                           published="1999-01-01T00:00:00Z", authors=["A. Physicist"], summary="Strings."),
    "1605.08386": dict(version=1, title="Heat-bath random walks with Markov bases", primary="math.CO",
                       categories=["math.CO", "math.PR", "stat.CO"], published="2016-05-26T19:25:47Z",
                       authors=["Caprice Stanley", "Tobias Windisch"],
                       summary="  We study random walks on lattice points\nthat move along Markov basis directions.\n"),
    "1706.03762": dict(version=7, title="Attention Is All You Need", primary="cs.CL", categories=["cs.CL", "cs.LG"],
                       published="2017-06-12T17:57:34Z", authors=["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"],
                       summary="A sequence model built on attention alone, without recurrence or convolution."),
    "2501.00099": dict(version=3, title="A Withdrawn Paper", primary="cs.AI", categories=["cs.AI"],
                       published="2025-01-02T00:00:00Z", authors=["B. Author"], summary="Withdrawn.",
                       comment="This paper has been withdrawn by the author due to an error in Lemma 2."),
}


def atom(ids: list[str]) -> bytes:
    entries = []
    for arxiv_id in ids:
        paper = PAPERS.get(arxiv_id)
        if paper is None:
            continue
        vid = f"{arxiv_id}v{paper['version']}"
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in paper["authors"])
        categories = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in paper["categories"])
        comment = f"<arxiv:comment>{escape(paper['comment'])}</arxiv:comment>" if paper.get("comment") else ""
        entries.append(f"""
  <entry>
    <id>http://arxiv.org/abs/{vid}</id>
    <updated>{paper['published']}</updated>
    <published>{paper['published']}</published>
    <title>{escape(paper['title'])}</title>
    <summary>{escape(paper['summary'])}</summary>
    {authors}
    {comment}
    <link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"/>
    <arxiv:primary_category term="{paper['primary']}" scheme="http://arxiv.org/schemas/atom"/>
    {categories}
  </entry>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <link href="http://arxiv.org/api/query?id_list={','.join(ids)}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: id_list={','.join(ids)}</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2025-07-22T00:00:00-04:00</updated>
  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>{''.join(entries)}
</feed>
""".encode()


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """An arXiv listing feed (rss.arxiv.org style): (id with version, announce type, title)."""
    body = "".join(f"""
    <item>
      <title>{escape(title)}</title>
      <link>https://arxiv.org/abs/{vid.split('v')[0] if vid[0].isdigit() else vid}</link>
      <description>arXiv:{vid} Announce Type: {kind} 
Abstract: Something about {escape(title)}.</description>
      <guid isPermaLink="false">oai:arXiv.org:{vid}</guid>
      <category>cs.AI</category>
      <pubDate>Mon, 21 Jul 2025 00:00:00 -0400</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>First Author, Second Author, Third Author</dc:creator>
    </item>""" for vid, kind, title in items)
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>cs.AI updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.AI</link>
    <description>cs.AI updates on the arXiv.org e-print archive.</description>
    <language>en-us</language>
    <lastBuildDate>Mon, 21 Jul 2025 04:00:00 +0000</lastBuildDate>{body}
  </channel>
</rss>
""".encode()


@dataclass
class Server:
    url: str = ""
    mode: str = "ok"  # ok | 503 | 503-once | 404 | malformed | slow | truncated
    requests: list[str] = field(default_factory=list)
    feeds: dict[str, bytes] = field(default_factory=dict)


def _handler(state: Server):
    class Handler(Replying):
        def do_GET(self):  # noqa: N802
            state.requests.append(self.path)
            parts = urlsplit(self.path)
            if parts.path.startswith("/feeds/"):
                body = state.feeds.get(parts.path)
                return self._reply(200 if body else 404, body or b"not found", "application/rss+xml")
            mode = state.mode
            if mode == "503-once":
                state.mode = "ok"
                return self._reply(503, b"busy", "text/plain")
            if mode in ("503", "404"):
                return self._reply(int(mode), b"error", "text/plain")
            if mode == "slow":
                time.sleep(3)
            ids = [i for i in parse_qs(parts.query).get("id_list", [""])[0].split(",") if i]
            body = atom(ids)
            if mode == "malformed":
                body = b"<feed><entry><id>oops"
            if mode == "truncated":
                body = body[: len(body) // 2]
            self._reply(200, body, "application/atom+xml; charset=utf-8")

    return Handler


def running():
    """A server on a free port of 127.0.0.1, for one test."""
    state = Server()
    return serving(_handler(state), state)


if __name__ == "__main__":  # `python tests/arxiv_server.py [PORT]`: try `digestgen add` offline
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8001
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(Server()))
    print(f"recorded arXiv API on http://127.0.0.1:{port}/api/query "
          f"(papers: {', '.join(PAPERS)}); Ctrl+C to stop", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()
