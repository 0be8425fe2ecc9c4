"""The small part of CBOR (RFC 8949) that Pagefind's bundle files use: enough to reorder them."""

from __future__ import annotations

import struct


def loads(data: bytes):
    """Decode one CBOR item; raise ValueError on anything unexpected."""
    value, end = _item(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes")
    return value


def _head(data: bytes, at: int) -> tuple[int, int, int]:
    initial = data[at]
    major, info = initial >> 5, initial & 31
    if info < 24:
        return major, info, at + 1
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None:
        raise ValueError("indefinite lengths are not supported")
    return major, int.from_bytes(data[at + 1:at + 1 + size], "big"), at + 1 + size


def _item(data: bytes, at: int):
    if data[at] in (0xF9, 0xFA, 0xFB):
        size = {0xF9: 2, 0xFA: 4, 0xFB: 8}[data[at]]
        fmt = {2: ">e", 4: ">f", 8: ">d"}[size]
        return Float(struct.unpack(fmt, data[at + 1:at + 1 + size])[0], size), at + 1 + size
    major, value, at = _head(data, at)
    if major == 0:
        return value, at
    if major == 1:
        return -1 - value, at
    if major == 2:
        return bytes(data[at:at + value]), at + value
    if major == 3:
        return data[at:at + value].decode("utf-8"), at + value
    if major == 4:
        items = []
        for _ in range(value):
            item, at = _item(data, at)
            items.append(item)
        return items, at
    if major == 5:
        pairs = []
        for _ in range(value):
            key, at = _item(data, at)
            item, at = _item(data, at)
            pairs.append((key, item))
        return Map(pairs), at
    if major == 7 and value in (20, 21, 22):
        return {20: False, 21: True, 22: None}[value], at
    raise ValueError(f"unsupported CBOR item (major {major})")


class Map(list):
    """A CBOR map, kept as ordered pairs."""


class Float(float):
    def __new__(cls, value: float, size: int):
        obj = super().__new__(cls, value)
        obj.size = size
        return obj


def _encode_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError("integer too large")


def dumps(value) -> bytes:
    """Encode with the shortest heads (as Pagefind's encoder does)."""
    if value is False or value is True or value is None:
        return bytes([0xF4 if value is False else 0xF5 if value is True else 0xF6])
    if isinstance(value, Float):
        fmt = {2: ">e", 4: ">f", 8: ">d"}[value.size]
        return bytes([{2: 0xF9, 4: 0xFA, 8: 0xFB}[value.size]]) + struct.pack(fmt, value)
    if isinstance(value, int):
        return _encode_head(0, value) if value >= 0 else _encode_head(1, -1 - value)
    if isinstance(value, bytes):
        return _encode_head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _encode_head(3, len(raw)) + raw
    if isinstance(value, Map):
        return _encode_head(5, len(value)) + b"".join(dumps(k) + dumps(v) for k, v in value)
    if isinstance(value, list):
        return _encode_head(4, len(value)) + b"".join(map(dumps, value))
    raise ValueError(f"cannot encode {type(value).__name__}")
