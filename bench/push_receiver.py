"""The webhook receiver of bench/push.py, run by uvicorn in its own process: it records when each
delivery arrives (wall clock, shared by every process on the machine) and hands the log over on
``GET /log``. It checks nothing and answers at once: it is the far end, not what is measured."""

import json
import time

LOG: list[tuple] = []


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":
        body = json.dumps(LOG).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    at = time.time()
    data = json.loads(b"".join(chunks))
    if "token" in data:  # the bare Celery round trip
        LOG.append(("echo", data["token"], None, at))
    else:
        LOG.append((data["type"], data["case"]["tracking_no"], data["recipient"]["kind"] + ":" +
                    data["recipient"]["key"], at))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})
