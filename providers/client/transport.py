"""The one place the panel opens upstream HTTP connections.

Only this module knows httpx. It sends a form POST and hands back the raw answer, or raises
TransportFailure saying whether the request may have reached the provider: for `add` that is the
difference between "retry later" and "the order may exist upstream".
"""

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

USER_AGENT = "smm-panel/0.1 (reseller panel; v2 API client)"
MAX_BODY_BYTES = 32 * 1024 * 1024

# Keep-alive shorter than common servers' (Apache 5 s, nginx 75 s): reusing a connection the
# server is closing turns a harmless `add` into an ambiguous one.
_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=4.0)
_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}

# Failures raised before any byte of the request was written, so nothing upstream acted on it.
# TLS handshake errors surface as ConnectError.
_NEVER_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
)


@dataclass(frozen=True)
class RawAnswer:
    status_code: int
    body: bytes
    content_type: str
    location: str
    retry_after: str


class TransportFailure(Exception):
    def __init__(self, detail: str, *, may_have_been_sent: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.may_have_been_sent = may_have_been_sent


def timeout(*, connect: float, read: float) -> httpx.Timeout:
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)


def new_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        transport=transport,
        follow_redirects=False,  # a redirect turns POST into a body-less GET upstream
        limits=_LIMITS,
        headers=_HEADERS,
        trust_env=False,  # an ambient HTTP(S)_PROXY must not silently reroute provider traffic
    )


_shared_lock = threading.Lock()
# (pid, client) as one tuple so readers never pair a client with the wrong process id.
_shared: tuple[int, httpx.Client] | None = None


def shared_client() -> httpx.Client:
    """The process-wide pooled client, created on first use.

    Celery's prefork pool forks after import: a child must never reuse the parent's pooled
    sockets (two processes would read answers off one connection), hence the pid check.
    """
    global _shared
    current = _shared
    pid = os.getpid()
    if current is not None and current[0] == pid:
        return current[1]
    with _shared_lock:
        if _shared is None or _shared[0] != pid:
            _shared = (pid, new_client())
        return _shared[1]


def _forget_after_fork() -> None:
    # The parent may have held the lock while forking; the child gets fresh state.
    global _shared, _shared_lock
    _shared = None
    _shared_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def post(
    client: httpx.Client, url: str, form: Mapping[str, str], request_timeout: httpx.Timeout
) -> RawAnswer:
    try:
        with client.stream("POST", url, data=dict(form), timeout=request_timeout) as response:
            return RawAnswer(
                status_code=response.status_code,
                body=_read_capped(response),
                content_type=response.headers.get("content-type", ""),
                location=response.headers.get("location", ""),
                retry_after=response.headers.get("retry-after", ""),
            )
    except _NEVER_SENT as exc:
        raise TransportFailure(_describe(exc), may_have_been_sent=False) from None
    except httpx.HTTPError as exc:
        raise TransportFailure(_describe(exc), may_have_been_sent=True) from None


def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TransportFailure(
                f"answer larger than {MAX_BODY_BYTES // 2**20} MiB", may_have_been_sent=True
            )
        chunks.append(chunk)
    return b"".join(chunks)


_DESCRIPTIONS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectTimeout, "connect timed out"),
    (httpx.PoolTimeout, "no free connection in the pool"),
    (httpx.ProxyError, "proxy error"),
    (httpx.ConnectError, "could not connect"),
    (httpx.ReadTimeout, "read timed out"),
    (httpx.WriteTimeout, "write timed out"),
    (httpx.RemoteProtocolError, "the connection broke"),
    (httpx.ReadError, "read failed"),
    (httpx.WriteError, "write failed"),
)


def _describe(exc: Exception) -> str:
    summary = next((text for cls, text in _DESCRIPTIONS if isinstance(exc, cls)), "")
    detail = " ".join(str(exc).split())[:200]
    name = type(exc).__name__
    if summary:
        return f"{summary} ({name}: {detail})" if detail else f"{summary} ({name})"
    return f"{name}: {detail}" if detail else name
