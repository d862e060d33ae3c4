"""The one module that talks HTTP to customers' webhook endpoints (as notifications/telegram.py is
for Telegram and providers/client for upstreams).

The endpoint is a URL a customer typed, so the panel must not become a way to reach what only
it can reach (its database, its cloud's metadata service, the admin on localhost). Every
delivery therefore resolves the host itself, refuses unless every address is public, and then
connects to one of the addresses it checked: no second DNS lookup happens between the check and
the connection (a host that answers a public address to the check and a private one to the
connect gets nowhere). The request still names the host (the Host header, and the TLS server
name, against which the certificate is verified). Redirects are not followed, timeouts are
short and at most EXCERPT_BYTES of the answer are read.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
TOTAL_SECONDS = 10.0  # a server that trickles its answer byte by byte is cut off here
EXCERPT_BYTES = 300
USER_AGENT = "smm-panel-webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Answer:
    """What one POST got: an HTTP status and the start of the body, or an error code
    (notifications.webhooks.selectors.ERROR_TEXTS words each for the customer)."""

    status_code: int | None = None
    excerpt: str = ""
    error_code: str = ""
    duration_ms: int = 0

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _plain(ip: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_is_allowed(ip: IPAddress, *, allow_loopback: bool) -> bool:
    ip = _plain(ip)
    if ip.is_loopback:
        return allow_loopback
    return not (
        ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global  # shared (CGNAT), documentation and benchmarking ranges
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in found:
            found.append(ip)
    return found


def _allow_loopback() -> bool:
    return bool(settings.PANEL_WEBHOOKS_ALLOW_LOOPBACK)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint (an error code), or None. HTTPS only; plain HTTP only to
    a loopback address, and only while loopback is allowed (tests, the demo)."""
    if (problem := url_problem_without_dns(url)) is not None:
        return problem
    parsed = httpx.URL(url)
    try:
        addresses = _resolve(parsed.host, parsed.port or 443)
    except (OSError, UnicodeError):
        return "dns"
    if not addresses:
        return "dns"
    allow_loopback = _allow_loopback()
    if not all(address_is_allowed(ip, allow_loopback=allow_loopback) for ip in addresses):
        return "address_refused"
    if parsed.scheme == "http" and not all(_plain(ip).is_loopback for ip in addresses):
        return "https_required"
    return None


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` once, through the address guard. Never raises for the network."""
    started = time.monotonic()

    def done(**values: object) -> Answer:
        elapsed = int((time.monotonic() - started) * 1000)
        return Answer(duration_ms=elapsed, **values)  # type: ignore[arg-type]

    if (problem := url_problem_without_dns(url)) is not None:
        return done(error_code=problem)
    parsed = httpx.URL(url)
    host = parsed.host
    try:
        addresses = _resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return done(error_code="dns")
    allow_loopback = _allow_loopback()
    if not addresses or not all(
        address_is_allowed(ip, allow_loopback=allow_loopback) for ip in addresses
    ):
        return done(error_code="address_refused" if addresses else "dns")
    if parsed.scheme == "http" and not _plain(addresses[0]).is_loopback:
        return done(error_code="https_required")
    pinned = parsed.copy_with(host=str(addresses[0]))
    request_headers = {
        **headers,
        "Host": parsed.netloc.decode("ascii"),
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
    }
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT, pool=CONNECT_TIMEOUT)
    # One client per delivery, no pool: a pooled connection is keyed by the pinned address, and
    # another customer's host on the same address must not ride a TLS session made for this one.
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST", pinned, content=body, headers=request_headers, extensions=extensions
            ) as response,
        ):
            excerpt = _read_excerpt(response, started)
            return done(status_code=response.status_code, excerpt=excerpt)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
        return done(error_code="connect")
    except httpx.TimeoutException:
        return done(error_code="timeout")
    except httpx.HTTPError:
        return done(error_code="http_error")


def url_problem_without_dns(url: str) -> str | None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "invalid_url"
    if parsed.scheme not in ("https", "http") or not parsed.host or parsed.userinfo:
        return "invalid_url"
    return None


def _read_excerpt(response: httpx.Response, started: float) -> str:
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_BYTES or time.monotonic() - started > TOTAL_SECONDS:
            break
    return kept[:EXCERPT_BYTES].decode("utf-8", errors="replace").strip()
