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
