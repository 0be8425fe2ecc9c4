"""A local stand-in for a Discourse forum: the documented endpoints digestgen uses, nothing else.

- GET /t/{id}.json: a recorded topic response (`Forum.topics`), or one built from the posts made.
- POST /posts.json: a new topic (`title`, `raw`, `category`) or a reply (`topic_id`, `raw`);
  answers like Discourse ({"id", "topic_id", "post_number", "raw", ...}); a raw longer than
  `max_post_length` is refused with 422 and Discourse's error list.
- PUT /posts/{id}.json with {"post": {"raw": ...}}; PUT /t/{id}.json with {"title": ...};
  DELETE /posts/{id}.json.
Writes need the `Api-Key` and `Api-Username` headers (403 otherwise). `faults` is a list of
HTTP statuses (or "slow", or None for a normal answer) that the next requests get in turn.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

from localserver import Replying, serving

KEY, USER = "test-key", "editor"


@dataclass
class Forum:
    url: str = ""
    max_post_length: int = 32000
    topics: dict[int, bytes] = field(default_factory=dict)  # recorded /t/{id}.json bodies
    posts: dict[int, dict] = field(default_factory=dict)  # id -> {topic_id, raw, post_number}
    titles: dict[int, tuple[str, int | None]] = field(default_factory=dict)  # topic -> (title, category)
    faults: list = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    next_post: int = 500
    next_topic: int = 90


def _handler(forum: Forum):
    class Handler(Replying):
        def _fault(self) -> bool:
            self.forum_log()
            if not forum.faults:
                return False
            fault = forum.faults.pop(0)
            if fault is None:  # this request goes through
                return False
            if fault == "slow":
                time.sleep(3)
                return False
            self._json(fault, {"errors": [f"fault {fault}"]})
            return True

        def forum_log(self):
            forum.log.append((self.command, self.path))

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _authorized(self) -> bool:
            if self.headers.get("Api-Key") == KEY and self.headers.get("Api-Username") == USER:
                return True
            self._json(403, {"errors": ["You are not permitted to view the requested resource."]})
            return False

        def do_GET(self):  # noqa: N802
            if self._fault():
                return
            match = re.fullmatch(r"/t/(\d+)\.json", self.path)
            if not match:
                return self._json(404, {"errors": ["not found"]})
            number = int(match[1])
            if number in forum.topics:
                return self._reply(200, forum.topics[number], "application/json")
            posts = sorted((p for p in forum.posts.values() if p["topic_id"] == number), key=lambda p: p["post_number"])
            if not posts:
                return self._json(404, {"errors": ["The requested URL or resource could not be found."]})
            title, category = forum.titles[number]
            self._json(200, {"id": number, "title": title, "category_id": category, "slug": "topic",
                             "post_stream": {"posts": [{**p, "cooked": f"<p>{p['raw']}</p>"} for p in posts]}})

        def do_POST(self):  # noqa: N802
            if self._fault() or not self._authorized():
                return
            if self.path != "/posts.json":
                return self._json(404, {"errors": ["not found"]})
            body = self._body()
            raw = body.get("raw") or ""
            if len(raw) > forum.max_post_length:
                return self._json(422, {"errors": [f"Body is limited to {forum.max_post_length} characters"]})
            if "topic_id" in body:
                topic = body["topic_id"]
                if topic not in forum.titles:
                    return self._json(404, {"errors": ["topic not found"]})
            else:
                if not body.get("title"):
                    return self._json(422, {"errors": ["Title can't be blank"]})
                forum.next_topic += 1
                topic = forum.next_topic
                forum.titles[topic] = (body["title"], body.get("category"))
            forum.next_post += 1
            number = sum(1 for p in forum.posts.values() if p["topic_id"] == topic) + 1
            post = {"id": forum.next_post, "topic_id": topic, "post_number": number, "raw": raw}
            forum.posts[post["id"]] = post
            self._json(200, {**post, "topic_slug": "topic", "username": USER})

        def do_PUT(self):  # noqa: N802
            if self._fault() or not self._authorized():
                return
            topic = re.fullmatch(r"/t/(\d+)\.json", self.path)
            if topic:
                number = int(topic[1])
                if number not in forum.titles:
                    return self._json(404, {"errors": ["not found"]})
                forum.titles[number] = (self._body().get("title") or forum.titles[number][0], forum.titles[number][1])
                return self._json(200, {"basic_topic": {"id": number, "title": forum.titles[number][0]}})
            match = re.fullmatch(r"/posts/(\d+)\.json", self.path)
            post = forum.posts.get(int(match[1])) if match else None
            if post is None:
                return self._json(404, {"errors": ["not found"]})
            raw = (self._body().get("post") or {}).get("raw") or ""
            if len(raw) > forum.max_post_length:
                return self._json(422, {"errors": [f"Body is limited to {forum.max_post_length} characters"]})
            post["raw"] = raw
            self._json(200, {"post": post})

        def do_DELETE(self):  # noqa: N802
            if self._fault() or not self._authorized():
                return
            match = re.fullmatch(r"/posts/(\d+)\.json", self.path)
            if not match or forum.posts.pop(int(match[1]), None) is None:
                return self._json(404, {"errors": ["not found"]})
            self._reply(200, b"", "application/json")

        def _json(self, status, data):
            self._reply(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    return Handler


def running():
    """A server on a free port of 127.0.0.1, for one test."""
    forum = Forum()
    return serving(_handler(forum), forum)
