"""Read source files: YAML documents and Markdown front matter, keeping source positions.

The YAML is composed with libyaml (``CSafeLoader``) into a node tree, then turned into
plain Python values by a small walker that records, for each path into the document,
where it stands, rejects duplicate keys at the second key, and caps alias expansion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from digestgen.errors import SourceError
from digestgen.pipeline.yamlhints import explain

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A path into a document: keys and list indexes, e.g. ("links", "paper") or ("papers", 1).
DocPath = tuple[Any, ...]

MAX_NODES = 100_000  # per document, counting alias expansions: stops billion-laughs
MAX_FILE_BYTES = 8 * 1024 * 1024

_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_STR_TAG = "tag:yaml.org,2002:str"
_KEY_LINE = re.compile(r"^( *)(?:- +)?[A-Za-z0-9_.-]+:(?: |$)")


@dataclass
class Document:
    """A parsed YAML document: its value, and where each path into it stands."""

    path: str
    value: Any
    marks: dict[DocPath, tuple[int, int]] = field(default_factory=dict)
    # Source text of scalars that YAML read as numbers, so that ids may round-trip.
    number_text: dict[DocPath, str] = field(default_factory=dict)
    # Paths whose scalar could not be read (already reported): checks skip them.
    broken: set[DocPath] = field(default_factory=set)
    # Plain scalars followed by a comment on the line where they end: path -> (line, col, comment).
    # In prose, ` #` is more often text cut off than a comment; text fields warn about it.
    comments: dict[DocPath, tuple[int, int, str]] = field(default_factory=dict)

    def where(self, path: DocPath) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor that has one."""
        while path not in self.marks and path:
            path = path[:-1]
        return self.marks.get(path, (1, 1))

    def error(self, path: DocPath, message: str, severity: str = "error") -> SourceError:
        """A SourceError located at `path` in this document."""
        line, col = self.where(path)
        return SourceError(self.path, line, col, message, severity)


def dotted(path: DocPath) -> str:
    """`("figures", 0, "src")` -> `figures[0].src`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Walker:
    """Turns a composed node tree into Python values, collecting marks and errors."""

    def __init__(self, doc: Document, line_offset: int, lines: list[str]):
        self.doc = doc
        self.lines = lines
        self.line_offset = line_offset
        self.errors: list[SourceError] = []
        self.count = 0
        self.constructor = SafeConstructor()

    def mark(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1 + self.line_offset, node.start_mark.column + 1

    def fail(self, node: yaml.Node, message: str, path: DocPath = ()) -> None:
        line, col = self.mark(node)
        message = f"{dotted(path)}: {message}" if path else message
        self.errors.append(SourceError(self.doc.path, line, col, message))

    def walk(self, node: yaml.Node, path: DocPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(node)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.doc.marks[path + (index,)] = self.mark(item)
                items.append(self.walk(item, path + (index,)))
            return items
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: DocPath) -> dict:
        result: dict = {}
        first_line: dict = {}
        try:
            self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<)
        except ConstructorError as exc:
            self.fail(node, _one_line(exc.problem or str(exc)))
            return result
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, "a key must be plain text, not a list or mapping")
                continue
            key = key_node.value  # keys are names: `no:` is the text "no", not False
            if key in result:
                self.fail(key_node, f"duplicate key '{key}' (first at line {first_line[key]})")
                continue
            if node.flow_style and _split_by_comma(key_node, value_node):
                self.split(node, key_node, path + (key,))
                continue
            first_line[key] = self.mark(key_node)[0]
            self.doc.marks[path + (key,)] = self.mark(key_node)
            result[key] = self.walk(value_node, path + (key,))
        return result

    def split(self, node: yaml.MappingNode, key_node: yaml.ScalarNode, path: DocPath) -> None:
        """`{ko: 큰 모델을 옮기며, 작은 모델로}`: the comma cut the text, and its tail became a key."""
        pairs = node.value
        index = next(i for i, (k, _) in enumerate(pairs) if k is key_node)
        before = pairs[index - 1][1].value if index and isinstance(pairs[index - 1][1], yaml.ScalarNode) else ""
        owner = dotted(path[:-1]) or "this mapping"
        self.doc.broken.add(path)
        self.fail(key_node, f"{owner}: the comma after '{_short(before)}' split the text: inside {{...}} a comma "
                  f"separates entries, so YAML read '{_short(key_node.value)}' as a new key. Write {owner} in block "
                  "style, one language per line, with the text as a `|` block "
                  "(쉼표 때문에 글이 잘렸습니다: 중괄호 대신 한 줄에 한 언어씩, 글은 `|` 블록으로 쓰세요)")

    def note_comment(self, node: yaml.ScalarNode, path: DocPath) -> None:
        """Remember a comment that follows a plain text value on the line where it ends."""
        end = node.end_mark
        rest = self.lines[end.line][end.column:] if end.line < len(self.lines) else ""
        stripped = rest.lstrip(" \t")
        if stripped.startswith("#") and rest != stripped:
            col = end.column + len(rest) - len(stripped)
            self.doc.comments[path] = (end.line + 1 + self.line_offset, col + 1, stripped.rstrip())

    def swallowed_keys(self, node: yaml.ScalarNode, path: DocPath) -> None:
        """A quoted value that runs over a `key:` line: most likely a quote left open."""
        start, end = node.start_mark, node.end_mark
        opening = self.lines[start.line] if start.line < len(self.lines) else ""
        indent = len(opening) - len(opening.lstrip(" "))
        for row in range(start.line + 1, min(end.line + 1, len(self.lines))):
            match = _KEY_LINE.match(self.lines[row])
            if match and len(match[1]) <= indent:
                line, col = self.mark(node)
                self.errors.append(SourceError(self.doc.path, line, col, (
                    f"{dotted(path)}: the quote {node.style} opened here closes only on line "
                    f"{end.line + 1 + self.line_offset}, so YAML read line {row + 1 + self.line_offset} "
                    f"('{_short(self.lines[row])}') as part of this text: close the quote on this line, or "
                    f"drop the quotes and write the text as a `|` block (따옴표가 이 줄에서 닫히지 않아 "
                    f"다음 줄까지 글로 읽혔습니다)"), "warning"))
                return

    def scalar(self, node: yaml.ScalarNode, path: DocPath) -> Any:
        if not node.style and node.tag == _STR_TAG and path:
            self.note_comment(node, path)
        if node.style in ("'", '"') and node.end_mark.line > node.start_mark.line and path:
            self.swallowed_keys(node, path)
        if node.tag in _NUMBER_TAGS:
            self.doc.number_text[path] = node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            self.fail(node, _one_line(exc.problem or str(exc)), path)
        except ValueError as exc:  # e.g. a timestamp such as 2025-02-30
            kind = {"timestamp": "date"}.get(node.tag.rsplit(":", 1)[-1], node.tag.rsplit(":", 1)[-1])
            self.fail(node, f"'{node.value}' is not a valid {kind} ({exc})", path)
        self.doc.broken.add(path)
        return None


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _split_by_comma(key: yaml.Node, value: yaml.Node) -> bool:
    """A key of prose (it has a space) without a value, in `{...}`: what a comma in text makes."""
    return (isinstance(key, yaml.ScalarNode) and not key.style and any(c.isspace() for c in key.value)
            and isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null" and value.value == "")


def decode(raw: bytes, path: str) -> tuple[str | None, list[SourceError]]:
    """Decode UTF-8 (BOM allowed), or say where the first bad byte is."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [SourceError(path, 1, 1, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return None, [SourceError(path, line, col, f"file is not UTF-8 (byte 0x{raw[exc.start]:02x})")]
    return text.removeprefix("\ufeff"), []


def parse_yaml(text: str, path: str, line_offset: int = 0) -> tuple[Document, list[SourceError]]:
    """Parse one YAML document from `text`; lines are shifted by `line_offset`."""
    doc = Document(path, None)
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        hint = explain(text, exc, line_offset)
        return doc, [SourceError(path, hint.line + 1, hint.col + 1, f"YAML syntax: {hint.message}")]
    except yaml.reader.ReaderError as exc:  # control characters and the like
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return doc, [SourceError(path, line + line_offset, col, f"YAML: character {character} is not allowed "
                                 "(control characters must be written as escapes in double quotes)")]
    except yaml.YAMLError as exc:
        return doc, [SourceError(path, 1 + line_offset, 1, f"YAML: {_one_line(str(exc))}")]
    if node is None:
        return doc, []
    walker = _Walker(doc, line_offset, text.split("\n"))
    doc.marks[()] = walker.mark(node)
    try:
        doc.value = walker.walk(node, ())
    except _TooLarge as exc:
        line, col = walker.mark(exc.node)
        return doc, [SourceError(path, line, col, f"document expands to more than {MAX_NODES:,} values (alias bomb?)")]
    except RecursionError:
        return doc, [SourceError(path, 1 + line_offset, 1, "document is nested too deeply (recursive alias?)")]
    return doc, walker.errors


def _text_of(file: Path, rel: str) -> tuple[str | None, list[SourceError]]:
    """A source file's text (`decode`); an error, not a crash, when the file went after the build
    listed it (a checkout or a rename while `serve` or `build` runs: the next build finds it gone,
    or back)."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None, [SourceError(rel, 1, 1, "the file was moved or deleted while the build read it; build again")]
    return decode(raw, rel)


def read_yaml_file(file: Path, rel: str) -> tuple[Document, list[SourceError]]:
    """Read and parse a YAML file."""
    text, errors = _text_of(file, rel)
    if text is None:
        return Document(rel, None), errors
    return parse_yaml(text, rel)


_FENCE = re.compile(r"^---[ \t]*$")
_END_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$")


@dataclass
class FrontMatterFile:
    """A Markdown file split into its front matter document and its body."""

    meta: Document
    body: str
    body_line: int  # 1-based line where the body starts


def read_front_matter_file(file: Path, rel: str) -> tuple[FrontMatterFile | None, list[SourceError]]:
    """Read a Markdown file that starts with a `---` fenced YAML block."""
    text, errors = _text_of(file, rel)
    if text is None:
        return None, errors
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not _FENCE.match(lines[0]):
        return None, [SourceError(rel, 1, 1, "missing front matter: the file must start with a line '---'")]
    for index in range(1, len(lines)):
        if _END_FENCE.match(lines[index]):
            break
    else:
        return None, [SourceError(rel, 1, 1, "front matter is not closed: add a line '---' after it")]
    meta, errors = parse_yaml("\n".join(lines[1:index]), rel, line_offset=1)
    body = "\n".join(lines[index + 1 :])
    return FrontMatterFile(meta, body, index + 2), errors
