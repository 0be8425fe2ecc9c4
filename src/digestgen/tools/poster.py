"""`digestgen post WEEK`: publish an issue's forum post through the Discourse API.

The first time, the issue becomes a new topic in the configured category, and replies carry
the rest of a post longer than max_post_length; the topic and post ids are then written into
the issue's front matter as `discourse: {topic: N, posts: [...]}`. Posting again edits those
posts, adds replies when the issue grew, and deletes replies it no longer needs. The front
matter is edited in place (the rest of the file is kept byte for byte) and atomically.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import yaml

from digestgen.tools import discourse, editor, export
from digestgen.errors import UsageError

KEY_ENV, USER_ENV = "DISCOURSE_API_KEY", "DISCOURSE_API_USERNAME"


def run(args, pipeline, say) -> int:
    from digestgen.pipeline.render import renderer

    settings = pipeline.settings_for(args.root, args.base_url)
    if not settings.discourse_url:
        raise UsageError("no forum to post to: set url (and category) under [discourse] in digestgen.toml")
    key, username = os.environ.get(KEY_ENV, ""), os.environ.get(USER_ENV, "")
    if not args.dry_run and not (key and username):
        raise UsageError(f"set {KEY_ENV} and {USER_ENV} (an API key of the forum and the user to post as)")
    digest, _ = pipeline.load(args.root, settings)
    view = export.find_issue(digest, args.week)
    if view is None:
        raise UsageError(f"no published issue for the week of {args.week.isoformat()}")
    posts = export.discourse_posts(renderer(args.root, settings, digest), settings, view)
    title = view.issue.heading
    path = args.root / view.issue.source
    known = view.issue.discourse
    if args.dry_run:
        action = f"edit topic {known['topic']}" if known else f"create a topic in category {settings.discourse_category}"
        say(f"would {action}: {title}; {len(posts)} post(s) of " + ", ".join(f"{len(p):,}" for p in posts)
            + " characters")
        return 0
    client = discourse.Client(settings.discourse_url, key=key, username=username)
    try:
        topic, ids = publish(client, title, posts, settings.discourse_category, known, say)
    except Partial as exc:
        if exc.topic is not None:
            write_ids(path, exc.topic, exc.ids)
            print(f"digestgen: error: {exc}; the posts made so far are recorded in {view.issue.source}, "
                  "so posting again continues", file=sys.stderr)
        else:
            print(f"digestgen: error: {exc}; nothing was posted or written", file=sys.stderr)
        return 1
    write_ids(path, topic, ids)
    say(f"recorded topic {topic} and post(s) {', '.join(map(str, ids))} in {view.issue.source}")
    return 0


class Partial(Exception):
    """A request failed; `topic`/`ids` say what exists on the forum by then."""

    def __init__(self, message: str, topic: int | None, ids: list[int]):
        super().__init__(message)
        self.topic, self.ids = topic, ids


def publish(client: discourse.Client, title: str, posts: list[str], category: int | None,
            known: dict | None, say) -> tuple[int, list[int]]:
    """Create or update the topic; return its id and its posts' ids (first post, then replies)."""
    topic = known["topic"] if known else None
    old = list(known.get("posts") or []) if known else []
    ids: list[int] = []
    try:
        for number, raw in enumerate(posts):
            if number < len(old):
                client.edit(old[number], raw)
                ids.append(old[number])
                say(f"edited post {old[number]} ({len(raw):,} characters)")
            elif topic is None:
                answer = client.create(raw, title=title, category=category)
                topic, post = _int(answer, "topic_id"), _int(answer, "id")
                ids.append(post)
                say(f"created topic {topic} with post {post} ({len(raw):,} characters)")
            else:
                answer = client.create(raw, topic=topic)
                ids.append(_int(answer, "id"))
                say(f"added reply {ids[-1]} ({len(raw):,} characters)")
        if known:
            client.rename(topic, title)
        for extra in old[len(posts):]:
            client.delete(extra)
            say(f"deleted reply {extra}, no longer needed")
    except discourse.ForumError as exc:
        if topic is not None and known is not None:
            ids += old[len(ids):]  # untouched posts stay recorded
        raise Partial(str(exc), topic, ids) from None
    return topic, ids


def _int(answer: dict, key: str) -> int:
    value = answer.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise discourse.ForumError(f"the forum's answer has no {key}")
    return value


def write_ids(path: Path, topic: int, ids: list[int]) -> None:
    """Set `discourse: {topic: N, posts: [...]}` in the issue's front matter, keeping the rest."""
    front = editor.FrontMatter.read(path)
    lines, end, node = front.lines, front.end, front.node
    value = f"discourse: {{topic: {topic}, posts: [{', '.join(map(str, ids))}]}}"
    pair = None
    if isinstance(node, yaml.MappingNode):
        pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == "discourse"), None)
    if pair is None:
        lines[end:end] = [value]
    else:
        first = pair[0].start_mark.line + 1
        last = pair[1].end_mark.line + 1 - (1 if pair[1].end_mark.column == 0 else 0)
        if pair[0].start_mark.column != 0:
            raise editor.EditError(f"{path.name}: `discourse` is not a top-level key; fix it by hand")
        comment = re.search(r"\s+#.*$", lines[last]) if last == first else None
        lines[first:last + 1] = [value + (comment[0] if comment else "")]
    if front.data().get("discourse") != {"topic": topic, "posts": ids}:
        raise editor.EditError(f"{path.name}: could not record the topic id without changing the file's layout")
    front.write(path)
