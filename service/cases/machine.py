"""The case state machine (诉求状态机): one table says which action is allowed from which status,
by whom, and where it leads. Handlers never test statuses themselves; they ask :func:`check`.

Statuses (DESIGN.md): ``open`` (routed, waiting for the handler to accept), ``in_progress``,
``waiting_enterprise`` (clock paused), ``resolved`` (waiting for the enterprise's confirmation,
clock paused), ``closed``, ``withdrawn``. The tier is a separate field.

Who acts is a *relation* of the caller to the case, not just a role:

``enterprise``  the enterprise that submitted it
``officer``     the enterprise's chief service officer (or any officer, for the triage queue)
``lead``        the department that leads it
``co``          a department that co-handles it
``secretary``   the secretary of the meeting series the case sits on
``admin``       an administrator
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Conflict, Forbidden

OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED, WITHDRAWN = (
    "open", "in_progress", "waiting_enterprise", "resolved", "closed", "withdrawn")
STATUSES = (OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED, WITHDRAWN)
ACTIVE = frozenset({OPEN, IN_PROGRESS, WAITING, RESOLVED})
PAUSED = frozenset({WAITING, RESOLVED})  # no deadline runs in these
RUNNING = ACTIVE - PAUSED  # a deadline runs: what the sweep escalates and "overdue" counts
FINAL = frozenset({CLOSED, WITHDRAWN})
RELATIONS = ("enterprise", "officer", "lead", "co", "secretary", "admin")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    who: frozenset[str]
    target: str | None  # None: the status does not change (or the action decides, see below)
    event: str
    summary: str


def _t(action, sources, who, target, event, summary):
    return Transition(action, frozenset(sources), frozenset(who), target, event, summary)


ANYONE = RELATIONS
TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    _t("accept", {OPEN}, {"lead", "admin"}, IN_PROGRESS, "accepted",
       "the lead department takes the case (the first response)"),
    _t("comment", ACTIVE | FINAL, ANYONE, None, "commented",
       "a note on the timeline; changes nothing else"),
    _t("request-info", {IN_PROGRESS}, {"lead", "officer", "admin"}, WAITING, "info_requested",
       "ask the enterprise for material; the clock pauses"),
    _t("supplement", {WAITING}, {"enterprise", "admin"}, IN_PROGRESS, "supplemented",
       "the enterprise adds material; the clock resumes with the time that was left"),
    _t("resolve", {IN_PROGRESS}, {"lead", "admin"}, RESOLVED, "resolved",
       "the fix is done; the clock pauses until the enterprise confirms"),
    _t("confirm", {RESOLVED}, {"enterprise", "admin"}, None, "confirmed",
       "satisfied: closed; not satisfied: reopened one tier up (重办) with a new deadline"),
    _t("escalate", {OPEN, IN_PROGRESS}, {"officer", "admin"}, None, "escalated",
       "by hand, one tier up"),
    _t("extend", {OPEN, IN_PROGRESS}, {"lead", "admin"}, None, "extension_requested",
       "the lead asks, before the deadline, for a later one"),
    _t("approve-extension", {OPEN, IN_PROGRESS}, {"officer", "admin"}, None, "extension_decided",
       "the officer approves or refuses the pending request"),
    _t("object", {OPEN, IN_PROGRESS}, {"lead"}, OPEN, "objected",
       "异议: the lead says the case is not theirs; it goes back to the officer's triage queue"),
    _t("reassign", {OPEN, IN_PROGRESS}, {"officer", "admin"}, OPEN, "reassigned",
       "the officer names the lead (and co-handling) departments"),
    _t("withdraw", {OPEN, IN_PROGRESS, WAITING}, {"enterprise", "admin"}, WITHDRAWN, "withdrawn",
       "the enterprise takes its case back"),
    _t("mark-duplicate", {OPEN, IN_PROGRESS, WAITING}, {"lead", "officer", "admin"}, CLOSED, "duplicated",
       "重复件: the same enterprise's same problem again; closed into the original, which it then follows"),
    _t("callback", {CLOSED}, {"officer", "admin"}, None, "called_back",
       "回访: the officer records the call — not reached (tried again), satisfied, or not (reopened one tier up)"),
    _t("feedback", {OPEN, IN_PROGRESS, WAITING}, {"lead", "co", "admin"}, None, "fed_back",
       "回执: the responsible unit reports progress; on a supervised case, in time, it moves the next reminder"),
)}


# A sitting's decisions (议定事项), applied to its cases by the minutes (meetings/minutes.py): the
# same rules, in the same place, as the actions above.
DECIDABLE = frozenset({OPEN, IN_PROGRESS, WAITING})
DECISIONS: dict[str, Transition] = {t.action: t for t in (
    _t("resolved", DECIDABLE, {"secretary", "admin"}, RESOLVED, "resolved",
       "the meeting finds the problem solved; the enterprise still confirms"),
    _t("assigned", DECIDABLE, {"secretary", "admin"}, OPEN, "assigned",
       "交办: a lead (and co-handling) units and a deadline; the lead accepts it anew"),
    _t("carried_over", DECIDABLE, {"secretary", "admin"}, None, "carried_over",
       "onto the series' next sitting (also what happens to a case the minutes do not decide)"),
    _t("escalated", DECIDABLE, {"secretary", "admin"}, None, "escalated",
       "one tier up (at tier 5: supervised)"),
)}


def check(action: str, status: str, relations: set[str], table: dict[str, Transition] | None = None) -> Transition:
    """The transition for ``action``, or the error that refuses it.

    A caller with no right to the action gets 403 naming who may; a caller who may, at the wrong
    moment, gets 409 naming the current status and the statuses the action is allowed from."""
    t = (table or TRANSITIONS)[action]
    if not (relations & t.who):
        raise Forbidden(f"'{action}' may be done by: {', '.join(sorted(t.who))}; you are: "
                        f"{', '.join(sorted(relations)) or 'not involved in this case'}")
    if status not in t.sources:
        raise Conflict(f"cannot {action} a case that is {status}; '{action}' is allowed from: "
                       f"{', '.join(s for s in STATUSES if s in t.sources)}", current_status=status)
    return t


def offered(status: str, relations: set[str]) -> list[Transition]:
    """The actions a caller with ``relations`` may take on a case that is ``status``: what a page
    offers (the same table ``check`` enforces)."""
    return [t for t in TRANSITIONS.values() if status in t.sources and relations & t.who]


def transition_table_markdown(table: dict[str, Transition] | None = None) -> str:
    """The table as documentation (docs/api.md is generated from it)."""
    rows = ["| action | from | who | to | what |", "| --- | --- | --- | --- | --- |"]
    for t in (table or TRANSITIONS).values():
        sources = ", ".join(s for s in STATUSES if s in t.sources)
        rows.append(f"| `{t.action}` | {sources} | {', '.join(r for r in RELATIONS if r in t.who)} | "
                    f"{t.target or '(same / see what)'} | {t.summary} |")
    return "\n".join(rows)
