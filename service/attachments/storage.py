"""Where attached files' bytes live. Content-addressed (the SHA-256 of the bytes is the key), so
a file stored twice is kept once and a key never points at other bytes. Local disk by default;
another store (an object store, a NAS) implements the same two methods."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def put(self, data: bytes) -> str:
        """Store the bytes; their key."""

    def get(self, key: str) -> bytes:
        """The bytes of a key put before."""


class LocalDisk:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # written aside and renamed: a reader never sees half a file
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def for_runtime(rt) -> Storage:
    """The store this deployment keeps files in (``CLOSEDLOOP_ATTACHMENTS_DIR`` on local disk)."""
    return LocalDisk(rt.settings.attachments_dir)
