"""Demo data for `make run`: a dozen enterprises and cases in every status and tier, made through
the same domain functions the API uses, on a clock that starts five days ago — so that the
first cases are overdue and the server's sweep escalates them as it starts, while the resolved
case is still inside its confirmation window. Every district's county meeting, some of the
city's themed meetings and the joint meeting get cases on their next sitting's agenda.

Before them, a season: two months of cases handled the way offices handle them (accepted in time
or late, resolved, confirmed or reopened, objected and reassigned, withdrawn, left to climb to
supervision), so that the performance reports and their comparison with the period before have
figures in every column."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from .auth import keys
from .auth.models import ApiKey
from .auth.principal import Principal
from .cases import service as cases
from .cases.models import Case
from .cases.schemas import (ApproveExtensionBody, ConfirmBody, EmptyBody, ExtendBody, OptionalReasonBody,
                            ReasonBody, ReassignBody, ResolveBody, TextBody, CaseSubmission)
from .db import utcnow
from .enterprises.models import Enterprise
from .runtime import Runtime

# the texts of shared/data/sample-cases.jsonl, shipped with the package so an installed service
# (or the Docker image) can load the demo too
SAMPLES = Path(__file__).resolve().parent / "demo-cases.jsonl"
DEMO_LABEL = "demo"

ENTERPRISES = [  # name, district, industry, key-project level, white-listed, officer
    ("漯河双汇食品深加工有限公司", "yuanhui", "food", "provincial", True, "officer-yuanhui-1"),
    ("漯河卫龙调味品有限公司", "shaoling", "food", "municipal", True, "officer-shaoling-1"),
    ("临颍县冷链物流有限公司", "linying", "logistics", "none", False, "officer-linying-1"),
    ("漯河经开区智能装备有限公司", "etdz", "equipment", "municipal", False, "officer-etdz-1"),
    ("源汇区包装材料有限公司", "yuanhui", "packaging", "none", False, "officer-yuanhui-1"),
    ("召陵区生物科技有限公司", "shaoling", "biotech", "none", True, "officer-shaoling-1"),
    ("临颍县休闲食品有限公司", "linying", "food", "none", False, "officer-linying-1"),
    ("漯河新材料科技有限公司", "etdz", "materials", "provincial", False, "officer-etdz-1"),
    ("郾城区商贸有限公司", "yancheng", "trade", "none", False, None),
    ("舞阳县盐化工有限公司", "wuyang", "chemicals", "municipal", False, None),
    ("西城区电子商务有限公司", "xicheng", "ecommerce", "none", False, None),
    ("示范区农产品加工有限公司", "demo-zone", "food", "none", False, None),
]


def credit_code(rng: random.Random) -> str:
    body = "91" + "411100" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc.calc_check_digit(body)


class _Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def load(rt: Runtime, session: Session) -> bool:
    """Create the demo data once; returns False when it is already there."""
    if session.scalar(select(Enterprise).where(Enterprise.name == ENTERPRISES[0][0])) is not None:
        return False
    rng = random.Random(2026)
    ents = _enterprises(session, rng, utcnow() - timedelta(days=SEASON_DAYS + 1))
    _season(session, rt, ents, rng)
    clock = _Clock(utcnow() - timedelta(days=5))
    drt = replace(rt, clock=clock)
    admin = Principal("demo", "admin")

    def do(case, action, body, who=admin):
        cases.act(session, drt, who, case.id, action, body)
        clock.advance(minutes=20)

    def lead(case):
        return Principal("demo-dept", "department", department=case.lead_department)

    def owner(case):
        return Principal("demo-ent", "enterprise", enterprise_id=case.enterprise_id)

    def climb(case, *reasons):
        for why in reasons:
            do(case, "escalate", ReasonBody(reason=why))

    def accepted(case):
        do(case, "accept", EmptyBody(), lead(case))

    # each case's story, played right after it is submitted
    stories = [
        lambda x: None,                                                                   # open, tier 1
        lambda x: None,
        accepted,                                                                         # in progress
        lambda x: (accepted(x), do(x, "request-info", TextBody(text="请补充土地出让合同扫描件"), lead(x))),
        lambda x: (accepted(x), do(x, "resolve", ResolveBody(resolution="已协调银行完成放款"), lead(x))),
        lambda x: (accepted(x), do(x, "resolve", ResolveBody(resolution="已完成现场核查并发证"), lead(x)),
                   do(x, "confirm", ConfirmBody(satisfied=True, rating=5, comment="办理很快"), owner(x))),
        lambda x: do(x, "withdraw", OptionalReasonBody(reason="问题已自行解决"), owner(x)),
        lambda x: climb(x, "涉及区级统筹，提交县区周例会"),                                    # tier 2
        lambda x: climb(x, "区级无法解决", "需市直部门专题破解"),                                # tier 3
        lambda x: climb(x, "县区周例会未能解决", "部门专题破解未果", "提交市级周例会重点攻坚"),     # tier 4
        lambda x: climb(x, "县区周例会未能解决", "部门专题破解未果", "市级周例会未果", "提交市党政联席会"),  # 5
        lambda x: (accepted(x), do(x, "resolve", ResolveBody(resolution="已答复"), lead(x)),
                   do(x, "confirm", ConfirmBody(satisfied=False, rating=2, comment="问题没有真正解决"), owner(x))),
        lambda x: (accepted(x), do(x, "extend", ExtendBody(until=x.due_at + timedelta(days=7),
                                                           reason="需等待省厅批复"), lead(x))),
        lambda x: (accepted(x), do(x, "extend", ExtendBody(until=x.due_at + timedelta(days=5),
                                                           reason="现场核查需排期"), lead(x)),
                   do(x, "approve-extension", ApproveExtensionBody(approve=True))),
        lambda x: do(x, "object", ReasonBody(reason="该事项不属于本部门职责"), lead(x)),       # back to triage
        lambda x: (do(x, "object", ReasonBody(reason="应由区里先行协调"), lead(x)),
                   do(x, "reassign", ReassignBody(lead_department="administrative-approval",
                                                  co_departments=["development-reform"]))),
    ]
    # more for the weekly meetings: one case per enterprise (so every district's county meeting)
    # goes to tier 2; some go on to the city's themed meetings (tier 4) and the joint meeting (5)
    county = "未能在首席服务官层级解决，提交县区周例会"
    to_city = (county, "县区周例会未能解决", "部门专题破解未果")
    stories += [lambda x: climb(x, county)] * 8
    stories += [lambda x: climb(x, *to_city)] * 3
    stories += [lambda x: climb(x, *to_city, "市级周例会未果")]
    samples = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    for i, sample in enumerate(samples):
        ent = ents[i % len(ents)]
        body = CaseSubmission(title=sample["title"], description=sample["description"], enterprise_id=ent.id,
                              amount=[None, 3_000_000, 80_000_000][i % 3], urgency="urgent" if i == 16 else "normal")
        case, _ = cases.submit(session, drt, admin, body)
        clock.advance(hours=1)
        if i < len(stories):
            stories[i](case)
        clock.advance(hours=2)
    _meetings_held(session, drt, clock(), since=utcnow() - timedelta(days=5))
    _called_back(session, drt, do)
    return True


def _called_back(session: Session, rt: Runtime, do) -> None:
    """回访 in the demo: of the season's call-backs, one answered satisfied, one not reached yet,
    one unsatisfied (the case reopened one tier up); the rest wait on the officers' lists."""
    from .callbacks.models import Callback
    from .cases.schemas import CallbackBody

    owed = list(session.scalars(select(Callback).where(Callback.state == "pending").order_by(Callback.id).limit(3)))
    for row, body in zip(owed, [CallbackBody(reached=True, satisfied=True, rating=5, comment="企业表示问题已解决，很满意"),
                                CallbackBody(reached=False, comment="电话无人接听，明天再打"),
                                CallbackBody(reached=True, satisfied=False, rating=2, comment="企业称问题仍未解决")]):
        do(session.get(Case, row.case_id), "callback", body)


def _enterprises(session: Session, rng: random.Random, now: datetime) -> list[Enterprise]:
    ents = [Enterprise(credit_code=credit_code(rng), name=name, district=district, industry=industry,
                       key_project_level=level, whitelisted=white, officer_id=officer, created_at=now)
            for name, district, industry, level, white, officer in ENTERPRISES]
    session.add_all(ents)
    session.flush()
    return ents


SEASON_DAYS = 62


def _season(session: Session, rt: Runtime, ents: list[Enterprise], rng: random.Random) -> None:
    """Two cases a working day for two months, each with a fate drawn at random (seeded), played on
    a clock that moves through the actions in time order, with the sweep run every evening."""
    from .errors import Problem
    from .escalation.sweep import sweep

    start = utcnow() - timedelta(days=SEASON_DAYS)
    clock = _Clock(start)
    drt = replace(rt, clock=clock)
    admin = Principal("demo", "admin")
    samples = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    plan: list[tuple[datetime, int, int, str, object, str]] = []  # (when, order, case, action, body, who)
    days = lambda lo, hi: timedelta(hours=rng.uniform(lo * 24, hi * 24))  # noqa: E731
    n = 0
    for day in range(SEASON_DAYS - 7):
        moment = start + timedelta(days=day, hours=1)
        if moment.astimezone(rt.calendar.tz).weekday() >= 5:
            continue
        for _ in range(2):
            sample = samples[n % len(samples)]
            n += 1
            plan.append((moment + timedelta(minutes=n), n, 0, "submit", sample, "admin"))
    # fates: what follows each submission (delays from it)
    fates = [(0.55, [("accept", 0.1, 1.0), ("resolve", 1.0, 5.0), ("confirm", 5.5, 7.0)]),
             (0.10, [("accept", 2.0, 6.0), ("resolve", 6.5, 9.0), ("confirm", 9.5, 11.0)]),
             (0.08, []),  # nobody acts: the sweep takes it up the ladder to supervision
             (0.08, [("object", 0.2, 0.8), ("reassign", 0.9, 1.5), ("accept", 1.6, 2.0), ("resolve", 2.5, 6.0)]),
             (0.05, [("withdraw", 0.5, 3.0)]),
             (0.14, [("accept", 0.1, 1.0), ("request-info", 1.1, 2.0), ("supplement", 2.5, 4.0),
                     ("resolve", 4.5, 8.0)])]  # never confirmed: closed by default after the window
    cases_by_order: dict[int, Case] = {}
    for when, order, _, action, sample, _ in list(plan):
        roll, acc = rng.random(), 0.0
        for share, steps in fates:
            acc += share
            if roll <= acc:
                break
        if order <= 2:  # left to climb all five tiers, then put under supervision (督办) by hand
            steps = [("escalate", 50, 50.5), ("escalate", 51, 51.5)]
        for name, lo, hi in steps:
            plan.append((when + days(lo, hi), order, 1, name, None, ""))
        if order <= 2:
            # ...and, whatever the date, supervised some ten days ago: the sweep supervises a case
            # when its tier-5 deadline passes, which waits for the monthly joint meeting and so
            # falls inside the reports' last 30 days on some dates only. At the top, resolved and
            # not accepted by the enterprise, a case is supervised at once (cases.service.climb).
            # Fixed times, no draws: the season's other cases stay as they were.
            for k, name in enumerate(_TO_SUPERVISION):
                plan.append((start + timedelta(days=SEASON_DAYS - 10.6 + k * 0.1), order, 2 + k, name, None, ""))
    plan.sort(key=lambda p: (p[0], p[1], p[2]))
    last_sweep = start
    for when, order, _, action, sample, _ in plan:
        if when > utcnow() - timedelta(days=6):
            break
        while last_sweep + timedelta(days=1) <= when:  # the evening sweeps in between
            last_sweep += timedelta(days=1)
            clock.now = last_sweep
            session.commit()  # the sweep writes in sessions of its own (SQLite: one writer at a time)
            sweep(drt, last_sweep)
        clock.now = when
        if action == "submit":
            ent = ents[order % len(ents)]
            body = CaseSubmission(title=sample["title"], description=sample["description"], enterprise_id=ent.id,
                                  amount=[None, 1_200_000, 5_000_000][order % 3])
            cases_by_order[order], _ = cases.submit(session, drt, admin, body)
            continue
        case = session.get(Case, cases_by_order[order].id)
        if action in _TO_SUPERVISION:
            action, (who, body) = _TO_SUPERVISION[action], _to_supervision(case, action, admin)
        else:
            who, body = _season_step(case, action, rng, admin)
        try:
            with session.begin_nested():
                cases.act(session, drt, who, case.id, action, body)
        except Problem:
            pass  # the sweep moved it on meanwhile (escalated, closed): the office's step no longer applies
    session.flush()


# the steps that take a climbing case to supervision by hand, and the action each one is
_TO_SUPERVISION = {"top-escalate-1": "escalate", "top-escalate-2": "escalate", "top-escalate-3": "escalate",
                   "top-escalate-4": "escalate", "top-accept": "accept", "top-resolve": "resolve",
                   "top-unsatisfied": "confirm"}


def _to_supervision(case: Case, step: str, admin: Principal):
    if step.startswith("top-escalate"):  # refused once at the top: the season's step is skipped
        return admin, ReasonBody(reason="久拖未决，提请市党政联席会挂牌督办")
    if step == "top-accept":
        return Principal("demo-dept", "department", department=case.lead_department), EmptyBody()
    if step == "top-resolve":
        return (Principal("demo-dept", "department", department=case.lead_department),
                ResolveBody(resolution="已协调，待企业确认"))
    return (Principal("demo-ent", "enterprise", enterprise_id=case.enterprise_id),
            ConfirmBody(satisfied=False, rating=1, comment="问题仍未解决"))


def _season_step(case: Case, action: str, rng: random.Random, admin: Principal):
    lead = Principal("demo-dept", "department", department=case.lead_department)
    owner = Principal("demo-ent", "enterprise", enterprise_id=case.enterprise_id)
    others = ["administrative-approval", "development-reform", "market-regulation", "human-resources"]
    satisfied = rng.random() < 0.85
    return {
        "accept": (lead, EmptyBody()), "resolve": (lead, ResolveBody(resolution="已按企业诉求办结，并电话回访")),
        "confirm": (owner, ConfirmBody(satisfied=satisfied, rating=rng.choice([4, 5]) if satisfied else
                                       rng.choice([1, 2, 3]), comment="感谢" if satisfied else "问题仍未解决")),
        "object": (lead, ReasonBody(reason="该事项不属于本部门职责")),
        "reassign": (admin, ReassignBody(lead_department=rng.choice(
            [d for d in others if d != case.lead_department]))),
        "withdraw": (owner, OptionalReasonBody(reason="问题已自行解决")),
        "request-info": (lead, TextBody(text="请补充相关证明材料")),
        "supplement": (owner, TextBody(text="已补充材料")),
        "escalate": (admin, ReasonBody(reason="久拖未决，提请市党政联席会挂牌督办")),
    }[action]


def _meetings_held(session: Session, rt: Runtime, now: datetime, since: datetime) -> None:
    """Publish the agendas whose cut-off the demo's clock has passed, and give the first sitting
    held since ``since`` (the season's sittings are history) its minutes: its first item
    assigned (交办), the rest carried over."""
    from .directory.models import Sitting
    from .meetings import minutes
    from .meetings.models import AgendaItem
    from .meetings.service import publish

    due = session.scalars(select(Sitting).where(Sitting.status == "scheduled", Sitting.agenda_closes_at <= now)
                          .order_by(Sitting.starts_at))
    for sitting in list(due):
        publish(session, rt, sitting, now)
    for sitting in session.scalars(select(Sitting).where(Sitting.status == "published", Sitting.starts_at <= now,
                                                         Sitting.starts_at >= since).order_by(Sitting.starts_at)):
        items = list(session.scalars(select(AgendaItem.case_id).where(AgendaItem.sitting_id == sitting.id)))
        first = session.get(Case, items[0]) if items else None
        if first is None or not first.lead_department:
            continue
        body = minutes.MinutesIn(summary="会议逐项研究了企业反映的问题。", attendees="区直有关部门", decisions=[
            minutes.Decision(case_id=first.id, decision="assigned", lead_department=first.lead_department,
                             due="10 working_days", requirement="明确责任人，十个工作日内办结并报告",
                             leader="副区长 陈明", handler="刘洋")])
        minutes.apply(session, rt, sitting.id, body, "admin:demo")
        return


def issue_keys(rt: Runtime, session: Session) -> list[tuple[str, str, str]]:
    """Fresh demo keys (the previous ones are revoked): (role, scope, key)."""
    now = utcnow()
    for row in session.scalars(select(ApiKey).where(ApiKey.label.like(f"{DEMO_LABEL}:%"), ApiKey.revoked_at.is_(None))):
        row.revoked_at = now
    first = session.scalar(select(Enterprise).order_by(Enterprise.id))
    wanted = [
        ("admin", {}, "管理员"),
        ("enterprise", {"enterprise_id": first.id}, first.name),
        ("officer", {"officer_id": first.officer_id}, first.officer_id),
        ("department", {"department": "natural-resources"}, "natural-resources"),
        ("department", {"department": "financial-regulation"}, "financial-regulation"),
        # the Yuanhui county meeting: its next sitting has the demo's longest agenda
        ("secretary", {"series": "county-yuanhui"}, "county-yuanhui"),
    ]
    out = []
    for role, scope, label in wanted:
        _, key = keys.issue(session, role, label=f"{DEMO_LABEL}:{label}", **scope)
        out.append((role, label, key))
    return out


def issue_accounts(rt: Runtime, session: Session) -> list[tuple[str, str, str, str]]:
    """One account per role for the web pages, each with a fresh password on every run (as the
    keys are): (role, scope, user name, password)."""
    import secrets

    from .accounts import service as accounts
    from .accounts.models import Account

    first = session.scalar(select(Enterprise).order_by(Enterprise.id))
    wanted = [
        ("admin", {}, "demo-admin", "管理员"),
        ("enterprise", {"enterprise_id": first.id}, "demo-enterprise", first.name),
        ("officer", {"officer_id": first.officer_id}, "demo-officer", first.officer_id),
        ("department", {"department": "natural-resources"}, "demo-land", "natural-resources"),
        ("department", {"department": "financial-regulation"}, "demo-finance", "financial-regulation"),
        ("secretary", {"series": "county-yuanhui"}, "demo-secretary", "county-yuanhui"),
        ("leader", {}, "demo-leader", "市领导"),
    ]
    out = []
    for role, scope, username, label in wanted:
        password = secrets.token_urlsafe(12)
        existing = session.scalar(select(Account).where(Account.username == username))
        if existing is None:
            accounts.create(session, rt.clock(), username, password, role, display_name=label, **scope)
        else:
            accounts.reset_password(session, existing.id, password)
        out.append((role, label, username, password))
    return out
