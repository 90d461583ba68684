"""Evidence files: uploaded beside a measurement or a check-in, checked by what the bytes are
(not by the name or the type the browser claims), and stored once under var/evidence/."""

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from sqlmodel import Session

from app import storage
from app.i18n import N_
from app.models import EvidenceFile
from app.models.enums import AuditOp
from app.services import audit
from app.services.errors import Msg, ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
FOLDER = "evidence"
OOXML = {
    "word/": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xl/": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ppt/": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def sniff(data: bytes) -> tuple[str, str] | None:
    """(extension, content type) of an accepted kind of file, from its first bytes."""
    if data.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return None


def _office(data: bytes) -> tuple[str, str] | None:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in OOXML.items():
        if any(n.startswith(prefix) for n in names):
            return kind
    return None


def store(
    session: Session, *, actor: audit.Actor, area_id: int, upload: Upload, field: str = "evidence"
) -> EvidenceFile:
    """Check and keep an uploaded file; the row joins the caller's transaction."""
    if len(upload.data) > MAX_BYTES:
        raise ValidationFailed({field: Msg(N_("The file is larger than 10 MB."))})
    kind = sniff(upload.data)
    if kind is None:
        msg = N_("Upload a PDF, a picture (JPEG, PNG, WebP) or a Word, Excel or PowerPoint file.")
        raise ValidationFailed({field: Msg(msg)})
    name = PurePath(upload.filename.replace("\\", "/")).name[:200] or f"evidence.{kind[0]}"
    digest = storage.put(FOLDER, upload.data)
    row = EvidenceFile(
        area_id=area_id,
        filename=name,
        content_type=kind[1],
        size=len(upload.data),
        sha256=digest,
        uploaded_by=actor.id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        area_id=area_id,
        entity_type="evidence_file",
        entity_id=row.id,
        op=AuditOp.create,
        after=audit.snapshot(row),
    )
    return row


def content(row: EvidenceFile) -> bytes | None:
    return storage.get(FOLDER, row.sha256)
