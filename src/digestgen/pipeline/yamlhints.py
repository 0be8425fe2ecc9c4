"""Explain YAML syntax errors in editors' words, at the line where the mistake is.

libyaml reports where the parser gave up, in its own terms ("while parsing a block mapping did not
find expected key"), often many lines after the editor's mistake. `explain` looks at the parser's
marks and at the source lines around them, recognises the traps editors fall into when they
write prose in YAML, and returns one message at the mistake's line: what YAML understood, how to
write it instead, and a short Korean hint. What it does not recognise keeps the parser's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

# `key: value` (or `- key: value`) on one line; keys in digest files are plain names.
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[A-Za-z0-9_.-]+):(?P<sep>[ \t]+|$)(?P<value>.*)$")
# `key:value`: a key name glued to its value (not a URL's `https://`).
_NO_SPACE = re.compile(r"^(?P<indent> *)(?:- +)?(?P<key>[A-Za-z0-9_.-]+):(?P<value>[^\s/:][^\n]*)$")
_BLOCK_HEADER = re.compile(r"^(?P<indent> *)(?:- +)?(?:[A-Za-z0-9_.-]+: +)?[|>][+-]?[1-9]?[+-]?\s*(#.*)?$")

KO_BLOCK = "글은 `|` 블록으로 쓰세요"


def _block(key: str | None = None) -> str:
    """The advice for prose: a literal block, in which no character is special."""
    return f"write the text as a `|` block (`{key or 'key'}: |`, then the text on the lines below, indented)"


# What YAML makes of a plain value that starts with one of its indicator characters.
_INDICATORS = {
    "`": "a reserved character",
    "@": "a reserved character",
    "%": "a directive sign",
    "*": "an alias (a reference to an `&anchor`)",
    "&": "an anchor",
    "!": "a tag",
    ">": "a folded block",
    "|": "a literal block",
    "[": "the start of a list",
    "{": "the start of a mapping",
    "- ": "a list item",
    "? ": "a complex key",
}


@dataclass(frozen=True)
class Hint:
    """A syntax problem explained: 0-based line (in the file) and column, and the message."""

    line: int
    col: int
    message: str


@dataclass(frozen=True)
class _Mark:
    line: int
    column: int


@dataclass(frozen=True)
class _Problem:
    """The parts of a MarkedYAMLError the rules read, with lines counted in the whole file."""

    context: str | None
    context_mark: _Mark | None
    problem: str | None
    problem_mark: _Mark | None


def explain(text: str, error: yaml.MarkedYAMLError, line_offset: int = 0) -> Hint:
    """The editor's mistake behind `error`, located and explained (or the parser's words).

    `text` starts on line `line_offset` of its file (front matter); the hint's line, and the
    lines its message names, count from the file's first line (0-based for the hint)."""
    lines = [""] * line_offset + text.split("\n")
    shift = (lambda m: _Mark(m.line + line_offset, m.column) if m is not None else None)
    exc = _Problem(error.context, shift(error.context_mark), error.problem, shift(error.problem_mark))
    problem, context = exc.problem_mark, exc.context_mark
    line = problem.line if problem else (context.line if context else 0)
    col = problem.column if problem else (context.column if context else 0)
    words = " ".join(" ".join(p for p in (exc.context, exc.problem) if p).split())
    for rule in _RULES:
        found = rule(lines, exc, line, col)
        if found is not None:
            at_line, at_col, message = found
            if at_line != line:  # the parser's own place still helps to see what it read
                message += f" [YAML stopped at line {line + 1}:{col + 1}: {words}]"
            return Hint(at_line, at_col, message)
    return Hint(line, col, f"{words}; if this value is prose, {_block()} ({KO_BLOCK})")


def _get(lines: list[str], n: int) -> str:
    return lines[n] if 0 <= n < len(lines) else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _short(text: str, limit: int = 30) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _previous(lines: list[str], n: int) -> int:
    """The nearest line before `n` that is neither blank nor a comment, or -1."""
    n -= 1
    while n >= 0 and (not lines[n].strip() or lines[n].lstrip().startswith("#")):
        n -= 1
    return n


def _quoted_end(value: str) -> int:
    """The index just past the quoted scalar that starts `value`, or -1 if it is not closed."""
    quote = value[0]
    i = 1
    while i < len(value):
        if quote == '"' and value[i] == "\\":
            i += 2
            continue
        if value[i] == quote:
            if quote == "'" and value[i + 1:i + 2] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return -1


def _quote_fix(key: str, value: str) -> str:
    """How to write `key: value` so that YAML reads all of value as text."""
    value = value.strip()
    if "'" not in value:
        return f"{key}: '{_short(value, 40)}'"
    return f'{key}: "{_short(value, 40)}"' if '"' not in value and "\\" not in value else f"{key}: |"


def _tab(lines, exc, line, col):
    """A tab in the indentation."""
    first = exc.context_mark.line if exc.context_mark else line
    for n in range(min(first, line), line + 1):
        lead = _get(lines, n)[: len(_get(lines, n)) - len(_get(lines, n).lstrip(" \t"))]
        if "\t" in lead:
            return n, lead.index("\t"), ("a tab in the indentation; YAML indents with spaces only: "
                                         "replace the tab with spaces (탭 대신 스페이스로 들여쓰세요)")
    if _get(lines, line)[col:col + 1] == "\t":
        return line, col, ("a tab where YAML expected a value or a key; YAML does not accept tabs here: "
                           "use spaces (탭 대신 스페이스를 쓰세요)")
    return None


def _unclosed_quote(lines, exc, line, col):
    """A quote opened on one line and closed only by the next quote YAML met, lines later."""
    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        start = exc.context_mark
        quote = _get(lines, start.line)[start.column:start.column + 1]
        match = _KEY_LINE.match(_get(lines, start.line))
        return start.line, start.column, (
            f"the quote {quote} opened here is never closed, so YAML read the rest of the file as this "
            f"value; close it at the end of the text, or drop the quotes and {_block(match and match['key'])} "
            f"(따옴표가 닫히지 않았습니다: 닫는 따옴표를 넣거나 `|` 블록으로 쓰세요)")
    for n in range(line - 1, -1, -1):
        match = _KEY_LINE.match(_get(lines, n))
        value = match["value"] if match else ""
        if not value[:1] in ("'", '"') or _quoted_end(value) != -1:
            continue
        # Where does the quote opened on line n close? It must be on the parser's line.
        rest = "\n".join([value] + lines[n + 1:line + 1])
        end = _quoted_end(rest)
        if end == -1 or rest[:end].count("\n") != line - n:
            return None
        where = match.start("value")
        return n, where, (
            f"the quote {value[0]} opened here is not closed on this line; YAML read the following lines "
            f"as part of '{match['key']}' up to the next {value[0]} on line {line + 1}. Close the quote at the "
            f"end of this line, or drop the quotes and {_block(match['key'])} "
            f"(따옴표가 이 줄에서 닫히지 않았습니다: 줄 끝에 닫는 따옴표를 넣거나 `|` 블록으로 쓰세요)")
    return None


def _text_after_quote(lines, exc, line, col):
    """`ko: "열탕" 랜덤 워크`: a value that starts with a quoted word and goes on after it."""
    match = _KEY_LINE.match(_get(lines, line))
    if not match or match["value"][:1] not in ("'", '"'):
        return None
    value = match["value"]
    end = _quoted_end(value)
    if end == -1 or not value[end:].strip() or value[end:].lstrip().startswith("#"):
        return None
    if match.start("value") + end > col + 1:
        return None
    return line, match.start("value"), (
        f"the value of '{match['key']}' starts with a quoted part ({value[:end]}) and goes on after the "
        f"closing quote, which YAML does not allow: quote the whole value ({_quote_fix(match['key'], value)}), "
        f"or {_block(match['key'])} (값이 따옴표로 시작하면 값 전체를 따옴표로 감싸거나 `|` 블록으로 쓰세요)")


def _extra_closing(lines, exc, line, col):
    """`[a, b]]`: a closing bracket that closes nothing."""
    char = _get(lines, line)[col:col + 1]
    if char not in ("]", "}") or exc.problem != "did not find expected key":
        return None
    match = _KEY_LINE.match(_get(lines, line))
    return line, col, (f"an extra '{char}' that closes nothing; delete it, or if this value is prose, "
                       f"{_block(match and match['key'])} (닫는 괄호 '{char}'가 남습니다)")


def _starts_with_indicator(lines, exc, line, col):
    """A plain value starting with a YAML indicator: Markdown's `code`, **bold**, [link](url), - item."""
    scanning = exc.context_mark is not None and (exc.context or "").startswith("while scanning")
    for n in (line, exc.context_mark.line) if scanning else (line,):
        match = _KEY_LINE.match(_get(lines, n))
        if not match:
            continue
        value = match["value"]
        start = next((s for s in _INDICATORS if value.startswith(s)), None)
        if start is None or (start in "[{" and _flow_closes_on_line(value) is None):
            continue
        if start in "[{" and not value[_flow_closes_on_line(value):].strip():
            continue  # a whole list or mapping: the problem is elsewhere
        return n, match.start("value"), (
            f"the value of '{match['key']}' starts with '{start.strip()}', which YAML reads as "
            f"{_INDICATORS[start]}, not as text: quote the whole value ({_quote_fix(match['key'], value)}), "
            f"or {_block(match['key'])} (값이 '{start.strip()}'로 시작하면 YAML 기호로 읽힙니다: 따옴표로 감싸거나 "
            f"`|` 블록으로 쓰세요)")
    return None


def _flow_closes_on_line(value: str) -> int | None:
    """For a value starting with `[` or `{`: the index past its matching bracket on this line."""
    depth = 0
    for i, char in enumerate(value):
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _colon_in_value(lines, exc, line, col):
    """`ko: 지식 증류: 작은 …`: a colon and a space inside a plain value."""
    text = _get(lines, line)
    if text[col:col + 1] != ":":
        return None
    if exc.problem == "mapping values are not allowed in this context":
        match = _KEY_LINE.match(text)
        if match is None or match.start("value") > col:
            return None
    elif exc.context in ("while parsing a flow mapping", "while parsing a flow sequence") and \
            exc.context_mark is not None and exc.context_mark.line == line:
        match = None
    else:
        return None
    key = match["key"] if match else None
    start = match.start("value") if match else text.rfind(" ", 0, col) + 1
    before = text[start:col]
    where = f"the value of '{key}'" if key else "this value"
    fix = f"quote the whole value ({_quote_fix(key, text[start:])}), or {_block(key)}" if key else \
        "write the mapping in block style, one `key:` per line, with the text as a `|` block"
    return line, col, (f"{where} contains ': ' (after '{_short(before)}'), which YAML reads as the start "
                       f"of another key: {fix} (값 안의 ': '는 새 키로 읽힙니다: 따옴표로 감싸거나 "
                       f"`|` 블록으로 쓰세요)")


def _unclosed_bracket(lines, exc, line, col):
    """`[a, b` or `{ko: …` never closed: report where it opened."""
    if exc.context not in ("while parsing a flow sequence", "while parsing a flow mapping"):
        return None
    start = exc.context_mark
    if start is None or start.line == line:
        return None
    opening = _get(lines, start.line)[start.column:start.column + 1] or "["
    closing = {"[": "]", "{": "}"}.get(opening, "]")
    return start.line, start.column, (
        f"the '{opening}' opened here is not closed on its line, so YAML read on into line {line + 1}: "
        f"add the closing '{closing}', or write the list or mapping in block style, one item per line "
        f"(괄호 '{opening}'가 닫히지 않았습니다)")


def _glued_colon(lines, exc, line, col):
    """`ko:지식 증류`: no space after the colon, so the whole line is text, not a key."""
    candidates = [n for n in (exc.context_mark.line if exc.context_mark else -1, _previous(lines, line), line)
                  if n >= 0]
    for n in candidates:
        match = _NO_SPACE.match(_get(lines, n))
        if match and n <= line:
            return n, match.start("key") + len(match["key"]), (
                f"no space after '{match['key']}:', so YAML reads '{_short(match['key'] + ':' + match['value'])}' "
                f"as text, not as the key '{match['key']}': write '{match['key']}: {_short(match['value'])}' "
                f"(콜론 뒤에 스페이스를 넣으세요)")
    return None


def _under_indented_block(lines, exc, line, col):
    """A line of a `|` block indented less than the lines before it: the block ended there."""
    line = min(line, len(lines) - 1)  # the end of the text is one line past its last
    for n in range(line, -1, -1):
        if not _BLOCK_HEADER.match(_get(lines, n)):
            continue
        body = [m for m in range(n + 1, line + 1) if lines[m].strip()]
        if not body:
            return None
        inner = _indent(lines[body[0]])
        if inner <= _indent(lines[n]):
            return None
        for m in body[1:]:
            if _indent(lines[m]) >= inner:
                continue
            if _KEY_LINE.match(lines[m]) or lines[m].lstrip().startswith(("#", "- ")):
                return None  # the block ended on purpose
            header = n + 1
            return m, _indent(lines[m]), (
                f"this line is indented {_spaces(_indent(lines[m]))}, less than the {inner} of the `|` block "
                f"started on line {header}, so YAML ended the block before it and could not read this line: "
                f"indent it by {inner} spaces like the lines above "
                f"(들여쓰기가 위 줄보다 적어 블록이 여기서 끝났습니다: {inner}칸 들여쓰세요)")
        return None
    return None


def _mixed_list_and_map(lines, exc, line, col):
    """`- item` among `key: value` lines, or `key: value` among `- item` lines."""
    start = exc.context_mark.line + 1 if exc.context_mark else 0
    char = _get(lines, line)[col:col + 1]
    if exc.context == "while parsing a block mapping" and char == "-" and exc.problem == "did not find expected key":
        return line, col, (
            f"a '- ' list item among the 'key: value' lines of the mapping that starts on line {start}; "
            f"a mapping cannot also hold list items: put the list under a key of its own "
            f"(키: 값 사이에 '- ' 목록 항목이 있습니다)")
    if exc.context == "while parsing a block collection" and exc.problem == "did not find expected '-' indicator":
        return line, col, (
            f"a 'key: value' line in the middle of the '- ' list that starts on line {start}; a list cannot "
            f"also hold keys: indent it under its list item, or move it out of the list "
            f"('- ' 목록 안에 키: 값 줄이 있습니다)")
    return None


def _text_line_without_key(lines, exc, line, col):
    """A line of text that YAML reads as a key: a plain value continued at the key's indentation,
    or the text of `ko: |` (or of an empty `ko:`) not indented more than `ko:`."""
    if exc.problem != "could not find expected ':'" or exc.context_mark is None:
        return None
    n = exc.context_mark.line
    owner = _previous(lines, n)
    while owner >= 0 and _indent(lines[owner]) > _indent(_get(lines, n)):
        owner = _previous(lines, owner)  # lines of the value above, more indented than this one
    match = _KEY_LINE.match(_get(lines, owner))
    value = match["value"].strip() if match else ""
    if match and (not value or value[0] in "|>"):
        what = f"part of the `{value[0]}` block of '{match['key']}'" if value else f"the value of '{match['key']}'"
        return n, exc.context_mark.column, (
            f"this line is not indented more than '{match['key']}:' on line {owner + 1}, so it is not {what} "
            f"(YAML reads it as a key, and finds no ':'): indent it, and the text after it, by "
            f"{_indent(lines[owner]) + 2} spaces "
            f"(글은 키보다 더 들여써야 합니다: {_indent(lines[owner]) + 2}칸 들여쓰세요)")
    if match and value[0] not in "'\"[{&*!":
        return n, exc.context_mark.column, (
            f"this line continues the text of '{match['key']}' from line {owner + 1}, but YAML reads a line "
            f"at this indentation as a new key (and finds no ':'): {_block(match['key'])}, or indent this line "
            f"further than '{match['key']}' (여러 줄의 글은 `|` 블록으로 쓰세요)")
    return n, exc.context_mark.column, (
        "YAML reads this line as a key but finds no ':' after it: if it is text, put it under its key "
        "as a `|` block; if it is a key, add ': ' after its name (키 뒤에 ': '가 없습니다)")


def _key_under_a_value(lines, exc, line, col):
    """`links: x` followed by an indented `paper: y`: the key already has a value."""
    if exc.problem != "mapping values are not allowed in this context":
        return None
    prev = _previous(lines, line)
    match = _KEY_LINE.match(_get(lines, prev))
    here = _KEY_LINE.match(_get(lines, line))
    if not (match and here and match["value"].strip() and _indent(lines[line]) > _indent(lines[prev])):
        return None
    return line, here.start("key"), (
        f"'{here['key']}:' is indented under '{match['key']}', which already has a value on line {prev + 1} "
        f"('{_short(match['value'])}'); YAML cannot read a key inside a value: remove that value, or line "
        f"'{here['key']}:' up with '{match['key']}:' (값이 있는 키 아래에 키를 둘 수 없습니다)")


def _misaligned_key(lines, exc, line, col):
    """A key indented differently from its siblings."""
    if exc.context != "while parsing a block mapping" or exc.problem != "did not find expected key":
        return None
    here = _KEY_LINE.match(_get(lines, line))
    above = _previous(lines, line)
    if not here or above < 0:
        return None
    return line, col, (
        f"this key is indented {_spaces(_indent(lines[line]))}, like no key above it (the key on line {above + 1} "
        f"is indented {_indent(lines[above])}): keys of one mapping line up (같은 수준의 키는 들여쓰기를 맞추세요)")


def _spaces(count: int) -> str:
    return f"{count} space" if count == 1 else f"{count} spaces"


_RULES = [
    _tab, _unclosed_quote, _text_after_quote, _extra_closing, _starts_with_indicator, _unclosed_bracket,
    _colon_in_value, _under_indented_block, _glued_colon, _mixed_list_and_map, _key_under_a_value,
    _text_line_without_key, _misaligned_key,
]
