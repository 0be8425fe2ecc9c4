"""Emoji shortcodes (`:one:`, `:fire:`, `:south_korea:`) as Unicode, from the `emoji` package.

Discourse names its emoji after the Unicode CLDR names and the GitHub/Slack aliases; the
`emoji` package carries both (its `en` names and its `alias` names), so one case-insensitive
table built from it covers the names forum posts use. Unknown names stay as written.
"""

from __future__ import annotations

import re
from functools import lru_cache

SHORTCODE = re.compile(r":([A-Za-z0-9_+\-]+):")


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    """Lower-case shortcode name (without colons) -> emoji."""
    import emoji  # here, not at the top: its tables take 40 ms to import, and most builds need no emoji

    names: dict[str, str] = {}
    for char, data in emoji.EMOJI_DATA.items():
        for name in (*data.get("alias", ()), data["en"]):  # aliases first: GitHub/Discourse spelling wins
            names.setdefault(name.strip(":").lower(), char)
    return names


def emojize(text: str) -> str:
    """`text` with each known `:name:` replaced by its emoji."""
    if ":" not in text or not SHORTCODE.search(text):  # most texts: the table is not even loaded
        return text
    known = table()
    return SHORTCODE.sub(lambda m: known.get(m[1].lower(), m[0]), text)

