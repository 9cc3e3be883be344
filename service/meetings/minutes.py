"""Minutes (会议纪要): a sitting's decisions (议定事项), applied to its cases in one transaction.

One decision per case on the agenda — resolved; assigned (交办) to a lead and co-handling units
with a deadline; carried over to the next sitting; escalated one tier — each allowed from the
statuses ``machine.DECISIONS`` says, each with its event and notifications. A case the minutes do
not decide is carried over. The minutes are applied once: posting the same body again answers
what the first post did and changes nothing; a different body is refused (409).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing_rules.language import Duration

from ..cases import machine
from ..cases.models import Case
from ..cases.service import climb, mark_resolved, next_in_sequence, record_change
from ..directory.models import Sitting
from ..errors import Conflict, Invalid
from ..fields import BodyId
from ..runtime import Runtime
from .agenda import title_of
from .models import AgendaItem, Assignment, Minutes
from .service import carry_over, publish, series_of
from .sittings import CANCELLED, HELD, SCHEDULED


# the decisions a sitting can take are the keys of the table beside the state machine's
DecisionName = Literal[tuple(machine.DECISIONS)]  # type: ignore[valid-type]


class Decision(BaseModel):
    case_id: BodyId
    decision: DecisionName
    note: str = Field("", max_length=2000, description="what the meeting said")
    lead_department: str | None = Field(None, description="assigned: the lead unit (牵头单位)")
    co_departments: list[str] = Field(default_factory=list, description="assigned: co-handling units (配合单位)")
    due: str | None = Field(None, description="assigned: a date (2026-12-15) or a duration (10 working_days)")
    requirement: str = Field("", max_length=2000, description="assigned: what is required (工作要求)")
    leader: str | None = Field(None, max_length=60, description="assigned: the leader in charge (责任领导)")
    handler: str | None = Field(None, max_length=60, description="assigned: the handler (经办人)")

    @model_validator(mode="after")
    def _assigned_needs_lead_and_due(self):
        if self.decision == "assigned" and (not self.lead_department or not self.due):
            raise ValueError("an 'assigned' decision names lead_department and due")
        return self


class MinutesIn(BaseModel):
    decisions: list[Decision] = Field(default_factory=list)
    summary: str = Field("", max_length=20000, description="the minutes' text (会议纪要正文), optional")
    attendees: str = Field("", max_length=2000)


def request_hash(body: MinutesIn) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def apply(session: Session, rt: Runtime, sitting_id: int, body: MinutesIn, actor: str) -> tuple[Minutes, bool]:
    """Apply the minutes once; returns (the minutes, replayed)."""
    sitting = session.get(Sitting, sitting_id, with_for_update=True)
    now = rt.clock()
    if sitting.status == CANCELLED:
        raise Conflict(f"sitting {sitting.id} was cancelled; its cases moved to the next sitting",
                       current_status=sitting.status)
    digest = request_hash(body)
    existing = session.get(Minutes, sitting.id)
    if existing is not None:
        if existing.request_hash == digest:
            return existing, True
        raise Conflict(f"the minutes of sitting {sitting.id} were recorded at {rt.calendar.shown(existing.recorded_at)} "
                       "and differ from these; they are applied once — record a correction on the cases",
                       current_status=sitting.status)
    if now < sitting.agenda_closes_at:
        raise Conflict(f"the agenda of sitting {sitting.id} is open until {rt.calendar.shown(sitting.agenda_closes_at)}; "
                       "minutes come after the meeting", current_status=sitting.status)
    if sitting.status == SCHEDULED:  # the cut-off passed before the beat got to it
        publish(session, rt, sitting, now)
    on_agenda = {i.case_id for i in session.scalars(select(AgendaItem).where(AgendaItem.sitting_id == sitting.id))}
    decided = _check(rt, body, on_agenda)
    series = series_of(rt, sitting)
    minutes_of = {"id": sitting.id, "series": sitting.series_key, "number": sitting.number,
                  "title": title_of(series.name, sitting.number), "starts_at": sitting.starts_at.isoformat()}
    outcome: dict[str, dict] = {}
    seq = 0
    cases = session.scalars(select(Case).where(Case.id.in_(on_agenda)).order_by(Case.id).with_for_update())
    for case in cases:
        d = decided.get(case.id)
        if d is None:
            if case.status not in machine.DECIDABLE or case.sitting_id != sitting.id:
                outcome[str(case.id)] = {"tracking_no": case.tracking_no, "decision": None,
                                         "status": case.status, "note": "no longer before the meeting"}
                continue
            d = Decision(case_id=case.id, decision="carried_over", note="会议未作决定，结转下次会议")
        t = machine.check(d.decision, case.status, {"secretary", "admin"}, machine.DECISIONS)
        if d.decision == "assigned":
            seq += 1
        data = _APPLY[d.decision](session, rt, sitting, case, d, now, actor, minutes_of, seq)
        if t.target is not None:
            case.status = t.target
        outcome[str(case.id)] = {"tracking_no": case.tracking_no, "decision": d.decision, "status": case.status,
                                 "tier": case.tier,
                                 **({"seq": seq, "sheet": data["sheet"]} if d.decision == "assigned" else {}),
                                 **({"sitting": data["sitting"]} if "sitting" in data else {})}
    sitting.status = HELD
    minutes = Minutes(sitting_id=sitting.id, request_hash=digest, body=body.model_dump(mode="json"),
                      outcome=outcome, recorded_at=now, recorded_by=actor)
    session.add(minutes)
    return minutes, False


def _check(rt: Runtime, body: MinutesIn, on_agenda: set[int]) -> dict[int, Decision]:
    decided: dict[int, Decision] = {}
    departments = {d.key for d in rt.directory.departments}
    for i, d in enumerate(body.decisions):
        where = f"decisions[{i}]"
        if d.case_id not in on_agenda:
            listed = ", ".join(str(c) for c in sorted(on_agenda)) or "none"
            raise Invalid(f"{where}.case_id: case {d.case_id} is not on this sitting's agenda (its cases: {listed})")
        if d.case_id in decided:
            raise Invalid(f"{where}.case_id: case {d.case_id} is decided twice; one decision per case")
        for j, dept in enumerate(([d.lead_department] if d.lead_department else []) + d.co_departments):
            if dept not in departments:
                field = "lead_department" if j == 0 and d.lead_department else "co_departments"
                raise Invalid(f"{where}.{field}: unknown department '{dept}'; GET /v1/directory lists them")
        if d.due is not None:
            _due(rt, d.due, rt.clock(), f"{where}.due")
        decided[d.case_id] = d
    return decided


def _due(rt: Runtime, text: str, now: datetime, where: str) -> tuple[datetime, bool, dict]:
    """A date means the end of that working day; a duration counts from now. Also what the
    deadline was counted from (``Case.due_basis``): a date a meeting chose stays that date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            duration = Duration.parse(text)
        except ValueError:
            raise Invalid(f"{where}: give a date (2026-12-15) or a duration (10 working_days)") from None
        due, provisional = rt.calendar.after(now, duration)
        return due, provisional, {"from": now.isoformat(), "due": str(duration), "warn": None}
    end = rt.calendar.end_of_day(day)
    if end <= now:
        raise Invalid(f"{where}: {text} has passed; give a later date")
    return end, not rt.calendar.known(day), {"until": end.isoformat()}


def _resolved(session, rt, sitting, case, d, now, actor, minutes_of, seq) -> dict:
    resolved = mark_resolved(rt, case, d.note or f"经{minutes_of['title']}研究，问题已解决", now)
    return _record(session, case, "resolved", actor, now, sitting, {**resolved, "by": "minutes",
                                                                    "minutes_of": minutes_of})


def _assigned(session, rt, sitting, case, d, now, actor, minutes_of, seq) -> dict:
    due, provisional, basis = _due(rt, d.due, now, "due")
    if case.status == machine.WAITING:
        case.paused_remaining = case.paused_remaining_warn = None
    case.lead_department, case.co_departments, case.needs_triage = d.lead_department, list(d.co_departments), False
    case.due_at, case.due_provisional, case.warn_at = due, provisional, None
    case.due_basis = basis if provisional else None
    # the sheet's number is the issuing office's next of the year, taken in this transaction: the
    # office's counter row stays locked until the minutes commit, so sheets are numbered without
    # gaps even when two of the office's meetings record minutes at once
    prefix, year = rt.directory.sheet_prefix(sitting.series_key), now.astimezone(rt.calendar.tz).year
    sheet = Assignment(sitting_id=sitting.id, case_id=case.id, seq=seq, matter=case.title,
                       requirement=d.requirement or d.note or "按期办结并报告办理结果",
                       lead_department=d.lead_department, co_departments=list(d.co_departments),
                       leader=d.leader, handler=d.handler, due_at=due, created_at=now,
                       sheet_prefix=prefix, sheet_year=year, sheet_no=next_in_sequence(session, prefix, year))
    session.add(sheet)
    return _record(session, case, "assigned", actor, now, sitting, {
        "lead_department": d.lead_department, "co_departments": list(d.co_departments), "due_at": due.isoformat(),
        "requirement": d.requirement or d.note, "leader": d.leader, "handler": d.handler, "seq": seq,
        "sheet": sheet.sheet_number(sitting.number, year), "minutes_of": minutes_of})


def _carried_over(session, rt, sitting, case, d, now, actor, minutes_of, seq) -> dict:
    return carry_over(session, rt, case, sitting, now, actor, d.note or "结转下次会议")


def _escalated(session, rt, sitting, case, d, now, actor, minutes_of, seq) -> dict:
    placed = climb(session, rt, case, now, "minutes")
    return _record(session, case, "escalated", actor, now, sitting, {
        **placed, "reason": d.note or "会议研究决定提级", "by": "minutes", "minutes_of": minutes_of})


def _record(session, case, kind, actor, now, sitting, data) -> dict:
    series = data.get("sitting", {}).get("series") or sitting.series_key
    record_change(session, case, kind, actor, now, data, series)
    return data


_APPLY = {"resolved": _resolved, "assigned": _assigned, "carried_over": _carried_over, "escalated": _escalated}
assert set(_APPLY) == set(machine.DECISIONS), "every decision of the table has its application here"
