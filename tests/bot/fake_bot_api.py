"""A fake Bot API on loopback: answers every method ok, records each call (method, fields,
whether a file came with it) for the tests to read, and can fail on demand."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeBotApi:
    def __init__(self, *, username: str = "panel_test_bot") -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = 200
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                method = self.path.rsplit("/", 1)[-1]
                kind = self.headers.get("Content-Type", "")
                if kind.startswith("application/json"):
                    body, photo = json.loads(raw or b"{}"), None
                else:
                    body, photo = _multipart(raw, kind)
                with fake.lock:
                    fake.calls.append(
                        {"method": method, "body": body, "photo": photo, "path": self.path}
                    )
                result: Any = {"message_id": len(fake.calls)}
                if method == "getMe":
                    result = {"id": 1, "is_bot": True, "username": username}
                elif method in ("setWebhook", "answerCallbackQuery"):
                    result = True
                data = json.dumps(
                    {"ok": fake.status == 200, "result": result, "description": "fake"}
                ).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def sent(self, method: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [call for call in self.calls if method is None or call["method"] == method]

    def texts(self) -> list[str]:
        """What the customer saw, in order: message texts and photo captions."""
        return [
            str(call["body"].get("text") or call["body"].get("caption"))
            for call in self.sent()
            if call["method"] in ("sendMessage", "sendPhoto")
        ]

    def last_keyboard(self) -> list[list[dict[str, str]]]:
        for call in reversed(self.sent()):
            markup = call["body"].get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            if markup:
                return markup["inline_keyboard"]
        return []

    def button(self, starts: str) -> str:
        """The callback_data of the last keyboard's button whose data starts with `starts`."""
        for row in self.last_keyboard():
            for button in row:
                if button["callback_data"].startswith(starts):
                    return button["callback_data"]
        raise AssertionError(f"no button {starts!r} in {self.last_keyboard()}")

    def __enter__(self) -> "FakeBotApi":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _multipart(raw: bytes, content_type: str) -> tuple[dict[str, Any], bytes | None]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, Any] = {}
    photo = None
    for part in raw.split(b"--" + boundary):
        head, _sep, value = part.partition(b"\r\n\r\n")
        if b'name="' not in head:
            continue
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        value = value.removesuffix(b"\r\n")
        if b"filename=" in head:
            photo = value
        else:
            fields[name] = value.decode()
    return fields, photo
