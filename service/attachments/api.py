"""A case's files over the API (材料): upload one, list them, download one — for machines what
the case page offers people, through the same functions (``attachments.service``) and the same
access rules: whoever may comment on a case may add a file to it, whoever may read it may read
its files."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.orm import Session

from ..auth.principal import Principal
from ..cases import service as cases
from ..deps import db, principal, runtime
from ..errors import Invalid
from ..fields import CaseRef, Id
from ..runtime import Runtime
from . import service
from .models import CaseFile
from .storage import for_runtime

router = APIRouter(prefix="/v1/cases", tags=["cases"])
CaseAt = Annotated[CaseRef, Path(description="the case's id, or its tracking number: LH-2026-000123")]


def _out(row: CaseFile) -> dict:
    return {"id": row.id, "case_id": row.case_id, "name": row.name, "content_type": row.content_type,
            "size": row.size, "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at,
            "url": f"/v1/cases/{row.case_id}/files/{row.id}"}


@router.post("/{case_id}/files", status_code=201, openapi_extra={"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "PDF, JPG, PNG, DOCX or XLSX, at most CLOSEDLOOP_MAX_UPLOAD_BYTES"}}}}}}})
async def upload(case_id: CaseAt, request: Request, session: Session = Depends(db),
                 p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """Attach a file to a case (添加材料): multipart form data with one part named ``file``. The
    file is known by its first bytes, not its name; the timeline records it."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("file: send multipart/form-data with the file in a part named 'file' "
                      "(curl -F file=@材料.pdf)")
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise Invalid("file: send the file in a part named 'file' (curl -F file=@材料.pdf)")
    data = await upload.read()
    row = service.attach(session, rt, for_runtime(rt), p, cases.case_id_of(session, case_id), upload.filename, data)
    session.commit()
    return _out(row)


@router.get("/{case_id}/files")
def list_files(case_id: CaseAt, session: Session = Depends(db), p: Principal = Depends(principal)):
    """The case's files, oldest first, to whoever may read the case."""
    case, _ = cases.load(session, p, cases.case_id_of(session, case_id))
    return {"items": [_out(r) for r in service.files_of(session, case.id)]}


@router.get("/{case_id}/files/{file_id}", response_class=Response, responses={200: {
    "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in sorted(set(service.KINDS.values()))},
    "description": "the file's bytes, as the type it was known as when attached"}})
def download(case_id: CaseAt, file_id: Annotated[Id, Path()], session: Session = Depends(db),
             p: Principal = Depends(principal), rt: Runtime = Depends(runtime)):
    """One file's bytes as a download (never rendered as a page), to whoever may read the case."""
    row, data = service.read(session, for_runtime(rt), p, cases.case_id_of(session, case_id), file_id)
    return Response(data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"})
