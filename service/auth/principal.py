"""Who is calling (调用方), and what they may see: the scope bound to their API key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from sqlalchemy import and_, false, func, literal_column, or_, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import ColumnElement

from ..cases.models import CO_POSITIONS, Case
from ..directory.models import Sitting

# leader (领导): reads every case and every report, changes nothing — no action names it
ROLES = ("enterprise", "officer", "department", "secretary", "admin", "leader")


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    enterprise_id: int | None = None
    officer_id: str | None = None
    department: str | None = None
    series: str | None = None

    @property
    def actor(self) -> str:
        """How the timeline names the caller."""
        scope = {"enterprise": self.enterprise_id, "officer": self.officer_id,
                 "department": self.department, "secretary": self.series}.get(self.role, self.key_id)
        return f"{self.role}:{scope}"


def relations(p: Principal, case: Case, sitting_series: str | None) -> set[str]:
    """The caller's relations to a case (see cases/machine.py); empty means: not theirs to see."""
    if p.role == "admin":
        return {"admin"}
    if p.role == "leader":
        return {"leader"}
    if p.role == "enterprise":
        return {"enterprise"} if case.enterprise_id == p.enterprise_id else set()
    if p.role == "officer":
        mine = case.officer_id == p.officer_id
        unclaimed_triage = case.needs_triage and case.officer_id is None
        return {"officer"} if mine or unclaimed_triage else set()
    if p.role == "department":
        out = set()
        if case.lead_department == p.department:
            out.add("lead")
        if p.department in (case.co_departments or ()):
            out.add("co")
        return out
    if p.role == "secretary":
        return {"secretary"} if sitting_series is not None and sitting_series == p.series else set()
    return set()


def visible_cases(p: Principal, dialect: str) -> ColumnElement[bool]:
    """The same rule as :func:`relations`, as a WHERE clause for listings."""
    if p.role in ("admin", "leader"):
        return true()
    if p.role == "enterprise":
        return Case.enterprise_id == p.enterprise_id
    if p.role == "officer":
        return or_(Case.officer_id == p.officer_id, and_(Case.needs_triage.is_(True), Case.officer_id.is_(None)))
    if p.role == "department":
        return or_(Case.lead_department == p.department, co_department(p.department, dialect))
    if p.role == "secretary":
        return Case.sitting_id.in_(select(Sitting.id).where(Sitting.series_key == p.series))
    return false()


def visible_parts(p: Principal, dialect: str) -> Sequence[ColumnElement[bool]]:
    """:func:`visible_cases` as disjoint parts, each of which one index holds in the lists' order:
    a department's cases it leads, and those it co-handles without leading; an officer's own, and
    the unclaimed triage. A list reads each part in order from its index and merges them
    (cases/service.py): PostgreSQL cannot read an OR across two indexes in order, and a list that
    filters most of its scope away would otherwise walk the whole table."""
    if p.role == "department":
        return department_parts(p.department, dialect)
    if p.role == "officer":
        return [Case.officer_id == p.officer_id, and_(Case.needs_triage.is_(True), Case.officer_id.is_(None))]
    return [visible_cases(p, dialect)]


@lru_cache(maxsize=256)  # the same few expressions for every list of a department
def department_parts(department: str | None, dialect: str) -> tuple[ColumnElement[bool], ...]:
    """Led by ``department``; co-handled by it (and led by another department or by none) — on
    PostgreSQL one part per position in the co-handling list, each held in order by its own
    index (models.Case), and one for the rare longer lists."""
    not_lead = or_(Case.lead_department != department, Case.lead_department.is_(None))
    if dialect != "postgresql":
        return (Case.lead_department == department, and_(co_department(department, dialect), not_lead))
    co = type_coerce(Case.co_departments, JSONB)
    length = func.jsonb_array_length(co)
    at = lambda k: co.op("->>")(literal_column(str(k)))  # noqa: E731  (a literal: the indexes' expression)
    parts = [Case.lead_department == department]
    for k in range(CO_POSITIONS):
        parts.append(and_(length > literal_column(str(k)), at(k) == department, not_lead,
                          *[at(j) != department for j in range(k)]))
    parts.append(and_(length > literal_column(str(CO_POSITIONS)), co.contains([department]), not_lead,
                      *[at(j) != department for j in range(CO_POSITIONS)]))
    return tuple(parts)


def co_department(department: str | None, dialect: str) -> ColumnElement[bool]:
    if department is None:
        return false()
    if dialect == "postgresql":  # JSONB containment, served by the column's operators
        return type_coerce(Case.co_departments, JSONB).contains([department])
    each = func.json_each(Case.co_departments).table_valued("value")
    return select(1).select_from(each).where(each.c.value == department).exists()
