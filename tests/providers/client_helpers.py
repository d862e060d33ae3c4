"""Stand-ins for provider panels: MockTransport handlers and a tiny real HTTP server on loopback."""

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

from providers.client import ProviderClient

API_URL = "https://provider.example/api/v2"
API_KEY = "sk-live-7f3a9c2e1b8d4f60a5e9c3b2d1f0a8e7"

Handler = Callable[[httpx.Request], httpx.Response]


def form_of(request: httpx.Request) -> dict[str, str]:
    """The form fields of a request, one value each (a repeated field fails the test)."""
    parsed = parse_qs(request.content.decode(), keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {name: values[0] for name, values in parsed.items()}


def client_for(handler: Handler, **kwargs: Any) -> ProviderClient:
    kwargs.setdefault("connect_timeout", 1.0)
    kwargs.setdefault("read_timeout", 1.0)
    return ProviderClient(
        api_url=API_URL, api_key=API_KEY, transport=httpx.MockTransport(handler), **kwargs
    )


def answering(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    """A provider that answers every request with `payload` as JSON (or raw bytes / str)."""
    if isinstance(payload, bytes | str):
        body = payload.encode() if isinstance(payload, str) else payload
    else:
        body = json.dumps(payload).encode()
    return lambda request: httpx.Response(status, content=body, headers=headers or {})


def raising(exc_type: type[httpx.TransportError], text: str = "boom") -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)

    return handler


class Recorder:
    """Wraps a handler and keeps every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        return self.handler(request)

    @property
    def forms(self) -> list[dict[str, str]]:
        return [form_of(r) for r in self.requests]


class _LoopbackHandler(BaseHTTPRequestHandler):
    """Paths choose the behaviour: /api/v2 answers, /slow/… sleeps, /redirect/… redirects,
    /drop/… closes the connection without answering."""

    protocol_version = "HTTP/1.1"
    server: "LoopbackServer"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.server.seen.append((self.path, dict(self.headers), form))
        if self.path.startswith("/slow/"):
            time.sleep(self.server.slow_seconds)
        if self.path.startswith("/drop/"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.path.startswith("/redirect/"):
            self._send(302, b"", {"Location": "https://elsewhere.example/api/v2"})
            return
        body = json.dumps(self.server.answers.get(form.get("action", ""), {"error": "?"}))
        self._send(200, body.encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (read timeout): nothing to answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _LoopbackHandler)
        self.seen: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.answers: dict[str, Any] = {}
        self.slow_seconds = 1.5

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out on purpose break pipes; that is the point of those tests


@contextmanager
def loopback_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
