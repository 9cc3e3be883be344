"""The names a rule may use (规则可引用的名称), taken from the directory.

The routing engine does not read the directory itself: the service (or the command line) hands
it this small, frozen view, so that the engine stays a pure library and a rule naming a
department, district, theme, category or tier the directory does not know is refused at load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

KEY_PROJECT_LEVELS = ("none", "municipal", "provincial")
URGENCIES = ("normal", "urgent")
# Lowest first: a decision's priority is the highest any matched rule gives.
PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class Tier:
    number: int
    key: str
    name: str


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Vocabulary:
    departments: Mapping[str, str] = field(default_factory=dict)
    districts: Mapping[str, str] = field(default_factory=dict)
    themes: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    tiers: tuple[Tier, ...] = ()

    def __post_init__(self) -> None:
        for name in ("departments", "districts", "themes", "categories"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def tier(self, ref: int | str) -> Tier | None:
        """A tier by its number (1–5) or its key (``officer``, ``county_meeting``, ...)."""
        for tier in self.tiers:
            if ref == tier.number or ref == tier.key:
                return tier
        return None

    def tier_refs(self) -> str:
        return ", ".join(f"{t.number}/{t.key}" for t in self.tiers)
