"""Headless Chromium (Debian's `chromium`) from the command line: one page -> a screenshot and the rendered DOM.

No driver, no extra Python package: `--screenshot` and `--dump-dom` in one run, after `--virtual-time-budget`
lets the single-page app fetch its data and render. The flags keep Chromium off every network but the page's own
(no background networking, updates, sync, QUIC). A missing Chromium skips the browser test with the reason, except
in CI (CI=true), where it fails: CI installs it (scripts/ensure-chromium).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser")
WINDOW = "1600,1000"


def chromium_or_skip() -> str:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    reason = "Chromium is not installed (Debian: apt-get install chromium; as root: scripts/ensure-chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser test")
    pytest.skip(reason)


@dataclass
class Page:
    url: str
    screenshot: Path
    html: str

    @property
    def text(self) -> str:
        """The visible text, roughly: scripts and styles dropped, tags turned into separators."""
        body = re.sub(r"<(script|style)\b.*?</\1>", " ", self.html, flags=re.S | re.I)
        body = re.sub(r"<[^>]+>", " | ", body)
        return re.sub(r"\s*(\|\s*)+", " | ", unescape(body))


def render(chromium: str, url: str, screenshot: Path, *, budget_ms: int = 20000, timeout: float = 150.0) -> Page:
    """Load ``url``, let it run for ``budget_ms`` of virtual time, save a PNG and return the rendered DOM."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="taxi_platform-chromium-") as profile:
        process = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",  # root in a container has no usable sandbox
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={WINDOW}",
                f"--virtual-time-budget={budget_ms}",
                f"--screenshot={screenshot}",
                "--dump-dom",
                url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: helpers it forked are ended with it
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            raise AssertionError(f"chromium did not finish {url} in {timeout:.0f} s: {err.decode(errors='replace')[-2000:]}")
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything of that group still around (normally nothing)
            except ProcessLookupError:
                pass
    html = out.decode(errors="replace")
    if process.returncode != 0 or not screenshot.exists() or not html.strip():
        raise AssertionError(
            f"chromium failed on {url} (exit {process.returncode}, screenshot {screenshot.exists()}):\n"
            f"{err.decode(errors='replace')[-3000:]}"
        )
    return Page(url=url, screenshot=screenshot, html=html)


# ---- one click on a page: Chrome's DevTools protocol over its websocket (websockets: a dagster-webserver dependency) --
SHOWN_IMAGE_JS = """(() => {
  const img = [...document.querySelectorAll('img')].find(i => i.src.startsWith('data:image/png'));
  return img && img.complete ? JSON.stringify({width: img.naturalWidth, height: img.naturalHeight,
                                               alt: img.alt, visible: img.getBoundingClientRect().width > 0}) : null;
})()"""


def click_metadata_markdown_js(label: str) -> str:
    """JS that clicks the "Show Markdown" control of the metadata row labelled ``label``; true when it clicked."""
    return """((label) => {
  const cells = [...document.querySelectorAll('td, th, div, span')].filter(e => e.textContent.trim() === label);
  for (const cell of cells) {
    let row = cell.closest('tr') || cell.parentElement;
    for (let up = 0; row && up < 4; up++, row = row.parentElement) {
      const control = [...row.querySelectorAll('button, a, span, div')]
        .find(e => /Show Markdown/i.test(e.textContent) && e.children.length === 0);
      if (control) { control.click(); return true; }
    }
  }
  return false;
})(%s)""" % repr(label).replace("'", '"')


def open_markdown_image(chromium: str, url: str, label: str, screenshot: Path, *, timeout: float = 150.0) -> dict:
    """Open ``url``, click the "Show Markdown" of metadata ``label``, wait for a PNG data-URI image to be displayed,
    save a screenshot; return the image's {width, height, alt, visible} as the browser decoded it."""
    import base64
    import json
    import time
    import urllib.request

    from websockets.sync.client import connect

    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="taxi_platform-chromium-") as profile:
        process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={WINDOW}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            port_file = Path(profile) / "DevToolsActivePort"
            while not port_file.exists() or not port_file.read_text().strip():
                assert time.monotonic() < deadline and process.poll() is None, "chromium did not open DevTools"
                time.sleep(0.2)
            port = int(port_file.read_text().split()[0])
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
            page = next(t for t in targets if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as ws:
                ids = iter(range(1, 1_000_000))

                def call(method: str, **params):
                    mine = next(ids)
                    ws.send(json.dumps({"id": mine, "method": method, "params": params}))
                    while True:
                        message = json.loads(ws.recv(timeout=60))
                        if message.get("id") == mine:
                            assert "error" not in message, message
                            return message["result"]

                def evaluate(js: str):
                    return call("Runtime.evaluate", expression=js, returnByValue=True)["result"].get("value")

                call("Page.navigate", url=url)
                clicked = False
                while not clicked:
                    assert time.monotonic() < deadline, f"no 'Show Markdown' for {label!r} on {url}"
                    time.sleep(1)
                    clicked = bool(evaluate(click_metadata_markdown_js(label)))
                shown = None
                while shown is None:
                    assert time.monotonic() < deadline, f"no PNG image displayed after opening {label!r}"
                    time.sleep(0.5)
                    shown = evaluate(SHOWN_IMAGE_JS)
                time.sleep(0.5)
                screenshot.write_bytes(base64.b64decode(call("Page.captureScreenshot", format="png")["data"]))
                return json.loads(shown)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)
