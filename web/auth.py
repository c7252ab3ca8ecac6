"""Who is asking: a session cookie (pages) or HTTP Basic (the JSON API), and their role."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from starlette.requests import Request

from web.store import ROLES, Store

SESSION_COOKIE = "ks_session"
LOGIN_CSRF_COOKIE = "ks_login_csrf"
# A verified Basic credential is remembered this long, so an API client does not pay for
# an Argon2 verification (tens of milliseconds, on purpose) with every request.
BASIC_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class User:
    name: str
    role: str
    csrf: str | None = None  # sessions only: the token every changing form must carry

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class Authenticator:
    def __init__(self, store: Store):
        self.store = store
        self._basic: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def from_session(self, request: Request) -> User | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        found = self.store.session(token)
        return User(*found) if found else None

    def from_basic(self, request: Request) -> User | None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        key = hashlib.sha256(header.encode()).hexdigest()
        with self._lock:
            cached = self._basic.get(key)
        if cached and cached[1] > time.monotonic():
            role = self.store.role_of(cached[0])  # removed or demoted users lose access at once
            return User(cached[0], role) if role else None
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        role = self.store.check_password(name, password)
        if role is None:
            return None
        with self._lock:
            self._basic[key] = (name, time.monotonic() + BASIC_CACHE_SECONDS)
        return User(name, role)

    def login(self, name: str, password: str) -> tuple[str, str] | None:
        """A new session (cookie token, csrf token) for a right password."""
        if self.store.check_password(name, password) is None:
            return None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        self.store.open_session(name, token, csrf)
        return token, csrf


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(a, b)
