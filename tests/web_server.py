"""A real `kundenstamm serve` process on a free loopback port, and a small HTTP client for it."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.conftest import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_env(root: Path, published: Path, landing: Path) -> dict[str, str]:
    return {**os.environ, "KUNDENSTAMM_PUBLISHED": str(published), "KUNDENSTAMM_LANDING_DIR": str(landing),
            "KUNDENSTAMM_WEB_STORE": str(root / "web-store.sqlite3"), "PYTHONPATH": str(PROJECT_ROOT)}


def kundenstamm(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], input=stdin, env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)


class Server:
    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], env=env, cwd=PROJECT_ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not come up")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def request(self, method: str, path: str, headers: dict | None = None, body: str | None = None):
        """(status, headers, body text) without following redirects."""
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            con.request(method, path, body=body, headers=headers or {})
            response = con.getresponse()
            return response.status, response.headers, response.read().decode("utf-8")
        finally:
            con.close()

    def api(self, path: str, user: str, password: str, params: dict | None = None):
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        status, headers, text = self.request("GET", path + ("?" + urlencode(params) if params else ""),
                                             {"Authorization": f"Basic {token}"})
        return status, headers, (json.loads(text) if text and headers.get("content-type", "").startswith("application/json") else text)

    def search(self, user: str, password: str, q: str, near: str | None = None) -> list[dict]:
        status, _, body = self.api("/api/search", user, password, {"q": q, **({"near": near} if near else {})})
        assert status == 200, (status, body)
        return body["results"]

    def login(self, user: str, password: str) -> "Session":
        status, headers, text = self.request("GET", "/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
        cookie = SimpleCookie(headers["set-cookie"])
        body = urlencode({"username": user, "password": password, "csrf": csrf, "next": "/"})
        status, headers, _ = self.request("POST", "/login", {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"ks_login_csrf={cookie['ks_login_csrf'].value}"}, body)
        assert status == 303, status
        session = SimpleCookie(headers["set-cookie"])["ks_session"]
        assert session["httponly"] and session["secure"] and session["samesite"].lower() == "strict"
        return Session(self, session.value)


class Session:
    def __init__(self, server: Server, token: str):
        self.server, self.token = server, token

    def get(self, path: str):
        return self.server.request("GET", path, {"Cookie": f"ks_session={self.token}"})

    def post(self, path: str, fields: dict):
        return self.server.request("POST", path, {"Cookie": f"ks_session={self.token}",
                                                  "Content-Type": "application/x-www-form-urlencoded"},
                                   urlencode(fields))

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', self.get(path)[2]).group(1)
