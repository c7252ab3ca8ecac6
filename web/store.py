"""The server's own store: users, sessions, the audit log, decisions sent to the pipeline.

A small SQLite file of the web app's own, not the warehouse (the pipeline holds the
warehouse's write lock while it runs) and never published. Its path is
`KUNDENSTAMM_WEB_STORE`, by default `web-store.sqlite3` beside the published file.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from warehouse.settings import Settings

ROLES = ("agent", "analyst", "admin")
SESSION_HOURS = 10  # one working day, then log in again

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
                                  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
                                     expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (at TEXT NOT NULL, username TEXT NOT NULL, golden_id TEXT NOT NULL,
                                  action TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_golden_id ON audit (golden_id);
CREATE TABLE IF NOT EXISTS sent_decisions (key_l TEXT, key_r TEXT, decision TEXT, username TEXT, at TEXT,
                                           file_name TEXT, PRIMARY KEY (key_l, key_r));
"""


def store_path(settings: Settings, environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    configured = environ.get("KUNDENSTAMM_WEB_STORE")
    return Path(configured) if configured else settings.published_path.parent / "web-store.sqlite3"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _token_hash(token: str) -> str:
    # Only the hash is stored: a copy of the store does not let anyone in.
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._hasher = PasswordHasher()

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, params=()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # users
    def add_user(self, name: str, role: str, password: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name or not password:
            raise ValueError("a user needs a name and a non-empty password")
        self._run("INSERT INTO users VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
                  "password_hash = excluded.password_hash",
                  (name, role, self._hasher.hash(password), _now().isoformat()))
        self._run("DELETE FROM sessions WHERE username = ?", (name,))

    def remove_user(self, name: str) -> bool:
        removed = self._run("DELETE FROM users WHERE name = ? RETURNING name", (name,))
        self._run("DELETE FROM sessions WHERE username = ?", (name,))
        return bool(removed)

    def check_password(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None."""
        rows = self._run("SELECT role, password_hash FROM users WHERE name = ?", (name,))
        if not rows:
            # The same work as for a real user, so timing does not tell which names exist.
            self._hasher.hash(password)
            return None
        role, stored = rows[0]
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return role

    def role_of(self, name: str) -> str | None:
        rows = self._run("SELECT role FROM users WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    # sessions
    def open_session(self, name: str, token: str, csrf: str) -> None:
        expires = (_now() + timedelta(hours=SESSION_HOURS)).isoformat()
        self._run("DELETE FROM sessions WHERE expires_at < ?", (_now().isoformat(),))
        self._run("INSERT INTO sessions VALUES (?, ?, ?, ?)", (_token_hash(token), name, csrf, expires))

    def session(self, token: str) -> tuple[str, str, str] | None:
        """(username, role, csrf token) of a live session."""
        rows = self._run(
            "SELECT s.username, u.role, s.csrf FROM sessions s JOIN users u ON u.name = s.username "
            "WHERE s.token_hash = ? AND s.expires_at > ?", (_token_hash(token), _now().isoformat()))
        return rows[0] if rows else None

    def close_session(self, token: str) -> None:
        self._run("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

    # audit
    def audit(self, username: str, golden_id: str, action: str) -> None:
        self._run("INSERT INTO audit VALUES (?, ?, ?, ?)", (_now().isoformat(), username, golden_id, action))

    def audit_rows(self, limit: int = 200) -> list[tuple]:
        return self._run("SELECT at, username, golden_id, action FROM audit ORDER BY at DESC, rowid DESC LIMIT ?", (limit,))

    def forget(self, golden_ids: list[str]) -> int:
        """Remove the audit rows of erased persons (who looked at them is about them too)."""
        if not golden_ids:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            cursor = self._db.executemany("DELETE FROM audit WHERE golden_id = ?", [(g,) for g in golden_ids])
            self._db.execute("COMMIT")
            return cursor.rowcount

    # review decisions written to the landing folder
    def sent_decision(self, key_l: str, key_r: str, decision: str, username: str, file_name: str) -> None:
        self._run("INSERT OR REPLACE INTO sent_decisions VALUES (?, ?, ?, ?, ?, ?)",
                  (key_l, key_r, decision, username, _now().isoformat(), file_name))

    def sent_pairs(self) -> set[tuple[str, str]]:
        return {(a, b) for a, b in self._run("SELECT key_l, key_r FROM sent_decisions")}
