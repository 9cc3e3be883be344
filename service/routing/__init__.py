"""Routing in the service: the active rule set is the runtime's; reloading it is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from routing_rules import SourceErrors

if TYPE_CHECKING:  # pragma: no cover
    from routing_rules.suggest import Replay

from .. import audit


def reload(session, rt, actor: str, request=None) -> list[dict] | None:
    """Validate the rule files on disk and activate them. On any error the running set stays and
    the errors (file, line, reason) are returned; either way the attempt is in the audit log."""
    before = rt.rules.current.version
    try:
        rt.rules.reload()
    except SourceErrors as exc:
        errors = [{"file": e.file, "line": e.line, "reason": e.reason} for e in exc.errors]
        audit.record(session, actor, "rules.reload", before, {"refused": errors[:20]}, rt.clock(), request)
        return errors
    audit.record(session, actor, "rules.reload", rt.rules.current.version, {"previous_version": before},
                 rt.clock(), request)
    return None


def objection_rates(session, since) -> dict[str, dict]:
    """Per routing rule, since ``since``: how many cases it made the lead (or sent to triage) and
    how many of those the lead objected to (异议) — the event names the rules that sent the case.
    Read for the admin's rules page: a rule that draws objections is one to look at."""
    from collections import Counter

    from sqlalchemy import select

    from ..cases.models import Case, CaseEvent

    routed: Counter = Counter()
    for (routing,) in session.execute(select(Case.routing).where(Case.created_at >= since)):
        for rule in (routing or {}).get("rules", ()):
            if rule.get("role") in ("lead", "triage"):
                routed[rule["id"]] += 1
    objected: Counter = Counter()
    for (data,) in session.execute(select(CaseEvent.data).where(CaseEvent.type == "objected", CaseEvent.at >= since)):
        objected.update(set((data or {}).get("rules", ())))
    return {rule: {"routed": routed[rule], "objected": objected[rule],
                   "rate": round(objected[rule] / routed[rule], 4) if routed[rule] else None}
            for rule in set(routed) | set(objected)}


def history(session) -> list:
    """Every case as routing saw it, with the lead it ended with; ``corrected`` when a person named
    a lead other than routing's (an objection upheld by a reassignment, a triage placement) — the
    labelled examples of ``closedloop rules suggest``."""
    from sqlalchemy import select

    from routing_rules import CaseInput
    from routing_rules.suggest import Example

    from ..cases.models import Case, CaseEvent
    from ..enterprises.models import Enterprise

    routed: dict[int, str | None] = {}
    named: dict[int, str] = {}
    for case_id, kind, data in session.execute(
            select(CaseEvent.case_id, CaseEvent.type, CaseEvent.data)
            .where(CaseEvent.type.in_(("routed", "reassigned"))).order_by(CaseEvent.id)):
        if kind == "routed":
            routed[case_id] = None if (data or {}).get("needs_triage") else (data or {}).get("lead_department")
        else:
            named[case_id] = (data or {}).get("lead_department")
    out = []
    rows = session.execute(select(Case.id, Case.tracking_no, Case.title, Case.description, Case.category,
                                  Case.district, Case.amount, Case.urgency, Case.lead_department,
                                  Enterprise.key_project_level, Enterprise.whitelisted, Enterprise.industry)
                           .join(Enterprise, Enterprise.id == Case.enterprise_id).order_by(Case.id))
    for r in rows:
        case = CaseInput(title=r.title, description=r.description, category=r.category, district=r.district,
                         key_project_level=r.key_project_level, whitelisted=r.whitelisted, industry=r.industry,
                         amount=float(r.amount) if r.amount is not None else None, urgency=r.urgency)
        lead = named.get(r.id, r.lead_department)
        out.append(Example(r.tracking_no or str(r.id), case, lead,
                           corrected=r.id in named and named[r.id] != routed.get(r.id)))
    return out


@dataclass
class Suggestion:
    """What ``closedloop rules suggest`` and the admin's suggestions page show: the proposals, the
    proposed file, and the replay of the history through both sets. Nothing here is applied."""

    cases: int
    corrections: int
    proposals: list
    yaml: str
    replay: "Replay | None"  # None when there is nothing to propose


def propose(session, rt, max_collateral: int = 0, into: Path | None = None, latest: int | None = None) -> Suggestion:
    """Proposals from the corrections in the database, replayed over the history (``latest``: only
    the most recent cases besides every correction, so that a page answers in seconds). The
    proposed set is written to ``into`` (a copy of the active files plus ``15-suggested.yaml``),
    or to a temporary folder that is removed."""
    import shutil
    import tempfile

    from routing_rules import load_ruleset
    from routing_rules.loader import rule_files
    from routing_rules.suggest import replay, rule_file, suggest

    cases = history(session)
    if latest is not None and len(cases) > latest:
        cases = [e for e in cases[:-latest] if e.corrected] + cases[-latest:]
    current = rt.rules.current
    proposals = suggest(current, cases, max_collateral)
    corrections = sum(1 for e in cases if e.corrected)
    if not proposals:
        return Suggestion(len(cases), corrections, [], "", None)
    text = rule_file(proposals)
    with tempfile.TemporaryDirectory() as tmp:
        out = into or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for f in rule_files(rt.settings.rules):
            shutil.copy(f, out / f.name)
        (out / "15-suggested.yaml").write_text(text, encoding="utf-8")
        proposed = load_ruleset(out, rt.directory.vocabulary())
    return Suggestion(len(cases), corrections, proposals, text, replay(current, proposed, cases))
