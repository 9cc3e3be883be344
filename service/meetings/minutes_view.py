"""The minutes (会议纪要) and supervision sheets (督办单) of a held sitting, as one model for the
renderers. A sheet's status is its case's: an assigned item is closed (销号) when the case closes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases import machine
from ..cases.models import Case, CaseEvent
from ..directory.models import Sitting
from ..enterprises.models import Enterprise
from ..errors import NotFound
from ..runtime import Runtime
from .agenda import title_of
from .masthead import Masthead, category, feedback_requirement, masthead
from .models import Assignment, Minutes
from .service import series_of

PROGRESS = {"accepted": "已受理", "commented": "办理意见", "resolved": "已办结", "reopened": "企业不满意，重新办理",
            "escalated": "提级", "closed": "已闭环", "extension_requested": "申请延期", "info_requested": "请企业补充材料",
            "supplemented": "企业已补充材料"}
PROGRESS_TEXT = {"commented": "text", "resolved": "resolution", "info_requested": "text", "extension_requested": "reason"}


class DecisionLine(BaseModel):
    case_id: int
    tracking_no: str
    enterprise: str
    matter: str
    decision: str | None
    text: str


class Sheet(BaseModel):
    number: str
    seq: int
    case_id: int
    tracking_no: str
    enterprise: str
    matter: str
    requirement: str
    lead: str
    co: list[str]
    leader: str | None
    handler: str | None
    deadline: str
    progress: list[str]
    status: str
    closed: bool
    # 督办单's own fields (masthead.py): who supervises, how urgently, who signed when, how to report
    office: str = ""
    category: str = ""
    signer: str = ""
    signed: str = ""
    feedback: str = ""
    contact: str = ""
    phone: str = ""
    copy_to: list[str] = []


class MinutesView(BaseModel):
    sitting_id: int
    title: str
    held: str
    recorded: str
    recorded_by: str
    attendees: str
    summary: str
    decisions: list[DecisionLine]
    sheets: list[Sheet]
    # 纪要's own fields: its issue number in the series' year (第N期), the masthead, the issue date
    issue_no: int = 1
    issued: str = ""
    masthead: Masthead | None = None


def view(session: Session, rt: Runtime, sitting: Sitting) -> MinutesView:
    minutes = session.get(Minutes, sitting.id)
    if minutes is None:
        raise NotFound(f"meeting_id: sitting {sitting.id} has no minutes yet; POST them to /v1/meetings/{sitting.id}/minutes")
    tz = rt.calendar.tz
    series = series_of(rt, sitting)
    title = title_of(series.name, sitting.number)
    ids = [int(k) for k in minutes.outcome]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    ents = dict(session.execute(select(Enterprise.id, Enterprise.name).where(
        Enterprise.id.in_({c.enterprise_id for c in cases.values()}))).all())
    departments = {d.key: d.name for d in rt.directory.departments}
    tiers = {t.number: t.name for t in rt.directory.tiers}
    assignments = list(session.scalars(select(Assignment).where(Assignment.sitting_id == sitting.id)
                                       .order_by(Assignment.seq)))
    deadlines = {a.case_id: a.due_at.astimezone(tz).strftime("%Y年%m月%d日") for a in assignments}
    notes = {d["case_id"]: d for d in minutes.body.get("decisions", [])}
    lines = []
    for key, out in minutes.outcome.items():
        case = cases[int(key)]
        note = (notes.get(case.id) or {}).get("note") or ""
        lines.append(DecisionLine(case_id=case.id, tracking_no=case.tracking_no, enterprise=ents[case.enterprise_id],
                                  matter=case.title, decision=out.get("decision"),
                                  text=_decision_text(out, notes.get(case.id) or {}, note, departments, tiers,
                                                      deadlines.get(case.id))))
    events: dict[int, list] = {a.case_id: [] for a in assignments}
    if assignments:
        for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(list(events))).order_by(CaseEvent.id)):
            events[e.case_id].append(e)
    year = sitting.starts_at.astimezone(tz).year
    units = [departments.get(k, k) for c in cases.values() for k in [c.lead_department, *c.co_departments] if k]
    # the recorder is a person's name on paper; who pressed the button (an account, a key) is not
    head = masthead(rt.directory, series, units)
    issued = minutes.recorded_at.astimezone(tz).strftime("%Y年%m月%d日")
    issue_no = _issue_number(session, sitting, tz)
    sheets = []
    for a in assignments:
        case = cases[a.case_id]
        progress = []
        for e in events[a.case_id]:
            if e.at >= a.created_at and e.type in PROGRESS:
                text = (e.data or {}).get(PROGRESS_TEXT.get(e.type, ""), "")
                progress.append(f"{e.at.astimezone(tz):%m月%d日} {PROGRESS[e.type]}" + (f"：{text}" if text else ""))
        closed = case.status == machine.CLOSED
        if closed:
            status = f"已销号（{case.closed_at.astimezone(tz):%Y年%m月%d日}）"
        elif case.status == machine.RESOLVED:
            status = "已办结，待企业确认"
        elif case.status == machine.WITHDRAWN:
            status = "企业已撤回"
        elif a.due_at < rt.clock():
            status = "逾期未办结"
        else:
            status = "办理中"
        sheets.append(Sheet(
            number=a.sheet_number(sitting.number, year), seq=a.seq, case_id=case.id,
            tracking_no=case.tracking_no, enterprise=ents[case.enterprise_id], matter=a.matter,
            requirement=a.requirement, lead=departments.get(a.lead_department, a.lead_department),
            co=[departments.get(c, c) for c in a.co_departments], leader=a.leader, handler=a.handler,
            deadline=a.due_at.astimezone(tz).strftime("%Y年%m月%d日"), progress=progress[-5:], status=status,
            closed=closed, office=head.office, category=category(case), signer=head.signer, signed=issued,
            feedback=feedback_requirement(rt.settings.supervision_interval, head.office), contact=head.contact,
            phone=head.phone, copy_to=head.copy_to))
    return MinutesView(sitting_id=sitting.id, title=title, held=_local(sitting.starts_at, rt),
                       recorded=_local(minutes.recorded_at, rt), recorded_by=minutes.recorded_by,
                       attendees=minutes.body.get("attendees", ""), summary=minutes.body.get("summary", ""),
                       decisions=lines, sheets=sheets, issue_no=issue_no, issued=issued, masthead=head)


def _issue_number(session: Session, sitting: Sitting, tz) -> int:
    """纪要期号: the minutes of this series this year, counted up to this sitting's (第N期)."""
    year = sitting.starts_at.astimezone(tz).year
    starts = [s for (s,) in session.execute(
        select(Sitting.starts_at).join(Minutes, Minutes.sitting_id == Sitting.id)
        .where(Sitting.series_key == sitting.series_key, Sitting.starts_at <= sitting.starts_at))]
    return sum(1 for s in starts if s.astimezone(tz).year == year)


def _local(ts: datetime, rt: Runtime) -> str:
    return ts.astimezone(rt.calendar.tz).strftime("%Y年%m月%d日 %H:%M")


def _decision_text(out: dict, given: dict, note: str, departments: dict, tiers: dict, deadline: str | None) -> str:
    kind = out.get("decision")
    tail = f"{note}" if note else ""
    if kind == "resolved":
        return "会议认为问题已解决，待企业确认。" + tail
    if kind == "assigned":
        lead = departments.get(given.get("lead_department"), given.get("lead_department"))
        co = "、".join(departments.get(c, c) for c in given.get("co_departments") or [])
        return (f"交{lead}牵头" + (f"，{co}配合" if co else "") + f"，于{deadline or given.get('due')}前办结（督办单"
                + (out["sheet"] if out.get("sheet") else f"第{out.get('seq')}号") + "）。"
                + (given.get("requirement") or tail))
    if kind == "carried_over":
        nxt = out.get("sitting") or {}
        return f"结转至第{nxt.get('number', '')}次会议。" + tail
    if kind == "escalated":
        return f"提级至第{out.get('tier')}级：{tiers.get(out.get('tier'), '')}。" + tail
    return f"会前已{_status_cn(out.get('status'))}，本次不再研究。"


def _status_cn(status: str | None) -> str:
    return {"resolved": "办结", "closed": "闭环", "withdrawn": "撤回"}.get(status or "", "变化")
