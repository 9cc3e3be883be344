"""A webhook receiver for trying closedloop locally (``closedloop webhook-receiver``), and the
reference for checking a delivery on the receiving side (docs/notifications.md):

1. refuse a timestamp more than five minutes from now (a replayed request);
2. recompute HMAC-SHA256 over ``<timestamp>.<raw body>`` with the shared secret and compare it,
   in constant time, with ``X-Closedloop-Signature`` (``sha256=<hex>``);
3. de-duplicate on ``X-Closedloop-Delivery-Id``: delivery is at least once.

Standard library only, so it can be copied into any receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300  # seconds


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> str | None:
    """None when the request is genuine and fresh; otherwise why not."""
    try:
        age = abs((now or time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return "missing or malformed X-Closedloop-Timestamp"
    if age > TOLERANCE:
        return f"timestamp is {age:.0f} s away from now: refused as a possible replay"
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature or ""):
        return "signature does not match"
    return None


def serve(host: str, port: int, secret: str, out=sys.stdout) -> None:
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            problem = verify(secret, self.headers.get("X-Closedloop-Timestamp"), body,
                             self.headers.get("X-Closedloop-Signature"))
            if problem:
                self.send_response(401)
                self.end_headers()
                print(f"REFUSED {self.path}: {problem}", file=out, flush=True)
                return
            delivery = self.headers.get("X-Closedloop-Delivery-Id", "")
            duplicate = delivery in seen
            seen.add(delivery)
            self.send_response(200)
            self.end_headers()
            message = json.loads(body)
            print(f"{'DUPLICATE' if duplicate else 'OK'} delivery {delivery} event {message.get('event_id')} "
                  f"{message.get('type')} → {message.get('recipient', {}).get('kind')}:"
                  f"{message.get('recipient', {}).get('key')}\n{message.get('text', '')}\n", file=out, flush=True)

    server = ThreadingHTTPServer((host, port), Handler)
    print(f"listening on http://{host}:{server.server_address[1]}/ (signature checked)", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
