"""JSON rendering as the originals do it: compact separators, UTF-8, Cyrillic unescaped."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse


def dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
