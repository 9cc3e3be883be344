"""Real receivers on loopback for the notification tests: an HTTP server that records what it is
sent and answers as it is told (ok, 500, 429, 400, hang, close the connection, a robot's error
code), and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from processes import free_port


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class HTTPReceiver:
    """Answers each path by its script (a list of modes, used up one per request), then ``default``."""

    port: int = 0
    default: str = "ok"
    scripts: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    hang_seconds: float = 10.0
    arrivals: int = 0  # requests that reached the handler, answered or not

    def __post_init__(self):
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, path: str, *modes: str) -> None:
        with self.lock:
            self.scripts[path] = list(modes)

    def _mode(self, path: str) -> str:
        with self.lock:
            queue = self.scripts.get(path.split("?")[0])
            return queue.pop(0) if queue else self.default

    def start(self) -> "HTTPReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = receiver._mode(self.path)
                with receiver.lock:
                    receiver.arrivals += 1
                if mode == "close":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if mode == "hang":
                    # a receiver that never answers, and so never took the message
                    receiver.release.wait(receiver.hang_seconds)
                    self.close_connection = True
                    return
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body, time.time()))
                status, extra, answer = 200, {}, b'{"errcode":0,"errmsg":"ok"}'
                if mode == "500":
                    status, answer = 500, b"internal error"
                elif mode.startswith("429"):
                    status, answer = 429, b"slow down"
                    extra["Retry-After"] = mode.partition(":")[2] or "1"
                elif mode == "400":
                    status, answer = 400, b"bad request"
                elif mode.startswith("errcode"):
                    answer = json.dumps({"errcode": int(mode.partition(":")[2]), "errmsg": "refused"}).encode()
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None
            self.release = threading.Event()

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.split("?")[0] == path]


class _Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


class SMTPReceiver:
    def __init__(self):
        self.mailbox = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SMTPReceiver":
        self.controller.start()
        return self

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list:
        return self.mailbox.messages

    def stop(self) -> None:
        self.controller.stop()


SECRETS = {
    "CLOSEDLOOP_SECRET_TEST_HOOK": "hook-secret-7f3a9c",
    "CLOSEDLOOP_WECOM_TEST_KEY": "wecom-key-5d2e81",
    "CLOSEDLOOP_DINGTALK_TEST_TOKEN": "ding-token-c4b7a0",
    "CLOSEDLOOP_DINGTALK_TEST_SECRET": "SECding-secret-93e1f2",
}


def channel_directory(path: Path, base_url: str, email: bool = True) -> Path:
    """The Luohe directory with a channel on every recipient, all pointing at ``base_url``; the
    natural-resources bureau has every kind. Secrets are ${ENV} references (see SECRETS)."""
    import yaml

    from service.directory import DEFAULT_DIRECTORY

    data = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    hook = lambda where: {"kind": "webhook", "url": f"{base_url}/{where}",  # noqa: E731
                          "secret": "${CLOSEDLOOP_SECRET_TEST_HOOK}"}
    for d in data["departments"]:
        d["channels"] = [hook(f"department/{d['key']}")]
        if d["key"] == "natural-resources":
            d["channels"] += [
                {"kind": "wecom", "url": f"{base_url}/wecom?key=${{CLOSEDLOOP_WECOM_TEST_KEY}}"},
                {"kind": "dingtalk", "url": f"{base_url}/dingtalk?access_token=${{CLOSEDLOOP_DINGTALK_TEST_TOKEN}}",
                 "secret": "${CLOSEDLOOP_DINGTALK_TEST_SECRET}"},
            ] + ([{"kind": "email", "to": ["ziranziyuan@luohe.example.cn"]}] if email else [])
    for o in data["officers"]:
        o["channels"] = [hook(f"officer/{o['key']}")]
    for s in data["meeting_series"]:
        s["channels"] = [hook(f"secretary/{s['key']}")]
    data["enterprise_channels"] = [hook("enterprises")]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
