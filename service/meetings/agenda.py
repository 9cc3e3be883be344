"""The agenda (会议议程) of a sitting, assembled from the cases placed on it — a function of its
inputs, with the clock passed in; the formats (``render.py``) all draw on the one model here.

Each item carries the dossier a meeting needs: the enterprise and the matter, the problem in
brief, the history through the tiers (who had it, for how long, what they said), days overdue,
the amount involved, the proposed lead and co-handling units, and what is asked of the meeting.
Items are ordered by what matters — days overdue, then key projects, white-listed enterprises,
the amount — and grouped by lead department (or by district).

When several enterprises on the agenda report the same problem (共性问题: the near-duplicate
index links them, ``service/similarity``), they are one item, "共性问题（N 家企业）", with every
enterprise listed: the meeting decides the problem once, and each enterprise's case is still
decided and answered on its own (the members carry their case ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from ..directory import Directory
from .masthead import Masthead, masthead

KEY_PROJECT = {"provincial": (2, "省重点项目"), "municipal": (1, "市重点项目")}
NOTE_EVENTS = {
    "commented": "text", "info_requested": "text", "supplemented": "text", "objected": "reason",
    "extension_requested": "reason", "resolved": "resolution", "reopened": "comment", "escalated": "reason",
    "carried_over": "note", "assigned": "requirement",
}
BRIEF = 120  # characters of the problem shown in the agenda


class Stint(BaseModel):
    """One tier of the case's history (办理经过)."""

    tier: int
    tier_name: str
    holder: str
    entered_at: datetime
    days: float
    notes: list[str]


class Member(BaseModel):
    """One enterprise's case within a common-problem item (共性问题)."""

    case_id: int
    tracking_no: str
    enterprise: str
    district: str
    matter: str
    overdue_days: int
    amount: float | None


class Item(BaseModel):
    seq: int
    case_id: int
    tracking_no: str
    enterprise: str
    key_project: str | None
    whitelisted: bool
    matter: str          # the case's title: the enterprise's project or problem
    problem: str         # the description, in brief
    district: str
    status: str
    history: list[Stint]
    overdue_days: int
    amount: float | None  # yuan
    lead: str | None
    lead_key: str | None
    co: list[str]
    ask: str             # 提请会议研究事项
    carried_from: int | None = None  # the number of the sitting it was carried over from
    times_on_agenda: int = 1
    # a common-problem item: every enterprise's case, the most pressing first (this item's own)
    members: list[Member] = []

    @property
    def case_ids(self) -> list[int]:
        return [m.case_id for m in self.members] or [self.case_id]


class Group(BaseModel):
    key: str
    name: str
    items: list[Item]


class Figures(BaseModel):
    """本期数据: the figures the meeting opens with — its scope's (the county, or the city) from the
    first of the month to the agenda's cut-off, computed by the performance reports (one source)."""

    scope: str
    period: str
    received: int
    resolved: int
    resolution_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    overdue_now: int
    supervised: int

    def sentence(self) -> str:
        pct = lambda x: "—" if x is None else f"{x * 100:.1f}%"  # noqa: E731
        return (f"本期数据（{self.scope}，{self.period}）：受理 {self.received} 件，办结 {self.resolved} 件，"
                f"办结率 {pct(self.resolution_rate)}，按时办结率 {pct(self.on_time_rate)}，"
                f"满意率 {pct(self.satisfaction_rate)}；当前超期 {self.overdue_now} 件，本期督办 {self.supervised} 件。")


class Agenda(BaseModel):
    sitting_id: int
    series: str
    series_name: str
    tier: int
    tier_name: str
    number: int
    title: str
    starts_at: datetime
    agenda_closes_at: datetime
    status: str
    published: bool
    generated_at: datetime
    group_by: Literal["department", "district"]
    total: int
    carried_over: int
    groups: list[Group]
    common: int = 0  # how many items are common problems (共性问题)
    figures: Figures | None = None
    masthead: Masthead | None = None  # 版头、版记: office, place, chair, attending… (masthead.py)


@dataclass
class CaseFile:
    """What the agenda needs of one case: the case, its enterprise, events and tier records."""

    case: object           # cases.models.Case
    enterprise: object     # enterprises.models.Enterprise
    events: list = field(default_factory=list)      # CaseEvent, in order
    tiers: list = field(default_factory=list)       # CaseTier, in order
    carried_from: int | None = None                 # sitting number
    times_on_agenda: int = 1


def title_of(series_name: str, number: int) -> str:
    return f"第{number}次{series_name}"


def assemble(sitting, series, files: list[CaseFile], directory: Directory, now: datetime,
             group_by: str = "department", published: bool = False, figures: Figures | None = None,
             links: dict[int, set[int]] | None = None) -> Agenda:
    """``links``: which cases report the same problem as which (from different enterprises)."""
    names = _Names(directory)
    items = [_item(f, sitting, names, now) for f in files]
    items.sort(key=_importance)
    items = common_problems(items, links or {})
    groups: dict[str, Group] = {}
    for item in items:
        if group_by == "district":
            key, name = item.district, item.district
            key = next((d.key for d in directory.districts if d.name == item.district), key)
        else:
            key, name = item.lead_key or "-", item.lead or "待明确牵头单位"
        groups.setdefault(key, Group(key=key, name=name, items=[])).items.append(item)
    seq = 0
    for group in groups.values():  # groups in the order of their most pressing item
        for item in group.items:
            seq += 1
            item.seq = seq
    units = [u for i in items for u in ([i.lead] if i.lead else []) + list(i.co)]
    return Agenda(
        masthead=masthead(directory, series, units),
        sitting_id=sitting.id, series=series.key, series_name=series.name, tier=series.tier,
        tier_name=names.tiers.get(series.tier, ""), number=sitting.number, title=title_of(series.name, sitting.number),
        starts_at=sitting.starts_at, agenda_closes_at=sitting.agenda_closes_at, status=sitting.status,
        published=published, generated_at=now, group_by=group_by, total=len(items),
        carried_over=sum(1 for i in items if i.carried_from is not None), groups=list(groups.values()),
        figures=figures, common=sum(1 for i in items if i.members))


def common_problems(items: list[Item], links: dict[int, set[int]]) -> list[Item]:
    """Items in order of importance, those linked (directly or through one another) made one
    "共性问题（N 家企业）" item led by the most pressing of them, in its place."""
    on_agenda = {i.case_id: i for i in items}
    seen: set[int] = set()
    out = []
    for item in items:
        if item.case_id in seen:
            continue
        cluster, todo = [], [item.case_id]
        while todo:  # every case connected to this one (the cluster is put in order below)
            cid = todo.pop()
            if cid in seen or cid not in on_agenda:
                continue
            seen.add(cid)
            cluster.append(on_agenda[cid])
            todo += links.get(cid, ())
        if len(cluster) == 1:
            out.append(item)
            continue
        cluster.sort(key=_importance)
        firms = list(dict.fromkeys(c.enterprise for c in cluster))
        amounts = [c.amount for c in cluster if c.amount is not None]
        out.append(item.model_copy(update={
            "enterprise": f"共性问题（{len(firms)} 家企业）",
            "problem": item.problem + "（涉及：" + "、".join(firms) + "）",
            "amount": sum(amounts) if amounts else None,
            "co": [u for u in dict.fromkeys(u for c in cluster for u in ([c.lead] if c.lead else []) + c.co)
                   if u != item.lead],
            "members": [Member(case_id=c.case_id, tracking_no=c.tracking_no, enterprise=c.enterprise,
                               district=c.district, matter=c.matter, overdue_days=c.overdue_days, amount=c.amount)
                        for c in cluster],
        }))
    return out


def _importance(item: Item) -> tuple:
    rank = next((r for r, label in KEY_PROJECT.values() if label == item.key_project), 0)
    return (-item.overdue_days, -rank, -int(item.whitelisted), -(item.amount or 0), item.tracking_no)


class _Names:
    def __init__(self, directory: Directory):
        self.departments = {d.key: d.name for d in directory.departments}
        self.districts = {d.key: d.name for d in directory.districts}
        self.officers = {o.key: o.name for o in directory.officers}
        self.series = {s.key: s.name for s in directory.meeting_series}
        self.tiers = {t.number: t.name for t in directory.tiers}

    def department(self, key: str | None) -> str | None:
        return self.departments.get(key, key) if key else None


def _item(f: CaseFile, sitting, names: _Names, now: datetime) -> Item:
    case, ent = f.case, f.enterprise
    key_project = KEY_PROJECT.get(ent.key_project_level, (0, None))[1]
    problem = " ".join(case.description.split())
    return Item(
        seq=0, case_id=case.id, tracking_no=case.tracking_no or f"#{case.id}", enterprise=ent.name,
        key_project=key_project, whitelisted=bool(ent.whitelisted), matter=case.title,
        problem=problem if len(problem) <= BRIEF else problem[:BRIEF - 1] + "…",
        district=names.districts.get(case.district, case.district), status=case.status,
        history=_history(f, names, now), overdue_days=_overdue_days(f, sitting.starts_at),
        amount=float(case.amount) if case.amount is not None else None,
        lead=names.department(case.lead_department), lead_key=case.lead_department,
        co=[names.department(c) for c in case.co_departments or ()], ask=_ask(f, names),
        carried_from=f.carried_from, times_on_agenda=f.times_on_agenda)


def _history(f: CaseFile, names: _Names, now: datetime) -> list[Stint]:
    """The tiers the case went through, with who held it, for how long and what was said."""
    lead = None
    stints: list[Stint] = []
    tiers = sorted(f.tiers, key=lambda t: t.entered_at)
    bounds = [t.entered_at for t in tiers[1:]] + [now]
    events = list(f.events)
    for row, left in zip(tiers, bounds):
        notes, sitting = [], None
        for e in events:
            data = e.data or {}
            if e.at <= left:
                lead = data.get("lead_department", lead) if e.type in ("routed", "reassigned", "assigned") else lead
            if data.get("sitting") and data.get("tier") == row.tier and e.at <= left:
                sitting = data["sitting"]  # the event that placed the case at this tier
            if row.entered_at <= e.at < left and e.type in NOTE_EVENTS:
                text = data.get(NOTE_EVENTS[e.type])
                if e.type == "escalated" and data.get("by") == "deadline":
                    text = "逾期未办结，自动升级"
                if text:
                    text = " ".join(str(text).split())
                    notes.append(f"{_who(e.actor, names)}：{text[:60]}{'…' if len(text) > 60 else ''}")
        stints.append(Stint(tier=row.tier, tier_name=names.tiers.get(row.tier, str(row.tier)),
                            holder=_holder(row.tier, f.case, lead, sitting, names), entered_at=row.entered_at,
                            days=round((left - row.entered_at).total_seconds() / 86400, 1), notes=notes[-3:]))
    return stints


def _holder(tier: int, case, lead: str | None, sitting: dict | None, names: _Names) -> str:
    if sitting:
        return title_of(names.series.get(sitting.get("series"), sitting.get("series", "")), sitting.get("number", 0))
    dept = names.department(lead) or "待明确牵头单位"
    if tier == 1:
        officer = names.officers.get(case.officer_id)
        return f"{officer}（首席服务官）/ {dept}" if officer else dept
    return dept


def _who(actor: str, names: _Names) -> str:
    kind, _, key = actor.partition(":")
    if kind == "department":
        return names.department(key) or key
    if kind == "officer":
        return names.officers.get(key, key)
    return {"enterprise": "企业", "system": "系统", "admin": "管理员", "secretary": "会议秘书"}.get(kind, actor)


def _overdue_days(f: CaseFile, at: datetime) -> int:
    """Whole days from the first deadline the case missed to the sitting (0 if it missed none)."""
    missed = [datetime.fromisoformat(e.data["was_due_at"]) for e in f.events
              if e.type == "escalated" and (e.data or {}).get("was_due_at")]
    due = f.case.due_at
    if due is not None and due < at:
        missed.append(due)
    if not missed:
        return 0
    return max(0, int((at - min(missed)).total_seconds() // 86400))


def _ask(f: CaseFile, names: _Names) -> str:
    """What is asked of the meeting (提请会议研究事项), from where the case stands."""
    case = f.case
    lead = names.department(case.lead_department)
    objected = any(e.type == "objected" for e in f.events[-3:])
    if not lead or case.needs_triage or objected:
        ask = "明确牵头单位，研究交办意见"
    elif case.reopen_count:
        ask = f"企业对办理结果不满意（已重办{case.reopen_count}次），请研究解决办法，明确{lead}办结时限"
    elif case.co_departments:
        co = "、".join(names.department(c) for c in case.co_departments)
        ask = f"协调{lead}会同{co}研究解决方案，明确办结时限"
    else:
        ask = f"督促{lead}明确解决方案和办结时限"
    if f.carried_from is not None:
        ask += f"（第{f.times_on_agenda}次上会）"
    return ask
