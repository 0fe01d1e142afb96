"""Reading request bodies defensively: content type, size cap, read timeout, UTF-8, bounded JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientPayloadError, web

from sinergi.gateway.errors import BadRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

# An event envelope is three levels deep; anything far deeper is an attack on the parser, not an event.
MAX_DEPTH = 16


def require_json(request: web.Request) -> None:
    """415 unless the body is declared `application/json` (charset absent or UTF-8)."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(f"expected Content-Type application/json, got {request.content_type or 'none'}")
    charset = request.charset
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"expected UTF-8 JSON, got charset {charset}")


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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_object(text: str) -> dict[str, Any]:
    """A JSON object of bounded depth; 400 naming the problem otherwise."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, integers beyond the digit limit
        raise BadRequest(f"body is not valid JSON: {exc}") from None
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
