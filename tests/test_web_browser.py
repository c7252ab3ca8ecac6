"""The pages in a real headless Chromium: log in through the form, search, open a customer,
review; screenshots (desktop and phone width), saved to docs/ for the README when asked."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import PROJECT_ROOT
from tests.test_web_app import ANALYST, day_one, published, site, start  # noqa: F401 - fixtures

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Browser:
    """Chromium driven over the DevTools protocol on a pipe (fd 3 in, fd 4 out): no network, no driver."""

    def __init__(self, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.process = subprocess.Popen([CHROMIUM, *HEADLESS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
                                         "about:blank"], pass_fds=(3, 4, to_chrome_r, from_chrome_w), preexec_fn=wire,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.send("Page.enable", session=True)
            # The pages allow no scripts; the test's own script (filling the login form) may run.
            self.send("Page.setBypassCSP", {"enabled": True}, session=True)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_load(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired" for e in self.events):
                self.events.clear()
                return
            self.events.append(self._read())
        raise TimeoutError("page did not load")

    def open(self, url: str) -> str:
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_for_load()
        return self.evaluate("document.documentElement.outerHTML")

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                         session=True)["result"].get("value")

    def click_and_wait(self, expression: str) -> str:
        self.events.clear()
        self.evaluate(expression)
        self.wait_for_load()
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, path: Path, width: int, mobile: bool = False, whole_page: bool = True) -> None:
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": mobile}, session=True)
        time.sleep(0.3)
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": whole_page}, session=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except RuntimeError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def test_search_customer_and_review_pages_in_headless_chromium(site, tmp_path):  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (./run tests installs Debian's chromium)")
    server = start(site)
    browser = None
    # A test leaves the checkout as it found it: the README's screenshots are refreshed only
    # when asked (KUNDENSTAMM_REFRESH_SCREENSHOTS=1 ./run tests tests/test_web_browser.py).
    docs = PROJECT_ROOT / "docs" if os.environ.get("KUNDENSTAMM_REFRESH_SCREENSHOTS") == "1" else tmp_path
    try:
        browser = Browser(tmp_path / "profile")
        # localhost: a secure context, so the Secure session cookie is kept over plain HTTP here.
        base = f"http://localhost:{server.port}"
        page = browser.open(f"{base}/")
        assert "Log in" in page, "pages need a login"
        page = browser.click_and_wait(
            f"document.querySelector('[name=username]').value = {json.dumps(ANALYST[0])};"
            f"document.querySelector('[name=password]').value = {json.dumps(ANALYST[1])};"
            "document.querySelector('form').submit()")
        assert "Find a customer" in page and ANALYST[0] in page

        golden_id, first, last = published(
            site, "SELECT golden_id, first_name, last_name FROM customers WHERE source_count >= 3 "
                  "AND first_name IS NOT NULL AND last_name IS NOT NULL ORDER BY golden_id LIMIT 1")[0]
        page = browser.open(f"{base}/?q={quote(last + ' ' + first)}")
        assert f"/customers/{golden_id}" in page
        browser.screenshot(docs / "web-search.png", 1100)
        browser.screenshot(docs / "web-search-phone.png", 390, mobile=True)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"

        page = browser.open(f"{base}/customers/{golden_id}")
        assert "Source records" in page and "Why linked" in page and last in page
        browser.screenshot(docs / "web-customer.png", 1100)

        page = browser.open(f"{base}/review")
        assert "Pairs to decide" in page and "Same person" in page
        browser.screenshot(docs / "web-review.png", 1100, whole_page=False)
        # Deciding in the browser writes the decision where the pipeline reads it.
        page = browser.click_and_wait("document.querySelector('button[value=different]').click()")
        assert "next pipeline run" in page
        assert len(list((site / "landing" / "reviews").glob("web_*.csv"))) == 1
    finally:
        if browser is not None:
            browser.close()
        server.stop()
    for name in ("web-search.png", "web-search-phone.png", "web-customer.png", "web-review.png"):
        assert (docs / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
