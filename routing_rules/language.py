"""The rule language as written in YAML (规则文件的结构), validated with pydantic.

A rule set is one file or a folder of ``*.yaml`` files read in name order. A file may hold:

``defaults``      the decision's values when no rule sets them (exactly once in a set);
``scoring``       how evidence rules (those with a ``weight``) are weighed (at most once);
``sla_policies``  named deadline policies, per tier;
``rules``         the ordered rules;
``examples``      cases and the routing they must get, across rules.

Conditions (``when``) are parsed by :mod:`routing_rules.conditions`, which gives each kind its
own clear error; everything else is checked here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .vocabulary import PRIORITIES

UNITS = ("working_days", "working_hours", "working_minutes", "days", "hours", "minutes", "seconds")
# counted in the office's hours of working days (办公时间), not around the clock
OFFICE_UNITS = frozenset({"working_hours", "working_minutes"})
_DURATION = re.compile(r"^\s*(\d+)\s*([a-z_]+?)\s*$")
_SINGULAR = {u.rstrip("s"): u for u in UNITS}


@dataclass(frozen=True)
class Duration:
    """An amount of time as a policy states it: ``3 working_days``, ``4 working_hours`` (office
    hours of working days), ``90 seconds``."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, value: Any) -> "Duration":
        if isinstance(value, Duration):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((unit, amount),) = value.items()
            value = f"{amount} {unit}"
        if not isinstance(value, str):
            raise ValueError(f"a duration is written like '3 working_days'; units: {', '.join(UNITS)}")
        match = _DURATION.match(value)
        unit = match and _SINGULAR.get(match.group(2).rstrip("s"))
        if not match or not unit:
            raise ValueError(f"'{value}' is not a duration; write it like '3 working_days' ({', '.join(UNITS)})")
        return cls(int(match.group(1)), unit)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    @property
    def calendar_seconds(self) -> int | None:
        """Length in seconds for calendar units; None for working days (they need the calendar)."""
        factor = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}.get(self.unit)
        return None if factor is None else self.amount * factor

    @property
    def office_seconds(self) -> int | None:
        """Length in seconds of office hours for the working-hour units; None otherwise."""
        factor = {"working_hours": 3600, "working_minutes": 60}.get(self.unit)
        return None if factor is None else self.amount * factor


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TierDeadline(_Strict):
    """``due``: for a person's tier, time from entering it; for a meeting tier, the follow-up
    time after the sitting. ``warn``: how long before ``due`` the handler is warned."""

    due: Duration
    warn: Duration | None = None

    @field_validator("due", "warn", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else Duration.parse(value)


class SlaPolicy(_Strict):
    description: str = ""
    tiers: dict[str | int, TierDeadline]


class Then(_Strict):
    lead: str | None = None
    co: tuple[str, ...] = ()
    tier: int | str | None = None
    sla: str | None = None
    theme: str | None = None
    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]
    tags: tuple[str, ...] = ()
    triage: bool = False


class Enterprise(_Strict):
    key_project_level: str | None = None
    whitelisted: bool | None = None
    industry: str | None = None


class ExampleCase(_Strict):
    title: str = ""
    description: str = ""
    category: str | None = None
    district: str | None = None
    enterprise: Enterprise | None = None
    amount: float | None = None
    urgency: str | None = None


class Expect(_Strict):
    """What an example's routing must be; only the fields given are compared."""

    lead: str | None = None
    triage: bool | None = None
    co: tuple[str, ...] | None = None
    tier: int | str | None = None
    sla: str | None = None
    theme: str | None = None
    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]
    tags: tuple[str, ...] | None = None
    rules: tuple[str, ...] | None = Field(None, description="rule ids that must be among those matched")


class Example(_Strict):
    name: str | None = None
    case: ExampleCase
    expect: Expect


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)
    description: str = Field(min_length=1)
    when: Any
    then: Then
    continue_: bool = Field(False, alias="continue")
    # An evidence rule (计分规则): it does not decide alone; what it found is weighed with every
    # other evidence rule that matched (routing_rules/scoring.py).
    weight: float | None = Field(None, gt=0, le=10)
    asks: tuple[str, ...] = Field((), description="of this rule's keywords, those that are the ask itself (招聘, 兑现)")
    examples: tuple[Example, ...] = ()


class ScoringWeights(_Strict):
    title: float = Field(2.0, gt=0, le=10, description="a hit in the title, against 1 in the description")
    ask: float = Field(2.0, ge=1, le=10, description="a hit that is what is asked, against 1 for a mention")
    settled: float = Field(0.3, gt=0, le=1, description="a hit after 已取得, 不涉及...: done or not at issue")
    aside: float = Field(0.5, gt=0, le=1, description="a hit inside brackets: a detail or a list")
    addressed: float = Field(1.0, ge=1, le=10, description="a hit right after an address word (请税务局): "
                                                          "the one asked, named")
    consequence: float = Field(1.0, gt=0, le=1, description="a hit right before a consequence word (续贷受阻): "
                                                            "what suffers, not what is asked")


class CloseCall(_Strict):
    margin: float = Field(0.15, ge=0, lt=1, description="the runner-up within this share of the winner")
    then: Literal["co", "triage", "nothing"] = "co"


class Scoring(_Strict):
    """How evidence rules are weighed (证据计分); once per set."""

    asks: tuple[str, ...] = ()
    settled: tuple[str, ...] = ()
    # words that settle what comes before them in the clause (土地证和规划许可都齐了, …先不急)
    settled_after: tuple[str, ...] = ()
    # words that end a settled word's reach (不是用地问题，而是图审: 图审 is not settled)
    turns: tuple[str, ...] = ()
    # words that name whom the enterprise asks when a department's word follows at once (请税务局…)
    address: tuple[str, ...] = ()
    # thanks and praise: with nothing asked of anyone, the case goes to triage (scoring.thanks_only)
    thanks: tuple[str, ...] = ()
    # words that say what suffers from another thing left undone (续贷受阻, 银行不放款): a hit right
    # before one (or inside one) is the consequence, not the ask
    consequences: tuple[str, ...] = ()
    # words that turn a letter of thanks from what was done to what is still wanted (但是, 现在, 急需):
    # what it tells after one may be asked (scoring._letter_of_thanks)
    still_wanted: tuple[str, ...] = ()
    # words that tell of help given (帮, 协调, 走访): in a letter of thanks, a sentence with one tells
    # what the thanks are for (scoring._letter_of_thanks)
    helped: tuple[str, ...] = ()
    # words that name an office (商务局, 发改委, 税务部门): with a `declined` word after one in its
    # sentence (他们说不归他们管), that office turned the enterprise away (scoring._declined)
    offices: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    # words that tell the firm's past (那时候, 早些年, 八十年代那会儿): a sentence with one and no
    # ask word in it is a story, and what it names weighs as an aside (scoring._stories)
    story: tuple[str, ...] = ()
    reach: int = Field(8, ge=1, le=40, description="characters an ask word reaches within its clause")
    weights: ScoringWeights = ScoringWeights()
    close_call: CloseCall = CloseCall()


class Defaults(_Strict):
    tier: int | str = 1
    sla: str
    theme: str | None = None
    priority: Literal[PRIORITIES] = "normal"  # type: ignore[valid-type]


class RuleFile(_Strict):
    defaults: Defaults | None = None
    scoring: Scoring | None = None
    sla_policies: dict[str, SlaPolicy] = {}
    rules: tuple[Rule, ...] = ()
    examples: tuple[Example, ...] = ()
