"""HTTP plumbing and rate-limit buckets of the Slack Web API double."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from .slack_double import SlackDouble


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs under concurrent clients (1 s stalls)


@dataclass
class Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


@dataclass
class RateLimits:
    per_channel_per_sec: float
    burst: int
    per_workspace_per_min: int
    workspace_burst: int
    channels: dict[str, Bucket] = field(default_factory=dict)
    workspace: Bucket | None = None


def parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        parsed = json.loads(raw.decode("utf-8"))
        if not isinstance(parsed, dict):
            raise ValueError("JSON body must be an object")
        return parsed
    if mime == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        result: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                is_file = part.get_filename() is not None
                result[name] = payload if is_file else payload.decode("utf-8")
        return result
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def make_handler(double: SlackDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str], ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path.startswith("/upload/v1/"):
                ok = double.receive_upload(url.path.rsplit("/", 1)[-1], raw)
                text = f"OK - {len(raw)}" if ok else "upload_url_not_found"
                self._send(200 if ok else 404, text.encode(), {}, "text/plain; charset=utf-8")
                return
            if url.path.startswith("/files/"):  # url_private: needs the bot token
                auth = self.headers.get("Authorization", "")
                content = double.file_content(url.path[len("/files/") :])
                if not double.accepts_token(auth.removeprefix("Bearer ").strip()):
                    self._send(403, b"login required", {}, "text/html; charset=utf-8")
                elif content is None:
                    self._send(404, b"not found", {}, "text/plain; charset=utf-8")
                else:
                    self._send(200, content, {}, "application/octet-stream")
                return
            if not url.path.startswith("/api/"):
                self._send(404, b"not found", {}, "text/plain; charset=utf-8")
                return
            method = url.path[len("/api/") :]
            headers = dict(self.headers.items())
            args: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
            try:
                args.update(parse_body(self.headers.get("Content-Type", ""), raw))
            except ValueError:
                body = {"ok": False, "error": "invalid_json"}
                double._record(method, args, headers, 200, "invalid_json")
                self._send(200, json.dumps(body).encode(), {}, "application/json; charset=utf-8")
                return
            token = args.pop("token", None)
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                token = auth[len("Bearer ") :].strip()
            status, extra, answer = double.process(method, args, headers, token)
            self._send(
                status, json.dumps(answer).encode(), extra, "application/json; charset=utf-8"
            )

        do_POST = _handle
        do_GET = _handle

    return Handler
