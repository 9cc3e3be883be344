"""Case operations (诉求办理): submit, act, read. Each change is one transaction that writes the
case, its append-only event and the notifications it causes, or nothing at all.

The API calls these with a session it commits; the domain decisions live here and in
``machine.py`` (which action from which status), ``escalation/`` (deadlines and tiers) and
``notifications/outbox.py`` (who hears of it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, text, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from routing_rules import CaseInput
from routing_rules.normalize import normalize

from ..auth import keys
from ..auth.models import ApiKey
from ..auth.principal import (Principal, co_department, department_parts, relations, visible_cases,
                              visible_parts)
from ..directory.models import Sitting
from ..enterprises.models import Enterprise
from ..enterprises.service import refuse_if_inactive
from ..errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, Problem
from .. import callbacks, paging
from ..escalation import clock
from ..escalation.ladder import TOP_TIER, enter_tier, place_new, restart_tier
from ..notifications import outbox
from ..reports import facts
from ..reports.models import CaseFact
from ..runtime import Runtime
from ..similarity import membership
from . import machine, writes
from .models import RUNNING_SQL, Case, CaseEvent, IdempotencyRecord, TrackingCounter
from .schemas import CaseSubmission


# ---------------------------------------------------------------------------- events
def record(session: Session, case: Case, type_: str, actor: str, now: datetime, data: dict | None = None,
           secretary_series: str | None = None) -> CaseEvent:
    """Append an event and owe its notifications (written at commit, same transaction)."""
    event = CaseEvent(case_id=case.id, type=type_, at=now, actor=actor, data=data or {})
    session.add(event)
    if case.status in machine.FINAL:
        membership.leave(session, case.id)  # closed or withdrawn: no longer anyone's similar open case
    for fact in facts.facts_for(case, type_, now, event.data):
        session.add(CaseFact(**fact))
    outbox.stage(session, case, event, secretary_series)
    return event


def _sitting_series(session: Session, case: Case) -> str | None:
    if case.sitting_id is None:
        return None
    return session.scalar(select(Sitting.series_key).where(Sitting.id == case.sitting_id))


# ---------------------------------------------------------------------------- submit
def next_tracking_no(session: Session, prefix: str, year: int) -> str:
    """LH-2026-000123: per prefix and year, gapless (``next_in_sequence``)."""
    return f"{prefix}-{year}-{next_in_sequence(session, prefix, year):06d}"


def next_in_sequence(session: Session, prefix: str, year: int) -> int:
    """The next number of a gapless yearly sequence — a case's tracking number (prefix ``LH``), a
    supervision sheet's (an office's code, 漯企督). The counter row is locked by the UPDATE until
    the transaction ends, so concurrent callers queue for their numbers and a rolled-back one gives
    its number back. Call it last: the lock is held until commit."""
    stmt = (update(TrackingCounter).where(TrackingCounter.prefix == prefix, TrackingCounter.year == year)
            .values(value=TrackingCounter.value + 1).returning(TrackingCounter.value))
    value = session.execute(stmt).scalar()
    if value is None:
        try:
            with session.begin_nested():
                session.execute(insert(TrackingCounter).values(prefix=prefix, year=year, value=1))
            value = 1
        except IntegrityError:  # another transaction created the year's counter first
            value = session.execute(stmt).scalar_one()
    return value


def _request_hash(body: CaseSubmission, enterprise_id: int) -> str:
    canonical = json.dumps({**body.model_dump(mode="json"), "enterprise_id": enterprise_id},
                           sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_ENT = Enterprise.__table__
# what routing needs of the submitting enterprise: columns, not the entity (intake is the hot path)
_SUBMITTER_COLUMNS = [c.label(f"ent_{c.key}") for c in (_ENT.c.id, _ENT.c.district, _ENT.c.officer_id,
                                                         _ENT.c.industry, _ENT.c.key_project_level,
                                                         _ENT.c.whitelisted, _ENT.c.active)]
_SUBMITTER = select(*_SUBMITTER_COLUMNS).where(_ENT.c.id == bindparam("id"))
# the caller's key and, when it is an enterprise's, that enterprise: one query (auth.keys.authenticate_with)
KEY_AND_OWN_ENTERPRISE = keys.key_and(_ENT, _ENT.c.id == ApiKey.__table__.c.enterprise_id, *_SUBMITTER_COLUMNS)


@dataclass(frozen=True, slots=True)
class Submitter:
    """The enterprise a case is filed for (提交企业), as routing and the new case need it."""
    id: int
    district: str
    officer_id: str | None
    industry: str | None
    key_project_level: str | None
    whitelisted: bool

    @classmethod
    def of(cls, row) -> Submitter:
        return cls(row.ent_id, row.ent_district, row.ent_officer_id, row.ent_industry, row.ent_key_project_level,
                   row.ent_whitelisted)


def _submitter(session: Session, p: Principal, body: CaseSubmission, known=None) -> Submitter:
    if p.role == "enterprise":
        if body.enterprise_id not in (None, p.enterprise_id):
            raise Forbidden("enterprise_id: an enterprise files only its own cases; leave it out")
        ent_id = p.enterprise_id
    elif p.role in ("officer", "admin"):
        if body.enterprise_id is None:
            raise Invalid("enterprise_id: an officer or admin filing a case names the enterprise it is for")
        ent_id = body.enterprise_id
    else:
        raise Forbidden("only enterprises, their officers and admins submit cases")
    if known is None or known.ent_id != ent_id:
        known = session.connection().execute(_SUBMITTER, {"id": ent_id}).first()
    if known is None or (p.role == "officer" and known.ent_officer_id != p.officer_id):
        raise NotFound(f"enterprise_id: no enterprise {ent_id} that you serve")
    refuse_if_inactive(ent_id, known.ent_active)
    return Submitter.of(known)


def submit(session: Session, rt: Runtime, p: Principal, body: CaseSubmission,
           idempotency_key: str | None = None, known=None) -> tuple[Case | writes.NewCase, bool]:
    """Route and store a new case; returns (case, replayed) — a new case as written (plain
    attributes), a replayed one as stored. ``known``: the enterprise's row as
    ``KEY_AND_OWN_ENTERPRISE`` read it with the key, if it was."""
    enterprise = _submitter(session, p, body, known)
    if body.category is not None and body.category not in rt.directory.vocabulary().categories:
        choices = ", ".join(c.key for c in rt.directory.categories)
        raise Invalid(f"category: unknown category '{body.category}'; use one of: {choices}, or leave it out")
    if idempotency_key is not None:
        replay = _claim_idempotency(session, p.key_id, idempotency_key, _request_hash(body, enterprise.id))
        if replay is not None:
            return replay, True

    now = rt.clock()
    rt.limiter.count_new_case(enterprise.id, now, rt.calendar.tz)
    decision = rt.rules.current.route(CaseInput(
        title=body.title, description=body.description, category=body.category, district=enterprise.district,
        key_project_level=enterprise.key_project_level, whitelisted=enterprise.whitelisted,
        industry=enterprise.industry, amount=float(body.amount) if body.amount is not None else None,
        urgency=body.urgency,
    ))
    decided = decision.to_dict()
    case = writes.new_case(
        search_text=search_form(body.title, body.description), enterprise_id=enterprise.id,
        district=enterprise.district, officer_id=enterprise.officer_id, title=body.title,
        description=body.description, category=body.category, amount=body.amount, urgency=body.urgency,
        attachments=[a.model_dump() for a in body.attachments], status=machine.OPEN, tier=decision.tier,
        lead_department=decision.lead_department, co_departments=list(decision.co_departments),
        needs_triage=decision.needs_triage, priority=decision.priority, tags=list(decision.tags),
        sla_policy=decision.sla_policy, theme=decision.theme, created_at=now, updated_at=now, version=1,
        routing={"ruleset_version": decision.ruleset_version, "needs_triage": decision.needs_triage,
                 "rules": decided["rules"], "explanation": decision.explanation, "scores": decided["scores"]},
    )
    placed = place_new(session, rt, case, decision.tier, now)
    events = [writes.NewEvent("submitted", p.actor, {"title": case.title}),
              writes.NewEvent("routed", "system", {
                  "lead_department": case.lead_department, "co_departments": case.co_departments,
                  "needs_triage": case.needs_triage, "sla_policy": case.sla_policy, "priority": case.priority,
                  "rules": [r.id for r in decision.rules], "ruleset_version": decision.ruleset_version, **placed,
              }, placed.get("sitting", {}).get("series"))]
    writes.write_new(session, case, events, now, rt.tracking_prefix, rt.calendar.local_date(now).year,
                     next_tracking_no)
    if idempotency_key is not None:
        session.execute(update(IdempotencyRecord).where(IdempotencyRecord.principal == p.key_id,
                                                        IdempotencyRecord.key == idempotency_key)
                        .values(case_id=case.id))
    return case, False


def _claim_idempotency(session: Session, principal: str, key: str, request_hash: str) -> Case | None:
    """Returns the case of an earlier identical request, or claims the key for this one.

    Two concurrent requests with one key: the second INSERT waits on the first's unique-index
    entry; when the first commits, the second fails, rolls back and answers with its case."""
    existing = session.get(IdempotencyRecord, (principal, key))
    if existing is None:
        try:
            with session.begin_nested():
                session.add(IdempotencyRecord(principal=principal, key=key, request_hash=request_hash))
            return None
        except IntegrityError:
            session.rollback()
            existing = session.get(IdempotencyRecord, (principal, key))
    if existing.request_hash != request_hash:
        raise Conflict("Idempotency-Key: this key was used with a different request body; use a new key")
    return session.get(Case, existing.case_id)


# ---------------------------------------------------------------------------- read
def case_id_of(session: Session, ref: int | str) -> int:
    """A case's id from its id or its tracking number (LH-2026-000123); another's case is as
    unknown as a missing one (``load`` then says so)."""
    if isinstance(ref, int):
        return ref
    found = session.scalar(select(Case.id).where(Case.tracking_no == ref))
    if found is None:
        raise NotFound(f"no case {ref}")
    return found


def load(session: Session, p: Principal, case_id: int, for_update: bool = False) -> tuple[Case, set[str]]:
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    rel = relations(p, case, _sitting_series(session, case)) if case is not None else set()
    if not rel:  # someone else's case is not found, not forbidden: its existence is not theirs
        raise NotFound(f"no case {case_id}")
    return case, rel


def timeline(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def search_form(title: str, description: str) -> str:
    """What `?text=` searches: title and description as routing matches them."""
    return f"{normalize(title)}\n{normalize(description)}"


def encode_cursor(case: Case) -> str:
    """Where a page ended in the lists' order (newest first): the case's creation, to the
    microsecond, and its id."""
    micros = round(case.created_at.timestamp() * 1_000_000)
    return paging.encode_cursor("c", f"{micros}.{case.id}")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    raw = str(paging.decode_cursor("c", cursor, numeric=False))
    micros, _, case_id = raw.partition(".")
    if not (micros.isdigit() and case_id.isdigit() and 0 < int(case_id) < 2**31 and int(micros) < 2**62):
        raise Invalid("cursor: not a cursor this list gave; pass next_cursor from the previous page")
    return datetime.fromtimestamp(int(micros) / 1_000_000, timezone.utc), int(case_id)


NEWEST_FIRST = (Case.created_at.desc(), Case.id.desc())


# the running cases, written as ix_cases_running_due's predicate so that PostgreSQL sees the
# index serves the query (a bound-parameter IN would not prove it under a generic plan)
_RUNNING = text(RUNNING_SQL)


def list_cases(session: Session, rt: Runtime, p: Principal, *, status: str | None = None, tier: int | None = None,
               department: str | None = None, district: str | None = None, overdue: bool | None = None,
               triage: bool | None = None, text: str | None = None, cursor: str | None = None,
               limit: int = 50, enterprise_id: int | None = None, priority: str | None = None,
               theme: str | None = None, category: str | None = None, created_from: date | None = None,
               created_to: date | None = None, by_deadline: bool = False) -> tuple[list[Case], str | None]:
    """The cases ``p`` may see with the filters given, newest first and paged by cursor — or,
    ``by_deadline``, the first ``limit`` by deadline, soonest first (a queue; no cursor)."""
    dialect = session.get_bind().dialect.name
    where = []
    if status is not None:
        if status not in machine.STATUSES:
            raise Invalid(f"status: must be one of {', '.join(machine.STATUSES)}")
        where.append(Case.status == status)
    if tier is not None:
        where.append(Case.tier == tier)
    if district is not None:
        where.append(Case.district == district)
    if overdue is not None:
        # only a running case has a deadline (the check ck_cases_deadline_running)
        late = Case.due_at < rt.clock()
        where.append(late if overdue else or_(Case.due_at >= rt.clock(), Case.due_at.is_(None)))
    if triage is not None:
        where.append(Case.needs_triage.is_(triage))
    if text:
        # both sides in routing's matching form: 變壓器 finds 变压器, ＬＨ finds LH; a space typed in
        # the words sought (营业 执照) is no pause to find
        wanted = normalize("".join(text.split())).replace("%", "").replace("_", "")
        where.append(or_(Case.search_text.like(f"%{wanted}%"), Case.tracking_no.like(f"%{wanted.upper()}%")))
    if enterprise_id is not None:
        where.append(Case.enterprise_id == enterprise_id)
    if priority is not None:
        where.append(Case.priority == priority)
    if theme is not None:
        where.append(Case.theme == theme)
    if category is not None:
        where.append(Case.category == category)
    tz = rt.calendar.tz
    if created_from is not None:
        where.append(Case.created_at >= datetime.combine(created_from, datetime.min.time(), tz))
    if created_to is not None:
        where.append(Case.created_at < datetime.combine(created_to + timedelta(days=1), datetime.min.time(), tz))
    if by_deadline:
        scope = visible_cases(p, dialect)
        if department is not None:
            scope = and_(scope, or_(Case.lead_department == department, co_department(department, dialect)))
        # Read as two parts, each in order from an index: the cases with a deadline soonest first
        # (only a running case has one: ix_cases_running_due, whose predicate the query states),
        # then those without, oldest first. One ORDER BY due_at NULLS LAST sorted the whole scope
        # (a department's or the city's every case: 0.35–0.9 s at a million; bench/listing.py).
        timed = (select(Case).where(scope, *where, Case.due_at.is_not(None), _RUNNING)
                 .order_by(Case.due_at, Case.id).limit(limit))
        found = list(session.scalars(timed))
        if len(found) < limit:
            found += session.scalars(select(Case).where(scope, *where, Case.due_at.is_(None))
                                     .order_by(Case.id).limit(limit - len(found)))
        return found, None
    if cursor:
        # keyset: after the last case of the page, in the lists' order (newest first)
        after, last_id = decode_cursor(cursor)
        where.append(and_(Case.created_at <= after, or_(Case.created_at < after, Case.id < last_id)))
    parts = visible_parts(p, dialect)
    if department is not None:
        if p.role in ("admin", "leader"):  # the whole city: the department's own parts, in order
            parts = department_parts(department, dialect)
        elif not (p.role == "department" and department == p.department):
            # within a narrower scope: a filter on the scope's parts (met part by part, the ten
            # parts of an officer's list cost more than they save: bench/listing.py)
            where.append(or_(Case.lead_department == department, co_department(department, dialect)))
    rows = _newest_first(session, parts, where, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def _newest_first(session: Session, parts: list, where: list, n: int) -> list[Case]:
    """The newest ``n`` cases of the union of disjoint ``parts`` that pass ``where``. First the
    ids alone — each part read in order from the index that holds it (with the columns the filters
    read, so that a filter that throws most rows away costs no visit to the table) and cut at
    ``n`` — then those cases."""
    pages = [select(Case.id, Case.created_at).where(part, *where).order_by(*NEWEST_FIRST).limit(n).subquery()
             for part in parts]
    if len(pages) == 1:
        ids = select(pages[0].c.id)
    else:
        merged = union_all(*[select(page.c.id, page.c.created_at) for page in pages]).subquery()
        ids = select(merged.c.id).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(n)
    return list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(*NEWEST_FIRST)))


# ---------------------------------------------------------------------------- act
def act(session: Session, rt: Runtime, p: Principal, case_id: int, action: str, body: Any,
        if_match: int | None = None) -> Case:
    """Apply one action of the state machine to a case, under a row lock."""
    case, rel = load(session, p, case_id, for_update=True)
    if if_match is not None and if_match != case.version:
        raise PreconditionFailed(f"If-Match: the case is at version {case.version}, not {if_match}; "
                                 "read it again and retry", version=case.version)
    transition = machine.check(action, case.status, rel)
    now = rt.clock()
    event_type, data = _APPLY[action](session, rt, case, body, now, p)
    if transition.target is not None:
        case.status = transition.target
    if case.status in machine.FINAL:  # no more reminders: the sweep's range holds only what may be due
        case.supervision_next_at = None
    record_change(session, case, event_type, p.actor, now, data, _sitting_series(session, case))
    return case



@dataclass
class Outcome:
    """What one case of a bulk action came to: the case acted on, or the refusal."""

    case_id: int
    case: Case | None = None
    status: int = 200
    detail: str | None = None


def act_each(session: Session, rt: Runtime, p: Principal, case_ids: list[int], action: str,
             body: Any) -> list[Outcome]:
    """One action on many cases (批量), each in a transaction of its own with its own event, so
    that one refused case stops none of the others. Commits what went before it."""
    session.commit()
    out = []
    for case_id in dict.fromkeys(case_ids):
        try:
            case = act(session, rt, p, case_id, action, body)
            session.commit()
            out.append(Outcome(case_id, case))
        except Problem as exc:
            session.rollback()
            out.append(Outcome(case_id, status=exc.status, detail=exc.detail))
        except StaleDataError:
            session.rollback()
            out.append(Outcome(case_id, status=409, detail="case: it changed while this request was acting on "
                                                           "it; nothing was changed"))
    return out

def record_change(session: Session, case: Case, type_: str, actor: str, now: datetime, data: dict,
                  secretary_series: str | None) -> CaseEvent:
    """A change to the case: its next version, and the event (with its notifications)."""
    case.version += 1
    case.updated_at = now
    return record(session, case, type_, actor, now, data, secretary_series)


def _accept(session, rt, case, body, now, p):
    case.accepted_at = case.accepted_at or now
    # the first response (响应) in time: accepted before the tier's deadline
    return "accepted", {"on_time": case.due_at is None or now <= case.due_at}


def _comment(session, rt, case, body, now, p):
    if body.internal:
        if p.role == "enterprise":
            raise Forbidden("internal: an enterprise's comment is a reply; internal notes are the handling side's")
        return "noted", {"text": body.text, "internal": True}
    return "commented", {"text": body.text}


def _request_info(session, rt, case, body, now, p):
    clock.pause(rt, case, now)
    return "info_requested", {"text": body.text}


def _supplement(session, rt, case, body, now, p):
    clock.resume(rt, case, now)
    return "supplemented", {"text": body.text, "due_at": _iso(case.due_at)}


def _resolve(session, rt, case, body, now, p):
    return "resolved", mark_resolved(rt, case, body.resolution, now)


def mark_resolved(rt: Runtime, case: Case, resolution: str, now: datetime) -> dict:
    """Resolved (by its lead, or by a meeting): the clock pauses and the enterprise's
    confirmation window opens."""
    # in time if before the deadline in force (extensions included; a paused clock with time left)
    on_time = now <= case.due_at if case.due_at is not None else bool(case.paused_remaining)
    due = case.due_at
    clock.pause(rt, case, now)
    case.resolution = resolution
    case.resolved_at = now
    case.confirm_due_at, _ = rt.calendar.after(now, rt.settings.confirm_window)
    # the handling time (办理用时): working days since submission, what the reports count
    working_days = round(rt.calendar.working_seconds_between(case.created_at, now) / 86400, 2)
    return {"resolution": resolution, "confirm_due_at": _iso(case.confirm_due_at), "due_at": _iso(due),
            "on_time": on_time, "working_days": working_days}


def _confirm(session, rt, case, body, now, p):
    if body.satisfied:
        if body.rating is None:
            raise Invalid("rating: a satisfied confirmation carries a rating from 1 to 5")
        case.status, case.satisfied, case.rating = machine.CLOSED, True, body.rating
        case.closed_at, case.confirm_due_at, case.paused_remaining = now, None, None
        data = {"satisfied": True, "rating": body.rating, "comment": body.comment}
        if callbacks.sampled(case.tracking_no, rt.settings.callback_sample):
            data.update(callbacks.owe(session, rt, case, now, "sample"))
        return "closed", data
    return "reopened", {**reopen(session, rt, case, now), "rating": body.rating, "comment": body.comment}


def reopen(session, rt, case, now) -> dict:
    """重办: the enterprise is not satisfied (by its confirmation, or on a call-back) — the case
    reopens one tier up with a new deadline, waiting to be accepted again."""
    if case.status in machine.FINAL:
        membership.enter(session, case.id)  # reopened from closed (回访): open again, similar again
    case.status, case.satisfied = machine.OPEN, False
    case.reopen_count += 1
    case.resolved_at = case.confirm_due_at = case.closed_at = None
    return {"satisfied": False, **climb(session, rt, case, now, "reopened")}


def _callback(session, rt, case, body, now, p):
    """回访: what the call found (callbacks/__init__.py)."""
    if body.reached and body.satisfied is None:
        raise Invalid("satisfied: say whether the enterprise is satisfied (true or false) when it was reached")
    if not body.reached and (body.satisfied is not None or body.rating is not None):
        raise Invalid("satisfied: an enterprise not reached gave no answer; leave satisfied and rating out")
    owed = callbacks.pending_for(session, case.id)
    if owed is None:
        raise Conflict(f"case {case.tracking_no} has no call-back pending (回访 is owed when a case closes by "
                       "default, or is in the sample of confirmed ones)", current_status=case.status)
    owed.attempts += 1
    if not body.reached:
        if owed.attempts >= callbacks.ATTEMPTS:
            owed.state, owed.answered_at = callbacks.UNREACHED, now
        return "called_back", {"reached": False, "attempt": owed.attempts, "state": owed.state,
                               "comment": body.comment}
    owed.state, owed.answered_at = callbacks.DONE, now
    owed.satisfied, owed.rating, owed.comment = body.satisfied, body.rating, body.comment
    if body.satisfied:
        return "called_back", {"reached": True, "satisfied": True, "rating": body.rating, "comment": body.comment,
                               "attempt": owed.attempts}
    return "reopened", {**reopen(session, rt, case, now), "rating": body.rating, "comment": body.comment,
                        "by": "callback"}


def _escalate(session, rt, case, body, now, p):
    if case.tier >= TOP_TIER:
        raise Conflict(f"the case is at tier {TOP_TIER}, the top of the ladder; it is supervised (督办), "
                       "not escalated further", current_status=case.status)
    from_tier = case.tier
    placed = enter_tier(session, rt, case, case.tier + 1, now, "manual")
    # the caller's reason, not the ladder's ("manual"): it is what the agenda and the timeline show
    return "escalated", {**placed, "reason": body.reason, "from_tier": from_tier, "by": "hand"}


def climb(session, rt, case, now, reason) -> dict:
    """One tier up; at the top, supervised (督办) with a fresh deadline."""
    if case.tier >= TOP_TIER:
        case.supervised = True
        placed = restart_tier(session, rt, case, now, reason)
        # supervised from now on, so the sweep never escalates it: its reminders start as a
        # supervised case's do, one interval after its (fresh) deadline
        case.supervision_next_at, _ = rt.calendar.after(case.due_at, rt.settings.supervision_interval)
        return {"from_tier": case.tier, **placed, "supervised": True}
    return {"from_tier": case.tier, **enter_tier(session, rt, case, case.tier + 1, now, reason)}


def _extend(session, rt, case, body, now, p):
    if case.pending_extension:
        raise Conflict("an extension request is already pending; the officer must decide it first",
                       current_status=case.status)
    if case.due_at is None or now >= case.due_at:
        raise Conflict("extensions are asked before the deadline; this one has passed", current_status=case.status)
    if body.until <= case.due_at:
        raise Invalid(f"until: must be after the current deadline {rt.calendar.shown(case.due_at)}")
    horizon = case.due_at + timedelta(days=rt.settings.max_extension_days)
    if body.until > horizon:
        raise Invalid(f"until: an extension reaches at most {rt.settings.max_extension_days} days past the current "
                      f"deadline, so no later than {rt.calendar.shown(horizon)}; ask for less, or escalate the case")
    case.pending_extension = {"until": body.until.isoformat(), "reason": body.reason, "by": p.actor,
                              "at": now.isoformat()}
    return "extension_requested", dict(case.pending_extension)


def _approve_extension(session, rt, case, body, now, p):
    pending = case.pending_extension
    if not pending:
        raise Conflict("there is no pending extension request", current_status=case.status)
    case.pending_extension = None
    data = {"approved": body.approve, "until": pending["until"], "reason": body.reason}
    if body.approve:
        clock.move_deadline(rt, case, datetime.fromisoformat(pending["until"]))
    return "extension_decided", data


def _object(session, rt, case, body, now, p):
    rules = [r["id"] for r in case.routing.get("rules", ()) if r.get("role") == "lead"]
    data = {"reason": body.reason, "lead_department": case.lead_department, "rules": rules}
    case.lead_department, case.co_departments, case.needs_triage = None, [], True
    return "objected", data


def _reassign(session, rt, case, body, now, p):
    known = rt.directory.vocabulary().departments
    for name in [body.lead_department, *body.co_departments]:
        if name not in known:
            raise Invalid(f"lead_department/co_departments: unknown department '{name}'; see GET /v1/directory")
    data = {"from": case.lead_department, "lead_department": body.lead_department,
            "co_departments": [d for d in body.co_departments if d != body.lead_department]}
    case.lead_department, case.co_departments = body.lead_department, data["co_departments"]
    case.needs_triage = False
    return "reassigned", data


def _withdraw(session, rt, case, body, now, p):
    case.closed_at, case.due_at, case.warn_at, case.paused_remaining = now, None, None, None
    return "withdrawn", {"reason": body.reason}


def _mark_duplicate(session, rt, case, body, now, p):
    original, _ = load(session, p, body.of, for_update=True)  # the marker must see the original too
    if original.id == case.id:
        raise Invalid("of: a case is not a duplicate of itself; name the earlier case")
    if original.enterprise_id != case.enterprise_id:
        raise Invalid(f"of: case {original.id} is another enterprise's; different enterprises with one problem "
                      "are similar cases (共性问题), not duplicates")
    if original.duplicate_of is not None:
        raise Invalid(f"of: case {original.id} is itself a duplicate of case {original.duplicate_of}; name that one")
    if original.status == machine.WITHDRAWN:
        raise Conflict(f"of: case {original.id} was withdrawn; it cannot take this one in", current_status=original.status)
    case.duplicate_of, case.closed_at = original.id, now
    case.due_at = case.warn_at = case.paused_remaining = case.paused_remaining_warn = None
    merged = {"case_id": case.id, "tracking_no": case.tracking_no, "title": case.title}
    record_change(session, original, "duplicate_merged", p.actor, now, merged, _sitting_series(session, original))
    return "duplicated", {"of": original.id, "of_tracking_no": original.tracking_no}


def _feedback(session, rt, case, body, now, p):
    """回执 (督办反馈): recorded on the timeline. On a supervised case (督办) a report is what the
    supervision asks for every interval: it arrives in time when before the next reminder, and
    either way the next reminder comes one interval after it — a reminder then means no news."""
    data = {"progress": body.progress, "next_step": body.next_step, "contact": body.contact, "phone": body.phone,
            "expected_done": body.expected_done.isoformat() if body.expected_done else None}
    if case.supervised and case.supervision_next_at is not None:
        data["on_time"] = now <= case.supervision_next_at
        case.supervision_next_at, _ = rt.calendar.after(now, rt.settings.supervision_interval)
        data["next_report_due"] = case.supervision_next_at.isoformat()
    return "fed_back", {k: v for k, v in data.items() if v is not None}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


_APPLY = {
    "accept": _accept, "comment": _comment, "request-info": _request_info, "supplement": _supplement,
    "resolve": _resolve, "confirm": _confirm, "escalate": _escalate, "extend": _extend,
    "approve-extension": _approve_extension, "object": _object, "reassign": _reassign, "withdraw": _withdraw,
    "mark-duplicate": _mark_duplicate, "feedback": _feedback, "callback": _callback,
}
assert set(_APPLY) == set(machine.TRANSITIONS)


# ---------------------------------------------------------------------------- confirmation window
def close_unconfirmed(session: Session, rt: Runtime, now: datetime, limit: int = 500) -> list[str]:
    """Close, as confirmed by default, resolved cases whose confirmation window has passed.
    Run by the sweep (issue #4); guarded so that a second run changes nothing."""
    rows = list(session.scalars(
        select(Case).where(Case.status == machine.RESOLVED, Case.confirm_due_at <= now)
        .order_by(Case.confirm_due_at).limit(limit).with_for_update(skip_locked=True)))
    for case in rows:
        case.status, case.closed_at, case.confirm_due_at = machine.CLOSED, now, None
        case.supervision_next_at = None
        case.version += 1
        case.updated_at = now
        owed = callbacks.owe(session, rt, case, now, "by_default")  # nobody answered: someone calls (回访)
        record(session, case, "closed", "system", now, {"satisfied": None, "by_default": True, **owed})
    return [c.tracking_no for c in rows]

