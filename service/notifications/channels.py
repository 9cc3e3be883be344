"""Sending one message on one channel (推送渠道): signed webhook, WeCom group robot, DingTalk robot,
e-mail. Each send answers an :class:`Outcome` — delivered, retry (maybe after a given delay), or
give up — and never raises for what the far end does.

Secrets are resolved from the environment at the moment of sending and are never put into an
error text: errors are built here from status codes and exception types, then scrubbed of every
resolved secret and URL in case a library echoed one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import smtplib
import ssl
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from ..config import NotifySettings
from ..directory import SECRET_VAR_RULE, Channel, secret_var_allowed
from .templates import Message

if TYPE_CHECKING:
    import httpx

# httpx logs every request line with its full URL at INFO; a robot's URL carries its key.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

SIGNATURE_HEADER = "X-Closedloop-Signature"
TIMESTAMP_HEADER = "X-Closedloop-Timestamp"
EVENT_HEADER = "X-Closedloop-Event-Id"
DELIVERY_HEADER = "X-Closedloop-Delivery-Id"

# Robot error codes that mean "too fast, try later" (WeCom 45009; DingTalk 130101).
_ROBOT_THROTTLED = {45009, 130101}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool = False
    after: float | None = None  # seconds the far end asked us to wait (429 Retry-After)
    error: str | None = None
    status: int | None = None
    # the endpoint answered (a 429 or a 4xx): it is up, so the channel's circuit stays closed
    reachable: bool = False


DELIVERED = Outcome(ok=True, reachable=True)


class ConfigError(Exception):
    """The channel cannot be used as configured (a missing environment variable, no SMTP)."""


_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def resolve(value: str | None) -> str | None:
    if value is None:
        return None

    def one(m: re.Match) -> str:
        name = m.group(1)
        if not secret_var_allowed(name):  # the loader refuses it too; a Channel built in code did not pass there
            raise ConfigError(f"environment variable {name} is not a channel secret (allowed: {SECRET_VAR_RULE})")
        found = os.environ.get(name)
        if not found:
            raise ConfigError(f"environment variable {name} is not set")
        return found

    return _ENV_REF.sub(one, value)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature: HMAC-SHA256 over ``timestamp + "." + body``, hex, prefixed."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def dingtalk_url(url: str, secret: str, now_ms: int) -> str:
    """DingTalk's signed robot URL (加签): HMAC-SHA256 of ``timestamp\\nsecret`` keyed by the secret,
    base64, URL-encoded, appended with the timestamp in milliseconds."""
    to_sign = f"{now_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    signature = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={now_ms}&sign={signature}"


def retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class Sender:
    """One per process: holds the HTTP connection pool (keep-alive to each endpoint)."""

    def __init__(self, settings: NotifySettings):
        self.settings = settings
        # channels are sent in parallel, each channel's messages in order (delivery.send)
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="closedloop-send")
        import httpx  # only where messages are sent (a worker, the embedded process): ~18 MB

        self.client = httpx.Client(timeout=httpx.Timeout(settings.timeout),
                                   limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                                   headers={"User-Agent": "closedloop-notify/1"})

    def close(self) -> None:
        self.pool.shutdown(wait=False)
        self.client.close()

    def send(self, channel: Channel, message: Message, body: dict, delivery_id: int) -> Outcome:
        secrets: list[str] = []
        try:
            url = resolve(channel.url)
            secret = resolve(channel.secret)
            secrets = [s for s in (url, secret) if s]
            if channel.kind == "webhook":
                return self._webhook(url, secret, body, delivery_id)
            if channel.kind == "wecom":
                return self._robot(url, {"msgtype": "markdown", "markdown": {"content": message.markdown}})
            if channel.kind == "dingtalk":
                signed = dingtalk_url(url, secret, int(time.time() * 1000))
                secrets.append(signed)
                return self._robot(signed, {"msgtype": "markdown",
                                            "markdown": {"title": message.title, "text": message.markdown}})
            return self._email(channel, message, body, delivery_id)
        except ConfigError as exc:
            return Outcome(ok=False, error=f"configuration: {exc}")
        except Exception as exc:  # noqa: BLE001 - whatever a library raises becomes a scrubbed outcome
            return Outcome(ok=False, retry=True, error=scrub(f"{type(exc).__name__}: {exc}", secrets))

    # ------------------------------------------------------------------ HTTP
    def _post(self, url: str, payload: bytes, headers: dict) -> httpx.Response | Outcome:
        import httpx

        try:
            return self.client.post(url, content=payload, headers=headers)
        except httpx.TimeoutException as exc:
            return Outcome(ok=False, retry=True, error=f"timeout ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return Outcome(ok=False, retry=True, error=f"connection failed ({type(exc).__name__})")

    def _judge(self, response: httpx.Response) -> Outcome | None:
        """None when the HTTP status is a success; otherwise the outcome it means."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        excerpt = scrub(response.text[:200], [])
        if status == 429:
            return Outcome(ok=False, retry=True, after=retry_after(response.headers.get("Retry-After"), time.time()),
                           error=f"HTTP 429: {excerpt}", status=status, reachable=True)
        if status >= 500:
            return Outcome(ok=False, retry=True, error=f"HTTP {status}: {excerpt}", status=status)
        # any other 4xx (or a 3xx we do not follow): the request itself is wrong, retrying cannot help
        return Outcome(ok=False, error=f"HTTP {status} (not retried): {excerpt}", status=status, reachable=True)

    def _webhook(self, url: str, secret: str, body: dict, delivery_id: int) -> Outcome:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, payload),
            EVENT_HEADER: str(body.get("event_id") or ""),
            DELIVERY_HEADER: str(delivery_id),
            "Idempotency-Key": str(delivery_id),
        }
        response = self._post(url, payload, headers)
        if isinstance(response, Outcome):
            return scrub_outcome(response, [url, secret])
        return self._judge(response) or DELIVERED

    def _robot(self, url: str, message: dict) -> Outcome:
        payload = json.dumps(message, ensure_ascii=False).encode()
        response = self._post(url, payload, {"Content-Type": "application/json; charset=utf-8"})
        if isinstance(response, Outcome):
            return scrub_outcome(response, [url])
        judged = self._judge(response)
        if judged is not None:
            return scrub_outcome(judged, [url])
        try:
            answer = response.json()
        except ValueError:
            return DELIVERED
        code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if code == 0:
            return DELIVERED
        error = scrub(f"robot errcode {code}: {answer.get('errmsg', '')}", [url])
        if code in _ROBOT_THROTTLED:
            return Outcome(ok=False, retry=True, after=60.0, error=error, reachable=True)
        return Outcome(ok=False, error=error + " (not retried)", reachable=True)

    # ------------------------------------------------------------------ e-mail
    def _email(self, channel: Channel, message: Message, body: dict, delivery_id: int) -> Outcome:
        if not self.settings.smtp_url:
            raise ConfigError("CLOSEDLOOP_SMTP_URL is not set")
        smtp = urllib.parse.urlsplit(self.settings.smtp_url)
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.settings.smtp_from
        mail["To"] = ", ".join(channel.to)
        domain = self.settings.smtp_from.rpartition("@")[2] or "closedloop"
        mail["Message-ID"] = f"<closedloop-{delivery_id}@{domain}>"  # the same on every retry
        mail[EVENT_HEADER] = str(body.get("event_id") or "")
        mail[DELIVERY_HEADER] = str(delivery_id)
        mail.set_content(message.text)
        secrets = [s for s in (smtp.password, self.settings.smtp_url) if s]
        try:
            cls = smtplib.SMTP_SSL if smtp.scheme == "smtps" else smtplib.SMTP
            with cls(smtp.hostname or "127.0.0.1", smtp.port or (465 if smtp.scheme == "smtps" else 25),
                     timeout=self.settings.timeout) as conn:
                if "starttls=1" in (smtp.query or ""):
                    conn.starttls(context=ssl.create_default_context())
                if smtp.username:
                    conn.login(urllib.parse.unquote(smtp.username), urllib.parse.unquote(smtp.password or ""))
                conn.send_message(mail)
            return DELIVERED
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            transient = all(400 <= c < 500 for c in codes)
            return Outcome(ok=False, retry=transient, error=f"SMTP recipients refused: {codes}", reachable=True)
        except smtplib.SMTPResponseException as exc:
            transient = 400 <= exc.smtp_code < 500
            return Outcome(ok=False, retry=transient, reachable=True,
                           error=scrub(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", secrets)
                           + ("" if transient else " (not retried)"))
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(ok=False, retry=True, error=scrub(f"SMTP {type(exc).__name__}: {exc}", secrets))


def scrub(text: str, secrets: list[str]) -> str:
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "[redacted]")
    # a URL's query string (robot keys, access tokens) never goes into an error text
    return re.sub(r"(https?://[^\s?\"']+)\?[^\s\"']*", r"\1?[redacted]", text)


def scrub_outcome(outcome: Outcome, secrets: list[str]) -> Outcome:
    return outcome if outcome.error is None else replace(outcome, error=scrub(outcome.error, secrets))
