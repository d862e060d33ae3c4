"""The sandbox provider's HTTP server: routing, auth, latency and faults around the actions."""

from __future__ import annotations

import hmac
import logging
import re
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sandbox import faults
from sandbox.actions import HANDLERS, handle_action
from sandbox.config import SandboxConfig
from sandbox.control import handle_control
from sandbox.errors import INCORRECT_REQUEST, INVALID_KEY, ApiError, ControlError
from sandbox.http_input import (
    MAX_BODY_BYTES,
    BadInput,
    bearer_token,
    parse_fields,
    text_fields,
)
from sandbox.money import dumps
from sandbox.persistence import StateSaver, load_file
from sandbox.state import SandboxState
from sandbox.validation import link_for_count

logger = logging.getLogger("sandbox")

API_PATHS = frozenset(("/api/v2", "/api/v2/"))
CONTROL_PREFIX = "/_sandbox/"
# Endpoints that only read, so a GET may reach them.
READ_ONLY_CONTROLS = frozenset(("stats", "config", "orders"))
_KEY_IN_TEXT = re.compile(r"(key=)[^&\s'\"]*", re.IGNORECASE)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: SandboxServer) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can take
        # seconds on a machine without DNS; tests start servers by the dozen.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, is_open: bool) -> None:
        with self._connections_lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """End idle keep-alive connections, whose threads would otherwise serve on."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxProvider/1.0"
    disable_nagle_algorithm = True
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 120
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, is_open=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, is_open=False)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        try:
            fields = parse_fields(query, self.headers.get("Content-Type", ""), self._read_body())
        except (BadInput, ValueError) as error:
            self._reject_body(path, error)
            return
        try:
            status = self._route(path, fields)
        except Exception:
            logger.exception("Sandbox request failed")
            status = self._send_json({"error": "Internal sandbox error"}, status=500)
        if self.server.app.config.verbose:
            elapsed_ms = (time.perf_counter() - started) * 1000
            action = fields.get("action", "")
            logger.info("%s %s %s -> %s (%.1f ms)", self.command, path, action, status, elapsed_ms)

    def _reject_body(self, path: str, error: Exception) -> None:
        # Part of the body may be unread: this connection cannot carry another request.
        self.close_connection = True
        if path in API_PATHS:
            self._send_json({"error": INCORRECT_REQUEST})
        else:
            message = str(error) if isinstance(error, BadInput) else "Bad request body"
            self._send_json({"error": message}, status=400)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise BadInput("Body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
            if sum(len(chunk) for chunk in chunks) > MAX_BODY_BYTES:
                raise BadInput("Body too large")

    def _route(self, path: str, fields: dict[str, Any]) -> int | None:
        if path in API_PATHS:
            return self._api(text_fields(fields))
        if path.startswith(CONTROL_PREFIX):
            return self._control(path[len(CONTROL_PREFIX) :].strip("/"), fields)
        return self._send_json({"error": "Not found"}, status=404)

    def _is_authorized(self, key: Any) -> bool:
        given = (
            key if isinstance(key, str) and key else bearer_token(self.headers.get("Authorization"))
        )
        expected = self.server.app.config.key
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    def _api(self, params: dict[str, str]) -> int | None:
        app = self.server.app
        config, state = app.config, app.state
        action = params.get("action", "").strip()
        if action == "add":
            # Counted before anything can fail, so tests see every add that arrived.
            state.count_add(link_for_count(params))
        state.count_request(action if action in HANDLERS else "(unknown)")
        delay = faults.latency_seconds(config, app.dice)
        if delay and self.server.stopping.wait(delay):
            self._hang_up()
            return None
        if not self._is_authorized(params.get("key")):
            return self._send_json({"error": INVALID_KEY})
        if action == "add":
            refusal = faults.before_add(config, app.dice)
            if refusal is not None:
                return self._send_json(refusal)
        try:
            answer = handle_action(state, action, params)
        except ApiError as error:
            answer = {"error": error.message}
        return self._answer_with_faults(action, answer)

    def _answer_with_faults(self, action: str, answer: Any) -> int | None:
        app = self.server.app
        fault = faults.after_work(app.config, app.dice, action)
        if fault is faults.AfterFault.TIMEOUT:
            # The realistic "outcome unknown": the work is done, the answer never comes.
            self.server.stopping.wait(app.config.timeout_seconds)
            self._hang_up()
            return None
        if fault is faults.AfterFault.BAD_GATEWAY:
            return self._send(502, faults.BAD_GATEWAY_PAGE, "text/html")
        if fault is faults.AfterFault.NOT_JSON:
            return self._send(200, faults.CHALLENGE_PAGE, "text/html; charset=UTF-8")
        return self._send_json(answer)

    def _control(self, name: str, fields: dict[str, Any]) -> int | None:
        if not self._is_authorized(fields.pop("key", None)):
            return self._send_json({"error": INVALID_KEY}, status=403)
        if self.command != "POST" and name not in READ_ONLY_CONTROLS:
            return self._send_json({"error": "Use POST"}, status=405)
        try:
            answer = handle_control(self.server.app.state, name, fields)
        except ControlError as error:
            return self._send_json({"error": error.message}, status=error.status)
        return self._send_json(answer)

    def _hang_up(self) -> None:
        self.close_connection = True

    def _send_json(self, answer: Any, status: int = 200) -> int:
        body = answer if isinstance(answer, bytes) else dumps(answer)
        return self._send(status, body, "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Even http.server's own errors (bad request line, unknown method) answer JSON.
        self.close_connection = True
        body = dumps({"error": message or self.responses.get(code, ("Error",))[0]})
        try:
            self._send(code, body, "application/json")
        except OSError:
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged by _handle, without their query string."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        if self.server.app.config.verbose:
            logger.info("%s %s", self.address_string(), _KEY_IN_TEXT.sub(r"\1***", format % args))


class SandboxServer:
    """A v2 provider on a real socket. Binds at construction, so `url` is known at once."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config if config is not None else SandboxConfig()
        self.state = SandboxState(self.config)
        if self.config.state_file:
            load_file(self.state, self.config.state_file)
        self.dice = faults.FaultDice(self.config.seed)
        self._httpd = _HttpServer((host, port), self)
        self._saver: StateSaver | None = None
        if self.config.state_file:
            self._saver = StateSaver(
                self.state, self.config.state_file, self.config.save_interval_seconds
            )
        self._thread: threading.Thread | None = None
        self._is_serving = False
        self._is_stopped = False
        self._stop_lock = threading.Lock()

    @property
    def host(self) -> str:
        return self._httpd.server_name

    @property
    def port(self) -> int:
        return self._httpd.server_port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v2"

    def control_url(self, name: str) -> str:
        return f"{self.base_url}{CONTROL_PREFIX}{name}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread and return at once."""
        self._begin()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"sandbox-provider-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until stop() or KeyboardInterrupt; stops cleanly either way."""
        self._begin()
        try:
            self._httpd.serve_forever(poll_interval=0.5)
        finally:
            self.stop()

    def _begin(self) -> None:
        if self._is_serving:
            raise RuntimeError("The sandbox server is already serving")
        self._is_serving = True
        if self._saver is not None:
            self._saver.start()

    def stop(self) -> None:
        """Stop serving, drop open connections, join the thread, save the state."""
        with self._stop_lock:
            if self._is_stopped:
                return
            self._is_stopped = True
        self._httpd.stopping.set()
        if self._is_serving:
            self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join()
        if self._saver is not None:
            self._saver.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
