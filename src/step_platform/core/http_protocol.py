"""uvicorn's HTTP/1.1 protocol with the error envelope on the requests it refuses itself.

uvicorn answers a request it cannot parse (headers past its buffer, bad chunking) with a plain
text 400 before any app sees it; this subclass sends `{"detail": {"code": "BAD_REQUEST",
"message"}}` instead, so every answer of a service is JSON. `step-platform serve` uses it.
"""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .responses import dumps

# uvicorn's own buffer for an incomplete request head: larger than the header cap
# (core/limits.py), so a request just over the cap reaches the app and gets its 400 naming it.
MAX_HEAD_BYTES = 64 * 1024


class EnvelopeH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body = dumps({"detail": {"code": "BAD_REQUEST", "message": msg.rstrip(".") + "."}})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()
