"""The published golden file, opened read-only, followed across new versions.

The pipeline publishes by `os.replace`-ing a complete new file over the old one. The
server compares the path's identity (inode, size, mtime) with the version it has open at
most every `check_seconds`; when it changed, it opens the new file, serves every later
request from it, and closes the old one when the last request using it is done. A request
never sees a half-switched state: it holds one version from start to end.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class _Version:
    identity: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    users: int = 0
    retired: bool = False
    opened_at: float = field(default_factory=time.time)


class NotPublishedYet(RuntimeError):
    pass


class PublishedFile:
    def __init__(self, path: Path, check_seconds: float = 0.5, memory_limit: str = "1GB"):
        self.path = Path(path)
        self.check_seconds = check_seconds
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._current: _Version | None = None
        self._checked_at = 0.0
        self.switches = 0

    def _open(self) -> _Version | None:
        identity = _identity(self.path)
        if identity is None:
            return None
        # An in-memory database of its own per version, with the file attached read-only:
        # `duckdb.connect(path)` would hand back the instance already open for that path
        # (DuckDB caches instances by path), i.e. the old version. The file object we attach
        # stays ours even when the next version replaces the name a moment later.
        con = duckdb.connect(":memory:", config={"memory_limit": self.memory_limit, "threads": 1})
        try:
            quoted = str(self.path).replace("'", "''")
            con.execute(f"ATTACH '{quoted}' AS published (READ_ONLY)")
        except BaseException:
            con.close()
            raise
        # The identity of what we opened (the name may have moved on in between: then the
        # next check simply opens again).
        return _Version(identity, con)

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._current is not None and now - self._checked_at < self.check_seconds:
            return
        self._checked_at = now
        identity = _identity(self.path)
        if identity is None or (self._current is not None and identity == self._current.identity):
            return
        try:
            fresh = self._open()
        except duckdb.Error:
            # Keep serving the version we have; the next check tries again.
            return
        if fresh is None:
            return
        old, self._current = self._current, fresh
        self.switches += 1
        if old is not None:
            old.retired = True
            if old.users == 0:
                old.con.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current version, held for the whole request."""
        with self._lock:
            self._refresh()
            version = self._current
            if version is None:
                raise NotPublishedYet(f"nothing published yet at {self.path}")
            version.users += 1
            cur = version.con.cursor()
        cur.execute("USE published")
        try:
            yield cur
        finally:
            cur.close()
            with self._lock:
                version.users -= 1
                if version.retired and version.users == 0:
                    version.con.close()

    @property
    def identity(self) -> tuple[int, int, int] | None:
        return self._current.identity if self._current else None

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                if self._current.users == 0:
                    self._current.con.close()
                self._current = None
