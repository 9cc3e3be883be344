"""Sittings and agendas in the database: what a sitting's agenda holds, publishing it at the
cut-off (the beat), extra and cancelled sittings, carrying cases over.

Which cases are on a sitting: before the cut-off, the cases placed on it that are still open
(``cases.sitting_id``), plus those carried over to it; at the cut-off the set is frozen into
``agenda_items`` and the assembled agenda into ``sittings.agenda``, so that the agenda a meeting
received never changes afterwards. Later escalations go to the next sitting (``next_sitting``
only offers sittings whose agenda is still open).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..cases import machine
from ..cases.models import Case, CaseEvent, CaseTier
from ..cases.service import record_change
from ..directory.models import Sitting
from ..enterprises.models import Enterprise
from ..errors import Conflict, Invalid, NotFound
from ..escalation.ladder import restart_tier
from ..notifications import outbox
from ..runtime import Runtime
from ..similarity.service import links_among
from .agenda import Agenda, CaseFile, Figures, assemble, title_of
from .models import AgendaItem
from .sittings import CANCELLED, PUBLISHED, SCHEDULED, next_number, next_sitting

ON_AGENDA = machine.DECIDABLE  # open, in progress, waiting for the enterprise


def series_of(rt: Runtime, sitting: Sitting):
    series = next((s for s in rt.directory.meeting_series if s.key == sitting.series_key), None)
    if series is None:
        raise NotFound(f"sitting {sitting.id}: its series '{sitting.series_key}' is no longer in the directory")
    return series


def get_sitting(session: Session, sitting_id: int, for_update: bool = False) -> Sitting:
    sitting = session.get(Sitting, sitting_id, with_for_update=for_update)
    if sitting is None:
        raise NotFound(f"meeting_id: no sitting {sitting_id}; GET /v1/meetings lists them")
    return sitting


# ---------------------------------------------------------------------------- what is on it
def agenda_case_ids(session: Session, sitting: Sitting) -> dict[int, AgendaItem | None]:
    """case id -> its agenda item (None for a case placed by escalation, not yet frozen)."""
    items = {i.case_id: i for i in session.scalars(select(AgendaItem).where(AgendaItem.sitting_id == sitting.id))}
    if sitting.status == SCHEDULED:
        live = session.scalars(select(Case.id).where(Case.sitting_id == sitting.id, Case.status.in_(ON_AGENDA)))
        for case_id in live:
            items.setdefault(case_id, None)
    return items


def case_files(session: Session, sitting: Sitting, items: dict[int, AgendaItem | None]) -> list[CaseFile]:
    """Everything the agenda shows of its cases, in four queries whatever their number."""
    ids = list(items)
    if not ids:
        return []
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(
        Enterprise.id.in_({c.enterprise_id for c in cases.values()})))}
    events: dict[int, list] = {i: [] for i in ids}
    for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.id)):
        events[e.case_id].append(e)
    tiers: dict[int, list] = {i: [] for i in ids}
    for t in session.scalars(select(CaseTier).where(CaseTier.case_id.in_(ids)).order_by(CaseTier.entered_at)):
        tiers[t.case_id].append(t)
    carried = {i.carried_from for i in items.values() if i is not None and i.carried_from}
    numbers = dict(session.execute(select(Sitting.id, Sitting.number).where(Sitting.id.in_(carried))).all()) \
        if carried else {}
    times = dict(session.execute(
        select(AgendaItem.case_id, func.count()).join(Sitting, Sitting.id == AgendaItem.sitting_id)
        .where(AgendaItem.case_id.in_(ids), Sitting.series_key == sitting.series_key,
               Sitting.starts_at <= sitting.starts_at, Sitting.status != CANCELLED)
        .group_by(AgendaItem.case_id)).all())
    files = []
    for case_id in ids:
        case = cases[case_id]
        item = items[case_id]
        files.append(CaseFile(case=case, enterprise=ents[case.enterprise_id], events=events[case_id],
                              tiers=tiers[case_id], carried_from=numbers.get(item.carried_from) if item else None,
                              times_on_agenda=max(1, times.get(case_id, 0) + (0 if item else 1))))
    return files


def agenda(session: Session, rt: Runtime, sitting: Sitting, group_by: str = "department") -> Agenda:
    """The published agenda as the meeting received it; before the cut-off, the draft as it
    stands now."""
    if sitting.agenda is not None and sitting.agenda.get("group_by") == group_by:
        return Agenda.model_validate(sitting.agenda)
    items = agenda_case_ids(session, sitting)
    series = series_of(rt, sitting)
    return assemble(sitting, series, case_files(session, sitting, items), rt.directory, rt.clock(),
                    group_by, published=sitting.published_at is not None,
                    figures=figures_for(session, rt, sitting, series), links=links_among(session, list(items)))


def figures_for(session: Session, rt: Runtime, sitting: Sitting, series) -> Figures:
    """The scope's figures from the first of the month to the agenda's cut-off (the whole previous
    month when the cut-off falls on the first): a county meeting its district's, the others the city's."""
    from ..reports.measures import Period, compute

    last = rt.calendar.local_date(sitting.agenda_closes_at)
    first = last.replace(day=1) if last.day > 1 else (last - timedelta(days=1)).replace(day=1)
    period = Period(first, last, f"{first.isoformat()}..{last.isoformat()}")
    district = series.district if series.tier == 2 else None
    total = compute(session, rt, period, "city", district=district, now=min(rt.clock(), sitting.agenda_closes_at),
                    overdue_limit=0).city
    return Figures(scope=total.name, period=f"{first.month}月{first.day}日至{last.month}月{last.day}日",
                   received=total.counts["received"], resolved=total.counts["resolved"],
                   resolution_rate=total.rates["resolution_rate"], on_time_rate=total.rates["on_time_rate"],
                   satisfaction_rate=total.rates["satisfaction_rate"], overdue_now=total.figures["overdue_now"],
                   supervised=total.counts["supervised"])


# ---------------------------------------------------------------------------- the beat's step
def publish_due(rt: Runtime, now: datetime) -> list[int]:
    """Close and publish every agenda whose cut-off has passed, and send each secretary the
    digest; also make sure every series has a sitting ahead on record. Safe to run twice, or
    twice at once: a sitting is published under its row lock, once."""
    published = []
    with rt.session() as session:
        due = list(session.scalars(select(Sitting.id).where(Sitting.status == SCHEDULED,
                                                            Sitting.agenda_closes_at <= now).order_by(Sitting.id)))
    for sitting_id in due:
        with rt.session() as session:
            query = select(Sitting).where(Sitting.id == sitting_id, Sitting.status == SCHEDULED)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            sitting = session.scalar(query)
            if sitting is None:
                continue
            publish(session, rt, sitting, now)
            session.commit()
            published.append(sitting_id)
    with rt.session() as session:
        # One query first: a series with a sitting ahead on record needs nothing (working out the
        # schedule of every series was most of an idle tick: ~50 ms for Luohe's fourteen).
        ahead = set(session.scalars(select(Sitting.series_key).where(Sitting.status == SCHEDULED,
                                                                      Sitting.agenda_closes_at > now).distinct()))
        for series in rt.directory.meeting_series:
            if series.key not in ahead:
                next_sitting(session, series, now, rt.calendar)
        session.commit()
    return published


def publish(session: Session, rt: Runtime, sitting: Sitting, now: datetime) -> Agenda:
    """Freeze the agenda (its items and the assembled model) and owe the secretary its digest."""
    items = agenda_case_ids(session, sitting)
    for case_id, item in items.items():
        if item is None:
            session.add(AgendaItem(sitting_id=sitting.id, case_id=case_id, placed_at=now, reason="escalated"))
    session.flush()
    items = {i.case_id: i for i in session.scalars(select(AgendaItem).where(AgendaItem.sitting_id == sitting.id))}
    series = series_of(rt, sitting)
    sitting.status, sitting.published_at = PUBLISHED, now
    model = assemble(sitting, series, case_files(session, sitting, items), rt.directory, now, published=True,
                     figures=figures_for(session, rt, sitting, series), links=links_among(session, list(items)))
    sitting.agenda = model.model_dump(mode="json")
    outbox.stage_digest(session, sitting, series.key, digest(model, rt.settings.notify.public_url), now)
    return model


def digest(model: Agenda, public_url: str) -> dict:
    return {"type": "agenda_published", "sitting": {
        "id": model.sitting_id, "series": model.series, "number": model.number, "title": model.title,
        "starts_at": model.starts_at.isoformat(), "total": model.total, "carried_over": model.carried_over,
        "link": f"{public_url}/v1/meetings/{model.sitting_id}/agenda?format=html"},
        "items": [{"seq": i.seq, "tracking_no": i.tracking_no, "enterprise": i.enterprise, "matter": i.matter,
                   "lead": i.lead, "overdue_days": i.overdue_days} for g in model.groups for i in g.items]}


# ---------------------------------------------------------------------------- admin
def add_extra(session: Session, rt: Runtime, series_key: str, starts_at: datetime,
              agenda_closes_at: datetime | None, now: datetime) -> Sitting:
    series = next((s for s in rt.directory.meeting_series if s.key == series_key), None)
    if series is None:
        known = ", ".join(s.key for s in rt.directory.meeting_series)
        raise Invalid(f"series: unknown meeting series '{series_key}'; use one of: {known}")
    if starts_at.tzinfo is None:
        raise Invalid("starts_at: give the time zone, e.g. 2026-12-04T15:00:00+08:00")
    from routing_rules.language import Duration

    if not now <= starts_at <= now + timedelta(days=366):
        raise Invalid("starts_at: an extra sitting starts between now and a year from now "
                      f"(now is {rt.calendar.shown(now)})")
    closes = agenda_closes_at or rt.calendar.before(starts_at, Duration.parse(series.agenda_closes_before))
    if closes <= now:
        raise Invalid("agenda_closes_at: the agenda of a new sitting must close in the future; "
                      f"it would close at {rt.calendar.shown(closes)}")
    if closes > starts_at:
        raise Invalid("agenda_closes_at: the agenda closes before the sitting starts")
    if session.scalar(select(Sitting.id).where(Sitting.series_key == series.key, Sitting.starts_at == starts_at)):
        raise Conflict(f"starts_at: {series.name} already has a sitting at {rt.calendar.shown(starts_at)}")
    sitting = Sitting(series_key=series.key, number=next_number(session, series), starts_at=starts_at,
                      agenda_closes_at=closes, status=SCHEDULED, kind="extra")
    session.add(sitting)
    session.flush()
    return sitting


def cancel(session: Session, rt: Runtime, sitting: Sitting, reason: str, actor: str, now: datetime) -> list[str]:
    """Cancel a sitting that has not been held; its cases move to the series' next sitting."""
    if sitting.status not in (SCHEDULED, PUBLISHED):
        raise Conflict(f"sitting {sitting.id} is {sitting.status}: only a sitting not yet held can be cancelled",
                       current_status=sitting.status)
    items = agenda_case_ids(session, sitting) if sitting.status == SCHEDULED else {
        i.case_id: i for i in session.scalars(select(AgendaItem).where(AgendaItem.sitting_id == sitting.id))}
    sitting.status, sitting.cancelled_reason = CANCELLED, reason
    session.flush()  # next_sitting skips it from here on
    moved = []
    for case in session.scalars(select(Case).where(Case.id.in_(list(items))).order_by(Case.id).with_for_update()):
        if case.status in ON_AGENDA and case.sitting_id == sitting.id:
            carry_over(session, rt, case, sitting, now, actor, f"会议取消：{reason}", "sitting_cancelled")
            moved.append(case.tracking_no)
    return moved


def carry_over(session: Session, rt: Runtime, case: Case, sitting: Sitting, now: datetime, actor: str,
               note: str, reason: str = "carried_over") -> dict:
    """Onto the series' next open sitting, with the deadline that sitting gives."""
    placed = restart_tier(session, rt, case, now, reason)
    new = placed.get("sitting")
    if new is not None:
        session.add(AgendaItem(sitting_id=new["id"], case_id=case.id, placed_at=now, reason=reason,
                               carried_from=sitting.id))
    data = {**placed, "note": note, "from_sitting": {"id": sitting.id, "number": sitting.number,
                                                     "title": title_of(series_of(rt, sitting).name, sitting.number)}}
    record_change(session, case, "carried_over", actor, now, data, sitting.series_key)
    return data


def sitting_out(rt: Runtime, s: Sitting) -> dict:
    series = next((x for x in rt.directory.meeting_series if x.key == s.series_key), None)
    name = series.name if series else s.series_key
    return {"id": s.id, "series": s.series_key, "series_name": name, "tier": series.tier if series else None,
            "number": s.number, "title": title_of(name, s.number), "starts_at": s.starts_at,
            "agenda_closes_at": s.agenda_closes_at, "status": s.status, "kind": s.kind,
            "published_at": s.published_at, "cancelled_reason": s.cancelled_reason}
