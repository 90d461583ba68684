"""Files kept under the var directory, named by their SHA-256 digest: uploaded evidence."""

import hashlib
import os
import re
import tempfile
from pathlib import Path

from app.config import get_settings

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def folder(kind: str) -> Path:
    path = Path(get_settings().var_dir) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(kind: str, data: bytes) -> str:
    """Store `data` (once: the same bytes share one file) and return its digest."""
    digest = digest_of(data)
    target = folder(kind) / digest
    if not target.exists():  # written to a temporary name first: no half-written file is seen
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    return digest


def get(kind: str, digest: str) -> bytes | None:
    if not _DIGEST.match(digest):
        return None
    path = folder(kind) / digest
    return path.read_bytes() if path.exists() else None


def discard(kind: str, digest: str) -> None:
    if _DIGEST.match(digest):
        (folder(kind) / digest).unlink(missing_ok=True)
