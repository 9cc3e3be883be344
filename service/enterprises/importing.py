"""Enterprises imported from the sheet the offices keep (企业名单导入): one .xlsx, its header row in
Chinese, one enterprise a row.

Every row is checked the way ``POST /v1/enterprises`` checks one body, and the answer lists every
row's result, so that an office fixes the whole sheet in one go rather than error by error. The
import is all or nothing: a sheet with one wrong row writes nothing (half a sheet imported is a
sheet no one can re-upload without creating duplicates). A row whose credit code is registered
already is no error: it is left as it is (``exists``), so the same sheet can be uploaded again.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from ..auth.principal import Principal
from ..directory.models import Officer
from ..errors import Conflict, Forbidden, Invalid, Problem, TooLarge
from ..runtime import Runtime
from .models import Enterprise
from .service import as_registered, credit_code_fault, record

MAX_ROWS = 5000
# An .xlsx is a zip: the 1 MB body limit bounds what is sent, not what it unpacks to. A real
# 5,000-row sheet unpacks to a few MB; a crafted one (a "zip bomb") could unpack to gigabytes.
MAX_UNPACKED = 20_000_000
# offices often put a title row ("源汇区重点企业名单") or two above the header
HEADER_WITHIN = 5

NAME, CODE, DISTRICT, INDUSTRY, LEVEL, WHITELIST, OFFICER = (
    "企业名称", "统一社会信用代码", "所属县区", "行业", "重点项目级别", "白名单", "首席服务官")
COLUMNS = (NAME, CODE, DISTRICT, INDUSTRY, LEVEL, WHITELIST, OFFICER)
REQUIRED = (NAME, CODE, DISTRICT)
LEVELS = {"无": "none", "市级": "municipal", "省级": "provincial",
          "none": "none", "municipal": "municipal", "provincial": "provincial"}
FLAGS = {"是": True, "否": False}


class ImportRow(BaseModel):
    row: int
    status: str  # ok | error | exists
    errors: list[str]
    enterprise_id: int | None


class ImportOut(BaseModel):
    dry_run: bool
    rows: list[ImportRow]
    created: int  # enterprises created by this request (none on a dry run)
    ok: int  # rows that are (on a dry run: would be) created
    exists: int  # rows whose credit code is registered already: left as they are
    errors: int  # rows with errors


@dataclass
class Row:
    row: int
    values: dict[str, Any] = field(default_factory=dict)  # Enterprise's fields, once checked
    errors: list[str] = field(default_factory=list)
    existing: int | None = None

    @property
    def status(self) -> str:
        return "error" if self.errors else "exists" if self.existing is not None else "ok"


# ---------------------------------------------------------------------------- reading the sheet
def _workbook(data: bytes):
    not_xlsx = ("file: not an Excel workbook (.xlsx); save the sheet as \"Excel 工作簿 (*.xlsx)\" — not .xls, .csv "
                "or .et — and upload it as the form field 'file'")
    if not data:
        raise Invalid("file: the upload is empty; choose the .xlsx file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Invalid(not_xlsx) from None
    if unpacked > MAX_UNPACKED:
        raise TooLarge(f"file: unpacks to {unpacked:,} bytes, more than {MAX_UNPACKED:,}; a sheet of "
                       f"{MAX_ROWS:,} enterprises is far smaller — keep one sheet of names and codes, nothing else")
    from openpyxl import load_workbook  # only in the process that reads a sheet (~18 MB)

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl fails in many ways on what is not a workbook
        raise Invalid(not_xlsx) from None


def _header(value: Any) -> str:
    # "* 企业名称" and "企业 名称": offices mark required columns and pad headers
    return "".join(str(value).split()).strip("*＊") if value is not None else ""


def _cell(value: Any) -> Any:
    """A cell's value as text, stripped (None when blank); numbers and booleans as they are."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def read(data: bytes) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """The header's row number, and the first sheet's rows below it: ``(row number, {column: value})``,
    blank rows left out."""
    wb = _workbook(data)
    try:
        if not wb.worksheets:
            raise Invalid("file: the workbook has no worksheet; put the enterprises on its first sheet")
        ws = wb.worksheets[0]
        header_row, columns = None, {}
        for number, values in enumerate(ws.iter_rows(min_row=1, max_row=HEADER_WITHIN, values_only=True), 1):
            names = [_header(v) for v in values]
            if CODE in names:
                header_row = number
                for index, name in enumerate(names):
                    if name in COLUMNS:
                        if name in columns:
                            raise Invalid(f"file: the column {name} appears twice in the header (row {number}); "
                                          "keep one")
                        columns[name] = index
                break
        if header_row is None:
            raise Invalid(f"file: no header row with {CODE} in the first {HEADER_WITHIN} rows of the first sheet; "
                          f"the header names the columns {', '.join(COLUMNS)} ({', '.join(REQUIRED)} required)")
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise Invalid(f"file: the header (row {header_row}) lacks {', '.join(missing)}; the columns are "
                          f"{', '.join(COLUMNS)} ({', '.join(REQUIRED)} required)")
        rows = []
        last = header_row + MAX_ROWS
        # read no further than one row past the limit: the limit bounds the work, not only the answer
        for number, values in enumerate(ws.iter_rows(min_row=header_row + 1, max_row=last + 1, values_only=True),
                                        header_row + 1):
            cells = {name: _cell(values[i]) if i < len(values) else None for name, i in columns.items()}
            if all(v is None for v in cells.values()):
                continue
            if number > last:
                raise TooLarge(f"file: more than {MAX_ROWS:,} rows below the header; import at most {MAX_ROWS:,} "
                               "enterprises a sheet — split it and upload the parts one by one")
            rows.append((number, cells))
        return header_row, rows
    except Problem:
        raise
    except Exception:  # noqa: BLE001 - read-only mode parses the sheet only now: a broken one fails here
        raise Invalid("file: the sheet could not be read (its XML is damaged); open it in Excel or WPS, save it "
                      "again as .xlsx and upload that") from None
    finally:
        wb.close()


# ---------------------------------------------------------------------------- checking a row
def _text(row: Row, cells: dict, column: str, max_length: int, required: str | None = None) -> str | None:
    value = cells.get(column)
    if value is None:
        if required:
            row.errors.append(f"{column}: empty; {required}")
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        value = str(int(value) if isinstance(value, float) and value.is_integer() else value)
    if "\x00" in value:
        row.errors.append(f"{column}: contains a NUL character, which no text here may hold; remove it")
        return None
    if len(value) > max_length:
        row.errors.append(f"{column}: {len(value)} characters, more than {max_length}; shorten it")
        return None
    return value


class _Directory:
    """What rows are checked against, read once for the whole sheet."""

    def __init__(self, session: Session, rt: Runtime):
        self.districts: dict[str, str] = {}
        for d in rt.directory.districts:
            # its key, its name, its division code; and the name without 区/县 ("源汇") when no other
            # district shortens to the same
            for alias in (d.key, d.name, d.code):
                if alias:
                    self.districts[alias] = d.key
        short: dict[str, list[str]] = {}
        for d in rt.directory.districts:
            if len(d.name) > 2 and d.name[-1] in "区县":
                short.setdefault(d.name[:-1], []).append(d.key)
        for alias, keys in short.items():
            if len(keys) == 1:
                self.districts.setdefault(alias, keys[0])
        self.district_names = "、".join(d.name for d in rt.directory.districts)
        self.officer_keys: set[str] = set()
        self.officers_named: dict[str, list[str]] = {}
        for key, name in session.execute(select(Officer.key, Officer.name)):
            self.officer_keys.add(key)
            self.officers_named.setdefault(name, []).append(key)

    def officer(self, row: Row, value: str) -> str | None:
        if value in self.officer_keys:
            return value
        keys = self.officers_named.get(value, [])
        if len(keys) == 1:
            return keys[0]
        if keys:
            row.errors.append(f"{OFFICER}: more than one officer is named {value}; write the key instead: "
                              f"{', '.join(sorted(keys))}")
        else:
            row.errors.append(f"{OFFICER}: no officer '{value}'; write an officer's key or name from "
                              "GET /v1/directory, or leave it empty")
        return None


def _check(row: Row, cells: dict, directory: _Directory) -> str | None:
    """Fill ``row.values`` or ``row.errors``; returns the row's (compacted) credit code, if it has one."""
    name = _text(row, cells, NAME, 200, "write the enterprise's name as on its business licence")
    code = None
    raw = cells.get(CODE)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # Excel keeps 15 significant digits: an 18-digit code typed into a number cell is lost
        row.errors.append(f"{CODE}: the cell holds a number ({raw}), and Excel keeps only 15 digits of one; "
                          "format the column as text (文本) and type the code again")
    else:
        code_text = _text(row, cells, CODE, 40, "write the 18-character code from the business licence")
        if code_text is not None:
            # full-width digits and letters (９１４１…), as a Chinese input method types them, are the same code
            code = uscc.compact(unicodedata.normalize("NFKC", code_text))
            fault = credit_code_fault(code)
            if fault is not None:
                fix = "correct it"
                if fault.expected:  # an early real code may fail its check: registered one by one, flagged
                    fix += ("; or, if the licence really says so, leave the row out and register the enterprise by "
                            "itself with POST /v1/enterprises and accept_invalid_check")
                row.errors.append(f"{CODE}: {fault.message}; {fix}")
    district = None
    district_text = _text(row, cells, DISTRICT, 100, f"write one of {directory.district_names}")
    if district_text is not None:
        district = directory.districts.get(district_text)
        if district is None:
            row.errors.append(f"{DISTRICT}: unknown district '{district_text}'; write one of "
                              f"{directory.district_names} (or its key)")
    industry = _text(row, cells, INDUSTRY, 60)
    level = "none"
    level_text = _text(row, cells, LEVEL, 20)
    if level_text is not None:
        level = LEVELS.get(level_text)
        if level is None:
            row.errors.append(f"{LEVEL}: '{level_text}' is not one of 无, 市级, 省级; write one, or leave it empty (无)")
    whitelisted = False
    flag = cells.get(WHITELIST)
    if isinstance(flag, bool):  # an Excel TRUE/FALSE
        whitelisted = flag
    elif flag is not None:
        flag_text = _text(row, cells, WHITELIST, 10)
        if flag_text is not None:
            whitelisted = FLAGS.get(flag_text)
            if whitelisted is None:
                row.errors.append(f"{WHITELIST}: '{flag_text}' is not 是 or 否; write one, or leave it empty (否)")
    officer = None
    officer_text = _text(row, cells, OFFICER, 60)
    if officer_text is not None:
        officer = directory.officer(row, officer_text)
    if not row.errors:
        row.values = dict(credit_code=code, name=name, district=district, industry=industry,
                          key_project_level=level, whitelisted=whitelisted, officer_id=officer)
    return code


def _registered(session: Session, codes: list[str]) -> dict[str, int]:
    found = {}
    for i in range(0, len(codes), 500):  # SQLite's older builds take at most 999 parameters a statement
        stmt = select(Enterprise.credit_code, Enterprise.id).where(Enterprise.credit_code.in_(codes[i:i + 500]))
        found.update((code, id_) for code, id_ in session.execute(stmt))
    return found


def check(session: Session, rt: Runtime, data: bytes) -> list[Row]:
    """Every row of the sheet, checked: on its own, against the rows above it, and against the
    enterprises registered already."""
    _, cells_by_row = read(data)
    if not cells_by_row:
        raise Invalid("file: no enterprise below the header; one row per enterprise")
    directory = _Directory(session, rt)
    rows, first_row_of = [], {}
    for number, cells in cells_by_row:
        row = Row(number)
        code = _check(row, cells, directory)
        if code is not None and code in first_row_of:
            row.errors.append(f"{CODE}: {code} is on row {first_row_of[code]} too; keep one row per enterprise")
            row.values = {}
        elif code is not None:
            first_row_of[code] = number
        rows.append(row)
    registered = _registered(session, list(first_row_of))
    for row in rows:
        code = row.values.get("credit_code")
        if code in registered:
            row.existing = registered[code]
    return rows


# ---------------------------------------------------------------------------- importing
def run(session: Session, rt: Runtime, p: Principal, data: bytes, dry_run: bool) -> dict:
    """Check the sheet; unless ``dry_run``, import its ``ok`` rows — all of them or, if any row
    has an error, none (422 with every row's result). The caller commits."""
    if p.role != "admin":
        raise Forbidden("enterprises are imported from a sheet by an admin; an officer registers its own with "
                        "POST /v1/enterprises")
    rows = check(session, rt, data)
    failed = sum(1 for r in rows if r.status == "error")
    if failed and not dry_run:
        answer = _answer(rows, dry_run, 0)
        # a problem's "errors" is the list every client reads (one per wrong field); the count of
        # rows with errors is "failed" here
        answer["failed"] = answer.pop("errors")
        raise Invalid(f"file: {failed} of {len(rows)} rows have errors, listed in rows; nothing was imported. "
                      "Correct those rows and upload the sheet again (a dry run checks it without importing)",
                      errors=[{"field": f"row {r.row}", "message": e} for r in rows for e in r.errors], **answer)
    if not dry_run:
        now = rt.clock()
        new = {r.row: Enterprise(**r.values, credit_code_flagged=False, active=True, created_at=now)
               for r in rows if r.status == "ok"}
        session.add_all(new.values())
        try:
            session.flush()
        except IntegrityError:  # a code of the sheet registered since it was checked
            raise Conflict("file: an enterprise of the sheet was registered by someone else meanwhile; nothing "
                           "was imported. Upload the sheet again: that row will show as exists") from None
        for r in rows:
            if r.row in new:
                record(session, new[r.row], p.actor, "import", as_registered(new[r.row]), now)
        return _answer(rows, dry_run, len(new), {n: e.id for n, e in new.items()})
    return _answer(rows, dry_run, 0)


def _answer(rows: list[Row], dry_run: bool, created: int, new_ids: dict[int, int] | None = None) -> dict:
    new_ids = new_ids or {}
    return {
        "dry_run": dry_run,
        "rows": [{"row": r.row, "status": r.status, "errors": r.errors,
                  "enterprise_id": new_ids.get(r.row, r.existing if r.status == "exists" else None)} for r in rows],
        "created": created,
        "ok": sum(1 for r in rows if r.status == "ok"),
        "exists": sum(1 for r in rows if r.status == "exists"),
        "errors": sum(1 for r in rows if r.status == "error"),
    }
