"""Reading request bodies defensively: content type, size cap, read timeout, UTF-8, bounded JSON."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import ClientPayloadError, web

from sinergi.gateway.errors import BadRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

# An event envelope is three levels deep; anything far deeper is an attack on the parser, not an event.
MAX_DEPTH = 16
# Ids, counts and years are short; a number thousands of digits long is an attack on int() (quadratic).
MAX_DIGITS = 100
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+/-]*")


def require_json(request: web.Request) -> None:
    """415 unless the body is declared `application/json` (charset absent or UTF-8)."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(f"expected Content-Type application/json, got {_shown(request.content_type)}")
    charset = request.charset
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"expected UTF-8 JSON, got charset {_shown(charset)}")


def _shown(value: str | None) -> str:
    # A header is the client's bytes: quoted back only when it is a short, plain media type or charset.
    if not value:
        return "none"
    return value if len(value) <= 64 and _TOKEN.fullmatch(value) else "another value"


async def read_capped(request: web.Request, limit: int, timeout: float) -> bytes:
    """The whole body, refusing more than `limit` bytes (413) or a client slower than `timeout` (408)."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"body of {request.content_length} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            # Chunked bodies have no Content-Length: count as they arrive and stop at the limit.
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(f"the body did not arrive within {timeout:g} s") from None
    except (ConnectionError, ClientPayloadError):
        # The client hung up mid-body (or sent a broken chunked body): its problem, not a gateway bug.
        raise BadRequest("the body was cut short", code="incomplete_body") from None
    return b"".join(chunks)


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not valid UTF-8 (byte {exc.start})") from None


class _NotJson(ValueError):
    """Raised by our decoder hooks, with a message of our own (never the input)."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _parse_int(digits: str) -> int:
    # Checked here, before Python's own limit (sys.int_info.default_max_str_digits) answers in words about
    # interpreter settings; no field of an event holds a number anywhere near this long.
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _NotJson(f"a number in the body has more than {MAX_DIGITS} digits")
    return int(digits)


def parse_object(text: str) -> dict[str, Any]:
    """A JSON object of bounded depth; 400 naming the problem otherwise."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except RecursionError:
        raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except (_NotJson, json.JSONDecodeError) as exc:  # our words, or a position (line, column, char)
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    except ValueError:  # anything else the decoder refuses: its words might be Python's, not the client's
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest(f"expected a JSON object, got a JSON {_json_type(value)}")
    if _depth(value) > MAX_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _depth(value: Any) -> int:
    # Iterative, so a deep value cannot exhaust the interpreter's stack here either.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
