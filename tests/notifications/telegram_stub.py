"""A Bot API stand-in on loopback: answers as told (ok, 5xx, 429, slow) and records messages."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TelegramStub:
    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.body: dict = {"ok": True, "result": {"message_id": 1}}
        self.messages: list[dict] = []
        self.paths: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                stub.paths.append(self.path)
                if stub.delay:
                    time.sleep(stub.delay)
                if stub.status == 200:
                    stub.messages.append(payload)
                data = json.dumps(stub.body).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, status: int, body: dict | None = None, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.body = body if body is not None else {"ok": status == 200}

    def __enter__(self) -> "TelegramStub":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
