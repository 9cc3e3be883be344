"""Attach a file to a case, and read one back — through the case's own access rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases import service as cases
from ..cases.schemas import CommentBody
from ..errors import Invalid, NotFound
from ..runtime import Runtime
from .models import CaseFile
from .storage import Storage

# what an office sends: PDF, photos and scans, Word and Excel — known by their first bytes, not
# by the name the sender gave
KINDS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ACCEPTED = "PDF、图片（JPG、PNG）、Word（.docx）或 Excel（.xlsx）"


def content_type(name: str, data: bytes) -> str:
    """The file's type, from its first bytes agreeing with its name, or a 422 naming the field."""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    magic = {".pdf": data.startswith(b"%PDF-"), ".png": data.startswith(b"\x89PNG\r\n\x1a\n"),
             ".jpg": data.startswith(b"\xff\xd8\xff"), ".jpeg": data.startswith(b"\xff\xd8\xff"),
             ".docx": data.startswith(b"PK\x03\x04"), ".xlsx": data.startswith(b"PK\x03\x04")}
    if ext not in KINDS:
        raise Invalid(f"file: '{name}' is not a kind accepted here; send {ACCEPTED}")
    if not magic[ext]:
        raise Invalid(f"file: '{name}' is not the {ext[1:].upper()} file its name says; send {ACCEPTED}")
    return KINDS[ext]


def check(rt: Runtime, name: str, data: bytes) -> tuple[str, str]:
    """(the name kept, the type) of a file that may be attached, or a 422 naming the field."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if not name:
        raise Invalid("file: choose a file to attach")
    if not data:
        raise Invalid(f"file: '{name}' is empty")
    if len(data) > rt.settings.max_upload_bytes:
        raise Invalid(f"file: '{name}' is {len(data) / 2**20:.1f} MB; the most is "
                      f"{rt.settings.max_upload_bytes / 2**20:.0f} MB")
    return name, content_type(name, data)


def attach(session: Session, rt: Runtime, storage: Storage, p: Principal, case_id: int, name: str,
           data: bytes) -> CaseFile:
    """Add a file to a case: whoever may comment on it may (the same table decides), and the
    timeline says so. The bytes are stored first; the row and the event commit together."""
    name, kind = check(rt, name, data)
    key = storage.put(data)
    case = cases.act(session, rt, p, case_id, "comment", CommentBody(text=f"添加材料：{name}"))
    row = CaseFile(case_id=case.id, name=name, content_type=kind, size=len(data), storage_key=key,
                   uploaded_by=p.actor, uploaded_at=rt.clock())
    session.add(row)
    session.flush()
    return row


def files_of(session: Session, case_id: int) -> list[CaseFile]:
    return list(session.scalars(select(CaseFile).where(CaseFile.case_id == case_id).order_by(CaseFile.id)))


def read(session: Session, storage: Storage, p: Principal, case_id: int, file_id: int) -> tuple[CaseFile, bytes]:
    """A case's file for someone who may see the case; anyone else learns nothing (404)."""
    cases.load(session, p, case_id)
    row = session.get(CaseFile, file_id)
    if row is None or row.case_id != case_id:
        raise NotFound(f"no file {file_id} on case {case_id}")
    return row, storage.get(row.storage_key)
