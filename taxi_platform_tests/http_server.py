"""A real HTTP server on 127.0.0.1 (a free port, a daemon thread) with scripted routes, for download tests.

Registered paths only; anything else is a 404. Each route can serve bytes normally, cut the body short (full
Content-Length, half the bytes, then close), fail N times with a status before succeeding, always answer a status, or
stall past a client timeout. Requests are counted per path, server-side.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Iterator


@dataclass
class Route:
    body: bytes = b""
    status: int = 200  # answered forever when != 200
    fail_times: int = 0  # answer fail_status this many times first, then serve body
    fail_status: int = 503
    truncate: bool = False  # send the full Content-Length but only half the body, then close
    delay_seconds: float = 0.0  # stall before answering (to trip client timeouts)
    content_type: str = "application/octet-stream"
    head_status: int | None = None  # answer HEAD with this instead (e.g. 405: a host that refuses HEAD)
    headers: dict[str, str] | None = None  # extra headers of a 200 answer (GET and HEAD), e.g. ETag, Last-Modified


class ScriptedServer:
    """The state shared by the handler threads: routes and per-path request counts."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.counts: Counter[str] = Counter()
        self.heads: Counter[str] = Counter()  # HEAD requests, counted apart (they never consume fail_times)
        self.lock = threading.Lock()
        self.base_url = ""

    def add(self, path: str, body: bytes = b"", **behaviour) -> str:
        """Register ``path`` (e.g. "/trip-data/x.parquet") and return its full URL."""
        with self.lock:
            self.routes[path] = Route(body=body, **behaviour)
            self.counts[path] = 0
        return self.base_url + path

    def requests(self, path: str) -> int:
        with self.lock:
            return self.counts[path]

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.counts.clear()
            self.heads.clear()


def _handler_for(server: ScriptedServer):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: a cut body is seen as a cut body

        def log_message(self, format, *args):  # keep pytest output quiet
            pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            with server.lock:
                server.counts[path] += 1
                count = server.counts[path]
                route = server.routes.get(path)
            if route is None:
                self._answer(404, b"Not Found")
                return
            if route.delay_seconds:
                time.sleep(route.delay_seconds)
            if route.status != 200:
                self._answer(route.status, b"scripted status")
                return
            if count <= route.fail_times:
                self._answer(route.fail_status, b"scripted failure")
                return
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            for name, value in (route.headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if route.truncate:
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(route.body)

        def do_HEAD(self):
            """The status and headers a GET would get (without fail_times/delays), or the route's head_status."""
            path = self.path.split("?", 1)[0]
            with server.lock:
                server.heads[path] += 1
                route = server.routes.get(path)
            status = 404 if route is None else (route.head_status or route.status)
            self.send_response(status)
            self.send_header("Content-Length", str(len(route.body)) if route is not None and status == 200 else "0")
            for name, value in (route.headers or {}).items() if route is not None and status == 200 else ():
                self.send_header(name, value)
            self.end_headers()

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Clients that hang up early (timeouts, cut bodies) are expected here; anything else is still printed."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def loopback_bypasses_proxies() -> Iterator[None]:
    """requests honours HTTP(S)_PROXY from the environment: make sure the loopback test server is never proxied."""
    saved = {key: os.environ.get(key) for key in ("NO_PROXY", "no_proxy")}
    for key, value in saved.items():
        os.environ[key] = ",".join(filter(None, [value, "127.0.0.1", "localhost"]))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def scripted_http_server(name: str = "test-http") -> Iterator[ScriptedServer]:
    """Start the server, yield its ``ScriptedServer`` state, and stop it."""
    state = ScriptedServer()
    httpd = _QuietServer(("127.0.0.1", 0), _handler_for(state))
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        with loopback_bypasses_proxies():
            yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
