"""The one JSON body reader of every service: media type, size, depth, and values JSON allows
but Postgres and the originals cannot hold.

Refused with 400: bodies over `json_bytes` or nested deeper than `json_depth` (LIMIT_EXCEEDED),
`NaN`/`Infinity`, numbers out of float range (`1e400`), integers beyond 4300 digits, lone
surrogates (`"\\ud800"`: not encodable as UTF-8, so not storable) and invalid UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from . import limits
from .errors import ApiError

_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonInvalid(ValueError):
    pass


def _constant(name: str) -> Any:
    raise JsonInvalid(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonInvalid(f"number {text} is out of range")
    return number


def _walk(value: Any, max_depth: int) -> int | None:
    """The depth of `value` when it is over `max_depth` (else None); raises on a surrogate.

    Iterative, so a deep document cannot exhaust the interpreter's stack here.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JsonInvalid("a string holds a lone surrogate")
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return depth
            if isinstance(item, dict):
                for key, child in item.items():
                    if _SURROGATE.search(key):
                        raise JsonInvalid("a key holds a lone surrogate")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def parse(raw: bytes | str, *, language: str = "en", code: str = "BAD_REQUEST") -> Any:
    """Parse a JSON document within the caps; 400 `code` for invalid JSON."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    limits.check("json_bytes", size, language)
    try:
        value = json.loads(raw, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise limits.LimitExceeded("json_depth", limits.LIMITS.json_depth, language) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, code, f"JSON parse error - {exc}") from None
    try:
        if _walk(value, limits.LIMITS.json_depth) is not None:
            raise limits.LimitExceeded("json_depth", limits.LIMITS.json_depth, language)
    except JsonInvalid as exc:
        raise ApiError(400, code, f"JSON parse error - {exc}") from None
    return value


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


@dataclass(frozen=True)
class JsonBodies:
    """A service's way of reading JSON bodies: its error code for bad JSON, its 415 message,
    and whether a body without a content type is read as JSON (the configs service and step
    do, as their originals did; the registry answers 415)."""

    language: str = "en"
    parse_code: str = "BAD_REQUEST"
    unsupported: str = 'Unsupported media type "{media}" in request.'
    untyped_is_json: bool = True

    def unsupported_media(self, media: str) -> ApiError:
        shown = media[:100] or "text/plain"
        return ApiError(415, "UNSUPPORTED_MEDIA_TYPE", self.unsupported.format(media=shown))

    def check_media(self, request: Request) -> None:
        media = media_type(request)
        if not (is_json(media) or (not media and self.untyped_is_json)):
            raise self.unsupported_media(media)

    def parse(self, raw: bytes | str) -> Any:
        return parse(raw, language=self.language, code=self.parse_code)

    async def read(self, request: Request) -> Any:
        """The JSON body; an empty body is `{}` (as the originals)."""
        self.check_media(request)
        raw = await request.body()
        if not raw.strip():
            return {}
        return self.parse(raw)
