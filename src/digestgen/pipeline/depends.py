"""Which tasks show which papers and issues, so that an edit of their texts keys only those tasks.

A task's dependency key (`Renderer.task_key`) holds the file stamps of the records and issues its
page shows: a paper's stamp always beside its id, an issue's beside its slug or its papers' ids.
After a build that keyed every task, `Dependencies.of` records, per paper id and issue slug, the
tasks whose keys name it; and, per paper and issue file, a hash of its *layout*: what other pages
show of it and what decides which pages exist (a paper's title, date, tags, figures, draft
flag; an issue's week, papers and draft flag).

The next build compares the input files' stamps with the last build's. When the only files that
changed are papers and issues whose layout stayed the same (a summary, an abstract, a link or
an intro rewritten: an editor's ordinary edit), every other task keeps its key, and only the
tasks that name them are keyed again (`quick_keys`). Anything else (a file added or removed, a
title or a tag changed, a template, a figure, a record read again though its file did not
change) keys every task, as before. At 20,000 papers this
saves an edit the keys of 44,000 tasks, most of a second.
"""

from __future__ import annotations

import hashlib
import marshal
import pickle
from dataclasses import dataclass

from digestgen.pipeline.digest import Digest, IssueView, PaperView
from digestgen.pipeline.manifest import Task
from digestgen.pipeline.render import KINDS, Renderer


@dataclass
class Dependencies:
    """The layout hash of every published paper and issue, by source file, and the tasks whose
    keys name each paper id and issue slug."""

    layouts: dict[str, bytes]
    users: dict[str, bytes]  # name -> its tasks, packed (an edit unpacks a few of 22,000: see `users_of`)

    @classmethod
    def of(cls, site: Renderer, keys: dict[Task, tuple | None]) -> Dependencies:
        """The dependencies of a build whose tasks have these `keys` (every one of them)."""
        digest = site.digest
        names = set(digest.papers) | {iv.issue.slug for iv in digest.issues}
        # a paper's part of the keys names that paper only, and is one tuple in many keys: not walked
        parts = {id(part): pid for pid, part in site.paper_parts().items()}
        users: dict[str, list[Task]] = {}
        for task, key in keys.items():
            if key is not None:
                for name in _named(key, names, parts):
                    users.setdefault(name, []).append(task)
        return cls(layouts(digest), {name: marshal.dumps(tuple(map(tuple, tasks))) for name, tasks in users.items()})

    def users_of(self, name: str) -> list[Task]:
        """The tasks whose keys name this paper id or issue slug."""
        packed = self.users.get(name)
        return [] if packed is None else [Task(*task) for task in marshal.loads(packed)]


def _named(key: tuple, names: set[str], parts: dict[int, str]) -> set[str]:
    """The strings of `names` anywhere in a (nested) key; a tuple of `parts` (by identity) names
    the paper it is the part of."""
    found, todo = set(), [key]
    while todo:
        for item in todo.pop():
            if type(item) is tuple:
                pid = parts.get(id(item))
                if pid is None:
                    todo.append(item)
                else:
                    found.add(pid)
            elif type(item) is str and item in names:
                found.add(item)
    return found


def layouts(digest: Digest) -> dict[str, bytes]:
    """{source file: its layout hash} of every published paper and issue."""
    found = {view.paper.source: paper_layout(view) for view in digest.papers.values()}
    found.update((iv.issue.source, issue_layout(iv)) for iv in digest.issues)
    return found


def paper_layout(view: PaperView) -> bytes:
    """What pages other than those that name the paper show of it (its row in lists of papers:
    title and date), and what decides which pages there are (its tags, figures, draft flag)."""
    p = view.paper
    return _hash((p.id, p.source, sorted(p.title.items()), p.published, p.tags, p.figures, p.draft))


def issue_layout(iv: IssueView) -> bytes:
    """What decides where an issue's papers appear: its week, its papers, its draft flag."""
    i = iv.issue
    return _hash((i.slug, i.source, i.week, i.paper_ids, i.draft))


def _hash(value: tuple) -> bytes:
    return hashlib.blake2b(pickle.dumps(value, protocol=4), digest_size=16).digest()


def quick_keys(site: Renderer, tasks: list[Task], token, changed: set[str], read: set[str], same_tasks: bool,
               last: Dependencies | None) -> dict[Task, tuple | None] | None:
    """The keys of the tasks that may have changed, when this build has the last build's tasks
    (`same_tasks`) and the files that `changed` since then are all papers and issues whose layout
    is as it was; else None (then every task is keyed). A record `read` again from its file while
    the file did not change (a local figure of it changed, say) may have changed anywhere: then
    too."""
    if last is None or not same_tasks or not changed or not read <= changed:
        return None
    digest = site.digest
    papers = {view.paper.source: view for view in digest.papers.values()}
    issues = {iv.issue.source: iv for iv in digest.issues}
    named: set[str] = set()
    for source in changed:
        view, iv = papers.get(source), issues.get(source)
        if view is not None and last.layouts.get(source) == paper_layout(view):
            named.add(view.id)
        elif iv is not None and last.layouts.get(source) == issue_layout(iv):
            named.add(iv.issue.slug)
            named.update(iv.issue.paper_ids)
        else:
            return None  # a new, removed or unpublished file, another kind of file, or a new layout
    stale = {task for name in named for task in last.users_of(name)}
    stale.update(task for task in tasks if KINDS[task.kind].key is None)  # always rendered
    return {task: site.task_key(task, token) for task in tasks if task in stale}
